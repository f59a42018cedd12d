"""Constrained scalar types shared by every manifest kind."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from runway.common.kube import QUANTITY, parse_quantity


def _quantity(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str) and parse_quantity(value) <= 0:
        raise ValueError(f"{value!r} must be greater than zero")
    return value


Quantity = Annotated[
    str,
    BeforeValidator(_quantity),
    Field(pattern=QUANTITY.pattern),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": QUANTITY.pattern},
                {"type": "number", "exclusiveMinimum": 0},
            ],
            "examples": ["500m", "2", "512Mi", "8G"],
        }
    ),
]

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
SECRET_ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"

DnsLabel = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
EnvName = Annotated[str, Field(pattern=ENV_NAME, max_length=255)]
Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[int, Field(ge=0, le=3600)]
PositiveSeconds = Annotated[int, Field(ge=1, le=3600)]
AbsolutePath = Annotated[str, Field(pattern=r"^/[^\x00]*$", max_length=4096)]


def _stringify(value: object) -> object:
    """Env values may be written as numbers or bools; Kubernetes wants strings, as written
    (`1.10` stays `1.10`, `0x1F` stays `0x1F`: the loader keeps each number's text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(getattr(value, "text", value))
    return value


EnvValue = Annotated[
    str,
    BeforeValidator(_stringify),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ValueError(f"{item!r} is listed twice; items must be unique")
        seen.add(item)
    return items


UniqueStrings = Annotated[
    list[str], AfterValidator(_unique), Field(json_schema_extra={"uniqueItems": True})
]


def kubernetes_name(service_name: str) -> str:
    """The DNS-1123 name a Runway service name maps to (`ai_gateway` → `ai-gateway`)."""
    return service_name.lower().replace("_", "-").replace(".", "-")


def check_service_name(name: str) -> str:
    derived = kubernetes_name(name)
    if not re.match(DNS_LABEL, derived):
        raise ValueError(
            f"{name!r} cannot become a Kubernetes name: use letters, digits, '-' or '_', "
            "starting and ending with a letter or digit"
        )
    return name


ServiceName = Annotated[
    str,
    Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"),
    AfterValidator(check_service_name),
]
