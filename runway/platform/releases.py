"""The services an environment deploys, as gitlab-managed release descriptions (pure data;
no Pulumi), so the stacks, `runway stack plan` and `runway turnup` share one source."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from runway.chart.mapping import resolve
from runway.chart.spec import BuildOptions, ChartSpec
from runway.errors import UsageError
from runway.manifest.environment import RunwayEnvironment
from runway.offerings import Offering, gke
from runway.offerings.overrides import check_supported, customer_config, on_hosts
from runway.offerings.source import find_service
from runway.publish.registry import stage_chart_url


def environment_releases(env: RunwayEnvironment, env_file: Path) -> list[dict[str, Any]]:
    releases = []
    for index, ref in enumerate(env.spec.services):
        path = (env_file.parent / ref.manifest).resolve()
        if not path.exists():
            raise UsageError(
                f"{env_file}: spec.services[{index}].manifest: {ref.manifest} does not exist "
                f"(resolved to {path})"
            )
        service = find_service(str(path))
        spec = resolve(service, BuildOptions(environment=env.metadata.name))
        check_supported(spec, Offering.GITLAB_MANAGED)
        spec = _placed(spec, env.spec.regions, ref.hosts, f"{env_file}: spec.services[{index}]")
        proxies = _proxy_ranges(spec, env, f"{env_file}: spec.services[{index}]")
        spec = _gitlab_of(spec, env.spec.gitlab.url)
        stage = ref.stage or env.spec.stage
        release = gke.release_description(
            spec,
            environment=env.metadata.name,
            project=env.spec.project.id,
            chart_url=stage_chart_url(env.spec.registry, stage, spec.name),
            proxy_only=proxies,
        )
        release["deploy"] = {"with": ref.deploy_with.value, "version": ref.version, "stage": stage}
        releases.append(release)
    owners: dict[str, str] = {}
    for release in releases:
        for host in release["edge"]["hosts"]:
            if host in owners:
                raise UsageError(
                    f"{env_file}: {host} is served by both {owners[host]} and "
                    f"{release['service']}; give one of them another host in this environment "
                    "(spec.services[].hosts)"
                )
            owners[host] = release["service"]
    names = [r["service"] for r in releases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"{env_file}: spec.services lists {', '.join(duplicates)} twice")
    return releases


def _proxy_ranges(spec: ChartSpec, env: RunwayEnvironment, where: str) -> dict[str, str]:
    """Region → proxy-only range, for a service with internal listeners: GKE's internal Ingress
    serves them and makes no load balancer in a region without a proxy-only subnet (they would
    never get an address); its proxies are the pods' clients."""
    internal = sorted(
        name for name, listener in spec.values.listeners.items() if listener.exposure == "internal"
    )
    if not internal:
        return {}
    subnets = env.spec.network.subnets
    missing = [r for r in env.spec.regions if r in subnets and not subnets[r].proxy_only]
    if missing:
        raise UsageError(
            f"{where}: {spec.name}'s internal listeners ({', '.join(internal)}) are served by "
            "GKE's internal Ingress, which needs a proxy-only subnet in each region; set "
            f"spec.network.subnets.{missing[0]}.proxy_only (a /23 that overlaps no other range)"
        )
    return {r: str(subnets[r].proxy_only) for r in env.spec.regions if r in subnets}


def _placed(spec: ChartSpec, regions: list[str], hosts: dict[str, str], where: str) -> ChartSpec:
    """The service as this environment runs it: the environment's regions and listener hosts."""
    return dataclasses.replace(on_hosts(spec, hosts, f"{where}.hosts"), regions=tuple(regions))


def _gitlab_of(spec: ChartSpec, url: str) -> ChartSpec:
    """The component talks to the environment's GitLab (KAS: its config's `gitlab.address` and
    `external_url`, through `configOverrides`), not to the in-cluster GitLab a self-managed
    default assumes."""
    overrides = customer_config(spec, url)
    if not overrides:
        return spec
    values = spec.values.model_copy(update={"configOverrides": overrides})
    return dataclasses.replace(spec, values=values)
