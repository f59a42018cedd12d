"""Offerings: the images a chart runs, and what turns a service up each way."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from runway.cli import main
from runway.cli._common import (
    PLAIN_HTTP_OPTION,
    STAGES_OPTION,
    handle_errors,
    registry_session,
)


@main.command()
@click.argument("target")
@click.option("--mirror", help="Also print each image's name in this mirror registry")
@click.option("--env", "environment", help="Environment of the manifest (for a SERVICE)")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@handle_errors
def images(target: str, mirror: str | None, environment: str | None, fmt: str) -> None:
    """List every image a chart can run (TARGET: a service name, manifest path, chart or .tgz).

    Mirror them, then install with --set global.imageRegistry=MIRROR.
    """
    from runway.chart.spec import BuildOptions
    from runway.offerings.images import chart_images
    from runway.offerings.source import chart_of

    with chart_of(target, BuildOptions(environment=environment)) as chart:
        found = chart_images(chart, mirror=mirror or "")
    if fmt == "json":
        click.echo(json.dumps([dataclasses.asdict(i) for i in found], indent=2))
        return
    for item in found:
        click.echo(f"{item.image} {item.mirrored}".rstrip())


@main.command()
@click.argument("service")
@click.option(
    "--offering",
    required=True,
    type=click.Choice(["self-managed", "managed-self-hosted", "gitlab-managed"]),
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="Default: dist/turnup/SERVICE/OFFERING",
)
@click.option("--env", "environment", help="Environment (gitlab-managed: required)")
@click.option("--registry", "url", help="oci://HOST/PATH the charts are published to")
@click.option("--stage", help="Stage to follow (default: the last stage)")
@click.option(
    "--version", "version_range", help="Chart version range Flux follows (e.g. '>=1.2 <2')"
)
@click.option("--gitlab-version", help="Pin the newest chart compatible with this GitLab release")
@click.option("--gitlab-url", help="The GitLab instance (managed-self-hosted)")
@click.option(
    "--registration-url", help="Default: GITLAB_URL/api/v4/satellite_services/SERVICE/registration"
)
@click.option("--namespace", help="Namespace (default: the service name)")
@click.option("--pull-secret", help="Secret with registry credentials for the OCIRepository")
@click.option("--cosign-secret", help="Secret with the cosign public key to verify the chart")
@click.option("--project", help="gitlab-managed: GCP project (default gitlab-runway-ENV)")
@click.option("--edge", type=click.Choice(["gateway", "ingress"]), help="gitlab-managed edge")
@click.option("--offline", is_flag=True, help="Do not check the version range against the registry")
@PLAIN_HTTP_OPTION
@STAGES_OPTION
@handle_errors
def turnup(
    service: str,
    offering: str,
    output: Path | None,
    environment: str | None,
    url: str | None,
    stage: str | None,
    version_range: str | None,
    gitlab_version: str | None,
    gitlab_url: str | None,
    registration_url: str | None,
    namespace: str | None,
    pull_secret: str | None,
    cosign_secret: str | None,
    project: str | None,
    edge: str | None,
    offline: bool,
    plain_http: bool,
    stages: str | None,
) -> None:
    """Emit what turns SERVICE (a name in manifests/ or a manifest path) up in an offering."""
    import os

    from runway.chart.mapping import resolve
    from runway.chart.spec import BuildOptions
    from runway.errors import UsageError
    from runway.offerings import Offering, gke
    from runway.offerings import turnup as emit
    from runway.offerings.overrides import check_supported
    from runway.offerings.source import find_service
    from runway.publish.registry import stage_chart_url
    from runway.publish.stages import Stages
    from runway.writer import write_tree_atomic

    chosen = Offering(offering)
    if chosen is Offering.GITLAB_MANAGED and not environment:
        raise UsageError("--offering gitlab-managed needs --env ENV (the environment it runs in)")
    spec = resolve(find_service(service), BuildOptions(environment=environment))
    check_supported(spec, chosen)
    order = Stages.parse(stages, os.environ)
    follow = stage or order.names[-1]
    order.index(follow)
    chart_url = stage_chart_url(url or "oci://REGISTRY/charts", follow, spec.name)
    target = output or Path("dist/turnup") / spec.name / chosen.value
    if chosen is Offering.SELF_MANAGED:
        files = emit.self_managed(spec, chart_url)
    elif chosen is Offering.GITLAB_MANAGED:
        assert environment is not None
        description = gke.release_description(
            spec,
            environment=environment,
            project=project,
            chart_url=chart_url if url else None,
            edge=edge,  # type: ignore[arg-type]
        )
        files = emit.gitlab_managed(description)
    else:
        if not url or not url.startswith("oci://"):
            raise UsageError(
                "--offering managed-self-hosted needs --registry oci://HOST/PATH "
                "(Flux pulls the chart from it)"
            )
        if not gitlab_url:
            raise UsageError(
                "--offering managed-self-hosted needs --gitlab-url "
                "(the instance the service registers with)"
            )
        releases = None
        if not offline or gitlab_version:
            with registry_session(url, plain_http) as registry:
                releases = registry.releases(spec.name, follow)
        options, resolved = emit.bundle_options(
            spec,
            emit.ChartRequest(url, follow, version_range, gitlab_version),
            releases,
            gitlab_url=gitlab_url,
            registration_url=registration_url,
            namespace=namespace,
            pull_secret=pull_secret,
            cosign_secret=cosign_secret,
            insecure=plain_http,
        )
        if resolved:
            click.echo(f"{spec.name} in {follow} resolves to {resolved} now", err=True)
        files = emit.managed_self_hosted(spec, options, resolved)
    write_tree_atomic(target, files)
    for name in sorted(files):
        click.echo(str(target / name))
