"""Kubernetes object helpers shared by verify and the offerings."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "Pod", "CronJob"}

PLACEHOLDER_IMAGE: dict[str, Any] = {
    "image": {"repository": "registry.example.com/verify/placeholder", "tag": "1.0.0"}
}
"""Values that let a chart built without an image render (verify, images): never deployed."""


SECRET_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
SECRET_NAME_MAX_LENGTH = 56
"""A chart's secret is mounted as the volume `secret-NAME`, and the API server takes only DNS
labels of at most 63 characters as volume names: longer names, or dots, would pass every schema
and stop the install there (two names cut to one would also collide)."""

HOSTNAME = r"^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$"
"""A DNS name at the edge (Ingress, Gateway API); a leading `*.` makes it a wildcard."""
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
LABEL_KEY = rf"^({_DNS_SUBDOMAIN}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{{0,61}}[A-Za-z0-9])?$"
"""A label's or an annotation's key: a name of at most 63 characters, with an optional DNS
prefix (pkg/util/validation IsQualifiedName)."""
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"
CONTAINER_ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
"""An environment variable's name as Kubernetes 1.30 takes it (later releases relax it)."""

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RANGE = rf"({_OCTET}\.){{3}}{_OCTET}/(3[0-2]|[12]?[0-9])"
_IPV6_RANGE = r"[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}/(12[0-8]|1[01][0-9]|[1-9]?[0-9])"
IPV4_CIDR = f"^{_IPV4_RANGE}$"
CIDR = f"^({_IPV4_RANGE}|{_IPV6_RANGE})$"
"""An IPv4 range (exact), or the shape of an IPv6 one: what a NetworkPolicy's ipBlock or a GKE
range takes, so a typo fails at the schema rather than at the API that is handed it. Plain
groups: the patterns go into JSON Schemas (ECMA-262)."""

QUANTITY = re.compile(r"^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
"""The quantities runway accepts and writes (`500m`, `2`, `512Mi`, `8G`). Plain groups, no named
ones, because the pattern goes into JSON Schemas, whose regular expressions are ECMA-262's."""

_ANY_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$"
)
"""Every quantity Kubernetes reads (k8s.io/apimachinery pkg/api/resource: signs, `1.`, `1e3`)."""
_SCALE: dict[str, Decimal] = {
    **{
        unit: Decimal(2) ** (10 * power)
        for power, unit in enumerate(["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"], 1)
    },
    **{
        unit: Decimal(10) ** (3 * power)
        for power, unit in enumerate(["k", "M", "G", "T", "P", "E"], 1)
    },
    "m": Decimal("0.001"),
}


def parse_quantity(text: str) -> Decimal:
    """The value of a Kubernetes quantity (`500m`, `2`, `512Mi`, `8G`, `1e3`) as a number."""
    match = _ANY_QUANTITY.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (examples: 500m, 2, 512Mi, 8G)")
    number = Decimal(match[1])
    if match[2]:
        return number * _SCALE[match[2]]
    if match[3]:
        return number * Decimal(10) ** int(match[3])
    return number


PORT_NAME = r"^[a-z](-?[a-z0-9])*$"
"""A port name runway hands out (with at most 15 characters): a letter, then lower-case letters
and digits with single hyphens between them, so Kubernetes always accepts it."""


def port_name_problem(name: str) -> str | None:
    """Why Kubernetes refuses `name` as a port name, or None: IsValidPortName of
    k8s.io/apimachinery pkg/util/validation, which container ports, named target ports and
    probe ports must pass."""
    if len(name) > 15:
        return "must be no more than 15 characters"
    if not re.fullmatch(r"[-a-z0-9]+", name):
        return "must contain only lower-case letters, digits and hyphens"
    if not re.search(r"[a-z]", name):
        return "must contain at least one letter"
    if "--" in name:
        return "must not contain consecutive hyphens"
    if name.startswith("-") or name.endswith("-"):
        return "must not begin or end with a hyphen"
    return None


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """A pod spec's init containers, then its app containers."""
    return [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
        return (spec.get("template") or {}).get("spec")
    if kind in WORKLOADS:
        return (spec.get("template") or {}).get("spec")
    return None
