"""Rendered objects against real schemas: Kubernetes' own (kubernetes-validate's, shipped in
runway/data/kubernetes) and upstream CRDs'."""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs

from runway.errors import RunwayError

KUBERNETES_VERSIONS = ("1.30", "1.32", "1.34")
"""The versions verify checks every object against; runway/data/kubernetes holds their schemas."""
SCHEMAS = "file:///kubernetes-json-schema"
DEFINITIONS = "_definitions.json"


CRD_INDEX = "schemas.json"
"""The openAPIV3Schema of every kind the CRDs in runway/data/crds declare, as JSON: parsing the
CRDs' YAML took each verify process about 95 ms, reading this 3 ms. Derived from the YAML by
`crd_index` (`./dev schemas`); a test keeps the two the same."""


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
    name = f"{kind.lower()}-{group_version}.json"
    schema = kubernetes_schema(version, name)
    if schema is None:
        return None
    return jsonschema_rs.Draft202012Validator(
        schema, registry=_definitions(version), base_uri=f"{SCHEMAS}/{name}"
    )


@functools.cache
def _definitions(version: str) -> jsonschema_rs.Registry:
    """Every kind of a version refers into one 1.2 MB `_definitions.json`: parsed once."""
    definitions = kubernetes_schema(version, DEFINITIONS)
    return jsonschema_rs.Registry([(f"{SCHEMAS}/{DEFINITIONS}", definitions)])


def kubernetes_schema(version: str, name: str) -> Any:
    """The schema in kubernetes-validate's file `name` (e.g. "deployment-apps-v1.json") for
    Kubernetes `version`, or None where it has no such file."""
    data, spans = kubernetes_files(version)
    span = spans.get(name)
    return None if span is None else json.loads(data[span[0] : span[0] + span[1]])


@functools.cache
def kubernetes_files(version: str) -> tuple[bytes, dict[str, tuple[int, int]]]:
    """runway/data/kubernetes/v{version}.jsonl, and where in it each of kubernetes-validate's
    strict schema files for Kubernetes `version` is (file name → offset, length). The file is
    JSON Lines: a header of those spans (counted from the end of its own line), then each
    file's JSON on a line of its own, so that a file is parsed only when a kind needs it (a
    chart renders a dozen of a version's 600)."""
    try:
        data = (
            resources.files("runway.data").joinpath("kubernetes", f"v{version}.jsonl").read_bytes()
        )
    except FileNotFoundError:
        raise RunwayError(
            f"runway has no Kubernetes schemas for {version} (runway/data/kubernetes/"
            f"v{version}.jsonl is missing): reinstall runway"
        ) from None
    end = data.index(b"\n") + 1
    spans = {name: (end + at, size) for name, (at, size) in json.loads(data[:end])["files"].items()}
    return data, spans


def kubernetes_index(root: Path, version: str, source: str) -> bytes:
    """What runway/data/kubernetes/v{version}.jsonl holds (see kubernetes_files): every file of
    the newest patch release of `version` among kubernetes-validate's strict schemas under
    `root` (its kubernetes-json-schema folder), as compact JSON, after a header naming them and
    where they came from (`source`, e.g. the package's name and version)."""
    wanted = _release(version)[:2]
    found = sorted(
        (_release(folder.name[1:]), folder)
        for folder in root.glob("v*-local-strict")
        if _release(folder.name[1:])[:2] == wanted
    )
    if not found:
        raise FileNotFoundError(f"{root} has no schemas for Kubernetes {version}")
    folder = found[-1][1]
    lines: dict[str, bytes] = {
        path.name: json.dumps(json.loads(path.read_text()), separators=(",", ":")).encode()
        for path in sorted(folder.glob("*.json"))
    }
    spans: dict[str, list[int]] = {}
    at = 0
    for name, line in lines.items():
        spans[name] = [at, len(line)]
        at += len(line) + 1
    header = {"source": f"{source} {folder.name}", "files": spans}
    body = b"".join(line + b"\n" for line in lines.values())
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + body


def _release(text: str) -> tuple[int, ...]:
    """(1, 31, 0) from "1.31.0-local-strict" or "1.31"."""
    return tuple(int(part) for part in re.findall(r"\d+", text.split("-", 1)[0]))
