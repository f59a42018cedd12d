"""One GKE cluster per region: Autopilot, or Standard with node pools on a dedicated node
service account; Workload Identity always on. Its kubeconfig uses the `gke-gcloud-auth-plugin`
exec form, so it holds no credential and does not change when tokens do.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from runway.manifest.environment import ClusterMode, RunwayEnvironment
from runway.platform.network import PODS, SERVICES

NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/artifactregistry.reader",
)


def kubeconfig(name: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig for `name` that authenticates with gke-gcloud-auth-plugin (no secrets); no CA
    for GKE's DNS-based endpoint, whose certificate is publicly trusted."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {"server": f"https://{endpoint}"}
                | ({"certificate-authority-data": ca_certificate} if ca_certificate else {}),
            }
        ],
        "users": [
            {
                "name": name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "gke-gcloud-auth-plugin",
                        "installHint": "gcloud components install gke-gcloud-auth-plugin",
                        "provideClusterInfo": True,
                    }
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
    return json.dumps(config, indent=2)


def provider(
    name: str, kubeconfig_text: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
) -> k8s.Provider:
    """A Kubernetes provider whose identity is the cluster's name, not its kubeconfig, so a new
    endpoint or certificate updates it instead of replacing every resource under it."""
    return k8s.Provider(
        name,
        kubeconfig=kubeconfig_text,
        cluster_identifier=name,
        delete_unreachable=False,
        enable_server_side_apply=True,
        opts=opts,
    )


class ClusterComponent(pulumi.ComponentResource):
    kubeconfig: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        env: RunwayEnvironment,
        region: str,
        project: pulumi.Input[str],
        network: gcp.compute.Network,
        subnet: gcp.compute.Subnetwork,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("runway:platform:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = env.spec.cluster
        private = spec.private
        args: dict[str, Any] = {
            "name": name,
            "project": project,
            "location": region,
            "network": network.id,
            "subnetwork": subnet.id,
            "release_channel": {"channel": spec.release_channel},
            "workload_identity_config": {
                "workload_pool": pulumi.Output.concat(project, ".svc.id.goog")
            },
            "ip_allocation_policy": {
                "cluster_secondary_range_name": PODS,
                "services_secondary_range_name": SERVICES,
            },
            "deletion_protection": env.deletion_protection,
            "resource_labels": env.labels(),
        }
        if private.enabled:
            args["private_cluster_config"] = {
                "enable_private_nodes": True,
                "enable_private_endpoint": not private.public_endpoint,
                "master_ipv4_cidr_block": private.master_cidr,
            }
            args["control_plane_endpoints_config"] = {
                "dns_endpoint_config": {"allow_external_traffic": private.dns_endpoint}
            }
        if private.authorized_networks:
            args["master_authorized_networks_config"] = {
                "cidr_blocks": [
                    {"cidr_block": cidr, "display_name": f"authorized-{i}"}
                    for i, cidr in enumerate(private.authorized_networks)
                ]
            }
        self.node_service_account: gcp.serviceaccount.Account | None = None
        if spec.mode is ClusterMode.AUTOPILOT:
            args["enable_autopilot"] = True
            self.cluster = gcp.container.Cluster(name, **args, opts=child)
        else:
            self.node_service_account = gcp.serviceaccount.Account(
                f"{name}-nodes",
                account_id=f"{name}-nodes"[:30],
                display_name=f"GKE nodes of {name}",
                project=project,
                opts=child,
            )
            for role in NODE_ROLES:
                gcp.projects.IAMMember(
                    f"{name}-nodes-{role.split('/')[1]}",
                    project=project,
                    role=role,
                    member=pulumi.Output.concat("serviceAccount:", self.node_service_account.email),
                    opts=child,
                )
            args.update(remove_default_node_pool=True, initial_node_count=1)
            self.cluster = gcp.container.Cluster(
                name,
                **args,
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["initialNodeCount"]),
            )
            for pool in spec.node_pools:
                gcp.container.NodePool(
                    f"{name}-{pool.name}",
                    name=pool.name,
                    project=project,
                    location=region,
                    cluster=self.cluster.name,
                    initial_node_count=pool.min_nodes,
                    autoscaling={
                        "min_node_count": pool.min_nodes,
                        "max_node_count": pool.max_nodes,
                    },
                    management={"auto_repair": True, "auto_upgrade": True},
                    node_config={
                        "machine_type": pool.machine_type,
                        "spot": pool.spot,
                        "disk_size_gb": pool.disk_size_gb,
                        "service_account": self.node_service_account.email,
                        "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                        "workload_metadata_config": {"mode": "GKE_METADATA"},
                        "shielded_instance_config": {
                            "enable_secure_boot": True,
                            "enable_integrity_monitoring": True,
                        },
                        "resource_labels": env.labels(),
                    },
                    opts=pulumi.ResourceOptions(
                        parent=self, ignore_changes=["initialNodeCount", "nodeCount"]
                    ),
                )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                self.cluster.name,
                self.cluster.endpoint,
                self.cluster.master_auth,
                self.cluster.control_plane_endpoints_config,
            ).apply(
                lambda parts: kubeconfig(
                    str(parts[0]),
                    _dns_endpoint(parts[3])
                    if private.enabled and private.dns_endpoint
                    else str(parts[1]),
                    # GKE's DNS endpoint serves a publicly trusted certificate: no cluster CA.
                    "" if private.enabled and private.dns_endpoint else _ca(parts[2]),
                )
            )
        )
        self.register_outputs({"name": self.cluster.name, "kubeconfig": self.kubeconfig})


def _dns_endpoint(config: Any) -> str:
    """`controlPlaneEndpointsConfig.dnsEndpointConfig.endpoint`, as an object or (in mocks) a dict."""

    def field(node: Any, name: str) -> Any:
        return node.get(name) if isinstance(node, dict) else getattr(node, name, None)

    return str(field(field(config, "dns_endpoint_config"), "endpoint") or "")


def _ca(master_auth: Any) -> str:
    return str(getattr(master_auth, "cluster_ca_certificate", None) or "")
