"""Each figure of the performance targets, as a ratio to a floor measured in the same run.

Usage: python -m bench [--services N] [--sample K] [--profile verify|build|package|validate]

The machine is shared, so figures are ratios (ours ÷ a floor timed beside it: Helm's own work,
copying the output, a bare interpreter) and each is the median of a few runs. Never a timed test.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

RUNWAY = Path(sys.executable).parent / "runway"
MANIFEST = """\
apiVersion: runway/v1
kind: RunwayService
metadata:
  name: svc-{i}
  owner_email_handle: bench
spec:
  regions: [us-east1, europe-west1]
  request_timeout: {timeout}
  observability:
    scrape_targets: ["localhost:8082"]
  startup_probe:
    path: /ready
    failure_threshold: 24
  liveness_probe:
    path: /healthz
  scalability:
    min_instances: 2
    max_instances: 20
  resources:
    limits:
      cpu: 2000m
      memory: 4G
  load_balancing:
    external_load_balancer:
      backend_protocol: HTTPS
"""


@dataclasses.dataclass
class Figure:
    name: str
    measured: float
    target: float
    unit: str = "\N{MULTIPLICATION SIGN}"
    detail: str = ""

    @property
    def met(self) -> bool:
        return self.measured <= self.target

    def line(self) -> str:
        mark = "ok  " if self.met else "MISS"
        value = f"{self.measured:6.2f}{self.unit}"
        return f"  {mark} {self.name:<58} {value:>9}  target ≤ {self.target:g}{self.unit}  {self.detail}"


def median_time(func: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def write_services(root: Path, n: int) -> None:
    for i in range(n):
        folder = root / f"svc-{i}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "runway.yml").write_text(MANIFEST.format(i=i, timeout=60 + i % 100))


def _cli(*args: str) -> None:
    subprocess.run([str(RUNWAY), *args], check=True, capture_output=True, env=AS_INSTALLED)


AS_INSTALLED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""pip compiles what it installs, so a user's runway starts from bytecode: a shell that forbids
writing bytecode (as some sandboxes do) would time compiling runway's sources instead."""


def build_figures(work: Path, n: int) -> list[Figure]:
    from runway.chart import build
    from runway.chart.spec import BuildOptions

    root = work / "manifests"
    write_services(root, n)
    options = BuildOptions(image="registry.example.com/svc:1.0.0")

    def build_all(out: Path) -> None:
        build.build(build.BuildRequest((root,), out, options))

    outputs = iter(work / f"charts-{i}" for i in range(100))
    ours = median_time(lambda: build_all(next(outputs)))
    built = work / "charts-0"
    copies = iter(work / f"copy-{i}" for i in range(100))
    floor = median_time(lambda: shutil.copytree(built, next(copies)))
    (root / "svc-0" / "runway.yml").write_text(MANIFEST.format(i=0, timeout=999))
    rebuild = median_time(lambda: build_all(built), runs=1)
    files = sum(1 for p in built.rglob("*") if p.is_file())
    return [
        Figure(
            f"build --no-verify ÷ copying its output, {n} services",
            ours / floor,
            1.5,
            detail=f"({ours:.2f} s vs {floor:.2f} s, {files} files)",
        ),
        Figure(f"rebuild after 1 of {n} changed", rebuild, 1.0, " s"),
        verified_rebuild_figure(work, min(n, 100)),
    ]


def verified_rebuild_figure(work: Path, n: int) -> Figure:
    """`runway build` as a user runs it (verifying), after one of n services changed: charts
    that passed and did not change are not verified again."""
    root = work / "verified-manifests"
    write_services(root, n)
    command = ["build", str(root), "-o", str(work / "verified-charts"), "-q"]
    command += ["--image", "registry.example.com/svc:1.0.0"]
    _cli(*command)
    (root / "svc-0" / "runway.yml").write_text(MANIFEST.format(i=0, timeout=999))
    rebuild = median_time(lambda: _cli(*command), runs=1)
    return Figure(f"`runway build` (verifying) after 1 of {n} changed", rebuild, 1.0, " s")


