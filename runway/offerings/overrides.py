"""The values an offering installs with: its profile, then the manifest's own overrides.

The result is checked against the chart's values contract here, so a mistyped override in a
manifest fails when the bundle is made, naming the manifest field, not later in a cluster.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from runway.chart import values as v
from runway.chart.spec import ChartSpec
from runway.common import contract_data
from runway.common.kube import HOSTNAME
from runway.common.mappings import merge
from runway.errors import UsageError
from runway.offerings import Offering


def check_supported(spec: ChartSpec, offering: Offering) -> None:
    if offering.value not in spec.offerings:
        raise UsageError(
            f"{spec.service} does not support the {offering.value} offering "
            f"(it supports {', '.join(spec.offerings)}); list it in spec.offerings.supported "
            "of its manifest (runway/v1+dev) to turn it up that way"
        )


def offering_values(spec: ChartSpec, offering: Offering, profile: dict[str, Any]) -> dict[str, Any]:
    """`profile` with the manifest's overrides for `offering` merged over it, validated."""
    check_supported(spec, offering)
    overrides = spec.offering_overrides.get(offering.value, {})
    combined: dict[str, Any] = merge(profile, overrides)
    defaults = spec.values.model_dump(mode="json", by_alias=True)
    try:
        v.ChartValues.model_validate(merge(defaults, combined))
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise UsageError(
            f"{spec.service}: the {offering.value} values (profile plus "
            f"spec.offerings.overrides.{offering.value}) do not fit the chart: {problems}"
        ) from None
    return combined


def customer_config(spec: ChartSpec, gitlab_url: str | None = None) -> dict[str, dict[str, Any]]:
    """configOverrides for the config keys the component's contract says an installation sets
    (KAS: the GitLab it serves), by config file: the manifest's values, for a customer to
    review; or, given the GitLab URL, those the contract fills from it."""
    name = spec.annotations.get(contract_data.ANNOTATION)
    keys: dict[str, str] = (contract_data.load(name).get("customer_config") or {}) if name else {}
    found: dict[str, dict[str, Any]] = {}
    for item in spec.values.configFiles:
        for dotted, source in keys.items():
            node: Any = item.data
            for part in dotted.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                continue
            target = found.setdefault(item.path, {})
            *parents, last = dotted.split(".")
            for part in parents:
                target = target.setdefault(part, {})
            target[last] = gitlab_url if gitlab_url and source == "gitlab_url" else node
    return found


ROUTED = ("public", "internal")
"""The exposures a listener has a host at the edge for."""


def routed_hosts(spec: ChartSpec) -> dict[str, dict[str, Any]]:
    """Every routed listener's hosts, as values: what an installation routes, and what its
    certificates and DNS must serve."""
    return {
        name: {"host": listener.host, "extraHosts": list(listener.extraHosts)}
        for name, listener in spec.values.listeners.items()
        if listener.host and listener.exposure in ROUTED
    }


def on_hosts(spec: ChartSpec, hosts: Mapping[str, str], where: str) -> ChartSpec:
    """The service on an installation's hosts (listener → host). An alias that is the apex of
    the listener's wildcard moves with it (the workspaces proxy's OAuth callback host)."""
    listeners = spec.values.listeners
    for name, host in hosts.items():
        if name not in listeners:
            raise UsageError(
                f"{where}: {name} is not a listener of {spec.name} "
                f"(listeners: {', '.join(sorted(listeners))})"
            )
        if listeners[name].exposure not in ROUTED:
            routed = sorted(n for n, lst in listeners.items() if lst.exposure in ROUTED)
            raise UsageError(
                f"{where}: listener {name} of {spec.name} is {listeners[name].exposure}, not "
                f"routed at the edge, so it has no host (routed: {', '.join(routed) or 'none'})"
            )
        if not re.match(HOSTNAME, host):
            raise UsageError(
                f"{where}: {host!r} is not a DNS name (lower case; a leading '*.' for a wildcard)"
            )
    moved = {
        name: _moved(listener, hosts[name]) if name in hosts else listener
        for name, listener in listeners.items()
    }
    values = spec.values.model_copy(update={"listeners": moved})
    return dataclasses.replace(spec, values=values)


def _moved(listener: v.Listener, host: str) -> v.Listener:
    apex = listener.host.removeprefix("*.") if listener.host.startswith("*.") else None
    extra = [
        host.removeprefix("*.") if alias == apex and host.startswith("*.") else alias
        for alias in listener.extraHosts
    ]
    return listener.model_copy(update={"host": host, "extraHosts": extra})
