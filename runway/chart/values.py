"""The values contract of every generated chart, as one model.

`values.yaml` (with a comment on every key, from the field descriptions) and
`values.schema.json` (strict: unknown keys and wrong types fail `helm install`) are both
generated from these models, so they cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.config import JsonDict

from runway.common.jsonschemas import KeysChecked
from runway.common.kube import (
    CIDR,
    CONTAINER_ENV_NAME,
    HOSTNAME,
    LABEL_KEY,
    LABEL_VALUE,
    PORT_NAME,
    QUANTITY,
    SECRET_NAME,
    SECRET_NAME_MAX_LENGTH,
)

Quantity = Annotated[
    str,
    Field(pattern=QUANTITY.pattern),
    # `helm --set resources.limits.cpu=2` gives a number: the schema takes it as Kubernetes does.
    WithJsonSchema({"type": ["string", "number"], "pattern": QUANTITY.pattern}),
]
SetString = Annotated[str, WithJsonSchema({"type": ["string", "number"]})]
"""A string `helm --set` may give as a number (`--set image.tag=17`); templates `toString` it."""
Name = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)]
SecretName = Annotated[str, Field(pattern=SECRET_NAME, max_length=SECRET_NAME_MAX_LENGTH)]
Cidr = Annotated[str, Field(pattern=CIDR)]
Hostname = Annotated[str, Field(pattern=HOSTNAME, max_length=253)]
LabelKey = Annotated[str, Field(pattern=LABEL_KEY, max_length=317)]
Labels = dict[LabelKey, Annotated[str, Field(pattern=LABEL_VALUE, max_length=63)]]
Annotations = dict[LabelKey, str]
OptionalName = Annotated[str, Field(pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$", max_length=253)]


class Values(BaseModel):
    """Every object in values: closed, so a misspelt key fails at install time."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=False)


class PullSecretRef(Values):
    name: Name = Field(description="Name of an image pull Secret")


class GlobalValues(Values):
    """Shared with an umbrella chart's other subcharts, so other keys are allowed (Helm's and
    Bitnami's `global` conventions: `global.storageClass`, …) and ignored here."""

    model_config = ConfigDict(extra="allow")

    imageRegistry: str = Field(
        "", description="Registry that replaces every image's registry (air-gapped mirrors)"
    )
    imagePullSecrets: list[Name | PullSecretRef] = Field(
        default_factory=list,
        description="Image pull Secrets, by name or as {name: …} (both conventions)",
    )


class Image(Values):
    registry: str = Field("", description="Image registry, e.g. registry.gitlab.com")
    repository: str = Field(
        "",
        description="Image repository; required at install when the chart was built without an image",
    )
    tag: SetString = Field("", description="Image tag; defaults to the chart's appVersion")
    digest: Annotated[str, Field(pattern=r"^(sha256:[a-f0-9]{64})?$")] = Field(
        "", description="Image digest; wins over tag"
    )
    pullPolicy: Literal["Always", "IfNotPresent", "Never"] = Field(
        "IfNotPresent", description="Image pull policy"
    )


PortName = Annotated[str, Field(pattern=PORT_NAME, max_length=15)]


class Listener(Values):
    port: Annotated[int, Field(ge=1, le=65535)] = Field(description="Container and Service port")
    protocol: Literal["http", "grpc", "tcp"] = Field("http", description="Application protocol")
    exposure: Literal["public", "internal", "cluster", "pod"] = Field(
        "cluster", description="Who may connect"
    )
    path: Annotated[str, Field(pattern="^/")] = Field("/", description="Path prefix at the edge")
    host: Hostname | Literal[""] = Field(
        "", description="Host at the edge (a leading *. makes it a wildcard)"
    )
    extraHosts: list[Hostname] = Field(
        default_factory=list, description="More hosts routed to this listener (same path and TLS)"
    )
    tlsSecret: OptionalName = Field("", description="TLS Secret for host; empty: <fullname>-tls")
    timeoutSeconds: Annotated[int, Field(ge=1, le=3600)] = Field(
        30, description="Backend timeout at the edge"
    )