def shipped_charts(work: Path) -> list[Path]:
    out = work / "shipped"
    _cli("build", "manifests", "-o", str(out), "--no-verify")
    return sorted(p for p in out.iterdir() if (p / "Chart.yaml").is_file())


@contextlib.contextmanager
def time_in_helm() -> Iterator[list[float]]:
    """Seconds spent inside runway.helm's calls (load, lint, render) while the block runs."""
    from runway import helm

    spent = [0.0]

    def timed(func: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        return call

    load, lint, render = helm.load, helm.lint, helm.LoadedChart.render
    helm.load, helm.lint = timed(load), timed(lint)
    helm.LoadedChart.render = timed(render)  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        helm.load, helm.lint = load, lint
        helm.LoadedChart.render = render  # type: ignore[method-assign]


def parallel_settings() -> dict[str, str]:
    from runway.common.parallel import WORKER_ENVIRONMENT

    return {k: v for k, v in WORKER_ENVIRONMENT.items() if k not in os.environ}


def verify_figures(charts: list[Path]) -> list[Figure]:
    from runway import helm
    from runway.common.kube import PLACEHOLDER_IMAGE
    from runway.verify import verify_chart, verify_charts

    verify_chart(charts[0])  # schema caches, as in any process after its first chart
    # One chart as `runway verify CHART` verifies it: Helm's work on a second thread.
    ours = sum(median_time(lambda c=c: list(verify_charts([c]))) for c in charts)  # type: ignore[misc]
    with time_in_helm() as in_helm:
        started = time.perf_counter()
        reports = [verify_chart(c) for c in charts]
        whole = time.perf_counter() - started
    renders = sum(r.renders for r in reports)

    def helm_floor(chart: Path) -> None:
        """One `helm lint` and one render: Helm's own work on a chart."""
        with helm.load(chart) as loaded:
            values = {} if loaded.chart.values["image"]["repository"] else PLACEHOLDER_IMAGE
            helm.lint(chart, values, "v1.31.0")
            loaded.render(values, name="bench", namespace="bench")

    floor = sum(median_time(lambda c=c: helm_floor(c)) for c in charts)  # type: ignore[misc]
    cores = os.cpu_count() or 1
    many = [str(c) for c in charts * 10]

    def verify_cli(jobs: int, environment: dict[str, str]) -> None:
        env = {**AS_INSTALLED, **environment, "RUNWAY_JOBS": str(jobs)}
        subprocess.run(
            [str(RUNWAY), "verify", "-q", *many], check=True, env=env, capture_output=True
        )

    # Workers start with WORKER_ENVIRONMENT (Go's GOGC), which a single process can only have
    # from its own start: the serial floor gets it too, so the figure is the scaling alone.
    shipped = median_time(lambda: verify_cli(1, {}), runs=1)
    serial = median_time(lambda: verify_cli(1, parallel_settings()), runs=1)
    parallel = median_time(lambda: verify_cli(cores, {}), runs=1)
    return [
        Figure(
            "verify ÷ Helm's own render+lint, per chart",
            ours / floor,
            1.5,
            detail=f"({ours / len(charts) * 1000:.0f} vs {floor / len(charts) * 1000:.0f} ms/chart)",
        ),
        Figure(
            "verify ÷ the time it spends in Helm (1 lint, its renders)",
            whole / in_helm[0],
            1.5,
            detail=f"({renders / len(charts):.1f} renders/chart)",
        ),
        Figure(
            f"verify of {len(many)} charts, wall ÷ (serial ÷ {cores} cores)",
            parallel / (serial / cores),
            1.25,
            detail=f"({parallel:.1f} s vs {serial:.1f} s serial; {shipped:.1f} s as one process starts by default)",
        ),
    ]


def package_figures(charts: list[Path], work: Path) -> list[Figure]:
    from runway import helm
    from runway.publish.archive import FIXED_EPOCH, package_chart, package_charts

    ours = median_time(lambda: [package_chart(c, work / "ours", mtime=FIXED_EPOCH) for c in charts])
    command = median_time(lambda: list(package_charts(charts, work / "all", mtime=FIXED_EPOCH)))
    floor = median_time(lambda: [helm.package(c, work / "helm") for c in charts])
    return [
        Figure("package ÷ Helm's own package, chart by chart", ours / floor, 1.0),
        Figure(
            f"`runway package` of {len(charts)} charts ÷ Helm's, one by one",
            command / floor,
            1.0,
        ),
    ]


def startup_figures(work: Path) -> list[Figure]:
    manifest = work / "one" / "runway.yml"
    manifest.parent.mkdir()
    manifest.write_text(MANIFEST.format(i=1, timeout=60))
    bare = median_time(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), runs=7)
    _cli("validate", str(manifest))  # writes the bytecode pip would have written at install
    validate = median_time(lambda: _cli("validate", str(manifest)), runs=7)
    version = median_time(lambda: _cli("--version"), runs=7)
    return [
        Figure(
            "validate one manifest, cold ÷ bare interpreter",
            validate / bare,
            3.0,
            detail=f"({validate * 1000:.0f} vs {bare * 1000:.0f} ms)",
        ),
        Figure(
            "runway --version ÷ bare interpreter",
            version / bare,
            1.5,
            detail=f"({version * 1000:.0f} ms)",
        ),
    ]


