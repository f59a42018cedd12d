"""The data the chart stages pass on: how a build was asked for, and what compile needs.

Kept apart from the mapping that produces a `ChartSpec` so that consumers (compile, offerings,
the platform releases) import the type, not the stage that makes it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from runway.chart import values as v
from runway.errors import Diagnostic
from runway.manifest.extensions import ALL_OFFERINGS


@dataclasses.dataclass(frozen=True, slots=True)
class BuildOptions:
    environment: str | None = None
    image: str | None = None
    version: str = "0.1.0"
    app_version: str | None = None
    gitlab_versions: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ChartSpec:
    """Everything the compile stage needs: no manifest vocabulary left."""

    name: str
    service: str
    version: str
    app_version: str
    description: str
    values: v.ChartValues
    annotations: dict[str, str]
    regions: tuple[str, ...]
    warnings: tuple[Diagnostic, ...]
    offerings: tuple[str, ...] = tuple(ALL_OFFERINGS)
    offering_overrides: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
