"""The mapping: one manifest (any kind) → the chart's values and metadata, plus warnings.

This is where Runway's Cloud Run vocabulary becomes Kubernetes (docs/mapping.md): every
decision of the mapping lives in this module, as pure functions over validated models.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import PurePosixPath
from typing import Any, TypeVar

from runway.chart import values as v
from runway.chart.spec import BuildOptions, ChartSpec
from runway.common.kube import parse_quantity
from runway.errors import Diagnostic, Severity
from runway.manifest import _types, kubernetes, models
from runway.manifest.extensions import ALL_OFFERINGS, Exposure, Listener, Protocol
from runway.manifest.service import Manifest, Service

DEFAULT_MAX_REPLICAS = 10
_CI_VARIABLE = re.compile(r"\$(\{)?[A-Z_][A-Z0-9_]*")


def resolve(service: Service, options: BuildOptions) -> ChartSpec:
    manifest = service.manifest(options.environment)
    warnings: list[Diagnostic] = []

    def warn(field: str, message: str) -> None:
        warnings.append(
            Diagnostic(service.directory, message, field=field, severity=Severity.WARNING)
        )

    if options.environment is None and service.env_vars:
        warn(
            "env",
            f"env files exist for {', '.join(sorted(service.env_vars))}; build with --env to include them",
        )
    if options.environment is None and service.deployments:
        warn(
            "env",
            f"deployment files exist for {', '.join(sorted(service.deployments))}; build with "
            "--env to include their secrets and settings",
        )
    env = dict(service.env_vars.get(options.environment or "", {}))
    if isinstance(manifest, kubernetes.RunwayKubernetesService):
        chart_values, regions = _from_kubernetes(manifest, service, options, env, warn)
    else:
        chart_values, regions = _from_runway(manifest, env, warn)
    pinned = isinstance(manifest, models.RunwayServiceDev | kubernetes.RunwayKubernetesService)
    image, app_version = _image(manifest.spec.image, options, warn, pinned=pinned)
    chart_values = chart_values.model_copy(update={"image": image})
    name = _types.kubernetes_name(service.name)
    offerings = manifest.spec.offerings if isinstance(manifest, models.RunwayServiceDev) else None
    annotations = _annotations(manifest, options, regions)
    annotations["runway.gitlab.com/offerings"] = ",".join(
        offerings.supported if offerings else ALL_OFFERINGS
    )
    if isinstance(manifest, models.RunwayServiceDev) and manifest.spec.contract:
        annotations["runway.gitlab.com/contract"] = manifest.spec.contract
    return ChartSpec(
        name=name,
        service=service.name,
        version=options.version,
        app_version=app_version,
        description=f"{service.name}: a GitLab satellite service, compiled by runway from its Runway manifest",
        values=chart_values,
        annotations=annotations,
        regions=regions,
        warnings=tuple(warnings),
        offerings=tuple(offerings.supported) if offerings else tuple(ALL_OFFERINGS),
        offering_overrides=dict(offerings.overrides) if offerings else {},
    )


def _annotations(
    manifest: Manifest, options: BuildOptions, regions: tuple[str, ...]
) -> dict[str, str]:
    found: dict[str, str] = {"runway.gitlab.com/regions": ",".join(regions)}
    versions = options.gitlab_versions
    if versions is None and isinstance(manifest, models.RunwayServiceDev) and manifest.spec.gitlab:
        versions = manifest.spec.gitlab.versions
    if versions:
        found["runway.gitlab.com/gitlab-versions"] = versions
    metadata = manifest.metadata
    for key in ("owner_email_handle", "department", "department_group", "product_category"):
        value = getattr(metadata, key, None)
        if value:
            found[f"runway.gitlab.com/{key.replace('_', '-')}"] = value
    return found


def _image(
    declared: str | None, options: BuildOptions, warn: Any, *, pinned: bool
) -> tuple[v.Image, str]:
    """--image wins; a v1 spec.image is deprecated (Runway's CI passes it); a +dev one is the default."""
    reference = options.image
    if reference is None and declared:
        if _CI_VARIABLE.search(declared):
            warn(
                "spec.image",
                "spec.image holds CI variables and is deprecated: pass the image with --image",
            )
        elif pinned:
            reference = declared
        else:
            warn(
                "spec.image",
                "spec.image is deprecated: pass the image with --image (as Runway's CI does)",
            )
            reference = declared
    if not reference:
        return v.Image(), options.app_version or options.version
    image = parse_image(reference)
    return image, options.app_version or image.tag or options.version


def parse_image(reference: str) -> v.Image:
    """`registry/path:tag@digest` → registry, repository, tag, digest (Helm's `{{ .AppVersion }}` → tag unset)."""
    reference = re.sub(r":?\{\{\s*\.(Chart\.)?AppVersion\s*\}\}", "", reference)
    digest = ""
    if "@" in reference:
        reference, digest = reference.split("@", 1)
    tag = ""
    last = reference.rsplit("/", 1)[-1]
    if ":" in last:
        reference, tag = reference.rsplit(":", 1)
    registry, _, repository = reference.partition("/")
    if not repository or not ("." in registry or ":" in registry or registry == "localhost"):
        registry, repository = "", reference
    return v.Image(registry=registry, repository=repository, tag=tag, digest=digest)


def _from_runway(
    manifest: models.RunwayService | models.RunwayServiceDev, env: dict[str, str], warn: Any
) -> tuple[v.ChartValues, tuple[str, ...]]:
    spec = manifest.spec
    listeners = _listeners(spec)
    primary = _primary(listeners)
    limits = spec.resources.limits
    if spec.resources.startup_cpu_boost:
        warn(
            "spec.resources.startup_cpu_boost",
            "startup CPU boost has no Kubernetes equivalent; requests stay as derived",
        )
    scale = spec.scalability
    if scale.min_instances == 0:
        warn(
            "spec.scalability.min_instances",
            "Kubernetes cannot scale to zero with an HPA: minReplicas is 1",
        )
    if spec.deployment.rollout_traffic_percentages:
        warn(
            "spec.deployment.rollout_traffic_percentages",
            "traffic percentages need a progressive-delivery controller; the chart rolls pods with RollingUpdate",
        )
    if spec.deployment.strategy is models.Strategy.DRYRUN:
        warn(
            "spec.deployment.strategy",
            "dryrun deploys nothing on Runway; the chart is built as usual",
        )
    min_replicas = max(1, scale.min_instances)
    max_replicas = scale.max_instances or max(min_replicas, DEFAULT_MAX_REPLICAS)
    metrics_ports = _scrape_ports(spec.observability.scrape_targets, warn)
    cloudflare = bool(spec.network_policies and spec.network_policies.cloudflare)
    chart = v.ChartValues(
        region=spec.regions[0],
        command=list(spec.command or []),
        args=list(spec.args or []),
        listeners={item.name: _listener_values(item, spec.request_timeout) for item in listeners},
        primaryListener=primary.name,
        env=env,
        resources=v.Resources(
            requests=v.ResourceList(cpu=_half_cpu(limits.cpu), memory=limits.memory),
            limits=v.ResourceList(cpu=limits.cpu, memory=limits.memory),
        ),
        probes=_probes(spec, primary),
        replicaCount=min_replicas,
        autoscaling=v.Autoscaling(
            minReplicas=min_replicas, maxReplicas=max(min_replicas, max_replicas)
        ),
        rollingUpdate=_rolling_update(spec.deployment.strategy),
        pdb=v.PodDisruptionBudget(enabled=True),
        networkPolicy=v.NetworkPolicy(
            cloudflare=v.Cloudflare(enabled=cloudflare, cidrs=list(cloudflare_cidrs()))
        ),
        metrics=v.Metrics(enabled=bool(metrics_ports), ports=metrics_ports),
        tests=v.TestValues(enabled=primary.exposure is not Exposure.POD),
    )
    if isinstance(manifest, models.RunwayServiceDev):
        chart = _apply_extensions(chart, manifest.spec, env)
    return chart, tuple(spec.regions)


def _apply_extensions(
    chart: v.ChartValues, spec: models.DevServiceSpec, env: dict[str, str]
) -> v.ChartValues:
    secrets = {
        s.name: v.Secret(
            generate={
                k: n for k, n in (("length", s.generate.length), ("bytes", s.generate.bytes)) if n
            }
            if s.generate
            else None,
            existing={"name": s.existing.name, "key": s.existing.key} if s.existing else None,
            external=_external(s.external) if s.external else None,
            file=s.file or "",
            env=s.env or "",
        )
        for s in spec.secrets
    }
    files = [
        v.ConfigFile(
            key=_config_key(i, f.path),
            path=f.path,
            content=f.content if isinstance(f.content, str) else "",
            data=f.content if isinstance(f.content, dict) else {},
            redisKey=f.redis_at or "",
        )
        for i, f in enumerate(spec.config_files)
    ]
    account = spec.service_account
    redis = spec.datastores.redis if spec.datastores else None
    update: dict[str, Any] = {
        "env": {**spec.environment, **env},
        "secrets": secrets,
        "configFiles": files,
    }
    if spec.termination_grace_period_seconds is not None:
        update["terminationGracePeriodSeconds"] = spec.termination_grace_period_seconds
    if account is not None:
        update["serviceAccount"] = v.ServiceAccount(
            automountServiceAccountToken=account.automount_token,
            gcpServiceAccount=account.gcp_service_account or "",
        )
        update["rbac"] = v.Rbac(
            clusterWide=account.cluster_wide,
            rules=_rules(account.rules),
            clusterRules=_rules(account.cluster_rules),
        )
    if redis is not None:
        update["redis"] = v.Redis(
            address=redis.address or "",
            sentinels=list(redis.sentinels or []),
            masterName=redis.master_name or "",
            database=redis.database,
            tls=redis.tls,
            password={"name": redis.password.name, "key": redis.password.key}
            if redis.password
            else None,
        )
    return chart.model_copy(update=update)


def _rules(rules: list[Any]) -> list[v.Rule]:
    return [
        v.Rule(apiGroups=r.api_groups, resources=r.resources, verbs=list(r.verbs)) for r in rules
    ]


def _external(source: Any) -> dict[str, str]:
    found = {
        "store": source.store,
        "storeKind": source.store_kind,
        "path": source.path,
        "refreshInterval": source.refresh_interval,
    }
    if source.property:
        found["property"] = source.property
    return found


def _config_key(index: int, path: str) -> str:
    name = re.sub(r"[^-._a-zA-Z0-9]", "-", PurePosixPath(path).name) or "file"
    return f"{index:02d}-{name}"


def _listeners(spec: models.ServiceSpec) -> list[Listener]:
    """v1: one listener from container_port and load_balancing; +dev: the declared listeners."""
    if isinstance(spec, models.DevServiceSpec) and spec.listeners:
        return list(spec.listeners)
    lb = spec.load_balancing
    external = lb.external_load_balancer if lb else None
    internal = lb.internal_load_balancer if lb else None
    exposure = Exposure.CLUSTER
    protocol = Protocol.HTTP
    for balancer, level in ((internal, Exposure.INTERNAL), (external, Exposure.PUBLIC)):
        if balancer is not None and balancer.enabled is not False:
            exposure = level
            if balancer.backend_protocol in (
                models.BackendProtocol.HTTP2,
                models.BackendProtocol.GRPC,
            ):
                protocol = Protocol.GRPC
    name = "grpc" if protocol is Protocol.GRPC else "http"
    return [Listener(name=name, port=spec.container_port, protocol=protocol, exposure=exposure)]


def _primary(listeners: list[Listener]) -> Listener:
    for listener in listeners:
        if listener.exposure is not Exposure.POD:
            return listener
    return listeners[0]


def _listener_values(listener: Listener, request_timeout: int | None) -> v.Listener:
    return v.Listener(
        port=listener.port,
        protocol=listener.protocol.value,
        exposure=listener.exposure.value,
        path=listener.path,
        host=listener.host or "",
        extraHosts=list(listener.aliases),
        tlsSecret=listener.tls_secret or "",
        timeoutSeconds=listener.timeout_seconds or request_timeout or 30,
    )


def _half_cpu(quantity: str) -> str:
    """CPU requests are half the limit (Cloud Run bills limits; Kubernetes schedules requests)."""
    millis = parse_quantity(quantity) * 1000 / 2
    return f"{max(int(millis), 1)}m"


def _rolling_update(strategy: models.Strategy) -> v.RollingUpdate:
    if strategy is models.Strategy.EXPEDITED:
        return v.RollingUpdate(maxSurge="100%", maxUnavailable=0)
    return v.RollingUpdate()


def _scrape_ports(targets: list[str], warn: Any) -> list[int]:
    ports: list[int] = []
    for index, target in enumerate(targets):
        host, _, port = target.rpartition(":")
        if host not in ("localhost", "127.0.0.1", "[::1]", "0.0.0.0"):
            warn(
                f"spec.observability.scrape_targets[{index}]",
                f"{target}: only targets in the pod can be scraped; skipped",
            )
            continue
        if int(port) not in ports:
            ports.append(int(port))
    return ports


ProbeT = TypeVar("ProbeT", bound=v.Probe)


def _probes(spec: models.ServiceSpec, primary: Listener) -> v.Probes:
    default_type = "grpc" if primary.protocol is Protocol.GRPC else "tcp"

    def one(probe: Any, kind_of: type[ProbeT], *, startup: bool = False) -> ProbeT:
        target = getattr(probe, "target", None)
        port = (target.listener if target and target.listener else None) or primary.name
        kind = (target.type.value if target and target.type else None) or (
            "http" if probe.path else default_type
        )
        return kind_of(
            type=kind,
            port=port,
            path=probe.path or "",
            initialDelaySeconds=getattr(probe, "initial_delay_seconds", None) or 0,
            periodSeconds=probe.period_seconds or 10,
            timeoutSeconds=probe.timeout_seconds or 1,
            failureThreshold=probe.failure_threshold or (30 if startup else 3),
            successThreshold=getattr(probe, "success_threshold", None) or 1,
        )

    startup = one(spec.startup_probe, v.LivenessProbe, startup=True) if spec.startup_probe else None
    liveness = (
        one(spec.liveness_probe, v.LivenessProbe)
        if spec.liveness_probe
        else v.LivenessProbe(type=default_type, port=primary.name)
    )
    readiness = (
        one(spec.readiness_probe, v.Probe)
        if spec.readiness_probe
        else v.Probe(**(liveness.model_dump() | {"initialDelaySeconds": 0}))
    )
    if startup is None and not spec.liveness_probe and not spec.readiness_probe:
        startup = v.LivenessProbe(
            type=default_type, port=primary.name, periodSeconds=2, failureThreshold=60
        )
    return v.Probes(startup=startup, liveness=liveness, readiness=readiness)


def _from_kubernetes(
    manifest: kubernetes.RunwayKubernetesService,
    service: Service,
    options: BuildOptions,
    env: dict[str, str],
    warn: Any,
) -> tuple[v.ChartValues, tuple[str, ...]]:
    spec = manifest.spec
    protocol = Protocol.GRPC if spec.protocol is kubernetes.Protocol.GRPC else Protocol.HTTP
    exposure = (
        Exposure.PUBLIC
        if spec.load_balancing and spec.load_balancing.cloudflare
        else Exposure.CLUSTER
    )
    listener = Listener(
        name=protocol.value, port=spec.container_port, protocol=protocol, exposure=exposure
    )
    requests = spec.resources.requests or kubernetes.ResourceList()
    limits = spec.resources.limits or kubernetes.ResourceList()
    cpu_limit = limits.cpu or kubernetes.DEFAULT_LIMITS["cpu"]
    memory_limit = limits.memory or kubernetes.DEFAULT_LIMITS["memory"]
    deployment = service.deployments.get(options.environment or "")
    scale = spec.scalability
    min_replicas = max(1, scale.min_instances)
    if scale.min_instances == 0:
        warn(
            "spec.scalability.min_instances",
            "Kubernetes cannot scale to zero with an HPA: minReplicas is 1",
        )
    base = models.ServiceSpec(
        container_port=spec.container_port,
        startup_probe=_as_probe(spec.startup_probe),
        liveness_probe=_as_probe(spec.liveness_probe),
        readiness_probe=_as_readiness(spec.readiness_probe),
    )
    cloudflare = bool(
        spec.load_balancing
        and spec.load_balancing.cloudflare
        and spec.load_balancing.cloudflare.enabled
    )
    chart = v.ChartValues(
        command=list(spec.command or []),
        args=list(spec.args or []),
        listeners={listener.name: _listener_values(listener, None)},
        primaryListener=listener.name,
        env={**spec.environment, **env},
        secretEnvFrom=list(deployment.secretEnvFrom) if deployment else [],
        secretVolumes=[{"name": s.name, "path": s.path} for s in deployment.secretVolumes]
        if deployment
        else [],
        resources=v.Resources(
            requests=v.ResourceList(
                cpu=requests.cpu or _half_cpu(cpu_limit),
                memory=requests.memory or memory_limit,
                ephemeral_storage=requests.ephemeral_storage,
            ),
            limits=v.ResourceList(
                cpu=cpu_limit, memory=memory_limit, ephemeral_storage=limits.ephemeral_storage
            ),
        ),
        probes=_probes(base, listener),
        replicaCount=min_replicas,
        autoscaling=v.Autoscaling(
            minReplicas=min_replicas,
            maxReplicas=max(min_replicas, scale.max_instances or DEFAULT_MAX_REPLICAS),
            targetCPUUtilizationPercentage=scale.cpu_utilization or 70,
        ),
        networkPolicy=v.NetworkPolicy(
            cloudflare=v.Cloudflare(enabled=cloudflare, cidrs=list(cloudflare_cidrs()))
        ),
        tests=v.TestValues(enabled=True),
    )
    return chart, ()


def _as_probe(probe: kubernetes.KubeProbe | None) -> models.Probe | None:
    if probe is None:
        return None
    return models.Probe(**probe.model_dump(exclude={"success_threshold"}, exclude_none=True))


def _as_readiness(probe: kubernetes.KubeProbe | None) -> models.ReadinessProbe | None:
    if probe is None:
        return None
    return models.ReadinessProbe.model_construct(
        **probe.model_dump(exclude={"initial_delay_seconds"}, exclude_none=True)
    )


def cloudflare_cidrs() -> tuple[str, ...]:
    text = resources.files("runway.data").joinpath("cloudflare-ips.txt").read_text()
    return tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
