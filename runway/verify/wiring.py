"""Wiring: does a rendered chart hold together the way the cluster and the component need it to?

Schemas say each object is well-formed; these checks look across objects: every path a container
is told about is mounted, every reference resolves, every route and probe reaches a port, and
nothing exceeds what the API server accepts.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from ruamel.yaml.error import YAMLError

from runway.common import kube, yamlio
from runway.common.kube import containers, parse_quantity, pod_spec, port_name_problem
from runway.verify.podview import (
    ContainerView,
    Workload,
    config_data,
    index,
    secret_data,
    workloads,
)

MAX_OBJECT_DATA = 1024 * 1024  # ConfigMap and Secret data, as the API server (etcd) caps it
MAX_ANNOTATIONS = 256 * 1024
PATH_KEY = re.compile(r"(_file|(?<!url)_path|_dir)$")
PATH_ENV = re.compile(r"(_FILE|_PATH|_DIR)$")
PATH_FLAG = re.compile(r"^--?([a-z][-a-z]*-)?([a-z]*file|path|dir|config)$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(kube.LABEL_VALUE)
WELL_KNOWN_CLUSTER_ROLES = {"cluster-admin", "admin", "edit", "view"}
_LABEL_NAMED = {"Service", "Namespace"}  # names that must be DNS labels (≤ 63)


@dataclasses.dataclass(frozen=True, slots=True)
class Route:
    """One host + path an edge object sends to a Service port."""

    owner: str  # Kind/name of the Ingress or route
    host: str
    path: str
    service: str
    port: str  # a port name or number, as the route names it
    grpc: bool  # the edge speaks gRPC (HTTP/2 only) to the backend


def check(objects: list[dict[str, Any]], values: dict[str, Any]) -> list[str]:
    """Every wiring problem of one chart's rendered objects, each naming object, field and fix."""
    external = declared_external(values)
    pods = list(workloads(objects))
    by_name = index(objects)
    problems: list[str] = []
    for workload in pods:
        for view in workload.containers:
            problems.extend(_mounts(view))
            problems.extend(_paths(view, by_name))
        problems.extend(_pod_references(workload, by_name, external))
    problems.extend(_services(objects, pods))
    problems.extend(_edges(objects, by_name))
    problems.extend(_rbac(objects, by_name, external))
    problems.extend(_limits(objects))
    problems.extend(_port_names(objects))
    problems.extend(_repeated_names(objects))
    problems.extend(_resource_amounts(objects))
    problems.extend(_pod_amounts(objects))
    problems.extend(_scrapes(objects, pods, by_name))
    problems.extend(_helm_tests(objects, pods, by_name))
    problems.extend(_gke_health_checks(objects, pods, by_name))
    return problems


def declared_external(values: dict[str, Any]) -> set[str]:
    """Names of Secrets, ConfigMaps and ServiceAccounts that values say exist outside the chart."""
    found: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            if key in ("existing", "password", "tokenSecret", "caSecret") and isinstance(
                node.get("name"), str
            ):
                found.add(node["name"])
            for child_key, child in node.items():
                walk(child, str(child_key))
        elif isinstance(node, list):
            for child in node:
                walk(child, key)

    walk(values)
    found.update(str(n) for n in values.get("secretEnvFrom") or [])
    found.update(str(v.get("name")) for v in values.get("secretVolumes") or [])
    found.update(str(values.get(k) or "") for k in ("extraEnvVarsCM", "extraEnvVarsSecret"))
    found.update(
        str(n.get("name") if isinstance(n, dict) else n)
        for n in (values.get("global") or {}).get("imagePullSecrets") or []
    )
    account = values.get("serviceAccount") or {}
    if account.get("create") is False and account.get("name"):
        found.add(str(account["name"]))
    return found - {""}


def routes(objects: list[dict[str, Any]]) -> list[Route]:
    """Every host + path the chart's Ingresses and Gateway API routes serve."""
    found: list[Route] = []
    for obj in objects:
        kind = obj.get("kind")
        owner = f"{kind}/{obj['metadata']['name']}"
        spec = obj.get("spec") or {}
        if kind == "Ingress":
            annotations = obj["metadata"].get("annotations") or {}
            grpc = str(
                annotations.get("nginx.ingress.kubernetes.io/backend-protocol", "")
            ).upper() in ("GRPC", "GRPCS")
            for rule in spec.get("rules") or []:
                for path in (rule.get("http") or {}).get("paths") or []:
                    service = (path.get("backend") or {}).get("service") or {}
                    port = service.get("port") or {}
                    found.append(
                        Route(
                            owner,
                            str(rule.get("host", "")),
                            str(path.get("path", "/")),
                            str(service.get("name", "")),
                            str(port.get("name") or port.get("number")),
                            grpc,
                        )
                    )
        elif kind in ("HTTPRoute", "GRPCRoute"):
            hosts = [str(h) for h in spec.get("hostnames") or [""]]
            for rule in spec.get("rules") or []:
                paths = [
                    str((m.get("path") or {}).get("value", "/")) for m in rule.get("matches") or []
                ] or ["/"]
                for ref in rule.get("backendRefs") or []:
                    if ref.get("kind", "Service") != "Service":
                        continue
                    for host in hosts:
                        for path in paths:
                            found.append(
                                Route(
                                    owner,
                                    host,
                                    path,
                                    str(ref.get("name")),
                                    str(ref.get("port")),
                                    kind == "GRPCRoute",
                                )
                            )
    return found


