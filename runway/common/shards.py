"""Splitting services across CI jobs (`--shard INDEX/COUNT`, GitLab's CI_NODE_INDEX/CI_NODE_TOTAL).

A service's shard depends on its chart name only, never on which other services exist, so it
stays in its shard as services come and go, and build, verify and package agree on it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

__all__ = ["Shard", "parse_shard"]


@dataclasses.dataclass(frozen=True, slots=True)
class Shard:
    index: int
    """1-based, like GitLab's CI_NODE_INDEX."""
    count: int

    def owns(self, name: str) -> bool:
        digest = hashlib.sha256(name.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`2/4` → Shard(2, 4); ValueError naming the rule otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f'{text!r} is not INDEX/COUNT (e.g. "$CI_NODE_INDEX/$CI_NODE_TOTAL")')
    index, count = int(match[1]), int(match[2])
    if not 1 <= index <= count:
        raise ValueError(f"{text!r}: INDEX must be between 1 and COUNT")
    return Shard(index, count)
