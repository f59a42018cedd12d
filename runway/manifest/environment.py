"""`RunwayEnvironment`: one GKE environment for satellite services, as the Pulumi stacks build it.

Validated like every manifest (unknown keys refused, errors at `file:line:col`); paths to service
manifests are resolved against the environment file's directory.
"""

from __future__ import annotations

import enum
import ipaddress
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from pydantic import Field, model_validator

from runway import versions
from runway.common.kube import IPV4_CIDR
from runway.errors import Diagnostic, ManifestError
from runway.manifest import _types as t
from runway.manifest._yaml import load_single_document
from runway.manifest.models import API_DEV, Strict

GCP_REGION = r"^[a-z]+-[a-z]+[0-9]$"
Cidr = Annotated[str, Field(pattern=IPV4_CIDR)]
Label = Annotated[str, Field(pattern=r"^[a-z]([-_a-z0-9]{0,62})?$")]
LabelValue = Annotated[str, Field(pattern=r"^[-_a-z0-9]{0,63}$")]
DEFAULT_APIS = [
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "dns.googleapis.com",
    "certificatemanager.googleapis.com",
    "monitoring.googleapis.com",
    "logging.googleapis.com",
    "redis.googleapis.com",
    "secretmanager.googleapis.com",
]


class EnvironmentMetadata(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z]([-a-z0-9]{0,28}[a-z0-9])?$")] = Field(
        description="Environment name (used in resource names; at most 30 characters)"
    )
    owner_email_handle: str | None = Field(None, description="Label gl_owner_email_handle")
    department: str | None = Field(None, description="Label gl_dept")
    department_group: str | None = Field(None, description="Label gl_dept_group")
    labels: dict[Label, LabelValue] = Field(
        default_factory=dict, description="More labels for every GCP resource"
    )


