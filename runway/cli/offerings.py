"""Offerings: the images a chart runs, and what turns a service up each way."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runway.cli import main
from runway.cli._common import (
    FORMAT_OPTION,
    PLAIN_HTTP_OPTION,
    STAGES_OPTION,
    handle_errors,
    registry_session,
)

if TYPE_CHECKING:
    from runway.publish.registry import Release


@main.command()
@click.argument("target")
@click.option("--mirror", help="Also print each image's name in this mirror registry")
@click.option("--env", "environment", help="Environment of the manifest (for a SERVICE)")
@FORMAT_OPTION
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
@click.option("--registry", help="oci://HOST/PATH the charts are published to")
@click.option("--stage", help="Stage to follow (default: the last stage)")
@click.option(
    "--version", "version_range", help="Chart version range Flux follows (e.g. '>=1.2 <2')"
)
@click.option("--gitlab-version", help="Pin the newest chart compatible with this GitLab release")
@click.option("--gitlab-url", help="The GitLab instance (managed-self-hosted)")
@click.option(
    "--registration-url", help="Default: GITLAB_URL/api/v4/satellite_services/SERVICE/registration"
)
@click.option(
    "--host",
    "hosts",
    multiple=True,
    metavar="LISTENER=HOST",
    help="Route a listener at this installation's host (repeatable; not gitlab-managed)",
)
@click.option("--namespace", help="Namespace (default: the service name)")
@click.option("--pull-secret", help="Secret with registry credentials for the OCIRepository")
@click.option("--cosign-secret", help="Secret with the cosign public key to verify the chart")
@click.option("--project", help="gitlab-managed: GCP project (default gitlab-runway-ENV)")
@click.option("--edge", type=click.Choice(["gateway", "ingress"]), help="gitlab-managed edge")
@click.option("--offline", is_flag=True, help="Do not check the version range against the registry")
@FORMAT_OPTION
@PLAIN_HTTP_OPTION
@STAGES_OPTION
@handle_errors
def turnup(offering: str, fmt: str, **fields: Any) -> None:
    """Emit what turns SERVICE (a name in manifests/ or a manifest path) up in an offering."""
    from runway.offerings import Offering
    from runway.offerings.request import TurnupRequest, turn_up
    from runway.writer import write_tree_atomic

    request = TurnupRequest(offering=Offering(offering), **fields)

    def releases(url: str, name: str, stage: str) -> list[Release]:
        with registry_session(url, request.plain_http) as registry:
            return registry.releases(name, stage)

    result = turn_up(request, releases)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if result.resolved:
        click.echo(
            f"{result.service} in {result.stage} resolves to {result.resolved} now", err=True
        )
    write_tree_atomic(result.target, result.files)
    written = [str(result.target / name) for name in sorted(result.files)]
    if fmt == "json":
        payload = {
            "service": result.service,
            "offering": result.offering.value,
            "stage": result.stage,
            "resolved": result.resolved,
            "files": written,
        }
        click.echo(json.dumps(payload, indent=2))
        return
    for path in written:
        click.echo(path)
