"""GKE environments: the offline plan of the Pulumi stacks."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click

from runway.cli import main
from runway.cli._common import (
    handle_errors,
)

STACKS_EXTRA = ("pulumi", "pulumi_gcp", "pulumi_kubernetes", "pulumi_gitlab", "pulumi_random")


def require_stacks_extra(command: str) -> None:
    """A clear message instead of an ImportError deep in the platform code."""
    import importlib.util

    from runway.errors import MissingExtraError

    for module in STACKS_EXTRA:
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            found = None
        if found is None:
            raise MissingExtraError(command, "stacks", module)


@main.group()
def stack() -> None:
    """GKE environments: what the Pulumi stacks in stacks/ will create."""


@stack.command(name="plan")
@click.argument("env_manifest", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["tree", "table", "json"]),
    default="tree",
    show_default=True,
)
@click.option("--preview", is_flag=True, help="Plan as `pulumi preview` would (outputs unknown)")
@click.option(
    "--stacks",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("stacks"),
    show_default=True,
    help="The Pulumi projects (infra/, workloads/) whose stack files configure the programs",
)
@click.option(
    "--diff",
    "previous",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="An earlier `--format json` plan: show what this one adds, changes and removes",
)
@handle_errors
def stack_plan(
    env_manifest: Path, fmt: str, preview: bool, stacks: Path, previous: Path | None
) -> None:
    """Plan an environment offline (Pulumi mock mode): every resource both stacks would create,
    grouped by stack and component, then the policies every environment must pass (exit 6 on a
    violation)."""
    require_stacks_extra("runway stack plan")
    from runway.platform import review
    from runway.platform.plan import plan
    from runway.platform.policies import POLICIES, check

    planned = plan(env_manifest, stacks=stacks, preview=preview)
    violations = check(planned.resources, production=planned.environment.spec.production)
    document = review.report(
        planned.environment.metadata.name,
        list(planned.resources),
        [p.name for p in POLICIES] + ["hosts-agree"],
        [dataclasses.asdict(v) for v in violations],
        list(planned.secrets_to_set),
    )
    changes = review.diff(_earlier_plan(previous), document) if previous is not None else None
    if fmt == "json":
        click.echo(json.dumps({**document, "diff": changes} if changes else document, indent=2))
    elif fmt == "table":
        rows = [(r.stack, r.type, r.name, _key_inputs(r.inputs)) for r in planned.resources]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            click.echo(
                "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
            )
    else:
        for line in review.tree(document):
            click.echo(line)
    if changes is not None and fmt != "json":
        _echo_changes(changes)
    click.echo(f"{len(planned.resources)} resources in 2 stacks (infra, workloads)", err=True)
    for violation in violations:
        click.echo(f"policy violation: {violation.render()}", err=True)
    if violations:
        from runway.errors import PolicyError

        raise PolicyError(f"{len(violations)} policy violation(s); the plan is not safe to apply")


def _earlier_plan(previous: Path) -> dict[str, Any]:
    from runway.errors import UsageError
    from runway.platform import review

    try:
        old = json.loads(previous.read_text())
    except (OSError, ValueError, RecursionError) as err:
        raise UsageError(f"{previous}: not a plan written by --format json ({err})") from None
    if not isinstance(old, dict) or old.get("format") != review.FORMAT:
        raise UsageError(f"{previous}: not a plan written by runway stack plan --format json")
    return old


def _echo_changes(changes: dict[str, Any]) -> None:
    for verb in ("added", "changed", "removed"):
        for item in changes[verb]:
            fields = f" ({', '.join(item['fields'])})" if item.get("fields") else ""
            click.echo(f"{verb}: {item['stack']} {item['type']} {item['name']}{fields}")


def _key_inputs(inputs: dict[str, Any], limit: int = 4) -> str:
    """A few scalar inputs, for a one-line summary."""
    shown = [
        f"{key}={value}"
        for key, value in inputs.items()
        if isinstance(value, str | int | float | bool) and len(str(value)) <= 60
    ]
    return " ".join(shown[:limit])
