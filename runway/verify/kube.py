"""Rendered objects against real schemas: Kubernetes' own (kubernetes-validate) and upstream CRDs."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import jsonschema
import kubernetes_validate
from ruamel.yaml import YAML

KUBERNETES_VERSIONS = ("1.30", "1.32", "1.34")


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → openAPIV3Schema, from the CRDs shipped in runway/data/crds."""
    yaml = YAML(typ="safe")
    found: dict[tuple[str, str], dict[str, Any]] = {}
    folder = resources.files("runway.data").joinpath("crds")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        crd = yaml.load(entry.read_text())
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
    crd = crd_schemas().get(key)
    if crd is not None:
        validator = jsonschema.Draft7Validator(crd)
        return [
            f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in validator.iter_errors(obj)
        ]
    problems: list[str] = []
    for version in versions:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            path = ".".join(str(p) for p in err.path) or "(root)"
            problems.append(f"Kubernetes {version}: {path}: {err.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"Kubernetes {version}: no schema for {key[0]} {key[1]}")
    return problems
