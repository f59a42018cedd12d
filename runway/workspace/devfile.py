"""Devfiles as GitLab workspaces accept them: the devfile 2.x schema plus GitLab's restrictions.

Every problem of a devfile comes out in one pass, located like manifest errors
(`file:line:col: path: message`). `load_devfile` returns a `Workspace`: the parts the backends
translate (the main container, the others, volumes, endpoints, postStart commands).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from runway.errors import Diagnostic, ManifestError
from runway.manifest._yaml import Document, load_single_document

MAX_DEVFILE_BYTES = 3 * 1024 * 1024
SCHEMA_VERSION = "2.2.0"
INJECT_EDITOR = "gl/inject-editor"
MAX_VOLUME_NAME = 27
FORBIDDEN_TOP = ("parent", "projects", "starterProjects")
FORBIDDEN_ATTRIBUTES = ("pod-overrides", "container-overrides")
ALLOWED_EVENTS = ("preStart", "postStart")


@dataclasses.dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    port: int
    path: str
    field: str


@dataclasses.dataclass(frozen=True, slots=True)
class Container:
    name: str
    image: str
    env: dict[str, str]
    endpoints: tuple[Endpoint, ...]
    volume_mounts: tuple[tuple[str, str], ...]
    command: tuple[str, ...]
    args: tuple[str, ...]
    override_command: bool
    cpu_request: str | None
    cpu_limit: str | None
    memory_request: str | None
    memory_limit: str | None
    mount_sources: bool
    field: str


@dataclasses.dataclass(frozen=True, slots=True)
class Volume:
    name: str
    size: str | None
    ephemeral: bool


@dataclasses.dataclass(frozen=True, slots=True)
class ExecCommand:
    name: str
    component: str
    command_line: str
    working_dir: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Workspace:
    file: str
    main: Container
    others: tuple[Container, ...]
    volumes: tuple[Volume, ...]
    post_start: tuple[ExecCommand, ...]
    variables: dict[str, str]


@functools.cache
def _schema_validator() -> jsonschema.Draft7Validator:
    text = resources.files("runway.data").joinpath("schemas/devfile.schema.json").read_text()
    return jsonschema.Draft7Validator(json.loads(text))


def load_devfile(path: Path) -> Workspace:
    """Read, validate and interpret a devfile; ManifestError carries every problem found."""
    document = load_single_document(path, what="devfiles", limit=MAX_DEVFILE_BYTES)
    found = check(document)
    if found:
        raise ManifestError(found)
    return _interpret(document)


def check(document: Document) -> list[Diagnostic]:
    """Every problem: schema first; GitLab's rules only on a schema-valid devfile."""
    data = document.data
    if not isinstance(data, dict):
        return [Diagnostic(document.file, "a devfile is a mapping", *document.position(()))]
    problems: list[Diagnostic] = []

    def report(path: tuple[str | int, ...], message: str, hint: str = "") -> None:
        problems.append(
            Diagnostic(
                document.file,
                message,
                *document.position(path),
                field=".".join(str(p) for p in path),
                hint=hint,
            )
        )

    version = data.get("schemaVersion")
    if version != SCHEMA_VERSION:
        report(
            ("schemaVersion",),
            f"schemaVersion must be exactly {SCHEMA_VERSION} (found {version!r})",
            "GitLab workspaces accept devfile 2.2.0 only",
        )
    schema_errors = sorted(
        _schema_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]
    )
    for error in schema_errors[:20]:
        report(tuple(error.absolute_path), f"devfile schema: {error.message[:300]}")
    if schema_errors:
        return problems
    for key in FORBIDDEN_TOP:
        if key in data:
            report((key,), f"{key} is not supported by GitLab workspaces")
    _check_attributes(data.get("attributes") or {}, ("attributes",), report)
    _check_name(data.get("variables") or {}, ("variables",), "variable", report)
    components = data.get("components") or []
    main = []
    for index, component in enumerate(components):
        where: tuple[str | int, ...] = ("components", index)
        _check_prefix(component.get("name", ""), (*where, "name"), "component", report)
        _check_attributes(component.get("attributes") or {}, (*where, "attributes"), report)
        kinds = [
            k for k in ("container", "volume", "image", "kubernetes", "openshift") if k in component
        ]
        for kind in kinds:
            if kind not in ("container", "volume"):
                report(
                    (*where, kind), f"{kind} components are not supported; use container or volume"
                )
        if "volume" in component and len(component["name"]) > MAX_VOLUME_NAME:
            report(
                (*where, "name"),
                f"volume name {component['name']!r} is {len(component['name'])} characters; "
                f"GitLab allows fewer than {MAX_VOLUME_NAME + 1}",
            )
        container = component.get("container")
        if container is None:
            continue
        if (component.get("attributes") or {}).get(INJECT_EDITOR) is True:
            main.append(index)
        for key in ("dedicatedPod", "sourceMapping"):
            if key in container:
                report((*where, "container", key), f"{key} is not supported by GitLab workspaces")
        for e, endpoint in enumerate(container.get("endpoints") or []):
            _check_prefix(
                endpoint.get("name", ""),
                (*where, "container", "endpoints", e, "name"),
                "endpoint",
                report,
            )
        is_main = (component.get("attributes") or {}).get(INJECT_EDITOR) is True
        override = (component.get("attributes") or {}).get("overrideCommand", is_main)
        if override is True:
            for key in ("command", "args"):
                if key in container:
                    report(
                        (*where, "container", key),
                        f"{key} cannot be set while overrideCommand is true "
                        f"({'the default on the main container' if is_main else 'set in attributes'})",
                        "set attributes.overrideCommand: false to keep the image's own command",
                    )
    if len(main) != 1:
        report(
            ("components",),
            f"exactly one container needs attributes.{INJECT_EDITOR}: true (found {len(main)})",
            "mark the container the editor and the tunnel agent run in",
        )
    names = {c.get("name") for c in components}
    execs = set()
    for index, command in enumerate(data.get("commands") or []):
        where = ("commands", index)
        _check_prefix(command.get("id", ""), (*where, "id"), "command", report)
        kinds = [k for k in ("exec", "apply", "composite") if k in command]
        if kinds and kinds[0] not in ("exec", "apply"):
            report((*where, kinds[0]), f"{kinds[0]} commands are not supported; use exec or apply")
        if "exec" in command:
            execs.add(command["id"])
            if command["exec"].get("component") not in names:
                report(
                    (*where, "exec", "component"),
                    f"no component named {command['exec'].get('component')!r}",
                )
    for event, ids in (data.get("events") or {}).items():
        if event not in ALLOWED_EVENTS:
            report(
                ("events", event), f"{event} events are not supported; use preStart or postStart"
            )
            continue
        if event == "postStart":
            for i, command_id in enumerate(ids):
                if command_id not in execs:
                    report(
                        ("events", event, i),
                        f"postStart must name an exec command; {command_id!r} is not one",
                    )
    return problems