class SecretSource(Values):
    generate: dict[Literal["length", "bytes"], Annotated[int, Field(ge=16, le=4096)]] | None = (
        Field(None, description="Generated at install when absent, kept across upgrades")
    )
    existing: dict[Literal["name", "key"], str] | None = Field(
        None, description="An existing Secret (name, key)"
    )
    external: (
        dict[Literal["store", "storeKind", "path", "property", "refreshInterval"], str] | None
    ) = Field(None, description="An ExternalSecret from a store (store, storeKind, path, property)")


class Secret(SecretSource):
    file: str = Field("", description="Mount path of the secret as a read-only file")
    env: str = Field("", description="Environment variable that receives the secret")


class ConfigFile(Values):
    key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$")] = Field(description="ConfigMap key")
    path: str = Field(description="Absolute path of the file in the container")
    content: str = Field("", description="The file's text, used verbatim (when data is empty)")
    data: dict[str, Any] = Field(
        default_factory=dict, description="The file as a mapping, written out as YAML"
    )
    redisKey: str = Field(
        "",
        description="Top-level key of data the chart fills from redis (KAS's redis block)",
    )


class ResourceList(Values):
    cpu: Quantity | None = Field(None, description="CPU")
    memory: Quantity | None = Field(None, description="Memory")
    ephemeral_storage: Quantity | None = Field(
        None, alias="ephemeral-storage", description="Ephemeral storage"
    )

    model_config = ConfigDict(populate_by_name=True)


class Resources(Values):
    requests: ResourceList = Field(default_factory=ResourceList, description="Requests")
    limits: ResourceList = Field(default_factory=ResourceList, description="Limits")


class Probe(Values):
    enabled: bool = Field(True, description="Enable this probe")
    type: Literal["http", "grpc", "tcp"] = Field("tcp", description="http, grpc or tcp")
    port: str = Field(description="Listener name the probe targets")
    path: str = Field("", description="HTTP path (type http)")
    initialDelaySeconds: Annotated[int, Field(ge=0)] = Field(0, description="Initial delay")
    periodSeconds: Annotated[int, Field(ge=1)] = Field(10, description="Period")
    timeoutSeconds: Annotated[int, Field(ge=1)] = Field(1, description="Timeout")
    failureThreshold: Annotated[int, Field(ge=1)] = Field(3, description="Failures before acting")
    successThreshold: Annotated[int, Field(ge=1)] = Field(1, description="Successes to recover")


class LivenessProbe(Probe):
    """A liveness or startup probe: the API server refuses one whose successThreshold is not 1,
    so `--set` of another value fails at the schema, before anything is applied."""

    successThreshold: Literal[1] = Field(1, description="Successes to recover (Kubernetes: 1)")


class Probes(Values):
    startup: LivenessProbe | None = Field(None, description="startupProbe; null: none")
    liveness: LivenessProbe | None = Field(None, description="livenessProbe; null: none")
    readiness: Probe | None = Field(None, description="readinessProbe; null: none")


class Autoscaling(Values):
    enabled: bool = Field(True, description="Create a HorizontalPodAutoscaler")
    minReplicas: Annotated[int, Field(ge=1)] = Field(2, description="Minimum replicas")
    maxReplicas: Annotated[int, Field(ge=1)] = Field(10, description="Maximum replicas")
    targetCPUUtilizationPercentage: Annotated[int, Field(ge=1, le=100)] = Field(
        70, description="CPU target, percent of requests"
    )
    scaleDownStabilizationSeconds: Annotated[int, Field(ge=0, le=3600)] = Field(
        300, description="Scale-down stabilisation window"
    )


