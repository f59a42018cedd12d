"""Answer "which chart do I run?": the newest version compatible with a GitLab release, in a stage.

A chart without a compatibility annotation is compatible with every release (as Helm treats a
chart without kubeVersion); one whose annotation does not parse is never chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import semver

from runway.publish.registry import Release
from runway.versions import VersionRange, parse_range, parse_version


def compatible(release: Release, gitlab_version: semver.Version) -> bool:
    if release.gitlab_versions is None:
        return True
    try:
        return parse_range(release.gitlab_versions).allows(gitlab_version)
    except ValueError:
        return False


def newest_compatible(
    releases: Iterable[Release], gitlab_version: semver.Version, *, prereleases: bool = False
) -> Release | None:
    return _newest(releases, lambda r, v: compatible(r, gitlab_version), prereleases=prereleases)


def newest_in_range(releases: Iterable[Release], wanted: VersionRange) -> Release | None:
    """What Flux's `ref.semver` picks: the highest version in the range (pre-releases only if
    the range names one)."""
    return _newest(releases, lambda r, v: wanted.allows(v), prereleases="-" in wanted.text)


def _newest(
    releases: Iterable[Release],
    keep: Callable[[Release, semver.Version], bool],
    *,
    prereleases: bool,
) -> Release | None:
    best: tuple[semver.Version, Release] | None = None
    for release in releases:
        try:
            version = parse_version(release.version)
        except ValueError:
            continue
        if (version.prerelease and not prereleases) or not keep(release, version):
            continue
        if best is None or version > best[0]:
            best = (version, release)
    return best[1] if best else None