class CreateProject(Strict):
    folder_id: Annotated[str, Field(pattern=r"^[0-9]+$")] = Field(description="Parent folder")
    billing_account: Annotated[str, Field(pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")]


class Project(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")] = Field(
        description="GCP project id (existing, or the one to create)"
    )
    create: CreateProject | None = Field(None, description="Create the project under a folder")
    apis: list[str] = Field(
        default_factory=lambda: list(DEFAULT_APIS), description="APIs to enable"
    )


class ClusterMode(enum.StrEnum):
    AUTOPILOT = "autopilot"
    STANDARD = "standard"


class NodePool(Strict):
    name: t.DnsLabel
    machine_type: str = "e2-standard-4"
    min_nodes: Annotated[int, Field(ge=0, le=1000)] = 1
    max_nodes: Annotated[int, Field(ge=1, le=1000)] = 3
    spot: bool = False
    disk_size_gb: Annotated[int, Field(ge=20, le=65536)] = 100

    @model_validator(mode="after")
    def _bounds(self) -> NodePool:
        if self.min_nodes > self.max_nodes:
            raise ValueError(f"min_nodes {self.min_nodes} is above max_nodes {self.max_nodes}")
        return self


class PrivateCluster(Strict):
    enabled: bool = True
    master_cidr: Cidr = "172.16.0.0/28"
    public_endpoint: bool = Field(
        False, description="Reachable control plane (never in production)"
    )
    authorized_networks: list[Cidr] = Field(default_factory=list)
    dns_endpoint: bool = Field(
        True,
        description=(
            "Reach the control plane through GKE's DNS-based endpoint, authorised by IAM, so "
            "`pulumi up` from outside the VPC (a CI runner) works while the IP endpoint stays private"
        ),
    )


class Cluster(Strict):
    mode: ClusterMode = ClusterMode.AUTOPILOT
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    private: PrivateCluster = Field(default_factory=PrivateCluster)
    node_pools: list[NodePool] = Field(default_factory=list)
    deletion_protection: bool | None = Field(
        None, description="Default: true in production, false elsewhere"
    )

    @model_validator(mode="after")
    def _pools(self) -> Cluster:
        if self.mode is ClusterMode.AUTOPILOT and self.node_pools:
            raise ValueError("node_pools are for standard clusters; Autopilot manages its nodes")
        if self.mode is ClusterMode.STANDARD and not self.node_pools:
            raise ValueError("a standard cluster needs at least one node pool")
        return self


class Subnet(Strict):
    cidr: Cidr
    pods: Cidr
    services: Cidr
    proxy_only: Cidr | None = Field(
        None,
        description="A proxy-only subnet (REGIONAL_MANAGED_PROXY) for the Envoy proxies of "
        "GKE's internal Ingress, which serves services' internal listeners; needed in every "
        "region when a service has one. /26 or larger (Google recommends /23)",
    )

    @model_validator(mode="after")
    def _proxy_only_size(self) -> Subnet:
        if self.proxy_only and ipaddress.ip_network(self.proxy_only, strict=False).prefixlen > 26:
            raise ValueError(
                f"proxy_only {self.proxy_only} is smaller than GCP allows: a proxy-only subnet "
                "needs 64 addresses or more (/26 or larger; Google recommends /23)"
            )
        return self


class Network(Strict):
    name: t.DnsLabel = "runway"
    subnets: dict[Annotated[str, Field(pattern=GCP_REGION)], Subnet] = Field(
        description="One subnet per region, with secondary ranges for pods and services"
    )
    nat: bool = Field(True, description="Cloud NAT for private nodes")

    @model_validator(mode="after")
    def _no_overlap(self) -> Network:
        ranges = [
            (f"{region}.{kind}", ipaddress.ip_network(getattr(subnet, kind), strict=False))
            for region, subnet in self.subnets.items()
            for kind in ("cidr", "pods", "services", "proxy_only")
            if getattr(subnet, kind)
        ]
        for index, (name, network) in enumerate(ranges):
            for other, other_network in ranges[index + 1 :]:
                if network.overlaps(other_network):
                    raise ValueError(f"subnets.{name} overlaps subnets.{other}")
        return self


class Dns(Strict):
    zone: t.DnsLabel = Field(description="Cloud DNS managed zone (created)")
    domain: Annotated[str, Field(pattern=r"^([a-z0-9-]+\.)+[a-z]+$")] = Field(
        description="The zone's domain, e.g. staging.runway.example.com"
    )
    workspaces: Annotated[str, Field(pattern=r"^([a-z0-9-]+\.)+[a-z]+$")] = Field(
        description="Wildcard domain of tunnels and workspaces (*.this)"
    )


class SecretStoreRef(Strict):
    name: t.DnsLabel
    kind: Literal["SecretStore", "ClusterSecretStore"] = "ClusterSecretStore"


class GitLab(Strict):
    url: Annotated[str, Field(pattern=r"^https://[^\s/]+(/\S*)?$")]
    agent: t.DnsLabel = Field(description="Name of the agent for Kubernetes")
    kas_address: str = Field("", description="Default: wss://kas.HOST/ of url")
    agent_project: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")] | None = (
        Field(
            None,
            description=(
                "Full path of the project that holds the agent's config. Given, the workloads stack "
                "registers the agent, commits its config and creates its token, the KAS shared "
                "secret and the workspaces proxy's OAuth application (pulumi config set --secret "
                "gitlabToken); absent, set the agent's token by hand (agentToken)"
            ),
        )
    )
    agent_branch: str = Field("main", description="Branch the agent's config is committed to")
    kas_secret_id: t.DnsLabel = Field(
        "kas-shared-secret",
        description="Secret Manager secret that hands KAS's shared secret to the GitLab side",
    )
    secret_store: SecretStoreRef | None = Field(
        None,
        description=(
            "External Secrets store (Secret Manager) the clusters read KAS's shared secret "
            "through; absent, the stack writes the Secret itself"
        ),
    )


class DeployWith(enum.StrEnum):
    FLUX = "flux"
    HELM = "helm"


class ServiceRef(Strict):
    manifest: str = Field(description="Service manifest directory, relative to this file")
    version: str | None = Field(None, description="Chart version range (Flux follows it)")
    stage: str | None = Field(None, description="Stage to follow (default: the environment's)")
    deploy_with: DeployWith = DeployWith.FLUX
    hosts: dict[str, Annotated[str, Field(pattern=r"^(\*\.)?([a-z0-9-]+\.)+[a-z]+$")]] = Field(
        default_factory=dict,
        description="Host of a listener in this environment, by listener name",
    )

    @model_validator(mode="after")
    def _range(self) -> ServiceRef:
        if self.version is not None:
            versions.parse_range(self.version)
        return self


class RunnerFleet(Strict):
    """The workspace runner fleet (upstream GitLab Runner chart) in the workloads stack."""

    tags: list[str] = Field(default_factory=lambda: ["workspaces"], min_length=1)
    concurrency: Annotated[int, Field(ge=1, le=1000)] = 20
    max_cpu: Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?m?$")] = "4"
    max_memory: Annotated[str, Field(pattern=r"^[0-9]+(Mi|Gi)$")] = "8Gi"
    group: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")] | None = Field(
        None,
        description=(
            "Full path of the GitLab group whose workspace jobs the fleet runs. Given (with "
            "gitlab.agent_project), the workloads stack creates the group runner with these tags "
            "and hands its token to the fleet; absent, set it by hand (runnerToken)"
        ),
    )