PodCount = Annotated[int, Field(ge=0)]
"""A number of pods, where Kubernetes takes a number or a percentage (an IntOrString): a string
must be a percentage (`"0"` is refused), so a number is written as one."""


class RollingUpdate(Values):
    """Both may not be zero (the API server refuses the Deployment)."""

    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "properties": {
                    "maxSurge": {"enum": [0, "0%"]},
                    "maxUnavailable": {"enum": [0, "0%"]},
                },
                "required": ["maxSurge", "maxUnavailable"],
            }
        }
    )

    maxSurge: PodCount | Annotated[str, Field(pattern=r"^[0-9]+%$")] = Field(
        "25%", description="Extra pods during a rollout: a number or a percentage"
    )
    maxUnavailable: PodCount | Annotated[str, Field(pattern=r"^(100|[1-9]?[0-9])%$")] = Field(
        0, description="Pods that may be unavailable during a rollout: a number or a percentage"
    )

    @model_validator(mode="after")
    def _one_moves(self) -> RollingUpdate:
        if self.maxSurge in (0, "0%") and self.maxUnavailable in (0, "0%"):
            raise ValueError("maxSurge and maxUnavailable may not both be zero")
        return self


class PodDisruptionBudget(Values):
    enabled: bool = Field(True, description="Create a PodDisruptionBudget")
    maxUnavailable: Annotated[int, Field(ge=1)] = Field(
        1, description="Pods that may be down at once"
    )


GKE_HEALTH_CHECK_CIDRS = ["35.191.0.0/16", "130.211.0.0/22"]
"""Where Google's load-balancer health checks come from (cloud.google.com/load-balancing/docs/
firewall-rules: global external Application Load Balancer)."""


class Cloudflare(Values):
    enabled: bool = Field(False, description="Only Cloudflare's ranges may reach public listeners")
    cidrs: list[Cidr] = Field(
        default_factory=list, description="Cloudflare's published IP ranges (update as they change)"
    )


class NetworkPolicy(Values):
    enabled: bool = Field(
        True, description="Default-deny NetworkPolicy allowing each listener's exposure"
    )
    ingressNamespaceSelector: Labels = Field(
        default_factory=dict,
        description="Labels of the namespace of the ingress controller or gateway (empty: any)",
    )
    internalCidrs: list[Cidr] = Field(
        default_factory=lambda: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
        description="Sources allowed to reach internal listeners",
    )
    cloudflare: Cloudflare = Field(default_factory=Cloudflare, description="Cloudflare allow-list")
    healthCheckCidrs: list[Cidr] = Field(
        default_factory=lambda: list(GKE_HEALTH_CHECK_CIDRS),
        description="Where a load balancer's health checks come from, let in on the port they "
        "check (gateway.healthCheck, ingress.backendConfig); GKE's by default",
    )


class BackendConfig(Values):
    enabled: bool = Field(False, description="GKE: a BackendConfig for the Ingress backends")
    securityPolicy: str = Field(
        "", description="Cloud Armor policy at the edge (e.g. the Cloudflare-only allow-list)"
    )
    healthCheckPath: str = Field("", description="HTTP health-check path (empty: GKE's default)")
    healthCheckPort: Annotated[int, Field(ge=0, le=65535)] = Field(
        0, description="Container port of that check (0: the primary listener's)"
    )


class Ingress(Values):
    enabled: bool = Field(True, description="Ingress for public and internal http/grpc listeners")
    className: str = Field("", description="IngressClass name")
    annotations: Annotations = Field(default_factory=dict, description="Extra Ingress annotations")
    internalAnnotations: Annotations = Field(
        default_factory=dict, description="Annotations added to the internal Ingress"
    )
    tls: bool = Field(True, description="Terminate TLS for each host")
    backendConfig: BackendConfig = Field(
        default_factory=lambda: BackendConfig(), description="GKE BackendConfig of the backends"
    )


