"""Verify results kept beside the charts `runway build` writes, so that a rebuild verifies only
what changed.

black's rule: a chart whose every file keeps the size and modification time recorded when it
passed, checked by the same runway (its code and data, byte for byte) with the same engine and
schema packages, passed again and is not re-verified. Only passes are kept; a missing or corrupt
cache counts as empty, and it is written atomically.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from stat import S_ISREG
from typing import Any

from runway.caches import JsonCache
from runway.verify import ChartReport, verify_charts

CACHE_NAME = ".runway-verify-cache.json"
CHECKERS = ("helm-python-sdk", "jsonschema-rs", "common-expression-language")
"""The packages whose versions decide a verdict besides runway's own files."""


def verify_charts_cached(charts: list[Path], folder: Path) -> Iterator[tuple[ChartReport, bool]]:
    """(report, whether it came from the cache) for each chart, in order; charts that did not
    pass before, or changed since, are verified (on every core, as verify_charts does)."""
    kept = JsonCache(folder / CACHE_NAME)
    cache = kept.entries
    keys = {chart: _key(chart) for chart in charts}
    hits = {chart: _report(cache.get(chart.name), keys[chart]) for chart in charts}
    fresh = verify_charts([chart for chart in charts if hits[chart] is None])
    try:
        for chart in charts:
            hit = hits[chart]
            if hit is not None:
                yield hit, True
                continue
            report = next(fresh)
            if report.ok:
                cache[chart.name] = {"key": keys[chart], "report": report.as_dict()}
            else:
                cache.pop(chart.name, None)
            yield report, False
    finally:
        kept.save()


def _report(entry: Any, key: str) -> ChartReport | None:
    """The recorded report when `entry` is a pass recorded under `key`, else None."""
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    stored = entry.get("report")
    if not isinstance(stored, dict):
        return None
    try:
        report = ChartReport(
            chart=str(stored["chart"]),
            warnings=[str(w) for w in stored["warnings"]],
            objects=int(stored["objects"]),
            renders=int(stored["renders"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return report if not stored.get("problems") else None


def _key(chart: Path) -> str:
    digest = hashlib.sha256(_tool_digest().encode() + b"\0" + str(chart).encode() + b"\0")
    for path in sorted(chart.rglob("*")):
        try:
            stat = path.stat()
        except OSError:
            continue
        if S_ISREG(stat.st_mode):
            relative = path.relative_to(chart).as_posix()
            digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


@functools.cache
def _tool_digest() -> str:
    """runway's own files (its code, contracts, CRDs and Kubernetes schemas) and the checkers'
    versions."""
    digest = hashlib.sha256()
    for name in CHECKERS:
        try:
            digest.update(f"{name}=={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} missing\0".encode())
    package = Path(__file__).resolve().parents[1]
    for root, folders, files in os.walk(package):
        folders[:] = sorted(f for f in folders if f != "__pycache__")  # walked in this order
        for name in sorted(files):
            path = Path(root, name)
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()
