"""Component contracts: what a real component (KAS, agentk, the workspaces proxy, the AI Gateway)
needs from its pod to start and serve, kept as data in runway/data/contracts/ with its upstream
source, and checked against the rendered chart.

A manifest names its contract (`spec.contract`); the chart records it in Chart.yaml
(`runway.gitlab.com/contract`), so `runway verify` of a chart from anywhere knows it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from typing import Any

from ruamel.yaml.error import YAMLError

from runway import versions
from runway.common import yamlio
from runway.common.contract_data import load
from runway.verify.podview import (
    ContainerView,
    Workload,
    config_data,
    index,
    secret_data,
    workloads,
)
from runway.verify.wiring import flags, routes

_SERVING = ("Deployment", "StatefulSet", "DaemonSet")


def main_container(objects: list[dict[str, Any]]) -> tuple[Workload, ContainerView] | None:
    """The component's own container: the first container of the serving workload."""
    for workload in workloads(objects):
        if workload.kind in _SERVING:
            first = (workload.pod.get("containers") or [{}])[0].get("name")
            for view in workload.containers:
                if view.name == first:
                    return workload, view
    return None


def image_version(view: ContainerView, fallback: str) -> str:
    image = str(view.container.get("image", "")).split("@", 1)[0]
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    for candidate in (tag, fallback):
        try:
            return str(versions.parse_version(candidate.removeprefix("v")))
        except ValueError:
            continue
    return ""


def check(
    name: str, objects: list[dict[str, Any]], values: dict[str, Any], app_version: str
) -> list[str]:
    """Every way the rendered chart breaks the named component contract."""
    contract = load(name)
    found = main_container(objects)
    if found is None:
        return [f"contract {name}: the chart renders no Deployment, StatefulSet or DaemonSet"]
    workload, view = found
    context = _Context(contract, objects, values, workload, view, image_version(view, app_version))
    problems = [
        *context.config(),
        *context.probes(),
        *context.env(),
        *context.flags(),
        *context.labels(),
        *context.rbac(),
        *context.ports(),
        *context.routes(),
        *context.port_env(),
    ]
    return [f"contract {name}: {p}" for p in problems]