class ParentRef(Values):
    name: Name = Field(description="Gateway name")
    namespace: OptionalName = Field("", description="Gateway namespace")
    sectionName: str = Field("", description="Gateway listener")


class OwnGateway(Values):
    enabled: bool = Field(
        False, description="Create a Gateway for this service; routes attach to it"
    )
    className: str = Field("", description="GatewayClass, e.g. gke-l7-global-external-managed")
    certificateMap: str = Field("", description="GKE Certificate Manager map for TLS")
    tlsSecret: OptionalName = Field("", description="Secret with the TLS certificate (not GKE)")
    address: str = Field("", description="Named static address of the Gateway (GKE)")
    annotations: Annotations = Field(default_factory=dict, description="Gateway annotations")


class GatewayHealthCheck(Values):
    """GKE's Gateway checks each backend with GET / on the port it serves unless told otherwise:
    a port that only upgrades to WebSocket or gRPC (KAS's agent port answers 426) never
    passes, so the check goes to the readiness endpoint instead."""

    enabled: bool = Field(False, description="A HealthCheckPolicy (GKE) for the main Service")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(
        8080, description="Container port of the readiness endpoint"
    )
    path: Annotated[str, Field(pattern="^/")] = Field("/", description="Readiness path")


class Gateway(Values):
    enabled: bool = Field(False, description="HTTPRoute/GRPCRoute instead of Ingress")
    parentRefs: list[ParentRef] = Field(
        default_factory=list, description="Gateways the routes attach to"
    )
    create: OwnGateway = Field(
        default_factory=lambda: OwnGateway(), description="A Gateway owned by this release"
    )
    healthCheck: GatewayHealthCheck = Field(
        default_factory=GatewayHealthCheck, description="Health check of the Gateway's backends"
    )


class ServiceValues(Values):
    type: Literal["ClusterIP"] = Field("ClusterIP", description="Service type of the main Service")
    annotations: Annotations = Field(default_factory=dict, description="Service annotations")
    loadBalancerAnnotations: Annotations = Field(
        default_factory=dict,
        description="Annotations of the LoadBalancer Service for public tcp listeners",
    )
    loadBalancerSourceRanges: list[Cidr] = Field(
        default_factory=list, description="Source ranges of that LoadBalancer"
    )


class Metrics(Values):
    enabled: bool = Field(True, description="Scrape the service's metrics endpoints")
    kind: Literal["PodMonitoring", "ServiceMonitor", "annotations"] = Field(
        "annotations",
        description="PodMonitoring (GKE), ServiceMonitor (Prometheus Operator) or prometheus.io annotations",
    )
    interval: Annotated[str, Field(pattern=r"^[0-9]+(s|m)$")] = Field(
        "30s", description="Scrape interval"
    )
    path: str = Field("/metrics", description="Metrics path")
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(
        default_factory=list, description="Container ports scraped"
    )


class ServiceAccount(Values):
    create: bool = Field(True, description="Create a ServiceAccount")
    name: OptionalName = Field("", description="Name; empty: the release's full name")
    annotations: Annotations = Field(default_factory=dict, description="ServiceAccount annotations")
    automountServiceAccountToken: bool = Field(
        False, description="Mount the API token (only when the service calls the API)"
    )
    gcpServiceAccount: str = Field("", description="Google service account for Workload Identity")


class Rule(Values):
    apiGroups: list[str] = Field(description="API groups")
    resources: list[str] = Field(description="Resources")
    verbs: list[str] = Field(description="Verbs")


class Rbac(Values):
    create: bool = Field(True, description="Create Role/ClusterRole and binding for rules")
    clusterWide: bool = Field(False, description="ClusterRole instead of Role")
    rules: list[Rule] = Field(default_factory=list, description="Policy rules")
    clusterRules: list[Rule] = Field(
        default_factory=list, description="Policy rules granted cluster-wide (a ClusterRole)"
    )


