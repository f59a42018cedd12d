"""A turnup request and how it is carried out: the command line fills one in, this module
resolves the service and returns the files, and the CLI writes and prints them.

Reading a registry is the one piece of I/O a request can need (the managed-self-hosted bundle
checks its version range against what is published); the caller passes it in as `releases`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from runway.chart.mapping import resolve
from runway.chart.profiles import Edge
from runway.chart.spec import BuildOptions, ChartSpec
from runway.errors import UsageError
from runway.offerings import Offering, gke
from runway.offerings import turnup as emit
from runway.offerings.overrides import check_supported, on_hosts, routed_hosts
from runway.offerings.source import find_service
from runway.publish.registry import Release, stage_chart_url
from runway.publish.stages import Stages

ReleasesOf = Callable[[str, str, str], list[Release]]
"""(registry URL, chart name, stage) → the releases published there."""


@dataclasses.dataclass(frozen=True, slots=True)
class TurnupRequest:
    service: str
    offering: Offering
    output: Path | None = None
    environment: str | None = None
    registry: str | None = None
    stage: str | None = None
    version_range: str | None = None
    gitlab_version: str | None = None
    gitlab_url: str | None = None
    registration_url: str | None = None
    namespace: str | None = None
    pull_secret: str | None = None
    cosign_secret: str | None = None
    project: str | None = None
    edge: Edge | None = None
    offline: bool = False
    plain_http: bool = False
    stages: str | None = None
    hosts: tuple[str, ...] = ()
    """LISTENER=HOST: where this installation routes a listener (self-managed and
    managed-self-hosted; gitlab-managed takes its hosts from the environment file)."""


@dataclasses.dataclass(frozen=True, slots=True)
class TurnupResult:
    service: str
    offering: Offering
    stage: str
    target: Path
    files: dict[str, bytes]
    resolved: str | None = None
    """The chart version a version range resolves to in the registry now, when it was checked."""
    warnings: tuple[str, ...] = ()


def turn_up(
    request: TurnupRequest, releases: ReleasesOf, environ: Mapping[str, str] | None = None
) -> TurnupResult:
    """The files that turn the service up in the requested offering (nothing is written)."""
    offering = request.offering
    if offering is Offering.GITLAB_MANAGED and not request.environment:
        raise UsageError("--offering gitlab-managed needs --env ENV (the environment it runs in)")
    spec = resolve(find_service(request.service), BuildOptions(environment=request.environment))
    check_supported(spec, offering)
    if request.hosts and offering is Offering.GITLAB_MANAGED:
        raise UsageError(
            "--host is for self-managed and managed-self-hosted; a gitlab-managed release takes "
            "its hosts from the environment file (spec.services[].hosts)"
        )
    hosts = _hosts(request.hosts)
    spec = on_hosts(spec, hosts, "--host")
    order = Stages.parse(request.stages, os.environ if environ is None else environ)
    follow = request.stage or order.names[-1]
    order.index(follow)
    chart_url = stage_chart_url(request.registry or "oci://REGISTRY/charts", follow, spec.name)
    target = request.output or Path("dist/turnup") / spec.name / offering.value
    resolved = None
    if offering is Offering.SELF_MANAGED:
        files = emit.self_managed(spec, chart_url)
    elif offering is Offering.GITLAB_MANAGED:
        files = emit.gitlab_managed(
            gke.release_description(
                spec,
                environment=str(request.environment),
                project=request.project,
                chart_url=chart_url if request.registry else None,
                edge=request.edge,
            )
        )
    else:
        files, resolved = _managed_self_hosted(request, spec, follow, releases)
    warnings = tuple(
        f"{spec.name}: listener {name} keeps the manifest's host {routed['host']}; give this "
        f"installation's with --host {name}=HOST"
        for name, routed in routed_hosts(spec).items()
        if offering is Offering.MANAGED_SELF_HOSTED and name not in hosts
    )
    return TurnupResult(spec.name, offering, follow, target, files, resolved, warnings)


def _hosts(given: tuple[str, ...]) -> dict[str, str]:
    """LISTENER=HOST pairs as given on the command line."""
    found: dict[str, str] = {}
    for item in given:
        name, equals, host = item.partition("=")
        if not (equals and name and host):
            raise UsageError(
                f"--host {item!r}: give LISTENER=HOST, e.g. --host agent=kas.example.com"
            )
        if name in found:
            raise UsageError(f"--host: listener {name} is given twice")
        found[name] = host
    return found


def _managed_self_hosted(
    request: TurnupRequest, spec: ChartSpec, follow: str, releases: ReleasesOf
) -> tuple[dict[str, bytes], str | None]:
    url = request.registry
    if not url or not url.startswith("oci://"):
        raise UsageError(
            "--offering managed-self-hosted needs --registry oci://HOST/PATH "
            "(Flux pulls the chart from it)"
        )
    if not request.gitlab_url:
        raise UsageError(
            "--offering managed-self-hosted needs --gitlab-url "
            "(the instance the service registers with)"
        )
    published = None
    if not request.offline or request.gitlab_version:
        published = releases(url, spec.name, follow)
    options, resolved = emit.bundle_options(
        spec,
        emit.ChartRequest(url, follow, request.version_range, request.gitlab_version),
        published,
        gitlab_url=request.gitlab_url,
        registration_url=request.registration_url,
        namespace=request.namespace,
        pull_secret=request.pull_secret,
        cosign_secret=request.cosign_secret,
        insecure=request.plain_http,
    )
    return emit.managed_self_hosted(spec, options, resolved), resolved
