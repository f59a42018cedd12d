"""Which registry a URL names: OCI, GitLab's Helm channels, or a static repository directory.

Kept apart from `registry.py` (the interface every implementation imports) so that no module
imports its own importers; implementations load only when their URL is used, which keeps the
HTTP client off the path of a static repository.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from runway.errors import UsageError
from runway.publish.registry import Registry

_GITLAB = re.compile(r"^https?://[^/]+(/.*)?/api/v4/projects/[^/]+/packages/helm/?$")


def open_registry(
    url: str, *, plain_http: bool = False, environ: Mapping[str, str] | None = None
) -> Registry:
    from runway.publish.http import RetryPolicy

    env = os.environ if environ is None else environ
    retry = RetryPolicy.from_env(env)
    if url.startswith("oci://"):
        from runway.publish.oci import OciRegistry

        return OciRegistry(url, plain_http=plain_http, retry=retry, environ=env)
    if _GITLAB.match(url):
        from runway.publish.gitlab import GitLabChannels

        return GitLabChannels(url, retry=retry, environ=env)
    if url.startswith(("http://", "https://")):
        raise UsageError(
            f"{url}: not a registry URL runway knows; use oci://HOST/PATH, "
            "https://GITLAB/api/v4/projects/ID/packages/helm, or a directory"
        )
    if "://" in url and not url.startswith("file://"):
        raise UsageError(f"{url}: unknown scheme; use oci://, https:// (GitLab) or file://")
    from runway.publish.static import StaticRepository

    return StaticRepository(Path(url.removeprefix("file://")))
