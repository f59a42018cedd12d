"""Runway's Kubernetes-shaped pair: `RunwayKubernetesService` and `RunwayKubernetesDeployment`.

`default-values.yaml` holds the service; `<runtime>-service-<environment>.yaml` holds one
environment's deployment, whose `spec` is deep-merged over the service's before validation.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from runway.common.kube import parse_quantity
from runway.manifest import _types as t
from runway.manifest.models import Strict


class Protocol(enum.StrEnum):
    HTTP = "http"
    GRPC = "grpc"


class KubeProbe(Strict):
    path: str | None = None
    initial_delay_seconds: t.Seconds | None = None
    period_seconds: t.PositiveSeconds | None = None
    timeout_seconds: t.PositiveSeconds | None = None
    failure_threshold: Annotated[int, Field(ge=1)] | None = None
    success_threshold: Annotated[int, Field(ge=1)] | None = None


class KubeScalability(Strict):
    min_instances: Annotated[int, Field(ge=0, le=1000)] = 1
    max_instances: Annotated[int, Field(ge=1, le=1000)] | None = None
    cpu_utilization: Annotated[int, Field(ge=1, le=100)] | None = Field(
        None, description="HPA CPU target, percent of requests"
    )

    @model_validator(mode="after")
    def _bounds(self) -> KubeScalability:
        if self.max_instances is not None and self.min_instances > self.max_instances:
            raise ValueError(
                f"min_instances ({self.min_instances}) is above max_instances ({self.max_instances})"
            )
        return self


class ResourceList(Strict):
    model_config = ConfigDict(populate_by_name=True)

    cpu: t.Quantity | None = None
    memory: t.Quantity | None = None
    ephemeral_storage: t.Quantity | None = Field(None, alias="ephemeral-storage")


DEFAULT_LIMITS = {"cpu": "1000m", "memory": "512Mi"}
"""What the chart sets when a Kubernetes service leaves a limit out."""


class KubeResources(Strict):
    requests: ResourceList | None = None
    limits: ResourceList | None = None

    @model_validator(mode="after")
    def _requests_within_limits(self) -> KubeResources:
        """The API server refuses a container whose request is above its limit."""
        requests = self.requests or ResourceList()
        limits = self.limits or ResourceList()
        for field in ("cpu", "memory", "ephemeral_storage"):
            wanted = getattr(requests, field)
            limit = getattr(limits, field) or DEFAULT_LIMITS.get(field)
            if wanted and limit and parse_quantity(wanted) > parse_quantity(limit):
                name = field.replace("_", "-")
                how = "" if getattr(limits, field) else ", the default when limits leave it out"
                raise ValueError(
                    f"requests.{name} ({wanted}) is above the {name} limit ({limit}{how}), "
                    f"which Kubernetes refuses: lower the request or raise limits.{name}"
                )
        return self


class Toggle(Strict):
    enabled: bool = False


class KubeLoadBalancing(Strict):
    cloudflare: Toggle | None = None


class KubeServiceSpec(Strict):
    image: str | None = Field(None, description="May contain Helm's {{ .AppVersion }}")
    command: list[str] | None = None
    args: list[str] | None = None
    environment: dict[t.EnvName, t.EnvValue] = Field(
        default_factory=dict, description="Plain variables; ${region} is replaced per region"
    )
    container_port: t.Port = 8080
    protocol: Protocol = Protocol.HTTP
    scalability: KubeScalability = Field(default_factory=KubeScalability)
    resources: KubeResources = Field(default_factory=KubeResources)
    startup_probe: KubeProbe | None = None
    liveness_probe: KubeProbe | None = None
    readiness_probe: KubeProbe | None = None
    load_balancing: KubeLoadBalancing | None = None


class KubeServiceMetadata(Strict):
    name: t.ServiceName


class RunwayKubernetesService(Strict):
    """`default-values.yaml`: the service as Runway's GKE/EKS runtimes describe it."""

    model_config = ConfigDict(title="RunwayKubernetesService")

    apiVersion: Literal["runway/v1"] = "runway/v1"
    kind: Literal["RunwayKubernetesService"]
    metadata: KubeServiceMetadata
    spec: KubeServiceSpec = Field(default_factory=KubeServiceSpec)


class DeploymentMetadata(Strict):
    labels: dict[str, str] = Field(default_factory=dict)


class WorkloadSecret(Strict):
    name: Annotated[str, Field(min_length=1, max_length=253)]


class SecretVolume(Strict):
    name: Annotated[str, Field(min_length=1, max_length=253)]
    path: t.AbsolutePath


class DeploymentBody(Strict):
    """One environment's deployment of a Kubernetes-shaped service."""

    metadata: DeploymentMetadata = Field(default_factory=DeploymentMetadata)
    serviceMixins: list[str] = Field(default_factory=list)
    spec: dict[str, Any] = Field(
        default_factory=dict, description="Overrides deep-merged over the service's spec"
    )
    workloadSecrets: list[WorkloadSecret] = Field(default_factory=list)
    secretEnvFrom: list[str] = Field(default_factory=list)
    secretVolumes: list[SecretVolume] = Field(default_factory=list)

    @model_validator(mode="after")
    def _secrets_declared(self) -> DeploymentBody:
        declared = {s.name for s in self.workloadSecrets}
        for name in [*self.secretEnvFrom, *(v.name for v in self.secretVolumes)]:
            if declared and name not in declared:
                raise ValueError(f"secret {name!r} is used but not listed in workloadSecrets")
        return self


def substitute_region(environment: dict[str, str], region: str) -> dict[str, str]:
    return {key: value.replace("${region}", region) for key, value in environment.items()}


class RunwayKubernetesDeployment(Strict):
    """`<runtime>-service-<environment>.yaml`: one key per service id, each a deployment."""

    model_config = ConfigDict(title="RunwayKubernetesDeployment", extra="allow")
    __pydantic_extra__: dict[str, DeploymentBody] = Field(init=False)

    apiVersion: Literal["runway/v1"] = "runway/v1"
    kind: Literal["RunwayKubernetesDeployment"]

    def deployments(self) -> dict[str, DeploymentBody]:
        return dict(self.__pydantic_extra__ or {})
