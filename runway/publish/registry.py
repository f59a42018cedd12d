"""What every registry kind offers, and how a URL picks one.

| URL | kind | a stage is |
|---|---|---|
| `oci://host[:port]/path` | OCI registry | the repository `path/STAGE/NAME`; promote copies the manifest |
| `http(s)://host/api/v4/projects/ID/packages/helm` | GitLab Helm channels | the channel `STAGE` |
| `file:///dir` or a directory path | static chart repository | the directory `dir/STAGE/` with its `index.yaml` |
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from runway.publish.archive import ChartArchive


@dataclasses.dataclass(frozen=True, slots=True)
class Release:
    """One chart version as a registry holds it in one stage."""

    name: str
    version: str
    stage: str
    digest: str
    gitlab_versions: str | None
    reference: str

    def as_dict(self) -> dict[str, str | None]:
        return dataclasses.asdict(self)


class Registry(Protocol):
    location: str

    def releases(self, name: str, stage: str) -> list[Release]:
        """Every version of `name` in `stage` (empty when there are none)."""
        ...

    def find(self, name: str, version: str, stage: str) -> Release | None: ...

    def upload(self, archive: ChartArchive, stage: str) -> None:
        """Store `archive` in `stage`, replacing the same version if it is there."""
        ...

    def copy(self, release: Release, stage: str) -> None:
        """Put the exact bytes of `release` into `stage`, without rebuilding."""
        ...

    def close(self) -> None: ...


def stage_chart_url(registry: str, stage: str, name: str) -> str:
    """Where chart `name` lives in `stage` of an OCI registry: `oci://HOST/PATH/STAGE/NAME`."""
    return f"{registry.rstrip('/')}/{stage}/{name}"