def duplicate_routes(found: list[Route]) -> Iterator[str]:
    claimed: dict[tuple[str, str], str] = {}
    for route in found:
        key = (route.host or "*", route.path)
        other = claimed.setdefault(key, route.owner)
        if other != route.owner:
            yield (
                f"{route.owner}: host {route.host or '(any)'} path {route.path} is also claimed by "
                f"{other}; give each route its own host or path"
            )


def _mounts(view: ContainerView) -> Iterator[str]:
    seen: dict[str, str] = {}
    for mount in view.mounts:
        path = mount.path
        where = f"{view.where}: volumeMounts {mount.volume} at {path}"
        if not path.startswith("/"):
            yield f"{where}: not an absolute path; use an absolute mountPath"
            continue
        if ".." in path.split("/") or posixpath.normpath(path) != path:
            yield f"{where}: not a normalised path; write it without '..', '.', '//' or a trailing '/'"
        if posixpath.normpath(path) == "/":
            yield f"{where}: mounts over the root filesystem; mount at a directory of its own"
        normal = posixpath.normpath(path)
        if normal in seen:
            yield f"{where}: the same path as volume {seen[normal]}; give each mount its own path"
        seen.setdefault(normal, mount.volume)
        if mount.volume != "tmp" and (normal == "/tmp" or normal.startswith("/tmp/")):
            yield f"{where}: shadows the chart's writable /tmp; mount it somewhere else"


def _paths(view: ContainerView, by_name: dict[tuple[str, str], dict[str, Any]]) -> Iterator[str]:
    """Paths the container is told about (config keys, env, flags) must exist in its filesystem."""
    for path, source in sorted(view.files.items()):
        if source.kind != "configMap":
            continue
        obj = by_name.get(("ConfigMap", source.name))
        if obj is None:
            continue
        text = config_data(obj).get(source.key)
        for key, target in _path_keys(text):
            if not view.has_path(target):
                yield (
                    f"{view.where}: {path} (ConfigMap {source.name} key {source.key}): {key} "
                    f"points at {target}, which is not mounted; mount it there or fix the path"
                )
    for name, value in sorted(view.env_values.items()):
        if PATH_ENV.search(name) and value.startswith("/") and not view.has_path(value):
            yield f"{view.where}: env {name} points at {value}, which is not mounted; mount it or fix the value"
    for flag, value in flags(view.args()):
        if PATH_FLAG.match(flag) and value.startswith("/") and not view.has_path(value):
            yield f"{view.where}: args {flag} points at {value}, which is not mounted; mount it or fix the flag"


def _path_keys(text: bytes | None) -> Iterator[tuple[str, str]]:
    if not text:
        return
    try:
        data = yamlio.load_config(text.decode("utf-8", "replace"))
    except YAMLError:
        return
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        prefix, node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                dotted = f"{prefix}.{key}" if prefix else str(key)
                if isinstance(child, str) and PATH_KEY.search(str(key)) and child.startswith("/"):
                    yield dotted, child
                else:
                    stack.append((dotted, child))
        elif isinstance(node, list):
            stack.extend((f"{prefix}[{i}]", child) for i, child in enumerate(node))


def flags(args: list[str]) -> Iterator[tuple[str, str]]:
    """(flag, value) pairs of `--flag=value` and `--flag value` arguments."""
    for position, arg in enumerate(args):
        if not arg.startswith("-"):
            continue
        if "=" in arg:
            flag, value = arg.split("=", 1)
            yield flag, value
        elif position + 1 < len(args) and not args[position + 1].startswith("-"):
            yield arg, args[position + 1]


@dataclasses.dataclass(frozen=True)
class _Lookup:
    """What a workload may reference: the chart's objects and what values declare as existing."""

    where: str
    by_name: dict[tuple[str, str], dict[str, Any]]
    external: set[str]
    created_secrets: frozenset[str]

    def missing(self, kind: str, name: str, field: str) -> Iterator[str]:
        created = (
            self.created_secrets
            if kind == "Secret"
            else {n for (k, n) in self.by_name if k == kind}
        )
        if name not in created and name not in self.external:
            yield (
                f"{self.where}: {field} names {kind} {name}, which the chart does not create and "
                f"values do not declare as existing; create it in the chart or reference it "
                f"through values"
            )


