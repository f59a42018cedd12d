"""The real Pulumi project and stack files (`stacks/*/Pulumi.yaml`, `Pulumi.<stack>.yaml`), checked
by Pulumi's own rules before `runway stack plan` uses them as the programs' configuration.

Rules: Pulumi's project-file JSON Schema (`runway/data/schemas/pulumi-project.schema.json`, from
pulumi/pulumi `sdk/go/common/workspace/project.json` at 1b5949891b, pkg/v3.259.0) and the checks
in `sdk/go/common/workspace/project.go` / `pkg/workspace/config.go` that a schema cannot say: a
typed or defaulted config key must be project-namespaced (no `:`, or `<project>:`), any other key
must give a `value`; a stack must set every project key without a default (secret keys are left to
`pulumi config set --secret`, which runway never sees), with the declared type.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from runway.common import shipped_schemas
from runway.errors import Diagnostic, ManifestError
from runway.manifest._yaml import Document, load_single_document

STACKS = ("infra", "workloads")


@dataclasses.dataclass(frozen=True, slots=True)
class StackConfig:
    """One stack of one project, as Pulumi would configure the program."""

    project: str
    stack: str
    directory: Path
    values: dict[str, str]  # full keys ("project:key") → value, as strings
    secrets: tuple[
        str, ...
    ]  # declared secret keys the stack leaves to `pulumi config set --secret`


def _located(
    document: Document, path: tuple[str | int, ...], message: str, hint: str = ""
) -> Diagnostic:
    return Diagnostic(
        document.file,
        message,
        *document.position(path, prefer_key=True),
        field=".".join(str(p) for p in path),
        hint=hint,
    )


def check_project(document: Document) -> list[Diagnostic]:
    """Every way a Pulumi.yaml breaks Pulumi's schema or its config namespacing rule."""
    data = document.data
    if not isinstance(data, dict):
        return [_located(document, (), "a Pulumi project file is a mapping")]
    problems = [
        _located(document, path, f"Pulumi project schema: {message}")
        for path, message in shipped_schemas.problems("pulumi-project.schema.json", data)
    ]
    if problems:
        return problems
    name = str(data["name"])
    for key, declaration in (data.get("config") or {}).items():
        where = ("config", key)
        namespaced = ":" not in key or key.startswith(f"{name}:")
        if not isinstance(declaration, dict):
            continue  # a shorthand scalar: a default for project keys, a value for others
        if declaration.get("type") == "array" and "items" not in declaration:
            problems.append(
                _located(document, where, f"config key {key!r}: an array type requires 'items'")
            )
        if "default" in declaration and "value" in declaration:
            problems.append(
                _located(
                    document, where, f"config key {key!r}: give a default or a value, not both"
                )
            )
        if namespaced:
            continue
        if "type" in declaration:
            problems.append(
                _located(
                    document,
                    where,
                    f"config key {key!r} is not namespaced by the project and should not define a type",
                    f"name it without a namespace ({key.split(':', 1)[1]!r}) or as '{name}:…'",
                )
            )
        if "default" in declaration:
            problems.append(
                _located(
                    document,
                    where,
                    f"config key {key!r} is not namespaced by the project and should not define a default value",
                )
            )
        if "value" not in declaration:
            problems.append(
                _located(
                    document,
                    where,
                    f"config key {key!r} is namespaced and must provide an attribute 'value'",
                )
            )
    return problems


def load_stack(directory: Path, stack: str) -> StackConfig:
    """A project and one of its stacks, checked; ManifestError names every problem."""
    project_doc = load_single_document(directory / "Pulumi.yaml", what="Pulumi project files")
    problems = check_project(project_doc)
    if problems:
        raise ManifestError(problems)
    project = project_doc.data
    name = str(project["name"])
    stack_file = directory / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise ManifestError(
            [
                Diagnostic(
                    str(stack_file),
                    f"no stack file for stack {stack!r} of project {name}",
                    hint=f"pulumi stack init {stack} in {directory}, then pulumi config set …",
                )
            ]
        )
    stack_doc = load_single_document(stack_file, what="Pulumi stack files")
    data = stack_doc.data if isinstance(stack_doc.data, dict) else {}
    given = data.get("config") or {}
    if not isinstance(given, dict):
        raise ManifestError(
            [_located(stack_doc, ("config",), "config must be a mapping of keys to values")]
        )
    values: dict[str, str] = {}
    for key, value in given.items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(value, dict) and "secure" in value:
            continue
        values[full] = value if isinstance(value, str) else json.dumps(value)
    secrets, problems = _declared_config(project, given, values, stack_doc, stack, directory)
    if problems:
        raise ManifestError(problems)
    return StackConfig(name, stack, directory, values, tuple(secrets))


def _declared_config(
    project: dict[str, Any],
    given: dict[str, Any],
    values: dict[str, str],
    stack_doc: Document,
    stack: str,
    directory: Path,
) -> tuple[list[str], list[Diagnostic]]:
    """Fill `values` with the project's declared values and defaults, as Pulumi does; return
    the secrets still to set and a problem for each required value the stack lacks."""
    name = str(project["name"])
    problems = []
    secrets: list[str] = []
    for key, declaration in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if not isinstance(declaration, dict):
            values.setdefault(full, str(declaration))
            continue
        if "value" in declaration or "default" in declaration:
            values.setdefault(full, str(declaration.get("value", declaration.get("default"))))
            continue
        secure = isinstance(given.get(full) or given.get(key), dict)
        if declaration.get("secret"):
            if not secure:
                secrets.append(full)
            continue
        if full not in values:
            problems.append(
                _located(
                    stack_doc,
                    ("config",),
                    f"Stack '{stack}' is missing configuration value '{full}'",
                    f"pulumi config set {key} VALUE (in {directory})",
                )
            )
            continue
        expected = declaration.get("type")
        if not _has_type(given.get(full, given.get(key)), str(expected or "")):
            problems.append(
                _located(
                    stack_doc,
                    ("config", full),
                    f"configuration value '{full}' must be of type {expected}",
                )
            )
    return secrets, problems


def _has_type(value: Any, expected: str) -> bool:
    if expected in ("", "string"):
        return isinstance(value, str)
    if expected == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.lstrip("-").isdigit()
        )
    if expected == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if expected == "array":
        return isinstance(value, list)
    return isinstance(value, dict)
