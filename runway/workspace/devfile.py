"""Devfiles as GitLab workspaces accept them: the devfile 2.x schema plus GitLab's restrictions.

Every problem of a devfile comes out in one pass, located like manifest errors
(`file:line:col: path: message`). `load_devfile` returns a `Workspace`: the parts the backends
translate (the main container, the others, volumes, endpoints, postStart commands).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from runway.common import shipped_schemas
from runway.errors import Diagnostic, ManifestError
from runway.manifest._yaml import Document, load_single_document
from runway.workspace import rules

MAX_DEVFILE_BYTES = 3 * 1024 * 1024
INJECT_EDITOR = rules.INJECT_EDITOR


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


def load_devfile(path: Path) -> Workspace:
    """Read, validate and interpret a devfile; ManifestError carries every problem found."""
    document = load_single_document(path, what="devfiles", limit=MAX_DEVFILE_BYTES)
    found = check(document)
    if found:
        raise ManifestError(found)
    return _interpret(document)


def check(document: Document) -> list[Diagnostic]:
    """Every problem: the devfile schema, then each of GitLab's rules (`rules.RULES`)."""
    data = document.data
    if not isinstance(data, dict):
        return [Diagnostic(document.file, "a devfile is a mapping", *document.position(()))]

    def located(path: tuple[str | int, ...], message: str, hint: str = "") -> Diagnostic:
        return Diagnostic(
            document.file,
            message,
            *document.position(path),
            field=".".join(str(p) for p in path),
            hint=hint,
        )

    problems = [located(*finding) for finding in rules.schema_version(data)]
    schema_errors = shipped_schemas.problems("devfile.schema.json", data)
    problems += [
        located(path, f"devfile schema: {message[:300]}") for path, message in schema_errors[:20]
    ]
    if schema_errors:
        return problems
    for rule in rules.RULES[1:]:
        problems += [located(*finding) for finding in rule(data)]
    return problems


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
                    override_command=bool(attributes.get("overrideCommand", True)),
                    cpu_request=_quantity(spec.get("cpuRequest")),
                    cpu_limit=_quantity(spec.get("cpuLimit")),
                    memory_request=_quantity(spec.get("memoryRequest")),
                    memory_limit=_quantity(spec.get("memoryLimit")),
                    mount_sources=True,
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
