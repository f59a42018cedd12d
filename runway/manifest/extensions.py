"""Our opt-in extensions to the Runway manifest (`apiVersion: runway/v1+dev` only).

They cover what satellite services need and Runway cannot say: several named listeners, secrets
as references, config files as data, datastores, the GitLab-release compatibility range and a
service account with an optional cloud identity. Every object is small and closed.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from runway import versions
from runway.common.kube import HOSTNAME, PORT_NAME, SECRET_NAME, SECRET_NAME_MAX_LENGTH
from runway.manifest import _types as t


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Protocol(enum.StrEnum):
    HTTP = "http"
    GRPC = "grpc"
    TCP = "tcp"


class Exposure(enum.StrEnum):
    """Who may connect: the internet, the VPC, the cluster, or only the service's own pods."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CLUSTER = "cluster"
    POD = "pod"


PortName = Annotated[str, Field(pattern=PORT_NAME, max_length=15)]
Hostname = Annotated[
    str,
    Field(
        pattern=HOSTNAME,
        max_length=253,
        description="A DNS name; a leading '*.' makes it a wildcard",
    ),
]


class Listener(Strict):
    """One named port of the service and how far it is exposed."""

    name: PortName
    port: t.Port
    protocol: Protocol = Protocol.HTTP
    exposure: Exposure = Exposure.CLUSTER
    path: Annotated[str, Field(pattern=r"^/")] = Field("/", description="Path prefix at the edge")
    host: Hostname | None = None
    timeout_seconds: t.PositiveSeconds | None = Field(
        None, description="Backend timeout at the edge; defaults to spec.request_timeout"
    )
    tls_secret: t.DnsLabel | None = Field(
        None, description="Existing kubernetes.io/tls Secret for host (default: <chart>-tls)"
    )
    aliases: list[Hostname] = Field(
        default_factory=list,
        description="More hosts routed to this listener, e.g. an apex host beside a wildcard",
    )

    @model_validator(mode="after")
    def _edge_only_when_exposed(self) -> Listener:
        exposed = self.exposure in (Exposure.PUBLIC, Exposure.INTERNAL)
        if (self.host or self.aliases) and not exposed:
            raise ValueError("host is only meaningful for public or internal listeners")
        if self.aliases and not self.host:
            raise ValueError("aliases need a host")
        if len({self.host, *self.aliases}) != len(self.aliases) + 1:
            raise ValueError("a host is listed twice in host and aliases")
        return self


class ProbeType(enum.StrEnum):
    HTTP = "http"
    GRPC = "grpc"
    TCP = "tcp"


class ProbeTarget(Strict):
    """Where a probe goes when it is not the primary listener's port."""

    listener: PortName | None = None
    type: ProbeType | None = None


class Generate(Strict):
    """A secret generated at install when absent, and kept across upgrades."""

    length: Annotated[int, Field(ge=16, le=4096)] | None = Field(None, description="characters")
    bytes: Annotated[int, Field(ge=16, le=4096)] | None = Field(None, description="random bytes")

    @model_validator(mode="after")
    def _one(self) -> Generate:
        if (self.length is None) == (self.bytes is None):
            raise ValueError("give exactly one of length (characters) or bytes")
        return self


class ExistingSecret(Strict):
    name: Annotated[
        str,
        Field(
            pattern=t.DNS_LABEL.replace("$", r"(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"), max_length=253
        ),
    ]
    key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)]


class ExternalSecret(Strict):
    """A secret synced by External Secrets from a store such as Vault."""

    store: t.DnsLabel
    store_kind: Annotated[str, Field(pattern="^(SecretStore|ClusterSecretStore)$")] = (
        "ClusterSecretStore"
    )
    path: Annotated[str, Field(min_length=1, max_length=1024)]
    property: str | None = None
    refresh_interval: Annotated[str, Field(pattern=r"^([0-9]+(ms|s|m|h))+$")] = "1h"


