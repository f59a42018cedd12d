"""build: services → chart directories on disk.

Incremental like black: a cache beside the charts maps each chart to a key over the tool
version, the build options, the base chart and the service's own files. A chart whose key is
unchanged (and whose directory still exists) is neither compiled nor written. The cache is
written atomically; a corrupt or missing cache counts as empty; failures are never cached.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from runway import __version__, versions
from runway.chart.compile import TEMPLATES, compile_chart
from runway.chart.mapping import resolve
from runway.chart.spec import BuildOptions, ChartSpec
from runway.common.shards import Shard
from runway.errors import Diagnostic, Severity, UsageError
from runway.manifest import _types, loader
from runway.manifest.service import LoadResult, Service
from runway.writer import sweep_stale, write_text_atomic, write_tree_atomic

CACHE_NAME = ".runway-build-cache.json"


@dataclasses.dataclass(frozen=True, slots=True)
class BuiltChart:
    name: str
    path: Path
    changed: bool
    warnings: tuple[Diagnostic, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class BuildRequest:
    """What `runway build` was asked for: where the manifests are, where charts go, and how."""

    paths: tuple[Path, ...]
    output: Path
    options: BuildOptions
    shard: Shard | None = None
    """Build only the services of this shard (every manifest is still validated)."""
    on_compiled: Callable[[int, int], None] | None = None
    """Told (done, total) as each service is compiled or found in the cache (progress)."""


@dataclasses.dataclass(frozen=True, slots=True)
class BuildResult:
    """The manifests as loaded (with every diagnostic) and, when they were valid, the charts."""

    loaded: LoadResult
    charts: list[BuiltChart]


def build(request: BuildRequest) -> BuildResult:
    """Load, check and build: nothing is written unless every manifest is valid."""
    options = request.options
    try:
        versions.parse_version(options.version)
        if options.gitlab_versions:
            versions.parse_range(options.gitlab_versions)
    except ValueError as err:
        raise UsageError(str(err)) from None
    loaded = loader.load_paths(request.paths)
    if not loaded.ok:
        return BuildResult(loaded, [])
    services = [
        s
        for s in loaded.services
        if request.shard is None or request.shard.owns(_types.kubernetes_name(s.name))
    ]
    built = build_services(services, options, request.output, request.on_compiled)
    return BuildResult(loaded, built)


def compile_service(service: Service, options: BuildOptions) -> tuple[ChartSpec, dict[str, bytes]]:
    spec = resolve(service, options)
    return spec, compile_chart(spec)


def _cached(
    service: Service, key: str, cache: dict[str, dict[str, object]], output: Path
) -> BuiltChart | None:
    """The chart as the last build left it, when nothing it is built from has changed."""
    name = _types.kubernetes_name(service.name)
    entry = cache.get(name)
    if not (entry and entry.get("key") == key and (output / name / "Chart.yaml").is_file()):
        return None
    stored = entry.get("warnings")
    warnings = tuple(
        Diagnostic(**w, severity=Severity.WARNING)
        for w in (stored if isinstance(stored, list) else [])
    )
    return BuiltChart(name, output / name, False, warnings)


def build_services(
    services: list[Service],
    options: BuildOptions,
    output: Path,
    on_compiled: Callable[[int, int], None] | None = None,
) -> list[BuiltChart]:
    """Compile every changed service first, then write: a compile error leaves the output untouched."""
    sweep_stale(output)
    cache = _read_cache(output)
    keys = {service.name: _input_key(service, options) for service in services}
    fresh: list[BuiltChart] = []
    compiled: list[tuple[Service, ChartSpec, dict[str, bytes]]] = []
    for done, service in enumerate(services, 1):
        cached = _cached(service, keys[service.name], cache, output)
        if cached is not None:
            fresh.append(cached)
        else:
            compiled.append((service, *compile_service(service, options)))
        if on_compiled is not None:
            on_compiled(done, len(services))
    built = list(fresh)
    for service, spec, files in compiled:
        target = output / spec.name
        changed = write_tree_atomic(target, files)
        built.append(BuiltChart(spec.name, target, changed, spec.warnings))
        cache[spec.name] = {
            "key": keys[service.name],
            "warnings": [
                {k: val for k, val in w.as_dict().items() if k != "severity"} for w in spec.warnings
            ],
        }
    if compiled:
        write_text_atomic(output / CACHE_NAME, json.dumps(cache, indent=1, sort_keys=True) + "\n")
    return sorted(built, key=lambda chart: chart.name)


def _read_cache(output: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads((output / CACHE_NAME).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        return {}
    return data


def _input_key(service: Service, options: BuildOptions) -> str:
    digest = hashlib.sha256()
    digest.update(f"{__version__}\0{options!r}\0{_templates_digest()}\0".encode())
    for name in service.files:
        digest.update(name.encode() + b"\0")
        try:
            digest.update(Path(name).read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()


@functools.cache
def _templates_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(TEMPLATES)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
