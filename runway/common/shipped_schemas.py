"""The upstream JSON Schemas runway ships (runway/data/schemas), checked with jsonschema-rs, the
one JSON Schema validator runway runs (verify uses it for Kubernetes and CRD schemas)."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import jsonschema_rs

FieldPath = tuple[str | int, ...]

_DRAFTS = {
    "devfile.schema.json": jsonschema_rs.Draft7Validator,  # declares none; devfile's is draft-07
    "gitlab-ci.schema.json": jsonschema_rs.Draft7Validator,
    "pulumi-project.schema.json": jsonschema_rs.Draft202012Validator,
}


@functools.cache
def _validator(name: str) -> Any:
    text = resources.files("runway.data").joinpath(f"schemas/{name}").read_text()
    return _DRAFTS[name](json.loads(text))


def problems(name: str, data: Any) -> list[tuple[FieldPath, str]]:
    """(path, message) of every way `data` breaks the shipped schema `name`, by path. The data
    goes through JSON first: what YAML gave may hold int and str subclasses (numbers that
    remember how they were written), which the validator does not take."""
    errors = _validator(name).iter_errors(json.loads(json.dumps(data)))
    found = [(tuple(error.instance_path), str(error.message)) for error in errors]
    return sorted(found, key=lambda item: [str(p) for p in item[0]])