class Redis(Values):
    address: str = Field("", description="host:port of Redis")
    sentinels: list[str] = Field(default_factory=list, description="Sentinel host:port list")
    masterName: str = Field("", description="Sentinel master name")
    database: Annotated[int, Field(ge=0, le=15)] = Field(0, description="Database index")
    tls: bool = Field(False, description="Connect with TLS")
    password: dict[Literal["name", "key"], str] | None = Field(
        None, description="Existing Secret with the password"
    )
    passwordFile: Annotated[str, Field(pattern=r"^/[^\x00]*$")] = Field(
        "/etc/runway/redis/password",
        description="Where the password is mounted (the config's password_file points here)",
    )
    caSecret: dict[Literal["name", "key"], str] | None = Field(
        None, description="Existing Secret with the CA of the server's TLS certificate"
    )
    caFile: Annotated[str, Field(pattern=r"^/[^\x00]*$")] = Field(
        "/etc/runway/redis/ca.crt",
        description="Where that CA is mounted (the config's tls.ca_certificate_file points here)",
    )


Uid = Annotated[int, Field(ge=10000, le=2147483647)]
Capability = Annotated[str, Field(pattern=r"^[A-Z][A-Z_]*$")]


_LOCALHOST_NAMES_A_FILE: JsonDict = {
    "if": {"properties": {"type": {"const": "Localhost"}}},
    "then": {"properties": {"localhostProfile": {"minLength": 1}}},
}


class Profile(Values):
    """A seccomp or AppArmor profile: Kubernetes refuses type Localhost without its file."""

    model_config = ConfigDict(json_schema_extra=_LOCALHOST_NAMES_A_FILE)

    @model_validator(mode="after")
    def _localhost_names_a_file(self) -> Profile:
        if getattr(self, "type", "") == "Localhost" and not getattr(self, "localhostProfile", ""):
            raise ValueError("type Localhost needs localhostProfile")
        return self


class SeccompProfile(Profile):
    type: Literal["RuntimeDefault", "Localhost", "Unconfined"] = Field(
        "RuntimeDefault",
        description="RuntimeDefault or a stricter Localhost profile; Unconfined needs "
        "hardeningExceptions.unconfinedSeccomp",
    )
    localhostProfile: str = Field("", description="Profile file on the node (type Localhost)")


class AppArmorProfile(Profile):
    type: Literal["", "RuntimeDefault", "Localhost", "Unconfined"] = Field(
        "",
        description="Empty: the runtime's default; Unconfined needs "
        "hardeningExceptions.unconfinedAppArmor",
    )
    localhostProfile: str = Field("", description="Profile loaded on the node (type Localhost)")


class Sysctl(Values):
    name: str = Field(description="Namespaced sysctl, e.g. net.ipv4.ip_local_port_range")
    value: str = Field(description="Its value")


class PodSecurityContext(Values):
    """The pod's identity and kernel profile; `runAsNonRoot` is always true and not a value."""

    runAsUser: Uid = Field(65532, description="UID of every container (≥ 10000)")
    runAsGroup: Uid = Field(65532, description="GID of every container (≥ 10000)")
    fsGroup: Uid = Field(65532, description="Group owning mounted volumes (≥ 10000)")
    fsGroupChangePolicy: Literal["", "OnRootMismatch", "Always"] = Field(
        "", description="When volumes are chowned to fsGroup (empty: Kubernetes' default)"
    )
    supplementalGroups: list[Uid] = Field(
        default_factory=list, description="More groups of every container (≥ 10000)"
    )
    sysctls: list[Sysctl] = Field(default_factory=list, description="Namespaced sysctls")
    seccompProfile: SeccompProfile = Field(
        default_factory=lambda: SeccompProfile(), description="Seccomp profile of the pod"
    )
    seLinuxOptions: dict[Literal["user", "role", "type", "level"], str] = Field(
        default_factory=dict, description="SELinux context of the pod"
    )


