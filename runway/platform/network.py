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
