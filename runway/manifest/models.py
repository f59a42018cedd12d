"""`RunwayService`: Runway's Cloud Run-shaped manifest (`runway/v1`) and our `runway/v1+dev`.

`runway/v1` is exactly Runway's contract (unknown keys rejected at every level). Our
extensions live only in the `+dev` models, which subclass the v1 ones, so a v1 manifest that
uses an extension fails with a hint to opt in instead of being silently accepted.
"""

from __future__ import annotations

import enum
import itertools
import posixpath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runway.manifest import _types as t
from runway.manifest.extensions import (
    ConfigFile,
    Datastores,
    GitLabCompatibility,
    Listener,
    Offerings,
    ProbeTarget,
    SecretRef,
    ServiceAccount,
)

API_V1: Literal["runway/v1"] = "runway/v1"
API_DEV: Literal["runway/v1+dev"] = "runway/v1+dev"
API_BETA = "runway/v1.0.0-beta"


class Strict(BaseModel):
    """Every manifest object: unknown keys are errors, models are built on first use."""

    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)


class Metadata(Strict):
    name: t.ServiceName = Field(description="Service id; at most 63 characters")
    owner_email_handle: str | None = Field(None, description="Label gl_owner_email_handle")
    department: str | None = Field(None, description="Label gl_dept")
    department_group: str | None = Field(None, description="Label gl_dept_group")
    product_category: str | None = Field(None, description="Label gl_product_category")


class Probe(Strict):
    path: str | None = Field(None, description="HTTP path; without one the probe is TCP")
    initial_delay_seconds: t.Seconds | None = None
    timeout_seconds: t.PositiveSeconds | None = None
    period_seconds: t.PositiveSeconds | None = None
    failure_threshold: Annotated[int, Field(ge=1)] | None = None


class ReadinessProbe(Strict):
    path: str | None = None
    period_seconds: t.PositiveSeconds | None = None
    timeout_seconds: t.PositiveSeconds | None = None
    failure_threshold: Annotated[int, Field(ge=1, le=3)] | None = None
    success_threshold: Annotated[int, Field(ge=1)] | None = None


class Limits(Strict):
    cpu: t.Quantity = "1000m"
    memory: t.Quantity = "512Mi"


class Resources(Strict):
    limits: Limits = Field(default_factory=Limits)
    startup_cpu_boost: bool = False


class Scalability(Strict):
    min_instances: Annotated[int, Field(ge=0, le=1000)] = 0
    max_instances: Annotated[int, Field(ge=1, le=1000)] | None = None
    max_instance_request_concurrency: Annotated[int, Field(ge=1, le=1000)] | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Scalability:
        if self.max_instances is not None and self.min_instances > self.max_instances:
            raise ValueError(
                f"min_instances ({self.min_instances}) is above max_instances ({self.max_instances})"
            )
        return self


class BackendProtocol(enum.StrEnum):
    HTTP = "HTTP"
    HTTPS = "HTTPS"
    HTTP2 = "HTTP2"
    REST = "rest"
    GRPC = "grpc"


class LoadBalancer(Strict):
    enabled: bool | None = None
    backend_protocol: BackendProtocol | None = None


class LoadBalancing(Strict):
    external_load_balancer: LoadBalancer | None = None
    internal_load_balancer: LoadBalancer | None = None


class NetworkPolicies(Strict):
    cloudflare: bool = False


class VpcEgress(enum.StrEnum):
    ALL_TRAFFIC = "ALL_TRAFFIC"
    PRIVATE_RANGES_ONLY = "PRIVATE_RANGES_ONLY"


class VpcAccess(Strict):
    enabled: bool = False
    egress: VpcEgress | None = None


class ExecutionEnvironment(enum.StrEnum):
    GEN1 = "EXECUTION_ENVIRONMENT_GEN1"
    GEN2 = "EXECUTION_ENVIRONMENT_GEN2"


class Strategy(enum.StrEnum):
    LEGACY = "legacy"
    REGIONAL_ROLLOUT = "regional_rollout"
    EXPEDITED = "expedited"
    DRYRUN = "dryrun"


class Deployment(Strict):
    strategy: Strategy = Strategy.LEGACY
    rollout_traffic_percentages: list[Annotated[int, Field(ge=1, le=100)]] | None = None

    @model_validator(mode="after")
    def _increasing(self) -> Deployment:
        steps = self.rollout_traffic_percentages or []
        if any(b <= a for a, b in itertools.pairwise(steps)):
            raise ValueError(f"rollout_traffic_percentages must increase step by step, got {steps}")
        return self


class Observability(Strict):
    scrape_targets: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$")]] = (
        Field(
            default_factory=list, description="host:port Prometheus endpoints beside the container"
        )
    )


