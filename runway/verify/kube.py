"""Rendered objects against real schemas: Kubernetes' own (kubernetes-validate) and upstream CRDs."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs

KUBERNETES_VERSIONS = ("1.30", "1.32", "1.34")
SCHEMAS = "file:///kubernetes-json-schema"


CRD_INDEX = "schemas.json"
"""The openAPIV3Schema of every kind the CRDs in runway/data/crds declare, as JSON: parsing the
CRDs' YAML took each verify process about 95 ms, reading this 3 ms. Derived from the YAML by
`crd_index` (`./dev crds`); a test keeps the two the same."""


def crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    """The openAPIV3Schema of (apiVersion, kind) from the CRDs shipped in runway/data/crds, or
    None for a kind no CRD defines (Kubernetes' own)."""
    return crd_schemas().get((api_version, kind))


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → openAPIV3Schema of every shipped CRD."""
    text = resources.files("runway.data").joinpath("crds", CRD_INDEX).read_text()
    schemas: dict[str, dict[str, Any]] = json.loads(text)["schemas"]
    return {_key(name): schema for name, schema in schemas.items()}


def _key(name: str) -> tuple[str, str]:
    api_version, kind = name.split(" ")
    return api_version, kind


def crd_index(texts: dict[str, str]) -> dict[str, Any]:
    """The index CRD_INDEX holds for CRD files (name → YAML text): each file's digest and the
    schema of every (apiVersion, kind) it serves."""
    import hashlib

    from runway.common import yamlio

    index: dict[str, Any] = {"sources": {}, "schemas": {}}
    for name, text in sorted(texts.items()):
        crd = yamlio.load(text)
        group = crd["spec"]["group"]
        kind = crd["spec"]["names"]["kind"]
        index["sources"][name] = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        for version in crd["spec"]["versions"]:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if schema:
                index["schemas"][f"{group}/{version['name']} {kind}"] = schema
    return index


def validate_object(
    obj: dict[str, Any], versions: tuple[str, ...] = KUBERNETES_VERSIONS
) -> list[str]:
    """Problems of one object; empty when it is valid on every version named."""
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    crd = _crd_validator(key)
    if crd is not None:
        return [f"{_path(e)}: {e.message}" for e in crd.iter_errors(obj)]
    problems: list[str] = []
    for version in versions:
        validator = _kubernetes_validator(version, *key)
        if validator is None:
            problems.append(f"Kubernetes {version}: no schema for {key[0]} {key[1]}")
            continue
        errors = list(validator.iter_errors(obj))
        if errors:
            error = max(errors, key=lambda e: len(e.instance_path))  # the deepest says most
            problems.append(f"Kubernetes {version}: {_path(error)}: {error.message}")
    return problems


def _path(error: jsonschema_rs.ValidationError) -> str:
    return ".".join(str(p) for p in error.instance_path) or "(root)"


@functools.cache
def _crd_validator(key: tuple[str, str]) -> jsonschema_rs.Draft7Validator | None:
    schema = crd_schema(*key)
    return None if schema is None else jsonschema_rs.Draft7Validator(_closed(schema, root=True))


EMBEDDED = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {}}


def _closed(schema: Any, *, root: bool = False) -> Any:
    """The schema with unknown fields refused, where the API server would not keep them.

    A CRD's structural schema makes the API server drop fields it does not declare (refuse them,
    under `kubectl`'s strict field validation) except where `additionalProperties` or
    `x-kubernetes-preserve-unknown-fields` keeps them, so a misspelt field never takes effect.
    The resource, and any embedded one, keeps its apiVersion, kind and metadata (k8s.io/
    apiextensions-apiserver pkg/apiserver/schema/pruning). What sits under `oneOf`,
    `anyOf`, `allOf` or `not` only validates values and declares no fields, so it is kept as is."""
    if not isinstance(schema, dict):
        return schema
    closed = dict(schema)
    if isinstance(schema.get("properties"), dict):
        closed["properties"] = {name: _closed(sub) for name, sub in schema["properties"].items()}
    for key in ("items", "additionalProperties"):
        if key in schema:
            closed[key] = _closed(schema[key])
    if "properties" in schema and "additionalProperties" not in schema:
        if root or schema.get("x-kubernetes-embedded-resource"):
            closed["properties"] = {**EMBEDDED, **closed["properties"]}
        if not schema.get("x-kubernetes-preserve-unknown-fields"):
            closed["additionalProperties"] = False
    return closed


@functools.cache
def _kubernetes_validator(
    version: str, api_version: str, kind: str
) -> jsonschema_rs.Draft202012Validator | None:
    """kubernetes-validate's strict schema for (version, apiVersion, kind), compiled once
    (jsonschema-rs: the same schemas and rules as `kubernetes_validate.validate(…, strict=True)`,
    a hundred times faster than re-reading and interpreting them per object)."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    directory = _schema_directory(version)
    name = f"{kind.lower()}-{group_version}.json"
    try:
        schema = json.loads((directory / name).read_text())
    except FileNotFoundError:
        return None
    return jsonschema_rs.Draft202012Validator(
        schema, registry=_definitions(directory), base_uri=f"{SCHEMAS}/{name}"
    )


@functools.cache
def _definitions(directory: Path) -> jsonschema_rs.Registry:
    """Every kind of a version refers into one 1.3 MB `_definitions.json`: read it once."""
    definitions = json.loads((directory / "_definitions.json").read_text())
    return jsonschema_rs.Registry([(f"{SCHEMAS}/_definitions.json", definitions)])


@functools.cache
def _schema_directory(version: str) -> Path:
    """kubernetes-validate's strict schemas for the newest patch release of `version` it has.
    Its files are read directly: importing the package (for two path helpers) pulls in
    jsonschema and costs each verify process about 45 ms."""
    spec = importlib.util.find_spec("kubernetes_validate")
    assert spec is not None and spec.submodule_search_locations, (
        "kubernetes-validate is a dependency"
    )
    root = Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"
    wanted = _release(version)[:2]
    found = sorted(
        (_release(folder.name[1:]), folder)
        for folder in root.glob("v*-local-strict")
        if _release(folder.name[1:])[:2] <= wanted
    )
    if not found:
        raise FileNotFoundError(f"kubernetes-validate has no schemas for Kubernetes {version}")
    return found[-1][1]


def _release(text: str) -> tuple[int, ...]:
    """(1, 31, 0) from "1.31.0-local-strict" or "1.31"."""
    return tuple(int(part) for part in re.findall(r"\d+", text.split("-", 1)[0]))
