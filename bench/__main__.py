"""Time validate, build, verify, package and a one-manifest rebuild over N synthetic services.

Usage: python -m bench [N …]   (default 10 100 1000; verify runs on at most 20 charts)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from runway import helm
from runway.chart import build
from runway.chart.spec import BuildOptions
from runway.manifest import loader
from runway.publish.archive import FIXED_EPOCH, package_chart
from runway.verify import verify_chart

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


def _write(root: Path, n: int) -> None:
    for i in range(n):
        folder = root / f"svc-{i}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "runway.yml").write_text(MANIFEST.format(i=i, timeout=60 + i % 100))


def _timed(label: str, n: int, func: object) -> float:
    started = time.perf_counter()
    func()  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    print(f"  {label:<28} {elapsed * 1000:9.1f} ms total {elapsed * 1000 / n:8.2f} ms/service")
    return elapsed


def run(n: int) -> None:
    print(f"N = {n}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "manifests"
        out = Path(tmp) / "charts"
        _write(root, n)
        options = BuildOptions(image="registry.example.com/svc:1.0.0")
        _timed("validate", n, lambda: loader.load_paths([root]))
        services = loader.load_paths([root]).services
        _timed("build (no verify)", n, lambda: build.build_services(services, options, out))
        (root / "svc-0" / "runway.yml").write_text(MANIFEST.format(i=0, timeout=999))

        def rebuild() -> None:
            build.build_services(loader.load_paths([root]).services, options, out)

        _timed("rebuild, one changed", n, rebuild)
        sample = sorted(p for p in out.iterdir() if p.is_dir())[: min(n, 20)]
        ours = _timed("verify (sample)", len(sample), lambda: [verify_chart(c) for c in sample])
        helm_only = []
        for chart in sample:
            started = time.perf_counter()
            values = {"image": {"repository": "r/x", "tag": "1"}}
            helm.lint(chart, values, "v1.31.0")
            helm.render(chart, values, name="b", namespace="b")
            helm_only.append(time.perf_counter() - started)
        print(
            f"  verify / Helm (render+lint x1) ratio: {ours / sum(helm_only):.1f} "
            f"(Helm median {statistics.median(helm_only) * 1000:.1f} ms/chart)"
        )
        packages = Path(tmp) / "packages"
        _timed(
            "package (sample)",
            len(sample),
            lambda: [package_chart(c, packages, mtime=FIXED_EPOCH) for c in sample],
        )
        started = time.perf_counter()
        for chart in sample:
            helm.package(chart, Path(tmp) / "helm-packages")
        print(
            f"  Helm's own package (sample)  {(time.perf_counter() - started) * 1000:9.1f} ms total"
        )


def plan_environments() -> None:
    """The offline Pulumi plan of each shipped environment (mock mode, both stacks)."""
    from runway.platform.plan import plan

    for path in sorted(Path("environments").glob("*.yml")):
        started = time.perf_counter()
        planned = plan(path)
        elapsed = (time.perf_counter() - started) * 1000
        print(
            f"  stack plan {path.name:<18} {elapsed:9.1f} ms ({len(planned.resources)} resources)"
        )


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10, 100, 1000]
    for n in sizes:
        run(n)
    plan_environments()


if __name__ == "__main__":
    main()
