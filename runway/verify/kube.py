"""Rendered objects against real schemas: Kubernetes' own (kubernetes-validate) and upstream CRDs."""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

import jsonschema
import kubernetes_validate.utils as k8s_utils
import referencing

from runway.common import yamlio

KUBERNETES_VERSIONS = ("1.30", "1.32", "1.34")


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → openAPIV3Schema, from the CRDs shipped in runway/data/crds."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    folder = resources.files("runway.data").joinpath("crds")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        crd = yamlio.load(entry.read_text())
        group = crd["spec"]["group"]
        kind = crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = version.get("schema", {}).get("openAPIV3Schema")
            if schema:
                found[(f"{group}/{version['name']}", kind)] = schema
    return found


def validate_object(
    obj: dict[str, Any], versions: tuple[str, ...] = KUBERNETES_VERSIONS
) -> list[str]:
    """Problems of one object; empty when it is valid on every version named."""
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    crd = _crd_validator(key)
    if crd is not None:
        return [
            f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in crd.iter_errors(obj)
        ]
    problems: list[str] = []
    for version in versions:
        validator = _kubernetes_validator(version, *key)
        if validator is None:
            problems.append(f"Kubernetes {version}: no schema for {key[0]} {key[1]}")
            continue
        error = jsonschema.exceptions.best_match(validator.iter_errors(obj))
        if error is not None:
            path = ".".join(str(p) for p in error.path) or "(root)"
            problems.append(f"Kubernetes {version}: {path}: {error.message}")
    return problems


@functools.cache
def _crd_validator(key: tuple[str, str]) -> jsonschema.Draft7Validator | None:
    schema = crd_schemas().get(key)
    return None if schema is None else jsonschema.Draft7Validator(schema)


@functools.cache
def _kubernetes_validator(
    version: str, api_version: str, kind: str
) -> jsonschema.Draft202012Validator | None:
    """kubernetes-validate's strict schema for (version, apiVersion, kind), built once.

    Same files and registry as `kubernetes_validate.validate(…, strict=True)`, which re-reads
    and re-parses them on every call (most of verify's time before this cache).
    """
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    directory = f"kubernetes-json-schema/v{_schema_version(version)}-local-strict"
    try:
        schema = k8s_utils.schema_contents(
            f"{directory}/{kind.lower()}-{group_version}.json", version
        )
    except FileNotFoundError:
        return None
    definitions = k8s_utils.schema_contents(f"{directory}/_definitions.json", version)
    registry: referencing.Registry[Any] = referencing.Registry()
    registry = referencing.Resource.from_contents(schema) @ registry
    registry = referencing.Resource.from_contents(definitions) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def _schema_version(version: str) -> str:
    wanted = k8s_utils.major_minor(version)
    return str([v for v in k8s_utils.all_versions() if k8s_utils.major_minor(v) <= wanted][-1])
