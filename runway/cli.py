"""The `runway` command line: it adapts arguments, calls one core function, prints the result.

Heavy modules (pydantic models, the Helm engine, Pulumi) are imported inside the commands that
need them, so `runway --help` and `runway --version` start in tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runway import __version__
from runway.errors import RunwayError

if TYPE_CHECKING:
    from runway.publish.registry import Registry

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
    """Validate Runway manifests, compile them into hardened Helm charts, and ship them."""


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
@_handle_errors
def build(
    paths: tuple[Path, ...],
    output: Path,
    environment: str | None,
    image: str | None,
    version: str,
    app_version: str | None,
    gitlab_versions: str | None,
    verify: bool,
) -> None:
    """Compile manifests into Helm charts under OUTPUT/<name>/ (default: every service in manifests/)."""
    from runway import versions
    from runway.chart import build as chart_build
    from runway.chart.resolve import BuildOptions
    from runway.errors import UsageError
    from runway.manifest import loader

    try:
        versions.parse_version(version)
        if gitlab_versions:
            versions.parse_range(gitlab_versions)
    except ValueError as err:
        raise UsageError(str(err)) from None
    result = loader.load_paths(paths or (Path(DEFAULT_MANIFESTS),))
    for diagnostic in result.diagnostics:
        click.echo(diagnostic.render(), err=True)
    if not result.ok:
        click.echo("runway: manifests are invalid; nothing was built", err=True)
        sys.exit(1)
    options = BuildOptions(environment, image, version, app_version, gitlab_versions)
    built = chart_build.build_services(result.services, options, output)
    for chart in built:
        for warning in chart.warnings:
            click.echo(warning.render(), err=True)
        click.echo(f"{'built' if chart.changed else 'unchanged'} {chart.path}")
    if verify:
        _verify_and_report([chart.path for chart in built])


@main.command(name="verify")
@click.argument("charts", nargs=-1, type=click.Path(path_type=Path, exists=True, file_okay=False))
@_handle_errors
def verify_command(charts: tuple[Path, ...]) -> None:
    """Lint, render and check charts (default: every chart under dist/charts/)."""
    targets = list(charts) or sorted(p.parent for p in Path("dist/charts").glob("*/Chart.yaml"))
    if not targets:
        from runway.errors import UsageError

        raise UsageError("no charts to verify: pass CHART_DIR… or run runway build first")
    _verify_and_report(targets)


def _verify_and_report(charts: list[Path]) -> None:
    from runway.verify import verify_chart

    failed = 0
    for chart in charts:
        report = verify_chart(chart)
        status = "ok" if report.ok else "FAILED"
        click.echo(
            f"verify {chart}: {status} ({report.renders} renders, {report.objects} objects checked)"
        )
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
        failed += not report.ok
    if failed:
        click.echo(f"runway: {failed} chart(s) failed verification", err=True)
        sys.exit(1)


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
@_handle_errors
def package(
    charts: tuple[Path, ...],
    output: Path,
    sign: bool,
    key: str | None,
    keyring: Path,
    passphrase_file: Path | None,
) -> None:
    """Package charts into reproducible .tgz archives (default: every chart under dist/charts/).

    Archives are byte-identical for the same chart on any machine; their mtime is
    SOURCE_DATE_EPOCH, or 1980-01-01 when it is not set.
    """
    import os

    from runway.errors import UsageError
    from runway.publish.archive import SigningKey, package_chart, source_date_epoch

    targets = list(charts) or sorted(p.parent for p in Path("dist/charts").glob("*/Chart.yaml"))
    if not targets:
        raise UsageError("no charts to package: pass CHART_DIR… or run runway build first")
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
    for chart in targets:
        archive = package_chart(chart, output, mtime=mtime, signing=signing)
        signed = " (signed)" if archive.provenance else ""
        click.echo(f"{archive.path} {archive.digest}{signed}")


_STAGES_OPTION = click.option(
    "--stages",
    help="Ordered stages, comma-separated (default: RUNWAY_STAGES, else canary,stable)",
)
_PLAIN_HTTP_OPTION = click.option(
    "--plain-http",
    is_flag=True,
    envvar="RUNWAY_PLAIN_HTTP",
    help="Talk to an OCI registry over HTTP instead of HTTPS (env: RUNWAY_PLAIN_HTTP=1)",
)


@main.command()
@click.argument("archives", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--to", "url", required=True, help="oci://HOST/PATH, a GitLab Helm API URL or a DIR")
@_PLAIN_HTTP_OPTION
@click.option("--force", is_flag=True, help="Replace a version already published (not advised)")
@_STAGES_OPTION
@_handle_errors
def publish(
    archives: tuple[Path, ...], url: str, plain_http: bool, force: bool, stages: str | None
) -> None:
    """Publish chart archives into the first stage of a registry (default: dist/packages/*.tgz).

    Credentials come from the environment: RUNWAY_REGISTRY_USER and RUNWAY_REGISTRY_PASSWORD, or
    CI_REGISTRY_USER and CI_REGISTRY_PASSWORD for CI_REGISTRY; for GitLab channels also
    RUNWAY_GITLAB_TOKEN or CI_JOB_TOKEN.
    """
    import os

    from runway.errors import UsageError
    from runway.publish import publish as publishing
    from runway.publish.archive import read_archive
    from runway.publish.http import RetryPolicy
    from runway.publish.stages import Stages

    order = Stages.parse(stages, os.environ)
    paths = list(archives) or sorted(Path("dist/packages").glob("*.tgz"))
    if not paths:
        raise UsageError("no archives to publish: pass TGZ… or run runway package first")
    loaded = [read_archive(path) for path in paths]
    with _registry(url, plain_http) as registry:
        outcomes = publishing.publish(
            loaded, registry, order, force=force, retry=RetryPolicy.from_env(os.environ)
        )
    for outcome in outcomes:
        archive = outcome.archive
        where = outcome.release.reference if outcome.release else registry.location
        click.echo(f"{outcome.verb} {archive.name} {archive.version} → {where} {archive.digest}")


@main.command()
@click.argument("name")
@click.argument("version")
@click.option("--to", "stage", required=True, help="The stage to promote to")
@click.option("--registry", "url", required=True, help="Registry URL, as given to publish --to")
@_PLAIN_HTTP_OPTION
@click.option("--force", is_flag=True, help="Allow skipping a stage")
@_STAGES_OPTION
@_handle_errors
def promote(
    name: str,
    version: str,
    stage: str,
    url: str,
    plain_http: bool,
    force: bool,
    stages: str | None,
) -> None:
    """Promote NAME VERSION to the next stage without rebuilding (the digest stays the same)."""
    import os

    from runway.publish import promote as promoting
    from runway.publish.http import RetryPolicy
    from runway.publish.stages import Stages

    order = Stages.parse(stages, os.environ)
    with _registry(url, plain_http) as registry:
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
@_PLAIN_HTTP_OPTION
@click.option("--devel", is_flag=True, help="Consider pre-release chart versions too")
@_STAGES_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_handle_errors
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

    Exits 1 when there is none.
    """
    import os

    from runway import versions
    from runway.errors import UsageError
    from runway.publish.resolve import newest_compatible
    from runway.publish.stages import Stages

    try:
        wanted = versions.parse_version(gitlab_version)
    except ValueError as err:
        raise UsageError(f"--gitlab-version: {err}") from None
    Stages.parse(stages, os.environ).index(stage)
    with _registry(url, plain_http) as registry:
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
        seen = ", ".join(f"{r.version} ({r.gitlab_versions or 'any'})" for r in candidates)
        click.echo(
            f"runway: no version of {name} in {stage} is compatible with GitLab {gitlab_version}"
            + (f"; {stage} holds {seen}" if seen else f"; {stage} holds no version of {name}"),
            err=True,
        )
        sys.exit(1)


@contextlib.contextmanager
def _registry(url: str, plain_http: bool) -> Iterator[Registry]:
    from runway.publish.registry import open_registry

    registry = open_registry(url, plain_http=plain_http)
    try:
        yield registry
    finally:
        registry.close()


@main.command()
@click.argument("target")
@click.option("--mirror", help="Also print each image's name in this mirror registry")
@click.option("--env", "environment", help="Environment of the manifest (for a SERVICE)")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_handle_errors
def images(target: str, mirror: str | None, environment: str | None, fmt: str) -> None:
    """List every image a chart can run (TARGET: a service name, manifest path, chart or .tgz).

    Mirror them, then install with --set global.imageRegistry=MIRROR.
    """
    from runway.chart.resolve import BuildOptions
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
@_PLAIN_HTTP_OPTION
@_STAGES_OPTION
@_handle_errors
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

    from runway.chart.resolve import BuildOptions, resolve
    from runway.errors import UsageError
    from runway.offerings import Offering, gke
    from runway.offerings import turnup as emit
    from runway.offerings.overrides import check_supported
    from runway.offerings.source import find_service
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
    chart_url = f"{url.rstrip('/')}/{follow}/{spec.name}" if url else None
    target = output or Path("dist/turnup") / spec.name / chosen.value
    if chosen is Offering.SELF_MANAGED:
        files = emit.self_managed(spec, chart_url or f"oci://REGISTRY/charts/{follow}/{spec.name}")
    elif chosen is Offering.GITLAB_MANAGED:
        assert environment is not None
        description = gke.release_description(
            spec,
            environment=environment,
            project=project,
            chart_url=chart_url,
            edge=edge,  # type: ignore[arg-type]
        )
        files = emit.gitlab_managed(description)
    else:
        files = _managed_self_hosted(
            spec,
            url=url,
            stage=follow,
            version_range=version_range,
            gitlab_version=gitlab_version,
            gitlab_url=gitlab_url,
            registration_url=registration_url,
            namespace=namespace,
            pull_secret=pull_secret,
            cosign_secret=cosign_secret,
            offline=offline,
            plain_http=plain_http,
        )
    write_tree_atomic(target, files)
    for name in sorted(files):
        click.echo(str(target / name))


def _managed_self_hosted(
    spec: Any,
    *,
    url: str | None,
    stage: str,
    version_range: str | None,
    gitlab_version: str | None,
    gitlab_url: str | None,
    registration_url: str | None,
    namespace: str | None,
    pull_secret: str | None,
    cosign_secret: str | None,
    offline: bool,
    plain_http: bool,
) -> dict[str, bytes]:
    from runway.errors import UsageError
    from runway.offerings import turnup as emit

    if not url or not url.startswith("oci://"):
        raise UsageError(
            "--offering managed-self-hosted needs --registry oci://HOST/PATH (Flux pulls the chart from it)"
        )
    if not gitlab_url:
        raise UsageError(
            "--offering managed-self-hosted needs --gitlab-url (the instance the service registers with)"
        )
    request = emit.ChartRequest(url, stage, version_range, gitlab_version)
    releases = None
    if not offline or gitlab_version:
        with _registry(url, plain_http) as registry:
            releases = registry.releases(spec.name, stage)
    options, resolved = emit.bundle_options(
        spec,
        request,
        releases,
        gitlab_url=gitlab_url,
        registration_url=registration_url,
        namespace=namespace,
        pull_secret=pull_secret,
        cosign_secret=cosign_secret,
        insecure=plain_http,
    )
    if resolved:
        click.echo(f"{spec.name} in {stage} resolves to {resolved} now", err=True)
    return emit.managed_self_hosted(spec, options, resolved)


@main.group()
def stack() -> None:
    """GKE environments: what the Pulumi stacks in stacks/ will create."""


@stack.command(name="plan")
@click.argument("env_manifest", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--preview", is_flag=True, help="Plan as `pulumi preview` would (outputs unknown)")
@_handle_errors
def stack_plan(env_manifest: Path, fmt: str, preview: bool) -> None:
    """Plan an environment offline (Pulumi mock mode): every resource both stacks would create,
    then the policies every environment must pass (exit 1 on a violation)."""
    from runway.platform.plan import plan
    from runway.platform.policies import check

    planned = plan(env_manifest, preview=preview)
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
@_handle_errors
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
@_handle_errors
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
@_handle_errors
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
@_handle_errors
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