def _pod_references(
    workload: Workload, by_name: dict[tuple[str, str], dict[str, Any]], external: set[str]
) -> Iterator[str]:
    created_secrets = {n for (k, n) in by_name if k == "Secret"} | {
        str(((o.get("spec") or {}).get("target") or {}).get("name") or n)
        for (k, n), o in by_name.items()
        if k == "ExternalSecret"
    }
    lookup = _Lookup(workload.ref, by_name, external, frozenset(created_secrets))
    for volume in workload.pod.get("volumes") or []:
        yield from _volume_references(volume, lookup)
    for view in workload.containers:
        yield from _env_references(view.name, view.container, lookup)
    account = workload.pod.get("serviceAccountName")
    if account:
        yield from lookup.missing("ServiceAccount", str(account), "serviceAccountName")


def _volume_references(volume: dict[str, Any], lookup: _Lookup) -> Iterator[str]:
    field = f"volume {volume.get('name')}"
    for kind, ref, source in _volume_refs(volume):
        if not ref.get("optional"):
            yield from lookup.missing(kind, source, field)
        obj = lookup.by_name.get((kind, source))
        keys = _keys(obj) if obj else None
        for item in ref.get("items") or []:
            if keys is not None and item.get("key") not in keys:
                yield (
                    f"{lookup.where}: {field} takes key {item.get('key')} from "
                    f"{kind} {source}, which has no such key (keys: {', '.join(sorted(keys))})"
                )
    claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    if claim:
        yield from lookup.missing("PersistentVolumeClaim", str(claim), field)


def _env_references(name: str, container: dict[str, Any], lookup: _Lookup) -> Iterator[str]:
    for source in container.get("envFrom") or []:
        for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = source.get(field)
            if ref and not ref.get("optional"):
                yield from lookup.missing(kind, str(ref.get("name")), f"{name} envFrom")
    for item in container.get("env") or []:
        ref = item.get("valueFrom") or {}
        for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            key_ref = ref.get(field)
            if not key_ref or key_ref.get("optional"):
                continue
            source = str(key_ref.get("name"))
            yield from lookup.missing(kind, source, f"{name} env {item.get('name')}")
            obj = lookup.by_name.get((kind, source))
            if obj is not None and key_ref.get("key") not in _keys(obj):
                yield (
                    f"{lookup.where}: {name} env {item.get('name')} reads key "
                    f"{key_ref.get('key')} of {kind} {source}, which has no such key"
                )


