"""build: services → chart directories on disk, skipping charts whose files did not change."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from runway.chart.compile import compile_chart
from runway.chart.resolve import BuildOptions, ChartSpec, resolve
from runway.errors import Diagnostic
from runway.manifest.loader import Service
from runway.writer import write_tree_atomic


@dataclasses.dataclass(frozen=True, slots=True)
class BuiltChart:
    name: str
    path: Path
    changed: bool
    warnings: tuple[Diagnostic, ...]


def compile_service(service: Service, options: BuildOptions) -> tuple[ChartSpec, dict[str, bytes]]:
    spec = resolve(service, options)
    return spec, compile_chart(spec)


def build_services(
    services: list[Service], options: BuildOptions, output: Path
) -> list[BuiltChart]:
    """Compile every service first, then write: a compile error leaves the output untouched."""
    compiled = [compile_service(service, options) for service in services]
    built: list[BuiltChart] = []
    for spec, files in compiled:
        target = output / spec.name
        changed = write_tree_atomic(target, files)
        built.append(BuiltChart(spec.name, target, changed, spec.warnings))
    return built
