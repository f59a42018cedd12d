"""What every command shares: error handling, and the registry options."""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runway.errors import ExitCode, RunwayError

if TYPE_CHECKING:
    from runway.publish.registry import Registry

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_MANIFESTS = "manifests"
SERVICE_MANIFESTS = ".runway"


def default_manifests() -> Path:
    """Where manifests are when no path is given: `manifests/` (a platform repository), else
    `.runway/` (a service's own repository, as Runway keeps it)."""
    for candidate in (DEFAULT_MANIFESTS, SERVICE_MANIFESTS):
        if Path(candidate).is_dir():
            return Path(candidate)
    return Path(DEFAULT_MANIFESTS)


_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def redact(text: str) -> str:
    """Credentials written into a URL (`oci://user:password@host`) never reach a message."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


def handle_errors(func: F) -> F:
    """Map every RunwayError to one message on stderr and its exit code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RunwayError as err:
            click.echo(f"runway: {redact(str(err))}", err=True)
            sys.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("runway: interrupted", err=True)
            sys.exit(ExitCode.INTERRUPTED)

    return wrapper  # type: ignore[return-value]


def _shard(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    from runway.common.shards import parse_shard

    if value is None:
        return None
    try:
        return parse_shard(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


SHARD_OPTION = click.option(
    "--shard",
    callback=_shard,
    metavar="INDEX/COUNT",
    help="Only this shard's services (stable by chart name): "
    '"$CI_NODE_INDEX/$CI_NODE_TOTAL" under GitLab CI\'s parallel:',
)


STAGES_OPTION = click.option(
    "--stages",
    help="Ordered stages, comma-separated (default: RUNWAY_STAGES, else canary,stable)",
)
FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one document on stdout (snake_case keys); messages stay on stderr",
)
PLAIN_HTTP_OPTION = click.option(
    "--plain-http",
    is_flag=True,
    envvar="RUNWAY_PLAIN_HTTP",
    help="Talk to an OCI registry over HTTP instead of HTTPS (env: RUNWAY_PLAIN_HTTP=1)",
)


@contextlib.contextmanager
def registry_session(url: str, plain_http: bool) -> Iterator[Registry]:
    from runway.publish.registries import open_registry

    registry = open_registry(url, plain_http=plain_http)
    try:
        yield registry
    finally:
        registry.close()
