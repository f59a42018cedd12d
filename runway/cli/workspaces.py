"""Workspaces from devfiles: check, CI job, Kubernetes objects, runner fleet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from runway.cli import main
from runway.cli._common import (
    FORMAT_OPTION,
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
@FORMAT_OPTION
@handle_errors
def workspace_check(devfile: Path, fmt: str) -> None:
    """Validate a devfile against the devfile schema and GitLab's workspace rules."""
    from runway.errors import ManifestError
    from runway.workspace.devfile import load_devfile

    try:
        found = load_devfile(devfile)
    except ManifestError as err:
        if fmt == "json":
            diagnostics = [d.as_dict() for d in err.diagnostics]
            click.echo(json.dumps({"valid": False, "diagnostics": diagnostics}, indent=2))
        raise
    if fmt == "json":
        payload = {
            "valid": True,
            "devfile": str(devfile),
            "main": found.main.name,
            "others": [c.name for c in found.others],
        }
        click.echo(json.dumps(payload, indent=2))
        return
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
@FORMAT_OPTION
@handle_errors
def workspace_job(
    devfile: Path,
    name: str,
    kas_address: str,
    tags: str,
    timeout: str,
    domain: str,
    output: Path | None,
    fmt: str,
) -> None:
    """The workspace as one CI job (`workload`) for runners reached through the KAS tunnel.

    json: {workspace, job, files}; the job keeps GitLab CI's own keys."""
    from runway.common.yamlio import yaml_text
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
    pipeline = job(load_devfile(devfile), options)
    if output is not None:
        write_text_atomic(output, yaml_text(pipeline))
        click.echo(f"wrote {output}", err=True)
    if fmt == "json":
        files = [str(output)] if output else []
        _echo_json({"workspace": options.workspace, "job": pipeline, "files": files})
    elif output is None:
        click.echo(yaml_text(pipeline), nl=False)


@workspace.command(name="manifests")
@click.argument("devfile", type=click.Path(path_type=Path, dir_okay=False))
@_WORKSPACE_NAME
@click.option("--namespace", required=True, help="Namespace of the workspace")
@click.option(
    "--agent-id", required=True, help="ID of the GitLab agent (label agent.gitlab.com/id)"
)
@click.option("--workspace-id", required=True, help="ID of the workspace in GitLab")
@click.option(
    "--dns-zone",
    required=True,
    help="Workspaces DNS zone (the agent's dns_zone, or GitLab's workspaces host with KAS)",
)
@click.option("--project-url", required=True, help="HTTPS clone URL of the project")
@click.option("--project-path", required=True, help="The project's path (its folder in /projects)")
@click.option("--project-ref", default="main", show_default=True, help="Branch to check out")
@click.option(
    "--kas-address",
    default="",
    help="KAS address for agentw (KAS-served workspaces); empty: the workspaces proxy serves it",
)
@click.option(
    "--proxy-namespace",
    default="gitlab-workspaces",
    show_default=True,
    help="Namespace of the workspaces proxy (the agent's gitlab_workspaces_proxy.namespace)",
)
@click.option("--data-size", default="50Gi", show_default=True, help="Size of /projects")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, file_okay=False), help="Write files to DIR"
)
@FORMAT_OPTION
@handle_errors
def workspace_manifests(
    devfile: Path,
    name: str,
    namespace: str,
    agent_id: str,
    workspace_id: str,
    dns_zone: str,
    project_url: str,
    project_path: str,
    project_ref: str,
    kas_address: str,
    proxy_namespace: str,
    data_size: str,
    output: Path | None,
    fmt: str,
) -> None:
    """The workspace as the Kubernetes objects GitLab makes, for the agent to apply.

    json: {workspace, namespace, objects, files, secrets_to_create}."""
    from runway.common.yamlio import yaml_text
    from runway.workspace.devfile import load_devfile
    from runway.workspace.kubernetes import (
        AGENTW_TOKEN_KEY,
        ManifestOptions,
        file_secret,
        manifests,
    )
    from runway.writer import write_tree_atomic

    options = ManifestOptions(
        workspace=_workspace_name(name),
        namespace=namespace,
        agent_id=agent_id,
        workspace_id=workspace_id,
        dns_zone=dns_zone,
        project_url=project_url,
        project_path=project_path,
        project_ref=project_ref,
        kas_address=kas_address,
        proxy_namespace=proxy_namespace,
        data_size=data_size,
    )
    objects = manifests(load_devfile(devfile), options)
    written: list[str] = []
    if output is not None:
        files = {
            f"{i:02d}-{o['kind'].lower()}-{o['metadata']['name']}.yaml": yaml_text(o).encode()
            for i, o in enumerate(objects)
        }
        write_tree_atomic(output, files)
        written = [str(output / f) for f in files]
        click.echo(f"wrote {len(files)} files to {output}", err=True)
    elif fmt != "json":
        click.echo("---\n".join(yaml_text(o) for o in objects), nl=False)
    secrets = (
        [{"namespace": namespace, "name": file_secret(options), "key": AGENTW_TOKEN_KEY}]
        if kas_address
        else []
    )
    for secret in secrets:
        click.echo(
            f"the agent must create Secret {secret['namespace']}/{secret['name']} "
            f"(key: {secret['key']}, agentw's token)",
            err=True,
        )
    if fmt == "json":
        payload = {
            "workspace": options.workspace,
            "namespace": namespace,
            "objects": objects,
            "files": written,
            "secrets_to_create": secrets,
        }
        _echo_json(payload)


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
@FORMAT_OPTION
@handle_errors
def workspace_fleet(
    gitlab_url: str,
    tags: str,
    concurrency: int,
    max_cpu: str,
    max_memory: str,
    token_secret: str,
    output: Path,
    fmt: str,
) -> None:
    """The workspace runner fleet (upstream GitLab Runner chart) as a Flux turn-up bundle.

    json: {files, objects}."""
    from runway.common.kube import parse_quantity
    from runway.common.yamlio import yaml_text
    from runway.errors import UsageError
    from runway.workspace import runner
    from runway.writer import write_tree_atomic

    try:
        parse_quantity(max_cpu)
        parse_quantity(max_memory)
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
    from runway.errors import VerifyError
    from runway.verify.wiring import runner_fleet

    problems = runner_fleet(objects)
    if problems:
        raise VerifyError("the runner fleet bundle is not wired: " + "; ".join(problems))
    files = {"fleet.yaml": "---\n".join(yaml_text(o) for o in objects).encode()}
    files["kustomization.yaml"] = yaml_text(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["fleet.yaml"],
        }
    ).encode()
    write_tree_atomic(output, files)
    written = [str(output / name) for name in sorted(files)]
    if fmt == "json":
        _echo_json({"files": written, "objects": objects})
        return
    for path in written:
        click.echo(path)


def _echo_json(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, indent=2))
