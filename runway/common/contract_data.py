"""The component contracts as data (runway/data/contracts/): which one a chart names, and what
each holds. `verify/contracts.py` checks charts against them; offerings read what an
installation sets (`customer_config`).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from runway.common import yamlio

ANNOTATION = "runway.gitlab.com/contract"


@functools.cache
def load(name: str) -> dict[str, Any]:
    folder = resources.files("runway.data").joinpath("contracts")
    entry = folder.joinpath(f"{name}.yaml")
    if not entry.is_file():
        known = sorted(
            e.name.removesuffix(".yaml") for e in folder.iterdir() if e.name.endswith(".yaml")
        )
        raise KeyError(f"no contract named {name!r} (known: {', '.join(known)})")
    data: dict[str, Any] = yamlio.load(entry.read_text())
    return data


def names() -> list[str]:
    folder = resources.files("runway.data").joinpath("contracts")
    return sorted(
        e.name.removesuffix(".yaml") for e in folder.iterdir() if e.name.endswith(".yaml")
    )