class Capabilities(Values):
    add: list[Capability] = Field(
        default_factory=list,
        description="Capabilities added back after dropping ALL; needs "
        "hardeningExceptions.addCapabilities",
    )


class ContainerSecurityContext(Values):
    """The main container's; `allowPrivilegeEscalation: false`, `privileged: false`,
    `runAsNonRoot: true` and `capabilities.drop: [ALL]` are always set and not values."""

    readOnlyRootFilesystem: bool = Field(
        True, description="false needs hardeningExceptions.writableRootFilesystem"
    )
    capabilities: Capabilities = Field(
        default_factory=lambda: Capabilities(), description="Capabilities"
    )
    seccompProfile: SeccompProfile = Field(
        default_factory=lambda: SeccompProfile(), description="Seccomp profile of the container"
    )
    appArmorProfile: AppArmorProfile = Field(
        default_factory=lambda: AppArmorProfile(), description="AppArmor profile"
    )
    seLinuxOptions: dict[Literal["user", "role", "type", "level"], str] = Field(
        default_factory=dict, description="SELinux context of the container"
    )


ADDED = object()
"""Stands for "any non-empty list" in LOOSENINGS."""
LOOSENINGS: tuple[tuple[str, tuple[str, ...], object], ...] = (
    ("writableRootFilesystem", ("containerSecurityContext", "readOnlyRootFilesystem"), False),
    ("addCapabilities", ("containerSecurityContext", "capabilities", "add"), ADDED),
    ("unconfinedSeccomp", ("podSecurityContext", "seccompProfile", "type"), "Unconfined"),
    ("unconfinedSeccomp", ("containerSecurityContext", "seccompProfile", "type"), "Unconfined"),
    ("unconfinedAppArmor", ("containerSecurityContext", "appArmorProfile", "type"), "Unconfined"),
)
"""Each value below the hardening floor, as (exception it needs, value path, loosening value)."""


class HardeningExceptions(Values):
    """Loosening the floor is deliberate: each needs its reason here, and verify reports it."""

    writableRootFilesystem: str = Field("", description="Why the root filesystem must be writable")
    addCapabilities: str = Field("", description="Why capabilities are added back")
    unconfinedSeccomp: str = Field("", description="Why seccomp is Unconfined")
    unconfinedAppArmor: str = Field("", description="Why AppArmor is Unconfined")


class TokenSecret(Values):
    name: OptionalName = Field("", description="Secret holding the registration token")
    key: str = Field("token", description="Key of the token in that Secret")


class Registration(Values):
    enabled: bool = Field(
        False, description="A post-install/upgrade Job registers this release with GitLab"
    )
    url: str = Field("", description="GitLab URL the Job POSTs the registration to")
    tokenSecret: TokenSecret = Field(
        default_factory=lambda: TokenSecret(), description="Where the registration token is"
    )
    image: str = Field(
        "docker.io/curlimages/curl:8.11.1", description="Image of the Job (needs sh and curl)"
    )
    attempts: Annotated[int, Field(ge=1, le=20)] = Field(
        6, description="Tries while GitLab is unreachable or answers 408/429/5xx"
    )
    backoffSeconds: Annotated[int, Field(ge=1, le=60)] = Field(
        2, description="First wait between tries; doubles each time"
    )
    requestTimeoutSeconds: Annotated[int, Field(ge=1, le=300)] = Field(
        20, description="Timeout of one request"
    )
    deadlineSeconds: Annotated[int, Field(ge=30, le=3600)] = Field(
        600, description="The Job fails (and the release with it) after this long"
    )


class TestValues(Values):
    enabled: bool = Field(True, description="Add a helm test that checks the service answers")
    image: str = Field(
        "registry.k8s.io/e2e-test-images/agnhost:2.53",
        description="Image of the test (needs a shell and nc)",
    )