class _Context:
    def __init__(
        self,
        contract: dict[str, Any],
        objects: list[dict[str, Any]],
        values: dict[str, Any],
        workload: Workload,
        view: ContainerView,
        version: str,
    ) -> None:
        self.contract = contract
        self.objects = objects
        self.by_name = index(objects)
        self.values = values
        self.workload = workload
        self.view = view
        self.version = version
        self.component = contract["component"]

    # configuration file ------------------------------------------------------------------------

    def config(self) -> Iterator[str]:
        spec = self.contract.get("config")
        if not spec:
            return
        loaded = self._mounted_config(spec)
        if isinstance(loaded, str):
            yield loaded
            return
        config, label = loaded
        yield from self._config_keys(config, spec, label)
        yield from self._secret_files(config, spec.get("secret_files") or {}, label)
        yield from self._probes(config, spec.get("probes") or {}, label)
        yield from self._shutdown_grace(config, spec.get("shutdown_grace_periods") or [], label)
        websocket = spec.get("websocket_listener")
        if websocket and config_value(config, f"{websocket}.websocket") is True:
            port = address_port(config_value(config, f"{websocket}.address"))
            if port is not None:
                yield from self._websocket_routes(port, f"{websocket}.address")

    def _mounted_config(self, spec: dict[str, Any]) -> str | tuple[dict[str, Any], str]:
        """The configuration file the component is told to read, parsed, with its label; or
        the one problem that stops it being read."""
        path = dict(flags(self.view.args())).get(spec["flag"])
        where = self.view.where
        if path is None:
            return f"{where}: args lack {spec['flag']}=PATH; {self.component} will not start without its configuration file"
        source = self.view.source_of(path)
        if source is None or source.kind != "configMap":
            return f"{where}: {spec['flag']}={path} is not a file mounted from a ConfigMap of the chart; mount the configuration file there"
        obj = self.by_name.get(("ConfigMap", source.name))
        text = config_data(obj).get(source.key) if obj else None
        try:
            config = yamlio.load_config((text or b"").decode(), spec.get("yaml", "1.2"))
        except YAMLError as err:
            return f"{where}: {path} is not YAML: {err}"
        if not isinstance(config, dict):
            return f"{where}: {path} is not a mapping of configuration keys"
        return config, f"{path} (ConfigMap {source.name})"

    def _config_keys(
        self, config: dict[str, Any], spec: dict[str, Any], label: str
    ) -> Iterator[str]:
        if spec.get("strict"):
            yield from (
                f"{label}: {p}" for p in _key_problems(config, spec["keys"], "", self.component)
            )
        for key in spec.get("required") or []:
            if config_value(config, key) is None:
                yield f"{label}: {key} is required by {self.component}; set it"
        for group in spec.get("one_of") or []:
            present = [k for k in group if config_value(config, k) is not None]
            if len(present) != 1:
                yield f"{label}: give exactly one of {', '.join(group)} (found {len(present)})"
        ports = set(self.view.ports().values())
        for key in spec.get("listen_addresses") or []:
            port = address_port(config_value(config, key))
            if port is not None and port not in ports:
                yield f"{label}: {key} listens on {port}, which is not a container port; declare it as a listener"

    def _secret_files(
        self, config: dict[str, Any], rules: dict[str, Any], label: str
    ) -> Iterator[str]:
        for key, rule in rules.items():
            path = config_value(config, key)
            if not isinstance(path, str):
                continue
            source = self.view.source_of(path)
            if source is None:
                continue
            if source.kind != "secret":
                yield f"{label}: {key} ({path}) comes from {source.describe()}; a secret belongs in a Secret"
                continue
            secret = self.by_name.get(("Secret", source.name))
            if secret is None:
                continue  # an existing Secret: its content is the operator's
            if rule.get("shared_with"):
                yield (
                    f"{label}: {key} ({path}) is generated by the chart (Secret {source.name}), but "
                    f"{rule['shared_with']} must hold the same value; reference the existing Secret "
                    "it uses instead of generating one"
                )
            content = secret_data(secret).get(source.key, b"")
            wanted = int(rule["base64_bytes"])
            try:
                size = len(base64.b64decode(content.strip(), validate=True))
            except (binascii.Error, ValueError):
                size = -1
            if size != wanted:
                yield (
                    f"{label}: {key} ({path}) must be base64 text of exactly {wanted} bytes, but "
                    f"Secret {source.name} holds {'no valid base64' if size < 0 else f'{size} bytes'}; "
                    f"generate it with bytes: {wanted}"
                )

    def _probes(self, config: dict[str, Any], rules: dict[str, Any], label: str) -> Iterator[str]:
        for kind, rule in rules.items():
            port = address_port(config_value(config, rule["port"]))
            path = config_value(config, rule["path"]) or rule["default_path"]
            yield from self._probe(kind, port if port is not None else rule["port"], path, label)

    def probes(self) -> Iterator[str]:
        """Probes at an endpoint the component serves without a configuration file."""
        for kind, rule in (self.contract.get("probes") or {}).items():
            yield from self._probe(kind, rule["port"], rule["path"], self.component)

    def _probe(self, kind: str, port: int | str, path: str, served_by: str) -> Iterator[str]:
        """An HTTP probe at the port and path the component answers it on (`port` a number, or
        the key it was to be read from when the configuration does not say)."""
        get = (self.view.container.get(f"{kind}Probe") or {}).get("httpGet")
        if get is None:
            yield f"{self.view.where}: no HTTP {kind}Probe; {self.component} serves one on {port}"
            return
        if isinstance(port, int) and get.get("port") not in (port, self._port_name(port)):
            yield f"{self.view.where}: {kind}Probe targets port {get.get('port')}, but {served_by} serves it on {port}"
        if get.get("path") != path:
            yield f"{self.view.where}: {kind}Probe asks {get.get('path')}, but {served_by} serves it at {path}"

    def _shutdown_grace(self, config: dict[str, Any], keys: list[str], label: str) -> Iterator[str]:
        """A drain the component is told to wait for must end before Kubernetes kills the pod
        (terminationGracePeriodSeconds, 30 by default), or connections are cut mid-drain."""
        allowed = self.workload.pod.get("terminationGracePeriodSeconds", 30)
        for key in keys:
            value = config_value(config, key)
            drained = LEAVES["duration"][0](value) and float(value[:-1]) > allowed
            if drained:
                yield (
                    f"{label}: {key} is {value}, but the pod is killed {allowed} s after it is "
                    f"told to stop (terminationGracePeriodSeconds); lower it, or raise "
                    f"termination_grace_period_seconds"
                )

    def _port_name(self, port: int) -> str | None:
        return next((n for n, p in self.view.ports().items() if p == port), None)

    def _websocket_routes(self, port: int, key: str) -> Iterator[str]:
        names = {self._port_name(port), str(port)}
        service_ports: set[str] = set()
        for obj in self.objects:
            if obj.get("kind") != "Service":
                continue
            for item in (obj.get("spec") or {}).get("ports") or []:
                if str(item.get("targetPort")) in names or item.get("targetPort") == port:
                    service_ports.update({str(item.get("name")), str(item.get("port"))})
                    if item.get("appProtocol") == "kubernetes.io/h2c":
                        yield (
                            f"Service/{obj['metadata']['name']}: port {item.get('name')} says "
                            "appProtocol kubernetes.io/h2c, but agents connect over WebSocket "
                            f"(HTTP/1.1) to {key}; use appProtocol http"
                        )
        for route in routes(self.objects):
            if route.port in service_ports and route.grpc and route.path == "/":
                yield (
                    f"{route.owner}: routes / to {key} as gRPC, but agents connect there over "
                    "WebSocket; route / as HTTP (gRPC clients use the /gitlab.agent. path)"
                )

    # environment, flags, labels ----------------------------------------------------------------

    def env(self) -> Iterator[str]:
        spec = self.contract.get("env") or {}
        env = self.view.env
        for name in spec.get("required") or []:
            if name not in env:
                yield f"{self.view.where}: env {name} is required by {self.component} (it exits at start without it)"
        for group in spec.get("exclusive") or []:
            present = [n for n in group if n in env]
            if len(present) > 1:
                yield f"{self.view.where}: env {' and '.join(present)} cannot both be set"
        for rule in spec.get("any_before") or []:
            older = self.version and versions.parse_version(self.version) < versions.parse_version(
                str(rule["version"])
            )
            if older and not any(n in env for n in rule["any"]):
                yield (
                    f"{self.view.where}: {self.component} {self.version} needs env "
                    f"{' or '.join(rule['any'])}: {rule['why']}"
                )

    def flags(self) -> Iterator[str]:
        spec = self.contract.get("flags") or {}
        given = dict(flags(self.view.args()))
        for flag in spec.get("required") or []:
            if flag not in given:
                yield f"{self.view.where}: args lack {flag}, which {self.component} requires"
        for group in spec.get("one_of") or []:
            count = sum(f in given for f in group["flags"]) + sum(
                e in self.view.env for e in group.get("env") or []
            )
            if count != 1:
                options = [*group["flags"], *(f"env {e}" for e in group.get("env") or [])]
                yield f"{self.view.where}: give exactly one of {', '.join(options)} (found {count})"
        for flag in spec.get("files") or []:
            path = given.get(flag)
            if path and not self.view.has_path(path):
                yield f"{self.view.where}: {flag}={path} is not mounted; mount the file there"
        for flag in spec.get("secret_files") or []:
            path = given.get(flag)
            source = self.view.source_of(path) if path else None
            if source is not None and source.kind != "secret":
                yield f"{self.view.where}: {flag}={path} holds credentials but comes from {source.describe()}; mount it from a Secret"

    def labels(self) -> Iterator[str]:
        for key, value in (self.contract.get("pod_labels") or {}).items():
            if self.workload.labels.get(key) != value:
                yield (
                    f"{self.workload.ref}: pod label {key} is {self.workload.labels.get(key)!r}, "
                    f"but must be {value!r} (GitLab's workspace NetworkPolicies admit only such pods)"
                )

    # RBAC, ports, routes ------------------------------------------------------------------------

    def rbac(self) -> Iterator[str]:
        account = self.workload.pod.get("serviceAccountName", "default")
        granted = list(self._granted(str(account)))
        for rule in self.contract.get("rbac") or []:
            scopes = ("cluster",) if rule["scope"] == "cluster" else ("cluster", "namespace")
            missing = [
                verb
                for verb in rule["verbs"]
                if not any(
                    scope in scopes and _allows(r, rule["api_group"], rule["resource"], verb)
                    for scope, r in granted
                )
            ]
            if missing:
                where = "cluster-wide" if rule["scope"] == "cluster" else "in its namespace"
                yield (
                    f"ServiceAccount {account}: may not {', '.join(missing)} "
                    f"{rule['resource']} ({rule['api_group'] or 'core'}) {where}, which "
                    f"{self.component} needs for {rule['why']}; add the rule"
                )

    def _granted(self, account: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for obj in self.objects:
            kind = obj.get("kind")
            if kind not in ("RoleBinding", "ClusterRoleBinding"):
                continue
            if not any(
                s.get("kind") == "ServiceAccount" and s.get("name") == account
                for s in obj.get("subjects") or []
            ):
                continue
            ref = obj.get("roleRef") or {}
            role = self.by_name.get((str(ref.get("kind")), str(ref.get("name"))))
            if ref.get("kind") == "ClusterRole" and ref.get("name") == "cluster-admin":
                role = {"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}
            scope = "cluster" if kind == "ClusterRoleBinding" else "namespace"
            for rule in (role or {}).get("rules") or []:
                yield scope, rule

    def ports(self) -> Iterator[str]:
        declared = set(self.view.ports().values())
        for name, port in (self.contract.get("ports") or {}).items():
            if port not in declared:
                yield f"{self.view.where}: {self.component} serves {name} on {port}, which is not a container port"

    def routes(self) -> Iterator[str]:
        listener = (self.contract.get("routes") or {}).get("apex_and_wildcard")
        if not listener:
            return
        hosts = {
            r.host
            for r in routes(self.objects)
            if r.port in (listener, str(self._listener_port(listener)))
        }
        wildcards = {h for h in hosts if h.startswith("*.")}
        if not wildcards:
            yield f"no route sends a wildcard host to port {listener}; workspaces are served on *.DOMAIN"
        for wildcard in sorted(wildcards):
            apex = wildcard.removeprefix("*.")
            if apex not in hosts:
                yield (
                    f"the wildcard {wildcard} is routed but its apex {apex} is not; the OAuth "
                    f"callback {apex}/auth/callback needs it (add it to the listener's aliases)"
                )

    def _listener_port(self, name: str) -> int | None:
        return self.view.ports().get(name)

    def port_env(self) -> Iterator[str]:
        for rule in self.contract.get("port_env") or []:
            given = self.view.env_values.get(rule["env"])
            port = address_port(f":{given}") if given is not None else int(rule["default"])
            if given is not None and port is None:
                yield f"{self.view.where}: env {rule['env']}={given} is not a port number"
                continue
            said = (
                f"{rule['env']}={given}"
                if given is not None
                else f"{rule['env']} unset, so {rule['default']}"
            )
            if rule["serves"] == "primary":
                primary = str(self.values.get("primaryListener", ""))
                expected = self._listener_port(primary)
                if expected is not None and port != expected:
                    yield (
                        f"{self.view.where}: the application listens on {port} ({said}) but the "
                        f"chart serves and probes listener {primary} on {expected}; set "
                        f'{rule["env"]}: "{expected}"'
                    )
            elif rule["serves"] == "metrics":
                metrics = self.values.get("metrics") or {}
                scraped = [int(p) for p in metrics.get("ports") or []]
                if metrics.get("enabled") and scraped and port not in scraped:
                    yield (
                        f"{self.view.where}: metrics are served on {port} ({said}) but the chart "
                        f"scrapes {', '.join(map(str, scraped))}; make them agree"
                    )


LEAVES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (lambda v: isinstance(v, str), "text; quote it"),
    "bool": (lambda v: isinstance(v, bool), "true or false, unquoted"),
    "number": (
        lambda v: (
            (isinstance(v, int | float) and not isinstance(v, bool))
            or (isinstance(v, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", v) is not None)
        ),
        "a number",
    ),
    "duration": (
        lambda v: isinstance(v, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]{1,9})?s", v) is not None,
        "seconds with an s suffix, e.g. 300s or 1.5s: protobuf's JSON form of a Duration takes "
        "no other unit (5m is refused)",
    ),
}
"""What a protobuf-JSON reader (protojson) takes for each kind of leaf: anything else stops the
component at start, as an unknown key does."""


def _key_problems(config: Any, known: Any, prefix: str, component: str) -> Iterator[str]:
    if isinstance(known, dict):
        if not isinstance(config, dict):
            yield f"{prefix} must be a mapping"
            return
        for key, value in config.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if key not in known:
                yield (
                    f"{dotted} is not a {component} configuration key ({component} refuses unknown "
                    f"keys at start); known here: {', '.join(sorted(known))}"
                )
                continue
            yield from _key_problems(value, known[key], dotted, component)
    elif known == "list":
        if not isinstance(config, list):
            yield f"{prefix} must be a list"
    elif isinstance(config, dict | list):
        yield f"{prefix} must be a single value ({known})"
    elif known in LEAVES and not LEAVES[known][0](config):
        yield f"{prefix} is {config!r}, which {component} does not read as a {known}: write {LEAVES[known][1]}"


def config_value(config: Any, dotted: str) -> Any:
    """The value at `dotted` (e.g. "agent.listen.address") in a parsed configuration file, or
    None where any part of the way is missing or not a mapping."""
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def address_port(address: Any) -> int | None:
    """The port of a listen address written as Go's net package takes it (`HOST:PORT`, `:PORT`)."""
    if not isinstance(address, str) or ":" not in address:
        return None
    text = address.rsplit(":", 1)[1]
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else None


def _allows(rule: dict[str, Any], group: str, resource: str, verb: str) -> bool:
    def has(field: str, wanted: str) -> bool:
        items = rule.get(field) or []
        return "*" in items or wanted in items

    return has("apiGroups", group) and has("resources", resource) and has("verbs", verb)
