"""GKE environments: the offline plan of the Pulumi stacks."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from runway.cli import main
from runway.cli._common import (
    handle_errors,
)


@main.group()
def stack() -> None:
    """GKE environments: what the Pulumi stacks in stacks/ will create."""


@stack.command(name="plan")
@click.argument("env_manifest", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--preview", is_flag=True, help="Plan as `pulumi preview` would (outputs unknown)")
@click.option(
    "--stacks",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("stacks"),
    show_default=True,
    help="The Pulumi projects (infra/, workloads/) whose stack files configure the programs",
)
@handle_errors
def stack_plan(env_manifest: Path, fmt: str, preview: bool, stacks: Path) -> None:
    """Plan an environment offline (Pulumi mock mode): every resource both stacks would create,
    then the policies every environment must pass (exit 1 on a violation)."""
    from runway.platform.plan import plan
    from runway.platform.policies import check

    planned = plan(env_manifest, stacks=stacks, preview=preview)
    violations = check(planned.resources, production=planned.environment.spec.production)
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in planned.resources], indent=2))
    else:
        rows = [(r.stack, r.type, r.name, _key_inputs(r.inputs)) for r in planned.resources]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            click.echo(
                "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
            )
        click.echo(f"{len(rows)} resources in 2 stacks (infra, workloads)", err=True)
    for violation in violations:
        click.echo(f"policy violation: {violation.render()}", err=True)
    if violations:
        sys.exit(1)


def _key_inputs(inputs: dict[str, Any], limit: int = 4) -> str:
    """A few scalar inputs, for a one-line summary."""
    shown = [
        f"{key}={value}"
        for key, value in inputs.items()
        if isinstance(value, str | int | float | bool) and len(str(value)) <= 60
    ]
    return " ".join(shown[:limit])
