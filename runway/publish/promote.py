"""Promote a published version to a later stage: the same bytes, never rebuilt, never backwards."""

from __future__ import annotations

import dataclasses

from runway.errors import NotFoundError, PublishError
from runway.publish.http import RetryPolicy
from runway.publish.registry import Registry, Release
from runway.publish.stages import Stages
from runway.publish.upload import read_back


@dataclasses.dataclass(frozen=True, slots=True)
class Promotion:
    release: Release
    source: str | None
    """The stage copied from; None when the version was already in the target stage."""


def promote(
    registry: Registry,
    stages: Stages,
    name: str,
    version: str,
    target: str,
    *,
    force: bool = False,
    retry: RetryPolicy | None = None,
) -> Promotion:
    goal = stages.index(target)
    present = {
        stage: found
        for stage in stages.names
        if (found := registry.find(name, version, stage)) is not None
    }
    if not present:
        raise NotFoundError(
            f"{name} {version} is not published in {registry.location}; "
            f"publish it first (runway publish … --to {registry.location})"
        )
    digests = {release.digest for release in present.values()}
    if len(digests) > 1:
        listing = ", ".join(f"{s}: {r.digest}" for s, r in present.items())
        raise PublishError(
            f"{name} {version} has different contents in different stages ({listing}); "
            "it was overwritten with --force; publish a new version instead of promoting this one"
        )
    if target in present:
        return Promotion(present[target], None)
    furthest = max(present, key=stages.index)
    reached = stages.index(furthest)
    if goal < reached:
        raise PublishError(
            f"{name} {version} has already reached {furthest}; promotion never goes backwards "
            f"(to {target}). Publish a new version to roll back"
        )
    if goal > reached + 1 and not force:
        following = stages.names[reached + 1]
        raise PublishError(
            f"{name} {version} is in {furthest}; promote it to {following} before {target} "
            "(or pass --force to skip a stage)"
        )
    source = present[furthest]
    registry.copy(source, target)
    release = read_back(registry, name, version, target, source.digest, retry or RetryPolicy())
    return Promotion(release, furthest)