class ChartValues(Values):
    """The root of values.yaml."""

    global_: GlobalValues = Field(
        default_factory=GlobalValues, alias="global", description="Settings shared with subcharts"
    )
    nameOverride: OptionalName = Field("", description="Replaces the chart name in object names")
    fullnameOverride: OptionalName = Field("", description="Replaces the full object name")
    region: str = Field("", description="Region this release runs in (replaces ${region} in env)")
    image: Image = Field(default_factory=Image, description="Container image")
    imagePullSecrets: list[Name | PullSecretRef] = Field(
        default_factory=list,
        description="Image pull Secrets of this chart's pods, after global.imagePullSecrets",
    )
    command: list[str] = Field(default_factory=list, description="Entrypoint override")
    args: list[str] = Field(default_factory=list, description="Arguments")
    listeners: dict[PortName, Listener] = Field(
        description="Named ports and their exposure, by port name"
    )
    primaryListener: PortName = Field(description="The listener helm test and default probes use")
    env: dict[Annotated[str, Field(pattern=CONTAINER_ENV_NAME)], str] = Field(
        default_factory=dict, description="Plain environment variables (never secrets)"
    )
    secrets: dict[SecretName, Secret] = Field(
        default_factory=dict,
        description="Secrets by name (a DNS label of at most 56 characters), as references only",
    )
    secretEnvFrom: list[Name] = Field(
        default_factory=list, description="Existing Secrets whose keys become env"
    )
    secretVolumes: list[dict[Literal["name", "path"], str]] = Field(
        default_factory=list, description="Existing Secrets mounted as directories"
    )
    configFiles: list[ConfigFile] = Field(
        default_factory=list, description="Files rendered into a ConfigMap and mounted read-only"
    )
    configOverrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description=(
            "By config file path: keys merged over that file's data, e.g. "
            "{/etc/kas/config.yaml: {gitlab: {address: …}}} (no need to repeat the whole file)"
        ),
    )
    redis: Redis | None = Field(None, description="Redis the service uses")
    resources: Resources = Field(
        default_factory=Resources, description="Requests and limits of the container"
    )
    probes: Probes = Field(default_factory=Probes, description="Probes")
    replicaCount: Annotated[int, Field(ge=1)] = Field(
        2, description="Replicas when autoscaling is off"
    )
    autoscaling: Autoscaling = Field(
        default_factory=Autoscaling, description="HorizontalPodAutoscaler"
    )
    rollingUpdate: RollingUpdate = Field(
        default_factory=lambda: RollingUpdate(), description="Deployment rolling update"
    )
    pdb: PodDisruptionBudget = Field(
        default_factory=PodDisruptionBudget, description="PodDisruptionBudget"
    )
    networkPolicy: NetworkPolicy = Field(default_factory=NetworkPolicy, description="NetworkPolicy")
    service: ServiceValues = Field(default_factory=ServiceValues, description="Services")
    ingress: Ingress = Field(default_factory=Ingress, description="Ingress")
    gateway: Gateway = Field(default_factory=Gateway, description="Gateway API routes")
    metrics: Metrics = Field(default_factory=Metrics, description="Metrics scraping")
    serviceAccount: ServiceAccount = Field(
        default_factory=ServiceAccount, description="ServiceAccount"
    )
    rbac: Rbac = Field(default_factory=Rbac, description="RBAC for the ServiceAccount")
    podSecurityContext: PodSecurityContext = Field(
        default_factory=lambda: PodSecurityContext(),
        description="Pod security context, within the hardening floor",
    )
    containerSecurityContext: ContainerSecurityContext = Field(
        default_factory=lambda: ContainerSecurityContext(),
        description="Main container security context, within the hardening floor",
    )
    hardeningExceptions: HardeningExceptions = Field(
        default_factory=lambda: HardeningExceptions(),
        description="Reasons for each deliberate loosening of the floor (verify reports them)",
    )
    terminationGracePeriodSeconds: Annotated[int, Field(ge=0, le=3600)] = Field(
        30, description="Grace period on shutdown"
    )
    topologySpread: bool = Field(True, description="Spread pods across zones and hosts")
    podAnnotations: Annotations = Field(default_factory=dict, description="Extra pod annotations")
    podLabels: Labels = Field(default_factory=dict, description="Extra pod labels")
    nodeSelector: Labels = Field(default_factory=dict, description="Node selector")
    tolerations: list[dict[str, Any]] = Field(default_factory=list, description="Tolerations")
    affinity: dict[str, Any] = Field(default_factory=dict, description="Pod affinity rules")
    topologySpreadConstraints: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Replace the zone and host spread (topologySpread) with these constraints",
    )
    priorityClassName: OptionalName = Field("", description="PriorityClass of the pods")
    commonLabels: Labels = Field(default_factory=dict, description="Labels added to every object")
    commonAnnotations: Annotations = Field(
        default_factory=dict, description="Annotations added to the Deployment and its pods"
    )
    extraEnvVars: list[dict[str, Any]] = Field(
        default_factory=list, description="More env entries of the container (Kubernetes EnvVar)"
    )
    extraEnvVarsCM: OptionalName = Field("", description="ConfigMap whose keys become env")
    extraEnvVarsSecret: OptionalName = Field("", description="Secret whose keys become env")
    extraVolumes: list[dict[str, Any]] = Field(
        default_factory=list, description="More pod volumes (Kubernetes Volume)"
    )
    extraVolumeMounts: list[dict[str, Any]] = Field(
        default_factory=list, description="More mounts of the container (Kubernetes VolumeMount)"
    )
    sidecars: list[dict[str, Any]] = Field(
        default_factory=list,
        description="More containers in the pod (held to the same hardening by verify)",
    )
    initContainers: list[dict[str, Any]] = Field(
        default_factory=list, description="Init containers (held to the same hardening)"
    )
    registration: Registration = Field(
        default_factory=Registration, description="Registration with GitLab after install"
    )
    tests: TestValues = Field(default_factory=TestValues, description="helm test")

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _loosening_has_a_reason(self) -> ChartValues:
        missing = unexplained_loosenings(self.model_dump(by_alias=True))
        if missing:
            raise ValueError("; ".join(missing))
        return self


