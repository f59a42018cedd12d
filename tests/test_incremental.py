"""A rebuild reads only what changed (black's rule): a service directory whose files, and every
file its services were built from, keep their size and modification time is not read again,
and its charts and warnings stand as they were."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from runway.errors import ExitCode
from runway.manifest import loader
from tests.conftest import MANIFESTS, run_cli


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The service directories each build reads."""
    seen: list[str] = []
    real = loader.load_group

    def counting(directory: Path, files: list[Path]) -> object:
        seen.append(directory.name)
        return real(directory, files)

    monkeypatch.setattr(loader, "load_group", counting)
    return seen


def _build(manifests: Path, out: Path, *extra: str) -> tuple[str, str]:
    done = run_cli("build", str(manifests), "-o", str(out), "--no-verify", *extra)
    assert done.exit_code == 0, done.stderr
    return done.stdout, done.stderr


def test_an_unchanged_tree_is_not_read_again(tmp_path: Path, reads: list[str]) -> None:
    manifests = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, manifests)
    out = tmp_path / "charts"
    first_out, first_err = _build(manifests, out)
    assert sorted(reads) == sorted(p.name for p in MANIFESTS.iterdir() if p.is_dir())
    reads.clear()
    second_out, second_err = _build(manifests, out)
    assert reads == []
    assert second_out == first_out.replace("built ", "unchanged ")
    warnings = [line for line in first_err.splitlines() if "warning:" in line]
    assert warnings and [x for x in second_err.splitlines() if "warning:" in x] == warnings

    manifest = manifests / "kas" / "runway.yml"
    os.utime(manifest, ns=(manifest.stat().st_atime_ns, manifest.stat().st_mtime_ns + 10**9))
    reads.clear()
    touched_out, _ = _build(manifests, out)
    assert reads == ["kas"] and touched_out == second_out, "read again, but nothing changed"
    reads.clear()
    _build(manifests, out)
    assert reads == [], "the new modification time was recorded"

    manifest.write_text(manifest.read_text().replace("min_instances: 2", "min_instances: 3"))
    reads.clear()
    edited_out, _ = _build(manifests, out)
    assert reads == ["kas"] and f"built {out / 'kas'}" in edited_out
    reads.clear()
    _build(manifests, out, "--version", "2.0.0")
    assert len(reads) == 4, "other options: every service is read again"


def test_a_new_service_cannot_take_the_name_of_one_that_is_not_read_again(
    tmp_path: Path,
) -> None:
    manifests = tmp_path / "manifests"
    shutil.copytree(MANIFESTS / "kas", manifests / "kas")
    out = tmp_path / "charts"
    _build(manifests, out)
    shutil.copytree(MANIFESTS / "kas", manifests / "kas-copy")
    done = run_cli("build", str(manifests), "-o", str(out), "--no-verify")
    assert done.exit_code == ExitCode.INVALID_INPUT
    assert "same chart name 'kas' as the service in" in done.stderr


def test_a_cache_runway_did_not_write_is_not_trusted(tmp_path: Path, reads: list[str]) -> None:
    import json

    manifests = tmp_path / "manifests"
    shutil.copytree(MANIFESTS / "ai-gateway", manifests / "ai-gateway")
    out = tmp_path / "charts"
    _build(manifests, out)
    cache_file = out / ".runway-build-cache.json"
    cache = json.loads(cache_file.read_text())
    for entry in cache.values():
        entry["warnings"] = [{"file": "x", "message": "y", "planted": True}]
        entry["notes"] = [{"no": "such field"}]
    cache_file.write_text(json.dumps(cache))
    reads.clear()
    _, stderr = _build(manifests, out)
    assert reads == ["ai-gateway"], "read again rather than trusting the cache"
    assert "planted" not in stderr and "startup CPU boost" in stderr
    cache_file.write_text("[" * 100_000 + "]" * 100_000)  # nested past what json reads
    reads.clear()
    _build(manifests, out)
    assert reads == ["ai-gateway"]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".runway-build-cache.json"
    }


MANY = """\
apiVersion: runway/v1
kind: RunwayService
metadata:
  name: svc-{i}
  owner_email_handle: builds
spec:
  regions: [us-east1]
  request_timeout: {timeout}
  liveness_probe:
    path: /healthz
"""


def _many(manifests: Path, count: int) -> None:
    """`count` services, each in its own directory, alike but for name and timeout."""
    for i in range(count):
        (manifests / f"svc-{i}").mkdir(parents=True)
        (manifests / f"svc-{i}" / "runway.yml").write_text(MANY.format(i=i, timeout=60 + i))


