"""Workspaces from devfiles: check, CI job, Kubernetes objects, runner fleet."""

from __future__ import annotations

from pathlib import Path

import click

from runway.cli import main
from runway.cli._common import (
    handle_errors,
)


@main.group()
def workspace() -> None:
    """Workspaces from devfiles: check them, run them as a CI job or as Kubernetes objects."""


_WORKSPACE_NAME = click.option(
    "--workspace", "name", required=True, help="Workspace name (a DNS label)"
)
_KAS_ADDRESS = click.option(
    "--kas-address", required=True, help="KAS address the tunnel agent connects to (wss://…)"
)


def _workspace_name(name: str) -> str:
    import re

    from runway.errors import UsageError

    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?", name):
        raise UsageError(f"--workspace {name!r}: use lowercase letters, digits and '-' (≤ 42)")
    return name


@workspace.command(name="check")
@click.argument("devfile", type=click.Path(path_type=Path, dir_okay=False))
@handle_errors
def workspace_check(devfile: Path) -> None:
    """Validate a devfile against the devfile schema and GitLab's workspace rules."""
    from runway.workspace.devfile import load_devfile

    found = load_devfile(devfile)
    others = ", ".join(c.name for c in found.others) or "none"
    click.echo(f"{devfile}: valid; main container {found.main.name}, others: {others}")


@workspace.command(name="job")
@click.argument("devfile", type=click.Path(path_type=Path, dir_okay=False))
@_WORKSPACE_NAME
@_KAS_ADDRESS
@click.option(
    "--tags", default="workspaces", show_default=True, help="Runner tags, comma-separated"
)
@click.option("--timeout", default="8h", show_default=True, help="Job timeout (GitLab duration)")
@click.option("--domain", default="", help="Workspaces domain: the job's environment URL")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to FILE"
)
@handle_errors
def workspace_job(
    devfile: Path,
    name: str,
    kas_address: str,
    tags: str,
    timeout: str,
    domain: str,
    output: Path | None,
) -> None:
    """The workspace as one CI job (`workload`) for runners reached through the KAS tunnel."""
    from runway.chart.compile import yaml_text
    from runway.workspace.ci_job import JobOptions, job
    from runway.workspace.devfile import load_devfile
    from runway.writer import write_text_atomic

    options = JobOptions(
        workspace=_workspace_name(name),
        kas_address=kas_address,
        tags=tuple(t.strip() for t in tags.split(",") if t.strip()),
        timeout=timeout,
        domain=domain,
    )
    text = yaml_text(job(load_devfile(devfile), options))
    if output is None:
        click.echo(text, nl=False)
    else:
        write_text_atomic(output, text)
        click.echo(f"wrote {output}", err=True)


@workspace.command(name="manifests")
@click.argument("devfile", type=click.Path(path_type=Path, dir_okay=False))
@_WORKSPACE_NAME
@click.option("--namespace", required=True, help="Namespace of the workspace")
@_KAS_ADDRESS
@click.option("--projects-size", default="10Gi", show_default=True, help="Size of /projects")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, file_okay=False), help="Write files to DIR"
)
@handle_errors
def workspace_manifests(
    devfile: Path,
    name: str,
    namespace: str,
    kas_address: str,
    projects_size: str,
    output: Path | None,
) -> None:
    """The workspace as Kubernetes objects for the agent to apply."""
    from runway.chart.compile import yaml_text
    from runway.workspace.devfile import load_devfile
    from runway.workspace.kubernetes import ManifestOptions, manifests, token_secret
    from runway.writer import write_tree_atomic

    options = ManifestOptions(
        workspace=_workspace_name(name),
        namespace=namespace,
        kas_address=kas_address,
        projects_size=projects_size,
    )
    objects = manifests(load_devfile(devfile), options)
    if output is None:
        click.echo("---\n".join(yaml_text(o) for o in objects), nl=False)
    else:
        files = {
            f"{i:02d}-{o['kind'].lower()}-{o['metadata']['name']}.yaml": yaml_text(o).encode()
            for i, o in enumerate(objects)
        }
        write_tree_atomic(output, files)
        click.echo(f"wrote {len(files)} files to {output}", err=True)
    click.echo(
        f"the agent must create Secret {namespace}/{token_secret(options)} (key: token)", err=True
    )


@workspace.command(name="fleet")
@click.option("--gitlab-url", required=True, help="The GitLab instance the runners register with")
@click.option("--tags", default="workspaces", show_default=True)
@click.option("--concurrency", default=20, show_default=True, type=int)
@click.option("--max-cpu", default="4", show_default=True, help="Cap of a job's CPU")
@click.option("--max-memory", default="8Gi", show_default=True, help="Cap of a job's memory")
@click.option(
    "--token-secret",
    default="workspaces-runner-token",
    show_default=True,
    help="Existing Secret with runner-token (and runner-registration-token)",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist/turnup/workspaces-runner/managed-self-hosted"),
    show_default=True,
)
@handle_errors
def workspace_fleet(
    gitlab_url: str,
    tags: str,
    concurrency: int,
    max_cpu: str,
    max_memory: str,
    token_secret: str,
    output: Path,
) -> None:
    """The workspace runner fleet (upstream GitLab Runner chart) as a Flux turn-up bundle."""
    from runway.chart.compile import yaml_text
    from runway.errors import UsageError
    from runway.workspace import runner
    from runway.writer import write_tree_atomic

    try:
        runner.parse_quantity(max_cpu)
        runner.parse_quantity(max_memory)
    except ValueError as err:
        raise UsageError(str(err)) from None
    fleet = runner.Fleet(
        gitlab_url=gitlab_url,
        token_secret=token_secret,
        tags=tuple(t.strip() for t in tags.split(",") if t.strip()),
        concurrency=concurrency,
        max_cpu=max_cpu,
        max_memory=max_memory,
    )
    objects = runner.flux_bundle(fleet)
    files = {"fleet.yaml": "---\n".join(yaml_text(o) for o in objects).encode()}
    files["kustomization.yaml"] = yaml_text(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["fleet.yaml"],
        }
    ).encode()
    write_tree_atomic(output, files)
    for name in sorted(files):
        click.echo(str(output / name))
