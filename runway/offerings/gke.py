"""The gitlab-managed release description: what a GKE environment's stack installs, as data.

One description per service and environment: the chart reference, the Workload Identity pair,
the edge, and per region the complete values. The Pulumi stacks read this (or call
`release_description`) instead of computing values of their own, so the CLI and the stacks agree
by construction.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from runway.chart import profiles
from runway.chart.spec import ChartSpec
from runway.common.mappings import merge
from runway.errors import UsageError
from runway.offerings import Offering
from runway.offerings.overrides import offering_values, routed_hosts

KIND = "GitLabManagedRelease"
API_VERSION = "runway.gitlab.com/v1alpha1"


def default_project(environment: str) -> str:
    return f"gitlab-runway-{environment}"


def release_description(
    spec: ChartSpec,
    *,
    environment: str,
    project: str | None = None,
    chart_url: str | None = None,
    edge: profiles.Edge | None = None,
    proxy_only: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`proxy_only`: region → the range GKE's internal Ingress proxies connect from, let in to
    the internal listeners where the NetworkPolicy's internal sources do not cover it."""
    project = project or default_project(environment)
    regions = []
    needed = profiles.edge_for(spec.values)
    if edge == "gateway" and needed == "ingress":
        why = (
            "its Cloudflare allow-list (Cloud Armor attaches through the Ingress edge's "
            "BackendConfig; on a Gateway the pods would admit only Cloudflare's addresses, and "
            "Google's proxies reach them from their own)"
            if spec.values.networkPolicy.cloudflare.enabled
            else "its internal listeners (GKE's internal Ingress class)"
        )
        raise UsageError(f"{spec.name}: the gateway edge cannot carry {why}; use --edge ingress")
    chosen_edge = edge or needed
    for region in spec.regions:
        settings = profiles.GkeSettings(
            project=project, region=region, environment=environment, edge=chosen_edge
        )
        placed: dict[str, Any] = {"listeners": routed_hosts(spec)}
        if spec.values.configOverrides:
            placed["configOverrides"] = spec.values.configOverrides
        sources = _with_proxies(
            spec.values.networkPolicy.internalCidrs, (proxy_only or {}).get(region)
        )
        if sources is not None:
            placed["networkPolicy"] = {"internalCidrs": sources}
        profile = merge(profiles.gke(spec.values, spec.name, settings), placed)
        regions.append(
            {
                "region": region,
                "values": offering_values(spec, Offering.GITLAB_MANAGED, profile),
            }
        )
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "service": spec.name,
        "environment": environment,
        "namespace": spec.name,
        "chart": {
            "name": spec.name,
            "version": spec.version,
            "url": chart_url,
            "gitlabVersions": spec.annotations.get("runway.gitlab.com/gitlab-versions"),
        },
        "gcp": {
            "project": project,
            "serviceAccount": f"{spec.name}@{project}.iam.gserviceaccount.com",
            "workloadIdentityMember": (
                f"serviceAccount:{project}.svc.id.goog[{spec.name}/{spec.name}]"
            ),
        },
        "edge": {
            "kind": chosen_edge,
            "certificate": f"{spec.name}-{environment}",
            "securityPolicy": (
                "cloudflare-only" if spec.values.networkPolicy.cloudflare.enabled else None
            ),
            "hosts": sorted(
                {
                    host
                    for listener in spec.values.listeners.values()
                    if listener.host and listener.exposure == "public"
                    for host in (listener.host, *listener.extraHosts)
                }
            ),
        },
        "datastores": {"redis": spec.values.redis is not None},
        "regions": regions,
    }


def _with_proxies(sources: list[str], proxies: str | None) -> list[str] | None:
    """`sources` and the proxies' range, when they do not already cover it."""
    if proxies is None:
        return None
    wanted = ipaddress.ip_network(proxies, strict=False)
    for source in sources:
        admitted = ipaddress.ip_network(source, strict=False)
        if wanted.network_address in admitted and wanted.broadcast_address in admitted:
            return None
    return [*sources, proxies]