def test_a_build_on_several_cores_writes_what_one_core_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many services are compiled and staged by worker processes, then put in place: the charts
    must be the bytes a build in one process writes, and a rebuild finds them unchanged."""
    from runway.chart import build
    from runway.common import parallel

    manifests = tmp_path / "manifests"
    _many(manifests, 6)
    monkeypatch.setattr(build, "PER_WORKER", 2)
    monkeypatch.setattr(build, "CHUNK", 1)
    monkeypatch.setenv("RUNWAY_JOBS", "1")
    _build(manifests, tmp_path / "one")
    monkeypatch.setenv("RUNWAY_JOBS", "2")
    assert parallel.processes(6, build.PER_WORKER) == 2
    _, said = _build(manifests, tmp_path / "two")
    assert "built 6, 0 unchanged" in said, said
    assert _tree(tmp_path / "two") == _tree(tmp_path / "one") and len(_tree(tmp_path / "one")) > 100
    assert not [p for p in (tmp_path / "two").iterdir() if p.name.startswith(".svc")]
    for i in range(6):  # compiled again (on the workers) to the same bytes: nothing staged
        with (manifests / f"svc-{i}" / "runway.yml").open("a") as manifest:
            manifest.write("# a comment changes the input, not the chart\n")
    _, said = _build(manifests, tmp_path / "two")
    assert "built 0, 6 unchanged" in said, said
    assert _tree(tmp_path / "two") == _tree(tmp_path / "one")


def test_a_worker_that_cannot_write_leaves_the_output_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One chart a worker cannot stage (a file stands where its directory goes): the build
    fails naming it, puts none of the others in place and leaves no staging directory."""
    from runway.chart import build

    manifests = tmp_path / "manifests"
    _many(manifests, 6)
    monkeypatch.setattr(build, "PER_WORKER", 2)
    monkeypatch.setattr(build, "CHUNK", 1)
    monkeypatch.setenv("RUNWAY_JOBS", "2")
    out = tmp_path / "out"
    out.mkdir()
    (out / "svc-4").write_text("not a chart directory\n")
    done = run_cli("build", str(manifests), "-o", str(out), "--no-verify")
    assert done.exit_code != 0 and "svc-4" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["svc-4"]


FORKED_BUILD = """
import json, multiprocessing, os, sys, threading, time
from pathlib import Path
from runway.chart import build
from runway.chart.spec import BuildOptions
from runway.manifest import loader

manifests, out, log = map(Path, sys.argv[1:4])
build.PER_WORKER, build.CHUNK = 2, 1
methods = []
get_context = multiprocessing.get_context
multiprocessing.get_context = lambda method=None: methods.append(method) or get_context(method)
load_group = loader.load_group


def logged(*args):
    with open(log, "a") as out_log:
        out_log.write(f"{os.getpid()}\\n")
    return load_group(*args)


loader.load_group = logged
options = BuildOptions(image="registry.example.com/svc:1.0.0")
os.environ["RUNWAY_JOBS"] = "2"
build.build(build.BuildRequest((manifests,), out / "forked", options))
loader.load_group = load_group
threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
build.build(build.BuildRequest((manifests,), out / "spawned", options))
os.environ["RUNWAY_JOBS"] = "1"
build.build(build.BuildRequest((manifests,), out / "alone", options))
print(json.dumps({"parent": os.getpid(), "methods": methods}))
"""


def test_a_build_of_many_services_reads_and_compiles_them_on_workers_it_may_fork(
    tmp_path: Path,
) -> None:
    """Workers start before anything is read, read the manifests, then compile them. Forked
    from a process with no other thread (nothing to import again), they read and write what a
    one-process build does; with a thread running, they are spawned, to the same bytes."""
    import json
    import subprocess
    import sys

    manifests = tmp_path / "manifests"
    _many(manifests, 6)
    log = tmp_path / "reads.log"
    done = subprocess.run(
        [sys.executable, "-c", FORKED_BUILD, str(manifests), str(tmp_path), str(log)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout.splitlines()[-1])
    assert said["methods"] == ["fork", "spawn"], said
    readers = set(log.read_text().split())
    assert len(readers) == 2 and str(said["parent"]) not in readers, (readers, said)
    alone = _tree(tmp_path / "alone")
    assert len(alone) > 100
    assert _tree(tmp_path / "forked") == alone and _tree(tmp_path / "spawned") == alone


def test_an_invalid_manifest_among_many_fails_the_build_as_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read on workers, an invalid manifest gives the diagnostics a one-process build gives,
    and nothing is written."""
    from runway.chart import build

    manifests = tmp_path / "manifests"
    _many(manifests, 6)
    (manifests / "svc-3" / "runway.yml").write_text("apiVersion: runway/v1\nkind: nonsense\n")
    monkeypatch.setattr(build, "PER_WORKER", 2)
    monkeypatch.setattr(build, "CHUNK", 1)
    said = {}
    for jobs in ("1", "2"):
        monkeypatch.setenv("RUNWAY_JOBS", jobs)
        done = run_cli("build", str(manifests), "-o", str(tmp_path / jobs), "--no-verify")
        assert done.exit_code == ExitCode.INVALID_INPUT and not (tmp_path / jobs).exists()
        said[jobs] = done.stderr.replace(f"in {jobs}", "")
    assert said["1"].split(" in ")[0] == said["2"].split(" in ")[0]
    assert "svc-3" in said["2"]
