"""The JSON caches runway keeps beside the charts (build's and verify's), by black's rule: one
that is missing or not what runway wrote counts as empty, and one is written, atomically, only
when it changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runway.writer import write_text_atomic


class JsonCache:
    """Entries by chart name, read from `path`; `save` writes them back when they changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries = _read(path)
        self._read_as = _text(self.entries)

    def save(self) -> None:
        text = _text(self.entries)
        if text != self._read_as:
            write_text_atomic(self.path, text)
            self._read_as = text


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        return {}
    return data


def _text(entries: dict[str, dict[str, Any]]) -> str:
    return json.dumps(entries, indent=1, sort_keys=True) + "\n"
