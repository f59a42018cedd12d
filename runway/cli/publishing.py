"""Archives and registries: package, publish, promote, resolve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runway.cli import main
from runway.cli._common import (
    FORMAT_OPTION,
    PLAIN_HTTP_OPTION,
    SHARD_OPTION,
    STAGES_OPTION,
    handle_errors,
    registry_session,
)
from runway.cli._progress import QUIET_OPTION, Progress
from runway.writer import complete_directories

if TYPE_CHECKING:
    from runway.common.shards import Shard


@main.command()
@click.argument("charts", nargs=-1, type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist/packages"),
    show_default=True,
)
@click.option(
    "--sign", is_flag=True, help="Write a PGP provenance file (.prov) beside each archive"
)
@click.option("--key", help="Name or email of the signing key (with --sign)")
@click.option(
    "--keyring",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("~/.gnupg/secring.gpg").expanduser(),
    show_default=True,
    help="Secret keyring holding KEY (gpg --export-secret-keys > FILE)",
)
@click.option(
    "--passphrase-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="File holding the key's passphrase",
)
@SHARD_OPTION
@QUIET_OPTION
@FORMAT_OPTION
@handle_errors
def package(
    charts: tuple[Path, ...],
    output: Path,
    sign: bool,
    key: str | None,
    keyring: Path,
    passphrase_file: Path | None,
    shard: Shard | None,
    quiet: bool,
    fmt: str,
) -> None:
    """Package charts into reproducible .tgz archives (default: every chart under dist/charts/).

    Archives are byte-identical for the same chart on any machine whose Python has zlib (a
    warning says when it has another deflate); their mtime is SOURCE_DATE_EPOCH, or 1980-01-01
    when it is not set.
    """
    import os

    from runway.errors import UsageError
    from runway.publish.archive import (
        SigningKey,
        compressor_warning,
        package_charts,
        source_date_epoch,
    )

    targets = list(charts) or complete_directories(Path("dist/charts"), "Chart.yaml")
    if not targets:
        raise UsageError("no charts to package: pass CHART_DIR… or run runway build first")
    if shard is not None:
        targets = [t for t in targets if shard.owns(t.resolve().name)]
    signing = None
    if sign:
        if not key:
            raise UsageError("--sign needs --key NAME (the signing key's name or email)")
        if not keyring.is_file():
            raise UsageError(
                f"--keyring {keyring}: no such file; export one with "
                "`gpg --export-secret-keys > secring.gpg`"
            )
        signing = SigningKey(key, keyring, passphrase_file)
    elif key:
        raise UsageError("--key only makes sense with --sign")
    mtime = source_date_epoch(os.environ)
    progress = Progress("package", quiet=quiet or fmt == "json")
    warning = compressor_warning()
    if warning:
        progress.problem(warning)
    packaged = []
    with progress.running(len(targets)):
        for archive in package_charts(targets, output, mtime=mtime, signing=signing):
            packaged.append(archive)
            signed = " (signed)" if archive.provenance else ""
            progress.result(f"{archive.path} {archive.digest}{signed}")
            progress.advance()
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "name": a.name,
                        "version": a.version,
                        "path": str(a.path),
                        "digest": a.digest,
                        "signed": a.provenance is not None,
                    }
                    for a in packaged
                ],
                indent=2,
            )
        )
        return
    progress.summary(f"packaged {len(packaged)}")


@main.command()
@click.argument("archives", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--to", "url", required=True, help="oci://HOST/PATH, a GitLab Helm API URL or a DIR")
@PLAIN_HTTP_OPTION
@click.option("--force", is_flag=True, help="Replace a version already published (not advised)")
@STAGES_OPTION
@QUIET_OPTION
@FORMAT_OPTION
@handle_errors
def publish(
    archives: tuple[Path, ...],
    url: str,
    plain_http: bool,
    force: bool,
    stages: str | None,
    quiet: bool,
    fmt: str,
) -> None:
    """Publish chart archives into the first stage of a registry (default: dist/packages/*.tgz).

    Credentials come from the environment: RUNWAY_REGISTRY_USER and RUNWAY_REGISTRY_PASSWORD, or
    CI_REGISTRY_USER and CI_REGISTRY_PASSWORD for CI_REGISTRY; for GitLab channels also
    RUNWAY_GITLAB_TOKEN or CI_JOB_TOKEN.
    """
    import os

    from runway.errors import UsageError
    from runway.publish import upload as publishing
    from runway.publish.archive import read_archive
    from runway.publish.http import RetryPolicy
    from runway.publish.stages import Stages

    order = Stages.parse(stages, os.environ)
    paths = list(archives) or sorted(Path("dist/packages").glob("*.tgz"))
    if not paths:
        raise UsageError("no archives to publish: pass TGZ… or run runway package first")
    loaded = [read_archive(path) for path in paths]
    progress = Progress("publish", quiet=quiet or fmt == "json")
    with registry_session(url, plain_http) as registry, progress.running(len(loaded)):
        outcomes = publishing.publish(
            loaded,
            registry,
            order,
            force=force,
            retry=RetryPolicy.from_env(os.environ),
            on_outcome=lambda _: progress.advance(),
        )
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "name": o.archive.name,
                        "version": o.archive.version,
                        "action": o.action,
                        "digest": o.archive.digest,
                        "reference": o.release.reference if o.release else registry.location,
                    }
                    for o in outcomes
                ],
                indent=2,
            )
        )
        return
    for outcome in outcomes:
        archive = outcome.archive
        where = outcome.release.reference if outcome.release else registry.location
        progress.result(
            f"{outcome.verb} {archive.name} {archive.version} → {where} {archive.digest}"
        )
    skipped = sum(o.action == "skip" for o in outcomes)
    progress.summary(f"published {len(outcomes) - skipped}, {skipped} already there")


@main.command()
@click.argument("name")
@click.argument("version")
@click.option("--to", "stage", required=True, help="The stage to promote to")
@click.option("--registry", "url", required=True, help="Registry URL, as given to publish --to")
@PLAIN_HTTP_OPTION
@click.option("--force", is_flag=True, help="Allow skipping a stage")
@STAGES_OPTION
@FORMAT_OPTION
@handle_errors
def promote(
    name: str,
    version: str,
    stage: str,
    url: str,
    plain_http: bool,
    force: bool,
    stages: str | None,
    fmt: str,
) -> None:
    """Promote NAME VERSION to the next stage without rebuilding (the digest stays the same)."""
    import os

    from runway.publish import promote as promoting
    from runway.publish.http import RetryPolicy
    from runway.publish.stages import Stages

    order = Stages.parse(stages, os.environ)
    with registry_session(url, plain_http) as registry:
        result = promoting.promote(
            registry,
            order,
            name,
            version,
            stage,
            force=force,
            retry=RetryPolicy.from_env(os.environ),
        )
    release = result.release
    if fmt == "json":
        payload = {"promoted": result.source is not None, "from": result.source, "stage": stage}
        click.echo(json.dumps(payload | {"release": release.as_dict()}, indent=2))
        return
    if result.source is None:
        click.echo(f"{name} {version} is already in {stage} ({release.digest})")
    else:
        click.echo(
            f"promoted {name} {version}: {result.source} → {stage} "
            f"{release.reference} {release.digest}"
        )


@main.command()
@click.argument("name")
@click.option("--gitlab-version", required=True, help="The GitLab release to be compatible with")
@click.option("--stage", required=True, help="The stage the version must have reached")
@click.option("--registry", "url", required=True, help="Registry URL, as given to publish --to")
@PLAIN_HTTP_OPTION
@click.option("--devel", is_flag=True, help="Consider pre-release chart versions too")
@STAGES_OPTION
@FORMAT_OPTION
@handle_errors
def resolve(
    name: str,
    gitlab_version: str,
    stage: str,
    url: str,
    plain_http: bool,
    devel: bool,
    stages: str | None,
    fmt: str,
) -> None:
    """Print the newest version of NAME compatible with a GitLab release that has reached STAGE.

    Exits 5 (not found) when there is none.
    """
    import os

    from runway import versions
    from runway.errors import UsageError
    from runway.publish.compatibility import newest_compatible
    from runway.publish.stages import Stages

    try:
        wanted = versions.parse_gitlab_version(gitlab_version)
    except ValueError as err:
        raise UsageError(f"--gitlab-version: {err}") from None
    Stages.parse(stages, os.environ).index(stage)
    with registry_session(url, plain_http) as registry:
        candidates = registry.releases(name, stage)
    found = newest_compatible(candidates, wanted, prereleases=devel)
    if fmt == "json":
        payload: dict[str, Any] = {
            "name": name,
            "gitlab_version": gitlab_version,
            "stage": stage,
            "found": found is not None,
            "release": found.as_dict() if found else None,
        }
        click.echo(json.dumps(payload, indent=2))
    elif found is not None:
        click.echo(f"{found.name} {found.version} {found.reference} {found.digest}")
    if found is None:
        from runway.errors import NotFoundError

        seen = ", ".join(f"{r.version} ({r.gitlab_versions or 'any'})" for r in candidates)
        raise NotFoundError(
            f"no version of {name} in {stage} is compatible with GitLab {gitlab_version}"
            + (f"; {stage} holds {seen}" if seen else f"; {stage} holds no version of {name}")
        )