class SecretRef(Strict):
    """A secret the service needs: where it comes from and how the container sees it."""

    name: Annotated[str, Field(pattern=SECRET_NAME, max_length=SECRET_NAME_MAX_LENGTH)] = Field(
        description="A DNS label of at most 56 characters: the chart's volume is secret-NAME"
    )
    generate: Generate | None = None
    existing: ExistingSecret | None = None
    external: ExternalSecret | None = None
    file: t.AbsolutePath | None = Field(None, description="Mount as a read-only file here")
    env: Annotated[str, Field(pattern=t.SECRET_ENV_NAME)] | None = Field(
        None, description="Expose as this environment variable"
    )

    @model_validator(mode="after")
    def _one_source_one_mount(self) -> SecretRef:
        sources = [s for s in (self.generate, self.existing, self.external) if s is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one source: generate, existing or external")
        if (self.file is None) == (self.env is None):
            raise ValueError("give exactly one of file (a mount path) or env (a variable name)")
        return self


def _content(value: Any) -> Any:
    if not isinstance(value, str | dict):
        raise ValueError("content must be text or a mapping (written out as YAML)")
    return value


class ConfigFile(Strict):
    """A file the container reads, given as data (never evaluated as a template)."""

    path: t.AbsolutePath
    content: Annotated[Any, AfterValidator(_content)] = Field(
        description="The file's text, or a mapping written out as YAML"
    )
    redis_at: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")] | None = Field(
        None,
        description=(
            "Top-level key the chart fills from datastores.redis in KAS's shape (server or "
            "sentinel, password_file, database_index, tls), so the file follows the chart's "
            "redis values"
        ),
    )

    @model_validator(mode="after")
    def _redis_key_free(self) -> ConfigFile:
        if self.redis_at is None:
            return self
        if not isinstance(self.content, dict):
            raise ValueError("redis_at needs content given as a mapping")
        if self.redis_at in self.content:
            raise ValueError(
                f"content sets {self.redis_at!r}, which redis_at fills from datastores.redis; "
                "remove it from content"
            )
        return self


HostPort = Annotated[str, Field(pattern=r"^[A-Za-z0-9.\-]+:[0-9]{1,5}$")]


class Redis(Strict):
    address: HostPort | None = None
    sentinels: list[HostPort] | None = None
    master_name: str | None = None
    database: Annotated[int, Field(ge=0, le=15)] = 0
    tls: bool = False
    password: ExistingSecret | None = None

    @model_validator(mode="after")
    def _address_or_sentinels(self) -> Redis:
        if (self.address is None) == (not self.sentinels):
            raise ValueError("give exactly one of address or sentinels")
        if self.sentinels and not self.master_name:
            raise ValueError("sentinels need master_name")
        return self


class Datastores(Strict):
    redis: Redis | None = None


def _range(value: str) -> str:
    versions.parse_range(value)
    return value


class GitLabCompatibility(Strict):
    versions: Annotated[str, AfterValidator(_range)] = Field(
        description="GitLab releases this service works with, e.g. '>=17.0 <19.0'"
    )


class PolicyRule(Strict):
    api_groups: list[str] = Field(default_factory=lambda: [""])
    resources: list[str] = Field(min_length=1)
    verbs: list[
        Annotated[
            str, Field(pattern="^(get|list|watch|create|update|patch|delete|deletecollection)$")
        ]
    ] = Field(min_length=1)


class ServiceAccount(Strict):
    automount_token: bool = Field(False, description="Mount the API token (only when needed)")
    gcp_service_account: (
        Annotated[
            str,
            Field(pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]@[-a-z0-9.]+\.iam\.gserviceaccount\.com$"),
        ]
        | None
    ) = Field(None, description="Google service account bound by Workload Identity")
    rules: list[PolicyRule] = Field(default_factory=list)
    cluster_wide: bool = Field(False, description="Grant the rules cluster-wide (ClusterRole)")
    cluster_rules: list[PolicyRule] = Field(
        default_factory=list,
        description="Rules granted cluster-wide beside the namespaced rules (a ClusterRole)",
    )

    @model_validator(mode="after")
    def _token_for_rules(self) -> ServiceAccount:
        if (self.rules or self.cluster_rules) and not self.automount_token:
            raise ValueError("RBAC rules need automount_token: true to be usable")
        return self


OfferingName = Annotated[str, Field(pattern="^(self-managed|managed-self-hosted|gitlab-managed)$")]
ALL_OFFERINGS = ["self-managed", "managed-self-hosted", "gitlab-managed"]


class Offerings(Strict):
    """Which offerings the service supports, and chart values each one changes."""

    supported: list[OfferingName] = Field(
        default_factory=lambda: list(ALL_OFFERINGS),
        min_length=1,
        description="self-managed, managed-self-hosted, gitlab-managed (default: all)",
    )
    overrides: dict[OfferingName, dict[str, Any]] = Field(
        default_factory=dict,
        description="Chart values merged over an offering's profile, by offering",
    )

    @model_validator(mode="after")
    def _overrides_supported(self) -> Offerings:
        if len(set(self.supported)) != len(self.supported):
            raise ValueError("an offering is listed twice in supported")
        extra = sorted(set(self.overrides) - set(self.supported))
        if extra:
            raise ValueError(
                f"overrides for {', '.join(extra)}, which supported does not list; "
                "add it to supported or drop the override"
            )
        return self