def unexplained_loosenings(values: dict[str, Any]) -> list[str]:
    """Each loosening of the floor in `values` whose exception gives no reason."""
    reasons = values.get("hardeningExceptions") or {}
    found = []
    for exception, path, loosened in LOOSENINGS:
        value: Any = values
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        hit = bool(value) if loosened is ADDED else value == loosened
        if hit and not reasons.get(exception):
            found.append(
                f"{'.'.join(path)} loosens the hardening floor: "
                f"set hardeningExceptions.{exception} to the reason"
            )
    return found


def _loosening_rule(exception: str, path: tuple[str, ...], loosened: object) -> dict[str, Any]:
    """draft-07 if/then: the loosening value at `path` requires a reason for `exception`."""
    condition: dict[str, Any] = (
        {"type": "array", "minItems": 1} if loosened is ADDED else {"const": loosened}
    )
    for key in reversed(path):
        condition = {"type": "object", "properties": {key: condition}, "required": [key]}
    reason = {"type": "string", "minLength": 1}
    then = {
        "properties": {
            "hardeningExceptions": {"properties": {exception: reason}, "required": [exception]}
        },
        "required": ["hardeningExceptions"],
    }
    return {"if": condition, "then": then}


def schema() -> dict[str, Any]:
    """values.schema.json: draft-07, self-contained, closed objects."""
    generated = ChartValues.model_json_schema(
        by_alias=True, mode="validation", schema_generator=KeysChecked
    )
    rules = [_loosening_rule(*loosening) for loosening in LOOSENINGS]
    return {"$schema": "http://json-schema.org/draft-07/schema#", **generated, "allOf": rules}