def _check_prefix(name: str, path: tuple[str | int, ...], what: str, report: Any) -> None:
    if name.startswith(("gl-", "gl_")):
        report(path, f"{what} name {name!r} starts with gl-/gl_, which GitLab reserves")


def _check_name(variables: dict[str, Any], path: tuple[str, ...], what: str, report: Any) -> None:
    for name in variables:
        _check_prefix(name, (*path, name), what, report)


def _check_attributes(attributes: dict[str, Any], path: tuple[str | int, ...], report: Any) -> None:
    for key in FORBIDDEN_ATTRIBUTES:
        if key in attributes:
            report((*path, key), f"{key} are not supported by GitLab workspaces")


def _interpret(document: Document) -> Workspace:
    data = document.data
    volumes = []
    containers = []
    for index, component in enumerate(data.get("components") or []):
        if "volume" in component:
            volume = component["volume"] or {}
            volumes.append(
                Volume(component["name"], volume.get("size"), bool(volume.get("ephemeral")))
            )
            continue
        spec = component["container"]
        attributes = component.get("attributes") or {}
        is_main = attributes.get(INJECT_EDITOR) is True
        field = f"components.{index}.container"
        containers.append(
            (
                is_main,
                Container(
                    name=component["name"],
                    image=spec["image"],
                    env={str(e["name"]): str(e["value"]) for e in spec.get("env") or []},
                    endpoints=tuple(
                        Endpoint(
                            e["name"],
                            int(e["targetPort"]),
                            str(e.get("path") or "/"),
                            f"{field}.endpoints.{i}.targetPort",
                        )
                        for i, e in enumerate(spec.get("endpoints") or [])
                    ),
                    volume_mounts=tuple(
                        (m["name"], m.get("path") or f"/{m['name']}")
                        for m in spec.get("volumeMounts") or []
                    ),
                    command=tuple(spec.get("command") or ()),
                    args=tuple(spec.get("args") or ()),
                    override_command=bool(attributes.get("overrideCommand", is_main)),
                    cpu_request=_quantity(spec.get("cpuRequest")),
                    cpu_limit=_quantity(spec.get("cpuLimit")),
                    memory_request=_quantity(spec.get("memoryRequest")),
                    memory_limit=_quantity(spec.get("memoryLimit")),
                    mount_sources=bool(spec.get("mountSources", True)),
                    field=field,
                ),
            )
        )
    by_name = {c.name: c for _, c in containers}
    commands = {c["id"]: c for c in data.get("commands") or []}
    post_start = tuple(
        ExecCommand(
            command_id,
            commands[command_id]["exec"]["component"],
            commands[command_id]["exec"]["commandLine"],
            commands[command_id]["exec"].get("workingDir"),
        )
        for command_id in (data.get("events") or {}).get("postStart") or []
    )
    main = next(c for is_main, c in containers if is_main)
    others = tuple(c for is_main, c in containers if not is_main)
    assert all(command.component in by_name for command in post_start)
    return Workspace(
        file=document.file,
        main=main,
        others=others,
        volumes=tuple(volumes),
        post_start=post_start,
        variables={str(k): str(v) for k, v in (data.get("variables") or {}).items()},
    )


def _quantity(value: Any) -> str | None:
    return None if value is None else str(value)
