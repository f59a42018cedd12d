"""A VPC with one subnet per region (secondary ranges for pods and services) and Cloud NAT."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from runway.manifest.environment import RunwayEnvironment

PODS = "pods"
SERVICES = "services"


class NetworkComponent(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        env: RunwayEnvironment,
        project: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("runway:platform:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = env.spec.network
        self.network = gcp.compute.Network(
            name,
            name=spec.name,
            project=project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=child,
        )
        self.subnets: dict[str, gcp.compute.Subnetwork] = {}
        for region in env.spec.regions:
            subnet = spec.subnets[region]
            self.subnets[region] = gcp.compute.Subnetwork(
                f"{name}-{region}",
                name=f"{spec.name}-{region}",
                project=project,
                region=region,
                network=self.network.id,
                ip_cidr_range=subnet.cidr,
                private_ip_google_access=True,
                secondary_ip_ranges=[
                    {"range_name": PODS, "ip_cidr_range": subnet.pods},
                    {"range_name": SERVICES, "ip_cidr_range": subnet.services},
                ],
                opts=child,
            )
            if subnet.proxy_only:
                self._proxy_only(name, spec.name, region, subnet.proxy_only, project, child)
            if spec.nat:
                router = gcp.compute.Router(
                    f"{name}-{region}-router",
                    name=f"{spec.name}-{region}",
                    project=project,
                    region=region,
                    network=self.network.id,
                    opts=child,
                )
                gcp.compute.RouterNat(
                    f"{name}-{region}-nat",
                    name=f"{spec.name}-{region}",
                    project=project,
                    region=region,
                    router=router.name,
                    nat_ip_allocate_option="AUTO_ONLY",
                    source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
                    log_config={"enable": True, "filter": "ERRORS_ONLY"},
                    opts=child,
                )
        self.register_outputs(
            {"network": self.network.id, "subnets": {r: s.id for r, s in self.subnets.items()}}
        )

    def _proxy_only(
        self,
        name: str,
        network: str,
        region: str,
        cidr: str,
        project: pulumi.Input[str],
        child: pulumi.ResourceOptions,
    ) -> None:
        """The region's proxy-only subnet, which GKE's internal Ingress needs before it can make
        its load balancer, and a firewall rule letting its proxies reach the pods: the Ingress
        controller opens the health checkers' ranges, not this one (cloud.google.com:
        kubernetes-engine/docs/how-to/internal-load-balance-ingress). Each pod's NetworkPolicy
        still admits only the ports of its internal listeners."""
        gcp.compute.Subnetwork(
            f"{name}-{region}-proxy-only",
            name=f"{network}-{region}-proxy-only",
            project=project,
            region=region,
            network=self.network.id,
            ip_cidr_range=cidr,
            purpose="REGIONAL_MANAGED_PROXY",
            role="ACTIVE",
            opts=child,
        )
        gcp.compute.Firewall(
            f"{name}-{region}-proxy-only",
            name=f"{network}-{region}-from-proxy-only",
            project=project,
            network=self.network.id,
            direction="INGRESS",
            source_ranges=[cidr],
            allows=[{"protocol": "tcp"}],
            opts=child,
        )