def install_figure() -> Figure:
    """Bytes on disk of runway's own install (no extras) and everything it requires."""
    from bench.install import footprint

    size, count = footprint("runway")
    return Figure(
        "install for chart work (runway, no extras)",
        size / 1e6,
        150,
        " MB",
        detail=f"({count} distributions)",
    )


def plan_figures() -> list[Figure]:
    """The offline Pulumi plan of each shipped environment (mock mode, both stacks)."""
    from runway.platform.plan import plan

    figures = []
    for path in sorted(Path("environments").glob("*.yml")):
        started = time.perf_counter()
        plan(path)
        figures.append(
            Figure(f"runway stack plan {path.name}", time.perf_counter() - started, 5.0, " s")
        )
    return figures


def profile(stage: str, charts: list[Path], work: Path) -> None:
    from runway.verify import verify_chart

    actions: dict[str, Callable[[], object]] = {
        "verify": lambda: [verify_chart(c) for c in charts],
        "package": lambda: package_figures(charts, work / "profile"),
        "build": lambda: build_figures(work / "profile-build", 200),
        "validate": lambda: _validate_in_process(work),
    }
    profiler = cProfile.Profile()
    profiler.runcall(actions[stage])
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
    print(text.getvalue())


def _validate_in_process(work: Path) -> None:
    from runway.manifest import loader

    root = work / "profile-validate"
    write_services(root, 200)
    loader.load_paths([root])


def main() -> None:
    parser = argparse.ArgumentParser(prog="./dev bench")
    parser.add_argument("--services", type=int, default=1000, help="services built (1,000)")
    parser.add_argument("--profile", choices=["verify", "build", "package", "validate"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="runway-bench-") as tmp:
        work = Path(tmp)
        charts = shipped_charts(work)
        if args.profile:
            profile(args.profile, charts, work)
            return
        figures = [
            *startup_figures(work),
            *build_figures(work / "build", args.services),
            *verify_figures(charts),
            *package_figures(charts, work),
            install_figure(),
            *plan_figures(),
        ]
    print(f"runway benchmarks ({os.cpu_count()} cores; ratios to a floor timed in this run)")
    for figure in figures:
        print(figure.line())
    missed = sum(not f.met for f in figures)
    print(f"{len(figures) - missed} of {len(figures)} targets met")


if __name__ == "__main__":
    main()
