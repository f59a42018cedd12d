"""JSON Schemas of the manifest kinds, generated from the same models that validate them.

Self-contained (local `$defs` only) so that editors can use them offline through
yaml-language-server's modeline.
"""

from __future__ import annotations

from typing import Any

import pydantic

from runway.common.jsonschemas import KeysChecked
from runway.manifest import environment, kubernetes, models

KINDS: dict[str, Any] = {
    "RunwayService": models.RunwayService | models.RunwayServiceDev,
    "RunwayKubernetesService": kubernetes.RunwayKubernetesService,
    "RunwayKubernetesDeployment": kubernetes.RunwayKubernetesDeployment,
    "RunwayEnvironment": environment.RunwayEnvironment,
}
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def kind_schema(kind: str | None = None) -> dict[str, Any]:
    """The schema of one kind, or of any kind when `kind` is None."""
    if kind is not None and kind not in KINDS:
        raise KeyError(kind)
    target = KINDS[kind] if kind else _any_kind()
    schema = pydantic.TypeAdapter(target).json_schema(
        mode="validation", schema_generator=KeysChecked
    )
    title = f"Runway manifest: {kind}" if kind else "Runway manifest (any kind)"
    return {
        "$schema": SCHEMA_DIALECT,
        "title": title,
        **{k: v for k, v in schema.items() if k != "title"},
    }


def _any_kind() -> Any:
    kinds: Any = None
    for annotation in KINDS.values():
        kinds = annotation if kinds is None else kinds | annotation
    return kinds
