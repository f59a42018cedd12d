"""GitLab's devfile restrictions, one small function per rule.

Source: GitLab EE `ee/lib/remote_development/devfile_operations/restrictions_enforcer.rb` and
`remote_development_constants.rb` (GitLab 18.9.0-pre, `6714c9136253`; summarised in the upstream
contracts, §4.5), which GitLab applies before and after flattening. Each rule yields
`(field path, message, hint)` for every place it is broken, so a devfile's problems come out in
one pass; `RULES` is the table `check` runs, in GitLab's order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

SCHEMA_VERSION = "2.2.0"
INJECT_EDITOR = "gl/inject-editor"
RESTRICTED_PREFIX = "gl-"
RESTRICTED_VARIABLE_PREFIXES = ("gl-", "gl_")
MAX_VOLUME_NAME = 27  # "must be shorter than 28 characters"
UNSUPPORTED_COMPONENT_TYPES = ("kubernetes", "openshift", "image")
UNSUPPORTED_CONTAINER_KEYS = ("dedicatedPod", "sourceMapping", "mountSources")
UNSUPPORTED_ATTRIBUTES = ("container-overrides", "pod-overrides")
EXEC_OPTIONS = ("commandLine", "component", "label", "hotReloadCapable", "workingDir")
SUPPORTED_EVENTS = ("preStart", "postStart")

Path = tuple[str | int, ...]
Finding = tuple[Path, str, str]
Rule = Callable[[dict[str, Any]], Iterator[Finding]]


def _restricted(name: Any, prefixes: tuple[str, ...] = (RESTRICTED_PREFIX,)) -> str | None:
    """The reserved prefix `name` starts with, compared case-insensitively as GitLab does."""
    if not isinstance(name, str):
        return None
    return next((p for p in prefixes if name.lower().startswith(p)), None)


def _components(devfile: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, component in enumerate(devfile.get("components") or []):
        if isinstance(component, dict):
            yield index, component


def _commands(devfile: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, command in enumerate(devfile.get("commands") or []):
        if isinstance(command, dict):
            yield index, command


def schema_version(devfile: dict[str, Any]) -> Iterator[Finding]:
    """schemaVersion must be a string equal to 2.2.0 (an equality check, not a minimum)."""
    version = devfile.get("schemaVersion")
    if not isinstance(version, str) or version != SCHEMA_VERSION:
        yield (
            ("schemaVersion",),
            f"schemaVersion must be exactly {SCHEMA_VERSION} (found {version!r})",
            "GitLab workspaces accept devfile 2.2.0 only",
        )


def no_parent(devfile: dict[str, Any]) -> Iterator[Finding]:
    """Inheriting from a parent devfile is not supported."""
    if devfile.get("parent"):
        yield ("parent",), "parent is not supported by GitLab workspaces", "inline what you need"


def no_projects(devfile: dict[str, Any]) -> Iterator[Finding]:
    """projects and starterProjects are not supported: GitLab clones the workspace's project."""
    for key in ("projects", "starterProjects"):
        if devfile.get(key):
            yield (
                (key,),
                f"{key} is not supported by GitLab workspaces",
                "GitLab clones the project",
            )


def no_root_pod_overrides(devfile: dict[str, Any]) -> Iterator[Finding]:
    """The root attribute pod-overrides is not supported."""
    if "pod-overrides" in (devfile.get("attributes") or {}):
        yield ("attributes", "pod-overrides"), "pod-overrides are not supported", ""


def components_present_and_named(devfile: dict[str, Any]) -> Iterator[Finding]:
    """At least one component, each with a string name."""
    components = devfile.get("components")
    if not components:
        yield ("components",), "a devfile needs at least one component", ""
        return
    for index, component in enumerate(components):
        if not isinstance(component, dict) or not isinstance(component.get("name"), str):
            yield ("components", index), "each component needs a name", ""