def _volume_refs(volume: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    sources = [volume, *((volume.get("projected") or {}).get("sources") or [])]
    for source in sources:
        if "configMap" in source:
            yield "ConfigMap", source["configMap"], str(source["configMap"].get("name"))
        if "secret" in source:
            ref = source["secret"]
            yield "Secret", ref, str(ref.get("secretName") or ref.get("name"))


def _keys(obj: dict[str, Any]) -> set[str]:
    if obj.get("kind") == "Secret":
        return set(secret_data(obj))
    if obj.get("kind") == "ExternalSecret":
        return {str(d.get("secretKey")) for d in (obj.get("spec") or {}).get("data") or []}
    return set(config_data(obj))


def _services(objects: list[dict[str, Any]], pods: list[Workload]) -> Iterator[str]:
    """Services, probes, autoscalers and disruption budgets point at the chart's own pods."""
    for obj in objects:
        if obj.get("kind") == "Service":
            yield from _service_targets(obj, pods)
    for workload in pods:
        for view in workload.containers:
            yield from _probe_ports(view)
            yield from _probe_thresholds(view)
    for obj in objects:
        yield from _scaling_targets(obj, pods)


def _service_targets(service: dict[str, Any], pods: list[Workload]) -> Iterator[str]:
    where = f"Service/{service['metadata']['name']}"
    selector = (service.get("spec") or {}).get("selector") or {}
    selected = [w for w in pods if selector and selector.items() <= w.labels.items()]
    if selector and not selected:
        yield f"{where}: selector {json.dumps(selector, sort_keys=True)} selects no pod template of the chart; match the pod labels"
        return
    ports = {name: port for w in selected for name, port in _container_ports(w).items()}
    for port in (service.get("spec") or {}).get("ports") or []:
        target = port.get("targetPort", port.get("port"))
        if selected and str(target) not in ports and target not in ports.values():
            yield (
                f"{where}: port {port.get('name') or port.get('port')} targets {target}, which "
                f"no selected container declares; use one of {', '.join(sorted(ports)) or 'none'}"
            )


def _probe_ports(view: ContainerView) -> Iterator[str]:
    ports = view.ports()
    for probe_name in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = view.container.get(probe_name) or {}
        for handler in ("httpGet", "tcpSocket", "grpc"):
            if handler not in probe:
                continue
            target = probe[handler].get("port")
            if str(target) not in ports and target not in ports.values():
                yield (
                    f"{view.where}: {probe_name} {handler} port {target} is not a "
                    f"container port; probe one of {', '.join(sorted(ports)) or 'none'}"
                )


def _probe_thresholds(view: ContainerView) -> Iterator[str]:
    """The API server refuses a liveness or startup probe whose successThreshold is not 1."""
    for probe_name in ("startupProbe", "livenessProbe"):
        threshold = (view.container.get(probe_name) or {}).get("successThreshold", 1)
        if threshold != 1:
            yield f"{view.where}: {probe_name} successThreshold is {threshold}; Kubernetes requires 1"


def _scaling_targets(obj: dict[str, Any], pods: list[Workload]) -> Iterator[str]:
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "HorizontalPodAutoscaler":
        ref = spec.get("scaleTargetRef") or {}
        if not any(w.kind == ref.get("kind") and w.name == ref.get("name") for w in pods):
            yield f"HorizontalPodAutoscaler/{obj['metadata']['name']}: scaleTargetRef {ref.get('kind')}/{ref.get('name')} is not in the chart"
    if kind == "PodDisruptionBudget":
        labels = (spec.get("selector") or {}).get("matchLabels") or {}
        if not any(labels.items() <= w.labels.items() for w in pods):
            yield f"PodDisruptionBudget/{obj['metadata']['name']}: selector selects no pod template of the chart"


def _edges(
    objects: list[dict[str, Any]], by_name: dict[tuple[str, str], dict[str, Any]]
) -> Iterator[str]:
    found = routes(objects)
    for route in found:
        service = by_name.get(("Service", route.service))
        if service is None:
            yield f"{route.owner}: host {route.host or '(any)'} path {route.path} sends to Service {route.service}, which the chart does not create"
            continue
        ports = (service.get("spec") or {}).get("ports") or []
        if not any(route.port in (str(p.get("name")), str(p.get("port"))) for p in ports):
            yield f"{route.owner}: backend port {route.port} is not a port of Service {route.service}"
    yield from duplicate_routes(found)


def _rbac(
    objects: list[dict[str, Any]],
    by_name: dict[tuple[str, str], dict[str, Any]],
    external: set[str],
) -> Iterator[str]:
    for obj in objects:
        if obj.get("kind") not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        ref = obj.get("roleRef") or {}
        name = str(ref.get("name"))
        if (str(ref.get("kind")), name) not in by_name and not (
            ref.get("kind") == "ClusterRole"
            and (name in WELL_KNOWN_CLUSTER_ROLES or name.startswith("system:"))
        ):
            yield f"{where}: roleRef {ref.get('kind')}/{name} is not created by the chart"
        for subject in obj.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount":
                account = str(subject.get("name"))
                if ("ServiceAccount", account) not in by_name and account not in external:
                    yield f"{where}: binds ServiceAccount {account}, which the chart does not create"


def _limits(objects: list[dict[str, Any]]) -> Iterator[str]:
    for obj in objects:
        kind = str(obj.get("kind"))
        metadata = obj.get("metadata") or {}
        name = str(metadata.get("name", ""))
        where = f"{kind}/{name}"
        if kind in ("ConfigMap", "Secret"):
            data = config_data(obj) if kind == "ConfigMap" else secret_data(obj)
            size = sum(len(k) + len(v) for k, v in data.items())
            if size > MAX_OBJECT_DATA:
                yield f"{where}: {size} bytes of data, over Kubernetes' limit of 1 MiB; split it or mount it from a volume"
        pattern, limit = (DNS_LABEL, 63) if kind in _LABEL_NAMED else (DNS_SUBDOMAIN, 253)
        if kind.endswith(("Role", "RoleBinding")):
            pattern = re.compile(r"^[^/%]+$")
        if len(name) > limit or not pattern.match(name):
            yield f"{where}: metadata.name is not a valid {kind} name (at most {limit} characters, lower-case DNS)"
        for key, value in (metadata.get("labels") or {}).items():
            if (
                not _label_key_ok(str(key))
                or len(str(value)) > 63
                or not LABEL_VALUE.match(str(value))
            ):
                yield f"{where}: label {key}={value} is not a valid label (name and value at most 63 characters)"
        annotations = metadata.get("annotations") or {}
        if sum(len(str(k)) + len(str(v)) for k, v in annotations.items()) > MAX_ANNOTATIONS:
            yield f"{where}: annotations exceed 256 KiB"


def _port_names(objects: list[dict[str, Any]]) -> Iterator[str]:
    """Port names the API server refuses: container ports, probe ports and a Service's target
    ports must pass IsValidPortName; a Service port's own name must be a DNS-1123 label."""
    for obj in objects:
        where = _where(obj)
        for field, value in _named_ports(obj):
            problem = port_name_problem(value) if isinstance(value, str) else None
            if problem:
                yield f"{where}: {field} {value!r} is not a valid port name: it {problem}"
        for port in _service_ports(obj):
            name = port.get("name")
            if isinstance(name, str) and (len(name) > 63 or not DNS_1123_LABEL.match(name)):
                yield f"{where}: Service port name {name!r} is not a DNS-1123 label (at most 63 characters)"


def _repeated_names(objects: list[dict[str, Any]]) -> Iterator[str]:
    """Names the API server requires to be unique (pkg/apis/core/validation): containers across
    init and app containers, volumes, a container's port names, a Service's port names."""
    for obj in objects:
        where = _where(obj)
        pod = pod_spec(obj) or {}
        listed = containers(pod)
        lists = [
            ("container name", [c.get("name") for c in listed]),
            ("volume name", [v.get("name") for v in pod.get("volumes") or []]),
            ("Service port name", [p.get("name") for p in _service_ports(obj)]),
            *(
                (
                    f"container {c.get('name')} port name",
                    [p.get("name") for p in c.get("ports") or []],
                )
                for c in listed
            ),
        ]
        for what, names in lists:
            for name in sorted({n for n in names if n is not None and names.count(n) > 1}):
                yield f"{where}: {what} {name!r} is used more than once; Kubernetes refuses the object"


PERCENT = re.compile(r"^[0-9]+%$")


def _pod_amounts(objects: list[dict[str, Any]]) -> Iterator[str]:
    """Numbers of pods the API server refuses although the schemas take any int or string
    (pkg/apis/apps/validation ValidatePositiveIntOrPercent): a string that is not a percentage
    (`"0"`), a negative number, over 100% unavailable, or a rollout where nothing may move."""
    for obj in objects:
        spec = obj.get("spec") or {}
        if obj.get("kind") == "Deployment":
            at, found = "strategy.rollingUpdate", (spec.get("strategy") or {}).get("rollingUpdate")
            names = ("maxSurge", "maxUnavailable")
        elif obj.get("kind") == "PodDisruptionBudget":
            at, found, names = "spec", spec, ("minAvailable", "maxUnavailable")
        else:
            continue
        found = found or {}
        where = _where(obj)
        for name in (n for n in names if n in found):
            value = found[name]
            if isinstance(value, str) and not PERCENT.match(value):
                yield f"{where}: {at}.{name} {value!r} is a string but not a percentage; write a number ({value}) or a percentage ('{value}%')"
            elif isinstance(value, int) and value < 0:
                yield f"{where}: {at}.{name} {value} is negative"
            elif name != "maxSurge" and isinstance(value, str) and int(value[:-1]) > 100:
                yield f"{where}: {at}.{name} {value} is over 100%"
        if names[0] == "maxSurge" and all(found.get(n, 1) in (0, "0%") for n in names):
            yield f"{where}: {at}: maxSurge and maxUnavailable are both zero, so no pod may be replaced; allow one of them"


def _scrapes(
    objects: list[dict[str, Any]],
    pods: list[Workload],
    by_name: dict[tuple[str, str], dict[str, Any]],
) -> Iterator[str]:
    """Every port Prometheus is asked to scrape (the prometheus.io/port annotation, a
    PodMonitoring or PodMonitor endpoint) must be one the pod's NetworkPolicies let in from
    every namespace: where Prometheus runs is not known."""
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    for workload in pods:
        template = (by_name.get((workload.kind, workload.name)) or {}).get("spec") or {}
        annotations = (template.get("template") or {}).get("metadata", {}).get("annotations") or {}
        scraped: list[tuple[Any, str]] = []
        if (
            str(annotations.get("prometheus.io/scrape")) == "true"
            and "prometheus.io/port" in annotations
        ):
            scraped.append((annotations["prometheus.io/port"], "prometheus.io/port"))
        for monitor in objects:
            endpoints = (monitor.get("spec") or {}).get("endpoints") or []
            if monitor.get("kind") == "PodMonitor":
                endpoints = (monitor.get("spec") or {}).get("podMetricsEndpoints") or []
            elif monitor.get("kind") != "PodMonitoring":
                continue
            if _selects((monitor.get("spec") or {}).get("selector") or {}, workload.labels):
                where = f"{monitor['kind']}/{monitor['metadata']['name']}"
                scraped += [(e.get("portNumber", e.get("port")), where) for e in endpoints]
        named = _container_ports(workload)
        for port, asked_by in scraped:
            number = named.get(str(port), port)
            if not _lets_in(policies, workload.labels, number, named, _anywhere):
                yield (
                    f"{workload.ref}: {asked_by} asks Prometheus to scrape port {port}, which no "
                    "NetworkPolicy of the chart lets in from the rest of the cluster; allow it "
                    "(metrics.ports)"
                )


def _container_ports(workload: Workload) -> dict[str, int]:
    """Container port name → number, over the workload's containers."""
    return {name: port for c in workload.containers for name, port in c.ports().items()}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector (matchLabels and matchExpressions) against a pod's labels."""
    if not (selector.get("matchLabels") or {}).items() <= labels.items():
        return False
    for rule in selector.get("matchExpressions") or []:
        key, operator, values = rule.get("key"), rule.get("operator"), rule.get("values") or []
        present = key in labels
        if not {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(str(operator), False):
            return False
    return True


Peer = Callable[[dict[str, Any], dict[str, Any]], bool]
"""Whether a NetworkPolicy peer (given the policy) admits the connecting pod."""


def _lets_in(
    policies: list[dict[str, Any]],
    labels: dict[str, str],
    port: Any,
    named: dict[str, int],
    admits: Peer,
) -> bool:
    """Whether the Ingress NetworkPolicies selecting a pod (`labels`) let a client the peers
    `admits` reach `port` (none selecting the pod: everything may). An ipBlock never counts:
    whether it covers pod addresses is up to the network plugin."""
    selecting = [
        p
        for p in policies
        if _selects((p.get("spec") or {}).get("podSelector") or {}, labels)
        and "Ingress" in ((p.get("spec") or {}).get("policyTypes") or ["Ingress"])
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in (policy.get("spec") or {}).get("ingress") or []:
            if "from" in rule and not any(admits(peer, policy) for peer in rule["from"] or []):
                continue
            ports = rule.get("ports")
            if not ports or any(
                str(p.get("port")) == str(port) or named.get(str(p.get("port"))) == port
                for p in ports
            ):
                return True
    return False


def _anywhere(peer: dict[str, Any], _policy: dict[str, Any]) -> bool:
    """Every pod of every namespace: where a scraper runs is not known, so a peer limited to
    some namespaces or pods does not admit it."""
    return peer.get("namespaceSelector") == {} and not (peer.get("podSelector") or {})


def _pod_in(namespace: str, labels: dict[str, str]) -> Peer:
    """A peer test for one pod: its namespace is known only by the label every namespace has
    (kubernetes.io/metadata.name)."""

    def admits(peer: dict[str, Any], policy: dict[str, Any]) -> bool:
        if "namespaceSelector" in peer:
            names = {"kubernetes.io/metadata.name": namespace}
            if not _selects(peer["namespaceSelector"] or {}, names):
                return False
        elif (policy.get("metadata") or {}).get("namespace", namespace) != namespace:
            return False
        if "podSelector" in peer:
            return _selects(peer["podSelector"] or {}, labels)
        return "namespaceSelector" in peer

    return admits


def _helm_tests(
    objects: list[dict[str, Any]],
    pods: list[Workload],
    by_name: dict[tuple[str, str], dict[str, Any]],
) -> Iterator[str]:
    """A `helm test` pod that connects to SERVICE.NAMESPACE.svc:PORT must be let in there by
    the chart's NetworkPolicies, or `helm test` fails wherever they are enforced."""
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    for obj in objects:
        metadata = obj.get("metadata") or {}
        if (
            obj.get("kind") != "Pod"
            or (metadata.get("annotations") or {}).get("helm.sh/hook") != "test"
        ):
            continue
        admits = _pod_in(str(metadata.get("namespace")), dict(metadata.get("labels") or {}))
        for container in containers(obj.get("spec") or {}):
            for arg in [*(container.get("command") or []), *(container.get("args") or [])]:
                found = re.fullmatch(
                    r"([a-z0-9-]+)\.[a-z0-9-]+\.svc(?:\.cluster\.local)?:([0-9]+)", str(arg)
                )
                service = by_name.get(("Service", found[1])) if found else None
                if not (found and service):
                    continue
                for workload, number, named in _backends(service, int(found[2]), pods):
                    if not _lets_in(policies, workload.labels, number, named, admits):
                        yield (
                            f"Pod/{metadata.get('name')}: helm test connects to {found[0]}, but no "
                            f"NetworkPolicy of the chart lets the test pod reach {workload.ref} "
                            f"on port {number}; let it in"
                        )


GCE_INGRESS_CLASSES = {"gce", "gce-internal"}


def _gke_health_checks(
    objects: list[dict[str, Any]],
    pods: list[Workload],
    by_name: dict[tuple[str, str], dict[str, Any]],
) -> Iterator[str]:
    """GKE's load balancers check each backend with GET / on the port it serves unless told
    otherwise (a HealthCheckPolicy for a Gateway; for a GCE Ingress a BackendConfig
    healthCheck, or a readiness probe on the serving port, which GKE reads): a backend that
    does not answer there is never healthy (KAS's agent port answers 426 Upgrade Required)."""
    for route in routes(objects):
        kind, _, name = route.owner.partition("/")
        edge = _gke_edge(by_name.get((kind, name)) or {}, objects)
        service = by_name.get(("Service", route.service))
        if edge is None or service is None or _told(edge, service, objects, by_name):
            continue
        for workload, number, named in _backends(service, _service_port(service, route.port), pods):
            readiness = [
                (view.container.get("readinessProbe") or {}).get("httpGet") or {}
                for view in workload.containers
            ]
            if not any(
                (edge == "Ingress" or get.get("path", "/") == "/")
                and named.get(str(get.get("port")), get.get("port")) == number
                for get in readiness
            ):
                fix = "a HealthCheckPolicy" if edge == "Gateway" else "a BackendConfig healthCheck"
                yield (
                    f"{route.owner}: GKE's load balancer checks {workload.ref} with GET / on port "
                    f"{number}, which its readiness probe does not answer there; give the Service "
                    f"{fix} at the readiness endpoint"
                )


def _gke_edge(owner: dict[str, Any], objects: list[dict[str, Any]]) -> str | None:
    """ "Gateway" or "Ingress" when GKE's own load balancer serves the route, else None."""
    spec = owner.get("spec") or {}
    if owner.get("kind") == "Ingress":
        annotations = (owner.get("metadata") or {}).get("annotations") or {}
        chosen = annotations.get("kubernetes.io/ingress.class") or spec.get("ingressClassName")
        return "Ingress" if chosen in GCE_INGRESS_CLASSES else None
    parents = {p.get("name") for p in spec.get("parentRefs") or []}
    gke = any(
        o.get("kind") == "Gateway"
        and o["metadata"]["name"] in parents
        and str((o.get("spec") or {}).get("gatewayClassName", "")).startswith("gke-")
        for o in objects
    )
    return "Gateway" if gke else None


def _told(
    edge: str,
    service: dict[str, Any],
    objects: list[dict[str, Any]],
    by_name: dict[tuple[str, str], dict[str, Any]],
) -> bool:
    """Whether the Service's health check is set explicitly for this edge."""
    name = service["metadata"]["name"]
    if edge == "Gateway":
        return any(
            o.get("kind") == "HealthCheckPolicy"
            and ((o.get("spec") or {}).get("targetRef") or {}).get("name") == name
            for o in objects
        )
    annotation = ((service.get("metadata") or {}).get("annotations") or {}).get(
        "cloud.google.com/backend-config"
    )
    try:
        config = json.loads(annotation or "{}").get("default")
    except (ValueError, AttributeError, RecursionError):
        return False
    backend = by_name.get(("BackendConfig", str(config))) or {}
    return bool((backend.get("spec") or {}).get("healthCheck"))


def _service_port(service: dict[str, Any], port: str) -> int:
    """A Service port number from a route's backend port (its name or its number)."""
    for entry in (service.get("spec") or {}).get("ports") or []:
        if port in (str(entry.get("name")), str(entry.get("port"))):
            return int(entry.get("port", 0))
    return -1


def _backends(
    service: dict[str, Any], port: int, pods: list[Workload]
) -> Iterator[tuple[Workload, Any, dict[str, int]]]:
    """(workload, container port, its named ports) behind a Service port."""
    spec = service.get("spec") or {}
    selector = spec.get("selector") or {}
    for entry in spec.get("ports") or []:
        if entry.get("port") != port:
            continue
        target = entry.get("targetPort", port)
        for workload in pods:
            if selector and selector.items() <= workload.labels.items():
                named = _container_ports(workload)
                yield workload, named.get(str(target), target), named


def _resource_amounts(objects: list[dict[str, Any]]) -> Iterator[str]:
    """Requests and limits the API server refuses, which JSON schemas let through as any string:
    amounts that are not quantities, and a request above its limit."""
    for obj in objects:
        where = _where(obj)
        pod = pod_spec(obj) or {}
        for container in containers(pod):
            at = f"{where}: container {container.get('name')}"
            resources = container.get("resources") or {}
            amounts: dict[str, dict[str, Decimal]] = {"requests": {}, "limits": {}}
            for kind, found in amounts.items():
                for resource, value in (resources.get(kind) or {}).items():
                    try:
                        found[resource] = parse_quantity(str(value))
                    except ValueError as err:
                        yield f"{at}: {kind}.{resource}: {err}"
            for resource, wanted in amounts["requests"].items():
                limit = amounts["limits"].get(resource)
                if limit is not None and wanted > limit:
                    yield (
                        f"{at}: requests {resource} {resources['requests'][resource]} is above its "
                        f"limit {resources['limits'][resource]}, which Kubernetes refuses"
                    )


def _named_ports(obj: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(field, value) wherever the object may name a port by its name."""
    pod = pod_spec(obj) or {}
    for container in containers(pod):
        at = f"container {container.get('name')}"
        for port in container.get("ports") or []:
            yield f"{at} port", port.get("name")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            for action in ("httpGet", "tcpSocket"):
                yield (
                    f"{at} {probe}.{action}.port",
                    ((container.get(probe) or {}).get(action) or {}).get("port"),
                )
    for port in _service_ports(obj):
        yield "Service targetPort", port.get("targetPort")


def _where(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def _service_ports(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return list((obj.get("spec") or {}).get("ports") or []) if obj.get("kind") == "Service" else []


def _label_key_ok(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(LABEL_NAME.match(name))


RUNNER_CHART_READS = frozenset(
    {
        "gitlabUrl",
        "concurrent",
        "checkInterval",
        "rbac.create",
        "serviceAccount.create",
        "serviceAccount.name",
        "runners.secret",
        "runners.tags",
        "runners.runUntagged",
        "runners.protected",
        "runners.name",
        "runners.config",
        "securityContext",
        "podSecurityContext",
        "resources",
        "metrics.enabled",
    }
)
"""The values runway sets that the gitlab-runner chart's templates read (`.Values.<key>` in
templates/ of upstream chart 0.70.4 and 0.73.0, which bracket the 0.71.0 that runway.workspace.runner pins; read in
Big Bang's vendored copy, DoD-Platform-One/gitlab-runner 68ce521 and c8f6693). A key outside
this set would be ignored by the chart, silently."""


def _runner_value_keys(values: dict[str, Any]) -> Iterator[str]:
    """`rbac.create`-style keys down to the depth the chart reads them at."""
    for key, value in values.items():
        nested = isinstance(value, dict) and key not in RUNNER_CHART_READS
        if nested and any(k.startswith(f"{key}.") for k in RUNNER_CHART_READS):
            yield from (f"{key}.{sub}" for sub in value)
        else:
            yield key


def runner_fleet(objects: list[dict[str, Any]]) -> list[str]:
    """A GitLab Runner release's config names a jobs namespace and a ServiceAccount for job pods,
    and the runner needs rights there: each must exist among the objects installed with it."""
    import tomllib

    by_name = {
        (
            str(o.get("kind")),
            str((o.get("metadata") or {}).get("namespace", "")),
            str((o.get("metadata") or {}).get("name")),
        ): o
        for o in objects
    }
    namespaces = {
        str((o.get("metadata") or {}).get("name")) for o in objects if o.get("kind") == "Namespace"
    }
    problems: list[str] = []
    for release in objects:
        if release.get("kind") != "HelmRelease":
            continue
        spec = release.get("spec") or {}
        if ((spec.get("chart") or {}).get("spec") or {}).get("chart") != "gitlab-runner":
            continue
        where = f"HelmRelease/{release['metadata']['name']}"
        values = spec.get("values") or {}
        problems.extend(
            f"{where}: values.{key} is not read by the gitlab-runner chart, so it does nothing"
            for key in _runner_value_keys(values)
            if key not in RUNNER_CHART_READS
        )
        home = str(release["metadata"].get("namespace", ""))
        try:
            config = tomllib.loads(str((values.get("runners") or {}).get("config", "")))
        except tomllib.TOMLDecodeError as err:
            problems.append(f"{where}: runners.config is not TOML: {err}")
            continue
        for runner in config.get("runners") or []:
            kubernetes = runner.get("kubernetes") or {}
            jobs = str(kubernetes.get("namespace") or home)
            if jobs not in namespaces:
                problems.append(
                    f"{where}: runners.config sends jobs to namespace {jobs}, which is not created with it"
                )
            account = kubernetes.get("service_account")
            if account and ("ServiceAccount", jobs, str(account)) not in by_name:
                problems.append(
                    f"{where}: runners.config gives job pods ServiceAccount {jobs}/{account}, which "
                    "is not created with it; no job could start"
                )
            runner_account = (values.get("serviceAccount") or {}).get("name")
            if (values.get("serviceAccount") or {}).get("create") is False and runner_account:
                if ("ServiceAccount", home, str(runner_account)) not in by_name:
                    problems.append(
                        f"{where}: serviceAccount {home}/{runner_account} is not created with it"
                    )
                elif not _may_create_pods(objects, jobs, home, str(runner_account)):
                    problems.append(
                        f"{where}: ServiceAccount {home}/{runner_account} may not create pods and "
                        f"pods/exec in {jobs}; bind it to a Role there"
                    )
    return problems


def _may_create_pods(
    objects: list[dict[str, Any]], namespace: str, home: str, account: str
) -> bool:
    roles = {
        str(o["metadata"]["name"]): o
        for o in objects
        if o.get("kind") == "Role" and o["metadata"].get("namespace") == namespace
    }
    for binding in objects:
        if (
            binding.get("kind") != "RoleBinding"
            or binding["metadata"].get("namespace") != namespace
        ):
            continue
        if not any(
            s.get("kind") == "ServiceAccount"
            and s.get("name") == account
            and s.get("namespace") == home
            for s in binding.get("subjects") or []
        ):
            continue
        role = roles.get(str((binding.get("roleRef") or {}).get("name")))
        granted = {
            (resource, verb)
            for rule in (role or {}).get("rules") or []
            for resource in rule.get("resources") or []
            for verb in rule.get("verbs") or []
        }
        if {("pods", "create"), ("pods/exec", "create")} <= granted:
            return True
    return False
