"""Publish archives into a registry's first stage: checked first, uploaded second, read back last.

Every archive is checked against every stage before anything is uploaded, so a conflict or a
corrupt archive publishes nothing. A version already there with the same digest is skipped, so
re-running an interrupted publish finishes the job without duplicating anything.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

from runway.errors import PublishError
from runway.publish.archive import ChartArchive
from runway.publish.http import RetryPolicy
from runway.publish.registry import Registry, Release
from runway.publish.stages import Stages

_VERBS = {"publish": "published", "skip": "already published", "replace": "replaced"}


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    archive: ChartArchive
    action: str
    release: Release | None = None

    @property
    def verb(self) -> str:
        return _VERBS[self.action]


class PublishIncomplete(PublishError):
    """Some archives were published and some were not; says which, and that a re-run finishes."""

    def __init__(
        self,
        done: list[Outcome],
        interrupted: ChartArchive,
        pending: list[ChartArchive],
        cause: Exception,
    ) -> None:
        self.done = done
        self.interrupted = interrupted
        self.pending = pending
        lines = [f"publishing stopped: {cause}"]
        lines += [f"  {outcome.verb}: {_label(outcome.archive)}" for outcome in done]
        lines.append(f"  interrupted (may be partly uploaded): {_label(interrupted)}")
        lines += [f"  not published: {_label(archive)}" for archive in pending]
        lines.append("re-run the same command to publish the rest; nothing will be duplicated")
        super().__init__("\n".join(lines))


def _label(archive: ChartArchive) -> str:
    return f"{archive.name} {archive.version} ({archive.path})"


def plan(
    archives: Sequence[ChartArchive], registry: Registry, stages: Stages, *, force: bool
) -> list[Outcome]:
    """Decide, per archive, `publish`, `skip` (already there, same digest) or `replace` (--force)."""
    seen: dict[tuple[str, str], ChartArchive] = {}
    conflicts: list[str] = []
    planned: list[Outcome] = []
    for archive in archives:
        key = (archive.name, archive.version)
        if key in seen:
            raise PublishError(
                f"{archive.path} and {seen[key].path} are both {archive.name} {archive.version}; "
                "publish one of them"
            )
        seen[key] = archive
        existing = [
            found
            for stage in stages.names
            if (found := registry.find(archive.name, archive.version, stage)) is not None
        ]
        different = [r for r in existing if r.digest != archive.digest]
        if not existing:
            planned.append(Outcome(archive, "publish"))
        elif not different:
            planned.append(Outcome(archive, "skip", existing[0]))
        elif force:
            planned.append(Outcome(archive, "replace", different[0]))
        else:
            where = ", ".join(f"{r.stage} ({r.digest[:19]}…)" for r in different)
            conflicts.append(
                f"{archive.name} {archive.version} is already published in {where} with "
                f"another digest than {archive.path} ({archive.digest[:19]}…)"
            )
    if conflicts:
        raise PublishError(
            "\n".join(conflicts)
            + "\nnothing was published: a published version is never overwritten. Bump the chart "
            "version (runway build --version …), or pass --force to replace it in "
            f"{stages.first} (versions already promoted further keep their old contents). The "
            "same chart gets another digest when packaged with another SOURCE_DATE_EPOCH, or by a "
            "Python whose zlib is another deflate (runway package warns then)"
        )
    return planned


def publish(
    archives: Sequence[ChartArchive],
    registry: Registry,
    stages: Stages,
    *,
    force: bool = False,
    retry: RetryPolicy | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Upload every planned archive in turn; `on_outcome` hears of each as it is settled."""
    planned = plan(archives, registry, stages, force=force)
    done: list[Outcome] = []
    for position, outcome in enumerate(planned):
        if outcome.action == "skip":
            done.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
            continue
        policy = retry or RetryPolicy()
        archive = outcome.archive
        try:
            if outcome.action != "replace":
                _still_free(registry, archive, stages.first)
            registry.upload(archive, stages.first)
            release = read_back(
                registry, archive.name, archive.version, stages.first, archive.digest, policy
            )
            if policy.settle > 0:
                time.sleep(policy.settle)
                release = read_back(
                    registry, archive.name, archive.version, stages.first, archive.digest, policy
                )
        except PublishError as err:
            rest = planned[position + 1 :]
            pending = [o.archive for o in rest if o.action != "skip"]
            skipped = [o for o in rest if o.action == "skip"]
            raise PublishIncomplete(done + skipped, outcome.archive, pending, err) from None
        done.append(dataclasses.replace(outcome, release=release))
        if on_outcome is not None:
            on_outcome(done[-1])
    return done


def _still_free(registry: Registry, archive: ChartArchive, stage: str) -> None:
    """Re-check just before the tag moves: another run may have published it since the plan."""
    found = registry.find(archive.name, archive.version, stage)
    if found is not None and found.digest != archive.digest:
        raise PublishError(
            f"{archive.name} {archive.version} was published to {stage} by another run while "
            f"this one was checking (digest {found.digest}, not {archive.digest}); nothing of "
            "this archive was tagged. Bump the version, or re-run to see what is there"
        )


def read_back(
    registry: Registry,
    name: str,
    version: str,
    stage: str,
    digest: str,
    retry: RetryPolicy,
) -> Release:
    """Find what was just written and compare digests; waits for registries that index lazily."""
    for attempt in range(retry.attempts):
        release = registry.find(name, version, stage)
        if release is not None:
            if release.digest != digest:
                raise PublishError(
                    f"{name} {version} in {stage} reads back with digest {release.digest}, "
                    f"not {digest}: another publish of the same version won the race (or the "
                    "registry altered the upload); this archive is not published there"
                )
            return release
        time.sleep(min(retry.wait * 2**attempt, retry.max_wait))
    raise PublishError(
        f"{name} {version} was uploaded to {stage} but the registry does not list it "
        f"({retry.attempts} reads); check the registry, then re-run"
    )