def one_main_component(devfile: dict[str, Any]) -> Iterator[Finding]:
    """Exactly one component carries the attribute gl/inject-editor."""
    main = [i for i, c in _components(devfile) if (c.get("attributes") or {}).get(INJECT_EDITOR)]
    if len(main) != 1 and devfile.get("components"):
        yield (
            ("components",),
            f"exactly one container needs attributes.{INJECT_EDITOR}: true (found {len(main)})",
            "mark the container the editor and the tunnel agent run in",
        )


def supported_component_types(devfile: dict[str, Any]) -> Iterator[Finding]:
    """Only container and volume components: kubernetes, openshift and image are refused."""
    for index, component in _components(devfile):
        for kind in UNSUPPORTED_COMPONENT_TYPES:
            if kind in component:
                yield (
                    ("components", index, kind),
                    f"{kind} components are not supported; use container or volume",
                    "",
                )


def no_component_overrides(devfile: dict[str, Any]) -> Iterator[Finding]:
    """Component attributes container-overrides and pod-overrides are refused."""
    for index, component in _components(devfile):
        for key in UNSUPPORTED_ATTRIBUTES:
            if key in (component.get("attributes") or {}):
                yield (
                    ("components", index, "attributes", key),
                    f"{key} are not supported by GitLab workspaces",
                    "",
                )


def short_volume_names(devfile: dict[str, Any]) -> Iterator[Finding]:
    """Volume component names must be shorter than 28 characters."""
    for index, component in _components(devfile):
        name = component.get("name")
        if "volume" in component and isinstance(name, str) and len(name) > MAX_VOLUME_NAME:
            yield (
                ("components", index, "name"),
                f"volume name {name!r} is {len(name)} characters; GitLab allows fewer than "
                f"{MAX_VOLUME_NAME + 1}",
                "",
            )


def supported_container_keys(devfile: dict[str, Any]) -> Iterator[Finding]:
    """dedicatedPod, sourceMapping and mountSources are refused on a devfile as written."""
    for index, component in _components(devfile):
        container = component.get("container")
        if not isinstance(container, dict):
            continue
        for key in UNSUPPORTED_CONTAINER_KEYS:
            if key in container:
                yield (
                    ("components", index, "container", key),
                    f"{key} is not supported by GitLab workspaces",
                    "GitLab mounts the project at /projects in every container"
                    if key != "dedicatedPod"
                    else "",
                )


def override_command(devfile: dict[str, Any]) -> Iterator[Finding]:
    """The attribute overrideCommand is a boolean (default true); command and args only when false."""
    for index, component in _components(devfile):
        container = component.get("container")
        if not isinstance(container, dict):
            continue
        attributes = component.get("attributes") or {}
        override = attributes.get("overrideCommand", True)
        if not isinstance(override, bool):
            yield (
                ("components", index, "attributes", "overrideCommand"),
                f"overrideCommand must be true or false (found {override!r})",
                "",
            )
            continue
        if override:
            for key in ("command", "args"):
                if key in container:
                    yield (
                        ("components", index, "container", key),
                        f"{key} cannot be set while overrideCommand is true (its default)",
                        "set attributes.overrideCommand: false to keep the image's own command",
                    )


def reserved_component_names(devfile: dict[str, Any]) -> Iterator[Finding]:
    """Component names must not start with gl- (any case)."""
    for index, component in _components(devfile):
        if _restricted(component.get("name")):
            yield (
                ("components", index, "name"),
                f"component name {component['name']!r} starts with gl-, which GitLab reserves",
                "",
            )


def reserved_endpoint_names(devfile: dict[str, Any]) -> Iterator[Finding]:
    """Endpoint names must not start with gl- (any case)."""
    for index, component in _components(devfile):
        container = component.get("container")
        if not isinstance(container, dict):
            continue
        for e, endpoint in enumerate(container.get("endpoints") or []):
            if isinstance(endpoint, dict) and _restricted(endpoint.get("name")):
                yield (
                    ("components", index, "container", "endpoints", e, "name"),
                    f"endpoint name {endpoint['name']!r} starts with gl-, which GitLab reserves",
                    "",
                )


