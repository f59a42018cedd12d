"""pydantic's errors translated once into `Diagnostic`s located at `file:line:col`, with a
"did you mean" for a misspelt field."""

from __future__ import annotations

import difflib
import functools
from typing import Any

import pydantic

from runway.errors import Diagnostic
from runway.manifest import kubernetes, models
from runway.manifest._yaml import Document, FieldPath

KINDS: dict[str, tuple[type[pydantic.BaseModel], ...]] = {
    "RunwayService": (models.RunwayService, models.RunwayServiceDev),
    "RunwayKubernetesService": (kubernetes.RunwayKubernetesService,),
    "RunwayKubernetesDeployment": (kubernetes.RunwayKubernetesDeployment,),
}
"""Every manifest kind and the models that validate it (validation and "did you mean" share it)."""


def pydantic_diagnostics(
    document: Document,
    err: pydantic.ValidationError,
    *,
    prefix: FieldPath = (),
    api_version: str = models.API_V1,
) -> list[Diagnostic]:
    """Translate pydantic's errors into located diagnostics (one per problem, in file order)."""
    found: list[Diagnostic] = []
    for error in err.errors(include_url=False):
        loc: FieldPath = (*prefix, *(p for p in error["loc"] if isinstance(p, str | int)))
        kind = error["type"]
        message = str(error["msg"]).removeprefix("Value error, ")
        hint = ""
        key = loc[-1] if loc else ""
        if kind == "extra_forbidden":
            message = f"unknown field {key!r}"
            if api_version == models.API_V1 and key in models.EXTENSION_FIELDS:
                hint = "this is a runway extension: set apiVersion: runway/v1+dev to use it"
            else:
                close = difflib.get_close_matches(
                    str(key), [f for f in _known_fields() if f != key], n=1, cutoff=0.75
                )
                if key in _known_fields():
                    hint = f"{key!r} is a field elsewhere in the manifest; check the indentation"
                elif close:
                    hint = f"did you mean {close[0]!r}?"
                else:
                    hint = "remove it; unknown fields are refused"
        elif kind == "missing":
            message = "required field is missing"
        line, column = document.position(loc, prefer_key=kind == "extra_forbidden")
        found.append(
            Diagnostic(document.file, message, line, column, field=_dotted(loc), hint=hint)
        )
    return sorted(found, key=lambda d: (d.line or 0, d.column or 0))


def _dotted(path: FieldPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@functools.cache
def _known_fields() -> tuple[str, ...]:
    names: set[str] = set()
    pending: list[type[pydantic.BaseModel]] = [m for group in KINDS.values() for m in group]
    seen: set[type[pydantic.BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            names.add(field.alias or name)
            pending.extend(_nested_models(field.annotation))
    return tuple(sorted(names))


def _nested_models(annotation: Any) -> list[type[pydantic.BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _nested_models(arg)]
