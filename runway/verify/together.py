"""The charts a customer installs together, checked as one system.

Each chart alone can be right while the system is not: agentk's KAS address must reach KAS's agent
listener through a route or Service of another chart, no two charts may claim one host and path,
and workspace Services must carry what the workspaces proxy discovers them by.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml.error import YAMLError

from runway.common import contract_data, yamlio
from runway.errors import VerifyError
from runway.verify import contracts
from runway.verify.podview import index, workloads
from runway.verify.wiring import Route, duplicate_routes, flags, routes

NAMESPACE = "gitlab"
WORKSPACE_LABEL = "agent.gitlab.com/id"
WORKSPACE_ANNOTATIONS = ("workspaces.gitlab.com/host-template", "workspaces.gitlab.com/id")


@dataclasses.dataclass
class Installed:
    """One chart as rendered for the system (or a file of objects made elsewhere)."""

    name: str
    objects: list[dict[str, Any]]
    contract: str = ""


@dataclasses.dataclass
class SystemReport:
    parts: list[str]
    objects: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"ok": self.ok}


def render(chart: Path, namespace: str = NAMESPACE) -> Installed:
    """A chart with its default values, released under its own name (as INSTALL.md does)."""
    from runway import helm
    from runway.common.kube import PLACEHOLDER_IMAGE
    from runway.verify import rendered_objects

    meta = yamlio.load((chart / "Chart.yaml").read_text()) or {}
    defaults = yamlio.load((chart / "values.yaml").read_text()) or {}
    values = {} if (defaults.get("image") or {}).get("repository") else PLACEHOLDER_IMAGE
    name = str(meta.get("name", chart.name))
    rendered = helm.render(chart, values, name=name, namespace=namespace)
    try:
        objects = [obj for _, obj in rendered_objects(rendered)]
    except yamlio.InvalidYAML as err:
        raise VerifyError(f"{chart}: renders YAML Kubernetes would refuse: {err}") from None
    contract = str((meta.get("annotations") or {}).get(contract_data.ANNOTATION, ""))
    return Installed(name, objects, contract)


def load_objects(path: Path) -> Installed:
    """Objects from a YAML file (e.g. `runway workspace manifests` output)."""
    try:
        documents = yamlio.load_all(path.read_text())
    except (OSError, ValueError) as err:
        raise VerifyError(f"{path}: cannot read objects: {err}") from None
    objects: list[dict[str, Any]] = []
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "List":
            objects.extend(document.get("items") or [])
        elif isinstance(document, dict):
            objects.append(document)
    return Installed(path.name, objects)


def check(parts: list[Installed]) -> SystemReport:
    problems = [
        *_shared_routes(parts),
        *_kas_addresses(parts),
        *_workspace_services(parts),
    ]
    return SystemReport(
        parts=[p.name for p in parts], objects=sum(len(p.objects) for p in parts), problems=problems
    )


def _all_routes(parts: list[Installed]) -> list[tuple[Installed, Route]]:
    return [(part, route) for part in parts for route in routes(part.objects)]


def _shared_routes(parts: list[Installed]) -> Iterator[str]:
    tagged = [
        dataclasses.replace(route, owner=f"{part.name}: {route.owner}")
        for part, route in _all_routes(parts)
    ]
    yield from duplicate_routes(tagged)


def _kas_addresses(parts: list[Installed]) -> Iterator[str]:
    for part in parts:
        if not part.contract:
            continue
        flag = (contract_data.load(part.contract).get("flags") or {}).get("kas_address")
        found = contracts.main_container(part.objects) if flag else None
        if not flag or found is None:
            continue
        address = dict(flags(found[1].args())).get(flag)
        if address:
            yield from (f"{part.name}: {flag}={address}: {p}" for p in _reach(address, parts))


def _reach(address: str, parts: list[Installed]) -> Iterator[str]:
    url = urlsplit(address)
    host = url.hostname or ""
    kas = [p for p in parts if p.contract == "kas"]
    if not kas:
        yield "no KAS chart is installed with it; add the kas chart"
        return
    if url.scheme in ("ws", "wss", "http", "https"):
        path = url.path or "/"
        served = [
            (part, route)
            for part, route in _all_routes(parts)
            if _host_matches(route.host, host) and path.startswith(route.path)
        ]
        if not served:
            yield f"no installed chart routes host {host}; give KAS's agent listener that host"
            return
        part, route = max(served, key=lambda item: len(item[1].path))
        if route.grpc:
            yield f"{part.name}: {route.owner} sends it as gRPC, but agentk speaks WebSocket to {url.scheme}:// addresses; route it as HTTP"
        port = _service_target(part.objects, route.service, route.port)
        yield from _is_agent_listener(part, port, f"{route.owner} → Service {route.service}")
    elif url.scheme in ("grpc", "grpcs"):
        service, _, rest = host.partition(".")
        owners = [p for p in parts if ("Service", service) in index(p.objects)]
        if not owners or (rest and not rest.startswith(NAMESPACE)):
            yield f"{host} is not a Service of the installed charts in namespace {NAMESPACE}"
            return
        port = _service_target(owners[0].objects, service, str(url.port or 443))
        yield from _is_agent_listener(owners[0], port, f"Service {service} port {url.port}")
    else:
        yield f"scheme {url.scheme!r} is not one agentk speaks (wss, ws, grpc, grpcs)"


def _is_agent_listener(part: Installed, port: int | None, via: str) -> Iterator[str]:
    if part.contract != "kas":
        yield f"{via} belongs to {part.name}, not to KAS"
        return
    found = contracts.main_container(part.objects)
    if found is None:
        return
    config_port = _agent_port(found[1], part.objects)
    if config_port is None:
        yield f"{via}: KAS's configuration file names no agent port (agent.listen.address); see KAS's own check"
    elif port != config_port:
        yield f"{via} reaches container port {port}, but KAS takes agents on {config_port} (agent.listen.address)"


def _agent_port(view: Any, objects: list[dict[str, Any]]) -> int | None:
    spec = contract_data.load("kas")["config"]
    path = dict(flags(view.args())).get(spec["flag"])
    source = view.source_of(path) if path else None
    obj = index(objects).get(("ConfigMap", source.name)) if source else None
    if obj is None or source is None:
        return None
    try:
        text = str((obj.get("data") or {}).get(source.key, ""))
        config = yamlio.load_config(text, spec.get("yaml", "1.2"))
    except YAMLError:
        return None  # KAS's own contract check names the file that is not YAML
    return contracts.address_port(contracts.config_value(config, "agent.listen.address"))


def _service_target(objects: list[dict[str, Any]], service: str, port: str) -> int | None:
    """The container port a Service port (by name or number) sends to."""
    obj = index(objects).get(("Service", service))
    if obj is None:
        return None
    for item in (obj.get("spec") or {}).get("ports") or []:
        if port not in (str(item.get("name")), str(item.get("port"))):
            continue
        target = item.get("targetPort", item.get("port"))
        if isinstance(target, int):
            return target
        for workload in workloads(objects):
            for view in workload.containers:
                if str(target) in view.ports():
                    return view.ports()[str(target)]
    return None


def _host_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and host.count(".") == pattern.count(".")
    return pattern in ("", host)


def _workspace_services(parts: list[Installed]) -> Iterator[str]:
    for part in parts:
        if part.contract:
            continue
        for obj in part.objects:
            if obj.get("kind") != "Service":
                continue
            metadata = obj.get("metadata") or {}
            missing = (
                []
                if WORKSPACE_LABEL in (metadata.get("labels") or {})
                else [f"label {WORKSPACE_LABEL}"]
            )
            missing += [
                f"annotation {a}"
                for a in WORKSPACE_ANNOTATIONS
                if a not in (metadata.get("annotations") or {})
            ]
            if missing:
                yield (
                    f"{part.name}: Service/{metadata.get('name')} lacks {', '.join(missing)}; "
                    "the workspaces proxy discovers workspaces only by them"
                )


def check_paths(charts: list[Path], files: list[Path]) -> SystemReport:
    """Render the charts, read the object files, and check them as one installed system."""
    return check([render(d) for d in charts] + [load_objects(f) for f in files])
