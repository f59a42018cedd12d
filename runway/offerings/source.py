"""Find what a command was pointed at: a chart (directory or archive) or a service's manifest."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from runway.chart.spec import BuildOptions
from runway.errors import ManifestError, UsageError
from runway.manifest import loader
from runway.manifest.service import Service

MANIFESTS = Path("manifests")


def find_service(target: str, manifests: Path = MANIFESTS) -> Service:
    """A manifest file or directory, or the name of a service under `manifests`."""
    path = Path(target)
    if not path.exists():
        named = manifests / target
        if not named.is_dir():
            known = (
                sorted(p.name for p in manifests.iterdir() if p.is_dir())
                if manifests.is_dir()
                else []
            )
            raise UsageError(
                f"{target!r} is neither a path nor a service in {manifests}/"
                + (f" (services: {', '.join(known)})" if known else "")
            )
        path = named
    result = loader.load_paths([path])
    if not result.ok:
        raise ManifestError([d for d in result.diagnostics])
    if len(result.services) != 1:
        names = ", ".join(s.name for s in result.services) or "none"
        raise UsageError(f"{target}: expected one service, found {names}; point at one directory")
    return result.services[0]


@contextlib.contextmanager
def chart_of(target: str, options: BuildOptions, manifests: Path = MANIFESTS) -> Iterator[Path]:
    """A chart to read: `target` itself when it is a chart, else one compiled into a temp dir."""
    path = Path(target)
    if (path / "Chart.yaml").is_file() or (path.is_file() and path.name.endswith(".tgz")):
        yield path
        return
    from runway.chart.build import compile_service
    from runway.writer import write_tree_atomic

    spec, files = compile_service(find_service(target, manifests), options)
    with tempfile.TemporaryDirectory(prefix="runway-chart-") as scratch:
        chart = Path(scratch) / spec.name
        write_tree_atomic(chart, files)
        yield chart