class ServiceSpec(Strict):
    """The `spec` of a `runway/v1` RunwayService."""

    image: str | None = Field(None, description="DEPRECATED: the image comes from CI (--image)")
    container_port: t.Port = 8080
    regions: t.UniqueStrings = Field(default_factory=lambda: ["us-east1"], min_length=1)
    request_timeout: t.PositiveSeconds | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    startup_probe: Probe | None = None
    liveness_probe: Probe | None = None
    readiness_probe: ReadinessProbe | None = None
    resources: Resources = Field(default_factory=Resources)
    scalability: Scalability = Field(default_factory=Scalability)
    load_balancing: LoadBalancing | None = None
    network_policies: NetworkPolicies | None = None
    vpc_access: VpcAccess | None = None
    execution_environment: ExecutionEnvironment | None = None
    request_based_billing: bool = True
    deployment: Deployment = Field(default_factory=Deployment)
    observability: Observability = Field(default_factory=Observability)


class DevProbe(Probe):
    target: ProbeTarget | None = None


class DevReadinessProbe(ReadinessProbe):
    target: ProbeTarget | None = None


def _mount_paths(paths: list[tuple[str, str]]) -> None:
    """Files the chart mounts: normalised, not over / or the chart's /tmp, none inside another."""
    seen: dict[str, str] = {}
    for what, path in paths:
        if ".." in path.split("/") or posixpath.normpath(path) != path:
            raise ValueError(
                f"{what}: {path} is not a normalised path; write it without '..', '.', '//' or a trailing '/'"
            )
        if path == "/" or path == "/tmp" or path.startswith("/tmp/"):
            raise ValueError(
                f"{what}: {path} would shadow {'the root filesystem' if path == '/' else 'the writable /tmp the chart mounts'}; use a directory of its own, e.g. /etc/<service>/"
            )
        if path in seen:
            raise ValueError(
                f"{what} and {seen[path]} are both mounted at {path}; give each its own path"
            )
        for other, owner in seen.items():
            if other.startswith(path + "/") or path.startswith(other + "/"):
                raise ValueError(
                    f"{what} at {path} and {owner} at {other}: a file cannot sit inside another file's path"
                )
        seen[path] = what


CONTRACT = Literal["kas", "agentk", "gitlab-workspaces-proxy", "ai-gateway"]


class DevServiceSpec(ServiceSpec):
    """The `spec` of a `runway/v1+dev` RunwayService: v1 plus our opt-in extensions."""

    startup_probe: DevProbe | None = None
    liveness_probe: DevProbe | None = None
    readiness_probe: DevReadinessProbe | None = None
    listeners: list[Listener] | None = Field(
        None, description="Named ports; replaces container_port and load_balancing when given"
    )
    environment: dict[t.EnvName, t.EnvValue] = Field(
        default_factory=dict, description="Plain environment variables (never secrets)"
    )
    secrets: list[SecretRef] = Field(default_factory=list)
    config_files: list[ConfigFile] = Field(default_factory=list)
    datastores: Datastores | None = None
    gitlab: GitLabCompatibility | None = None
    service_account: ServiceAccount | None = None
    offerings: Offerings | None = None
    termination_grace_period_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None
    contract: CONTRACT | None = Field(
        None,
        description=(
            "The upstream component contract the service follows (its config keys, env, files, "
            "RBAC); runway verify checks the chart against it"
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> DevServiceSpec:
        names = [item.name for item in self.listeners or []]
        _no_repeats("listener", names)
        ports = [item.port for item in self.listeners or []]
        _no_repeats("listener port", [str(p) for p in ports])
        _no_repeats("secret", [item.name for item in self.secrets])
        _no_repeats("config file path", [item.path for item in self.config_files])
        _mount_paths(
            [(f"secret {s.name}", s.file) for s in self.secrets if s.file]
            + [("config file", f.path) for f in self.config_files]
        )
        if any(f.redis_at for f in self.config_files) and not (
            self.datastores and self.datastores.redis
        ):
            raise ValueError("a config file has redis_at but datastores.redis is not set")
        for probe in (self.startup_probe, self.liveness_probe, self.readiness_probe):
            if (
                probe
                and probe.target
                and probe.target.listener
                and probe.target.listener not in names
            ):
                raise ValueError(
                    f"a probe names listener {probe.target.listener!r}, which is not in listeners"
                )
        return self


def _no_repeats(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} is defined twice")
        seen.add(value)


class RunwayService(Strict):
    """A Runway service manifest, `apiVersion: runway/v1`."""

    model_config = ConfigDict(title="RunwayService (runway/v1)")

    apiVersion: Literal["runway/v1"] = API_V1
    kind: Literal["RunwayService"]
    metadata: Metadata
    spec: ServiceSpec = Field(default_factory=ServiceSpec)


class RunwayServiceDev(Strict):
    """A Runway service manifest with runway's extensions, `apiVersion: runway/v1+dev`."""

    model_config = ConfigDict(title="RunwayService (runway/v1+dev)")

    apiVersion: Literal["runway/v1+dev"]
    kind: Literal["RunwayService"]
    metadata: Metadata
    spec: DevServiceSpec = Field(default_factory=DevServiceSpec)


EXTENSION_FIELDS = frozenset(DevServiceSpec.model_fields) - frozenset(ServiceSpec.model_fields)


def model_dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)
