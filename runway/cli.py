"""The `runway` command line: it adapts arguments, calls one core function, prints the result.

Heavy modules (pydantic models, the Helm engine, Pulumi) are imported inside the commands that
need them, so `runway --help` and `runway --version` start in tens of milliseconds.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from runway import __version__
from runway.errors import RunwayError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_MANIFESTS = "manifests"


def _handle_errors(func: F) -> F:
    """Map every RunwayError to one message on stderr and its exit code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RunwayError as err:
            click.echo(f"runway: {err}", err=True)
            sys.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("runway: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runway")
def main() -> None:
    """Validate Runway manifests and compile them into hardened Helm charts."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_handle_errors
def validate(paths: tuple[Path, ...], fmt: str) -> None:
    """Validate manifests (files, service directories or trees; default: manifests/)."""
    from runway.manifest import loader

    result = loader.load_paths(paths or (Path(DEFAULT_MANIFESTS),))
    if fmt == "json":
        payload = {
            "valid": result.ok,
            "files": result.files,
            "services": [s.summary() for s in result.services],
            "diagnostics": [d.as_dict() for d in result.diagnostics],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        for diagnostic in result.diagnostics:
            click.echo(diagnostic.render(), err=True)
        if result.ok:
            names = ", ".join(s.name for s in result.services)
            click.echo(
                f"{len(result.services)} service(s) valid in {len(result.files)} file(s): {names}"
            )
        else:
            errors = sum(1 for d in result.diagnostics if d.severity == "error")
            click.echo(f"{errors} error(s) in {len(result.files)} file(s)", err=True)
    sys.exit(0 if result.ok else 1)


@main.command()
@click.option(
    "--kind",
    type=click.Choice(["RunwayService", "RunwayKubernetesService", "RunwayKubernetesDeployment"]),
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to FILE"
)
@_handle_errors
def schema(kind: str | None, output: Path | None) -> None:
    """Print the JSON Schema of a manifest kind (all kinds by default)."""
    from runway.manifest.schema import kind_schema
    from runway.writer import write_text_atomic

    text = json.dumps(kind_schema(kind), indent=2, sort_keys=True) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        write_text_atomic(output, text)
        click.echo(f"wrote {output}", err=True)
