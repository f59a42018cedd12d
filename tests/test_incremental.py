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
