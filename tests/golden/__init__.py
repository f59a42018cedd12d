"""Golden charts: a few representative manifests and the full chart each compiles to.

`test_golden_charts.py` compares every file byte for byte, so any change to the base chart, the
compiler or a shipped manifest shows up as a reviewable diff. After an intended change, refresh
them with `./dev golden` (this module's `__main__`) and commit the diff with the change.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from runway.chart.build import compile_service
from runway.chart.spec import BuildOptions
from runway.manifest import loader

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Case:
    """One manifest directory, the options it is built with, and where its chart is kept."""

    name: str
    manifest: str
    options: BuildOptions

    @property
    def tree(self) -> Path:
        return HERE / self.name


CASES = (
    Case("kas", "manifests/kas", BuildOptions(version="1.0.0")),
    Case(
        "ai-gateway-staging",
        "manifests/ai-gateway",
        BuildOptions(
            environment="staging",
            image="registry.example.com/ai-gateway:1.2.3",
            version="1.0.0",
        ),
    ),
    Case("runway-v1-minimal", "tests/fixtures/real/minimal", BuildOptions(version="1.0.0")),
)


def compile_case(case: Case) -> dict[str, bytes]:
    """The chart's files, relative path → bytes, exactly as `runway build` writes them."""
    result = loader.load_paths([ROOT / case.manifest])
    if not result.ok or len(result.services) != 1:
        problems = "; ".join(d.render() for d in result.diagnostics)
        raise SystemExit(f"golden case {case.name}: {case.manifest} does not load: {problems}")
    _spec, files = compile_service(result.services[0], case.options)
    return files


def stored(case: Case) -> dict[str, bytes]:
    return {
        str(path.relative_to(case.tree)): path.read_bytes()
        for path in sorted(case.tree.rglob("*"))
        if path.is_file()
    }


def refresh() -> None:
    for case in CASES:
        shutil.rmtree(case.tree, ignore_errors=True)
        for relative, content in compile_case(case).items():
            path = case.tree / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        print(f"refreshed tests/golden/{case.name}/")