class EnvironmentSpec(Strict):
    stage: str = Field(
        description="The deployment stage this environment follows (canary, stable…)"
    )
    production: bool = Field(False, description="Production rules apply (policies)")
    project: Project
    regions: list[Annotated[str, Field(pattern=GCP_REGION)]] = Field(min_length=1)
    cluster: Cluster = Field(default_factory=Cluster)
    network: Network
    dns: Dns
    registry: Annotated[str, Field(pattern=r"^oci://\S+$")]
    gitlab: GitLab
    services: list[ServiceRef] = Field(default_factory=list)
    runner_fleet: RunnerFleet | None = Field(
        None,
        description=(
            "Run the workspace runner fleet (its runner is created by the stack with "
            "runner_fleet.group, else its token is set with pulumi config set --secret runnerToken)"
        ),
    )

    @model_validator(mode="after")
    def _regions_have_subnets(self) -> EnvironmentSpec:
        missing = [r for r in self.regions if r not in self.network.subnets]
        if missing:
            raise ValueError(f"network.subnets has no subnet for region {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _runner_group_needs_the_gitlab_side(self) -> EnvironmentSpec:
        if self.runner_fleet and self.runner_fleet.group and not self.gitlab.agent_project:
            raise ValueError(
                "runner_fleet.group needs gitlab.agent_project: the stack creates the runner "
                "with the GitLab token it holds then (gitlabToken); without it, leave group out "
                "and set the runner's token by hand (runnerToken)"
            )
        return self

    @property
    def stack_creates_the_runner(self) -> bool:
        """The workloads stack registers the workspace runner itself (no runnerToken to set)."""
        return bool(self.runner_fleet and self.runner_fleet.group and self.gitlab.agent_project)


class RunwayEnvironment(Strict):
    apiVersion: Literal["runway/v1+dev"] = API_DEV
    kind: Literal["RunwayEnvironment"]
    metadata: EnvironmentMetadata
    spec: EnvironmentSpec

    @property
    def deletion_protection(self) -> bool:
        chosen = self.spec.cluster.deletion_protection
        return self.spec.production if chosen is None else chosen

    def labels(self) -> dict[str, str]:
        """GCP labels from the metadata (GCP allows lowercase, digits, - and _)."""
        found = {"gl_env": self.metadata.name, "managed_by": "runway"}
        for key, label in (
            ("owner_email_handle", "gl_owner_email_handle"),
            ("department", "gl_dept"),
            ("department_group", "gl_dept_group"),
        ):
            value = getattr(self.metadata, key)
            if value:
                found[label] = _label_value(value)
        found.update(self.metadata.labels)
        return found


def _label_value(value: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in value.lower())
    return cleaned[:63]


def load_environment(path: Path) -> RunwayEnvironment:
    """Load and validate one environment file; ManifestError carries every located problem."""
    from runway.manifest.diagnostics import pydantic_diagnostics

    display = str(path)
    document = load_single_document(path, what="environment files")
    data = document.data
    if not isinstance(data, dict) or data.get("kind") != "RunwayEnvironment":
        raise ManifestError(
            [
                Diagnostic(
                    display,
                    "not a RunwayEnvironment (kind: RunwayEnvironment, apiVersion: runway/v1+dev)",
                    *document.position(
                        ("kind",) if isinstance(data, dict) and "kind" in data else ()
                    ),
                    field="kind",
                )
            ]
        )
    try:
        return RunwayEnvironment.model_validate(data)
    except pydantic.ValidationError as err:
        raise ManifestError(pydantic_diagnostics(document, err, api_version=API_DEV)) from None
