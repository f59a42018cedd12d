"""The deployment-stage dimension: an ordered list of stages a version moves forward through."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from runway.errors import UsageError

DEFAULT_STAGES = ("canary", "stable")
_STAGE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclasses.dataclass(frozen=True, slots=True)
class Stages:
    names: tuple[str, ...] = DEFAULT_STAGES

    @classmethod
    def parse(cls, text: str | None, environ: Mapping[str, str]) -> Stages:
        """From `--stages a,b,c`, else RUNWAY_STAGES, else canary → stable."""
        raw = text or environ.get("RUNWAY_STAGES") or ",".join(DEFAULT_STAGES)
        names = tuple(part.strip() for part in raw.split(",") if part.strip())
        bad = [name for name in names if not _STAGE.match(name)]
        if bad or not names:
            raise UsageError(
                f"stages {raw!r}: each stage is a lowercase name (letters, digits, '-'), "
                "listed in order, e.g. --stages canary,stable"
            )
        if len(set(names)) != len(names):
            raise UsageError(f"stages {raw!r}: a stage is listed twice")
        return cls(names)

    @property
    def first(self) -> str:
        return self.names[0]

    def index(self, stage: str) -> int:
        if stage not in self.names:
            raise UsageError(
                f"unknown stage {stage!r}; the stages are {' → '.join(self.names)} "
                "(set them with --stages or RUNWAY_STAGES)"
            )
        return self.names.index(stage)
