"""Constrained scalar types shared by every manifest kind."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

_QUANTITY = re.compile(
    r"^(?P<num>[0-9]+(\.[0-9]+)?|\.[0-9]+)(?P<suffix>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL: dict[str, Decimal | int] = {
    "m": Decimal("0.001"),
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
}


def parse_quantity(text: str) -> Decimal:
    """The value of a Kubernetes quantity (`500m`, `2`, `512Mi`, `8G`) as a number."""
    match = _QUANTITY.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (examples: 500m, 2, 512Mi, 8G)")
    number = Decimal(match["num"])
    suffix = match["suffix"]
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix:
        return number * Decimal(_DECIMAL[suffix])
    return number


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
    Field(pattern=_QUANTITY.pattern),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _QUANTITY.pattern},
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