def supported_commands(devfile: dict[str, Any]) -> Iterator[Finding]:
    """Each command is exec or apply and names a component."""
    names = {c.get("name") for _, c in _components(devfile)}
    for index, command in _commands(devfile):
        kinds = [k for k in ("exec", "apply", "composite") if k in command]
        if not kinds or kinds[0] == "composite":
            kind = kinds[0] if kinds else "this"
            yield (
                ("commands", index, *kinds[:1]),
                f"{kind} commands are not supported; use exec or apply",
                "",
            )
            continue
        body = command[kinds[0]] or {}
        component = body.get("component")
        if component not in names:
            yield (
                ("commands", index, kinds[0], "component"),
                f"no component named {component!r}",
                "",
            )


def reserved_command_names(devfile: dict[str, Any]) -> Iterator[Finding]:
    """Command ids, the component they name and their label must not start with gl- (any case)."""
    for index, command in _commands(devfile):
        if _restricted(command.get("id")):
            yield (
                ("commands", index, "id"),
                f"command id {command['id']!r} starts with gl-, which GitLab reserves",
                "",
            )
        for kind in ("exec", "apply"):
            body = command.get(kind)
            if not isinstance(body, dict):
                continue
            for key in ("component", "label"):
                if _restricted(body.get(key)):
                    yield (
                        ("commands", index, kind, key),
                        f"command {key} {body[key]!r} starts with gl-, which GitLab reserves",
                        "",
                    )


def exec_options(devfile: dict[str, Any]) -> Iterator[Finding]:
    """exec may use only commandLine, component, label, hotReloadCapable and workingDir;
    hotReloadCapable must be false when given."""
    for index, command in _commands(devfile):
        body = command.get("exec")
        if not isinstance(body, dict):
            continue
        for key in body:
            if key not in EXEC_OPTIONS:
                yield (
                    ("commands", index, "exec", key),
                    f"exec option {key!r} is not supported by GitLab workspaces",
                    f"exec commands may use {', '.join(EXEC_OPTIONS)}",
                )
        if body.get("hotReloadCapable", False) is not False:
            yield (
                ("commands", index, "exec", "hotReloadCapable"),
                "hotReloadCapable must be false",
                "",
            )


def supported_events(devfile: dict[str, Any]) -> Iterator[Finding]:
    """Only preStart and postStart may list commands; postStart names exec commands; no event
    entry starts with gl- (any case)."""
    execs = {c.get("id") for _, c in _commands(devfile) if "exec" in c}
    for event, ids in (devfile.get("events") or {}).items():
        if event not in SUPPORTED_EVENTS:
            if ids:
                yield (
                    ("events", event),
                    f"{event} events are not supported; use preStart or postStart",
                    "",
                )
            continue
        for position, command_id in enumerate(ids or []):
            if _restricted(command_id):
                yield (
                    ("events", event, position),
                    f"event entry {command_id!r} starts with gl-, which GitLab reserves",
                    "",
                )
            elif event == "postStart" and command_id not in execs:
                yield (
                    ("events", event, position),
                    f"postStart must name an exec command; {command_id!r} is not one",
                    "",
                )


def reserved_variable_names(devfile: dict[str, Any]) -> Iterator[Finding]:
    """variables is a mapping whose names do not start with gl- or gl_ (any case)."""
    variables = devfile.get("variables")
    if variables is None:
        return
    if not isinstance(variables, dict):
        yield ("variables",), "variables must be a mapping of names to values", ""
        return
    for name in variables:
        prefix = _restricted(name, RESTRICTED_VARIABLE_PREFIXES)
        if prefix:
            yield (
                ("variables", name),
                f"variable name {name!r} starts with {prefix} (any case), which GitLab reserves",
                "",
            )


RULES: tuple[Rule, ...] = (
    schema_version,
    no_parent,
    no_projects,
    no_root_pod_overrides,
    components_present_and_named,
    one_main_component,
    supported_component_types,
    no_component_overrides,
    short_volume_names,
    supported_container_keys,
    override_command,
    reserved_component_names,
    reserved_endpoint_names,
    supported_commands,
    reserved_command_names,
    exec_options,
    supported_events,
    reserved_variable_names,
)
