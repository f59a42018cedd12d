"""Manifests and charts: validate, schema, build, verify."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runway.cli import main
from runway.cli._common import (
    FORMAT_OPTION,
    SHARD_OPTION,
    default_manifests,
    handle_errors,
)
from runway.cli._progress import QUIET_OPTION, Progress
from runway.writer import complete_directories

if TYPE_CHECKING:
    from runway.common.shards import Shard


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@FORMAT_OPTION
@handle_errors
def validate(paths: tuple[Path, ...], fmt: str) -> None:
    """Validate manifests (files, service directories or trees; default: manifests/, else .runway/)."""
    from runway.manifest import loader

    result = loader.load_paths(paths or (default_manifests(),))
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
    if not result.ok:
        from runway.errors import InvalidInputError

        errors = sum(1 for d in result.diagnostics if d.severity == "error")
        raise InvalidInputError(f"{errors} error(s) in {len(result.files)} file(s)")


@main.command()
@click.option(
    "--kind",
    type=click.Choice(
        [
            "RunwayService",
            "RunwayKubernetesService",
            "RunwayKubernetesDeployment",
            "RunwayEnvironment",
        ]
    ),
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to FILE"
)
@handle_errors
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


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist/charts"),
    show_default=True,
)
@click.option("--env", "environment", help="Environment: uses runway-ENV.yml and env-ENV.yml")
@click.option("--image", help="Image reference the chart runs (as Runway's CI passes it)")
@click.option(
    "--version", "version", default="0.1.0", show_default=True, help="Chart version (semver)"
)
@click.option("--app-version", help="appVersion (default: the image tag, else the chart version)")
@click.option(
    "--gitlab-versions",
    help="GitLab releases the chart is compatible with (overrides the manifest)",
)
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Lint, render and check every chart",
)
@SHARD_OPTION
@QUIET_OPTION
@FORMAT_OPTION
@handle_errors
def build(
    paths: tuple[Path, ...],
    output: Path,
    environment: str | None,
    image: str | None,
    version: str,
    app_version: str | None,
    gitlab_versions: str | None,
    verify: bool,
    shard: Shard | None,
    quiet: bool,
    fmt: str,
) -> None:
    """Compile manifests into Helm charts under OUTPUT/<name>/ (default: every service in manifests/, else .runway/)."""
    from runway.chart.build import BuildRequest
    from runway.chart.build import build as build_charts
    from runway.chart.spec import BuildOptions
    from runway.errors import InvalidInputError

    progress = Progress("build", quiet=quiet or fmt == "json")
    result = build_charts(
        BuildRequest(
            paths or (default_manifests(),),
            output,
            BuildOptions(environment, image, version, app_version, gitlab_versions),
            shard,
            progress.step,
        )
    )
    progress.close()
    if fmt == "json":
        _build_json(result, verify, output)
        return
    for diagnostic in result.loaded.diagnostics:
        click.echo(diagnostic.render(), err=True)
    if not result.loaded.ok:
        raise InvalidInputError("manifests are invalid; nothing was built")
    for chart in result.charts:
        for warning in chart.warnings:
            progress.problem(warning.render())
        progress.result(f"{'built' if chart.changed else 'unchanged'} {chart.path}")
    changed = sum(chart.changed for chart in result.charts)
    progress.summary(f"built {changed}, {len(result.charts) - changed} unchanged")
    if verify:
        _verify_and_report([chart.path for chart in result.charts], quiet, cached_in=output)


@main.command(name="verify")
@click.argument("charts", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option(
    "--together",
    is_flag=True,
    help="Also check the charts as one installed system (agentk reaches KAS, hosts, workspace "
    "Services); a YAML file among them adds objects made elsewhere (runway workspace manifests)",
)
@SHARD_OPTION
@QUIET_OPTION
@FORMAT_OPTION
@handle_errors
def verify_command(
    charts: tuple[Path, ...], together: bool, shard: Shard | None, quiet: bool, fmt: str
) -> None:
    """Lint, render and check charts (default: every chart under dist/charts/)."""
    from runway.errors import UsageError

    targets = list(charts) or complete_directories(Path("dist/charts"), "Chart.yaml")
    if not targets:
        raise UsageError("no charts to verify: pass CHART_DIR… or run runway build first")
    if shard is not None:
        targets = [t for t in targets if t.is_file() or shard.owns(t.resolve().name)]
    files = [t for t in targets if t.is_file()]
    if files and not together:
        raise UsageError(f"{files[0]} is a file: only --together takes files of objects")
    directories = [t for t in targets if t.is_dir()]
    for directory in directories:
        if not (directory / "Chart.yaml").is_file():
            raise UsageError(f"{directory} is not a chart (no Chart.yaml)")
    if fmt == "json":
        _verify_json(directories, files if together else None)
        return
    progress = Progress("verify", quiet=quiet)
    from runway.verify import verify_charts

    with progress.running(len(directories)):
        verdicts = ((report, False) for report in verify_charts(directories))
        failed, _ = _verify_each(directories, progress, verdicts)
    if together:
        from runway.verify.together import check_paths

        report = check_paths(directories, files)
        failed += _print_report(
            f"verify together {', '.join(report.parts)}",
            report.problems,
            f"{report.objects} objects checked",
            progress,
        )
    progress.summary(f"verified {len(directories)}, {failed} failed")
    if failed:
        from runway.errors import VerifyError

        raise VerifyError(f"{failed} check(s) failed verification")


def _build_json(result: Any, verify: bool, output: Path) -> None:
    """The build as one JSON document; the exit code is the same as in text."""
    from runway.errors import InvalidInputError, VerifyError
    from runway.verify.cache import verify_charts_cached

    paths = [chart.path for chart in result.charts]
    verified = list(verify_charts_cached(paths, output)) if verify and paths else []
    reports = [report for report, _ in verified]
    payload = {
        "valid": result.loaded.ok,
        "diagnostics": [d.as_dict() for d in result.loaded.diagnostics],
        "charts": [
            {
                "name": chart.name,
                "path": str(chart.path),
                "changed": chart.changed,
                "warnings": [w.as_dict() for w in chart.warnings],
            }
            for chart in result.charts
        ],
        "verified": [report.as_dict() | {"cached": cached} for report, cached in verified],
    }
    click.echo(json.dumps(payload, indent=2))
    if not result.loaded.ok:
        raise InvalidInputError("manifests are invalid; nothing was built")
    failed = sum(not report.ok for report in reports)
    if failed:
        raise VerifyError(f"{failed} chart(s) failed verification")


def _verify_json(directories: list[Path], together_files: list[Path] | None) -> None:
    """Every report as one JSON document; the exit code is the same as in text."""
    from runway.errors import VerifyError
    from runway.verify import verify_charts

    reports = list(verify_charts(directories))
    system = None
    if together_files is not None:
        from runway.verify.together import check_paths

        system = check_paths(directories, together_files)
    payload = {
        "charts": [r.as_dict() for r in reports],
        "together": system.as_dict() if system else None,
    }
    click.echo(json.dumps(payload, indent=2))
    failed = sum(not r.ok for r in reports) + (0 if system is None or system.ok else 1)
    if failed:
        raise VerifyError(f"{failed} check(s) failed verification")


def _verify_and_report(charts: list[Path], quiet: bool, *, cached_in: Path) -> None:
    """Verify what `build` wrote, except charts that passed before and have not changed since."""
    from runway.verify.cache import verify_charts_cached

    progress = Progress("verify", quiet=quiet)
    with progress.running(len(charts)):
        failed, cached = _verify_each(charts, progress, verify_charts_cached(charts, cached_in))
    progress.summary(f"verified {len(charts) - failed}, {cached} cached, {failed} failed")
    if failed:
        from runway.errors import VerifyError

        raise VerifyError(f"{failed} chart(s) failed verification")


def _verify_each(
    charts: list[Path], progress: Progress, verdicts: Iterable[tuple[Any, bool]]
) -> tuple[int, int]:
    """Each chart's (report, whether it was cached) shown as it comes: (failed, cached)."""
    failed = cached = 0
    for chart, (report, hit) in zip(charts, verdicts, strict=True):
        failed += _chart_report(chart, report, progress, cached=hit)
        cached += hit
        progress.advance()
    return failed, cached


def _chart_report(chart: Path, report: Any, progress: Progress, *, cached: bool = False) -> int:
    counts = f"{report.renders} renders, {report.objects} objects checked"
    failed = _print_report(
        f"verify {chart}",
        report.problems,
        f"{counts}; unchanged since it passed" if cached else counts,
        progress,
    )
    for warning in report.warnings:
        progress.problem(f"  warning: {warning}")
    return failed


def _print_report(title: str, problems: list[str], counts: str, progress: Progress) -> int:
    """One status line on stdout (for a success, unless the bar or --quiet stands for it), the
    problems on stderr; 1 when there are problems."""
    if not problems:
        progress.result(f"{title}: ok ({counts})")
        return 0
    progress.outcome(f"{title}: FAILED ({counts})")
    for problem in problems:
        progress.problem(f"  {problem}")
    return 1
