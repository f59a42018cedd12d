"""A rebuild verifies only what changed: a chart that passed and keeps every file's size and
modification time, checked by the same runway and checkers, is not verified again; anything
else is, and a failure is never remembered."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runway import verify
from runway.errors import ExitCode
from runway.verify import cache
from tests.conftest import MANIFESTS, run_cli


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The charts each build actually verifies."""
    seen: list[str] = []
    real = verify.verify_chart

    def counting(chart: Path, *, threads: int = 1) -> verify.ChartReport:
        seen.append(chart.name)
        return real(chart, threads=threads)

    monkeypatch.setattr(verify, "verify_chart", counting)
    monkeypatch.setenv("RUNWAY_JOBS", "1")  # in this process, where the count is kept
    return seen


def _build(out: Path, *extra: str) -> tuple[int, str, str]:
    done = run_cli("build", str(MANIFESTS), "-o", str(out), *extra)
    return done.exit_code, done.stdout, done.stderr


def test_a_rebuild_verifies_only_charts_that_changed(tmp_path: Path, verified: list[str]) -> None:
    out = tmp_path / "charts"
    code, _, _ = _build(out)
    assert code == ExitCode.OK
    names = sorted(p.name for p in MANIFESTS.iterdir() if p.is_dir())
    assert sorted(verified) == names
    verified.clear()
    code, second, err = _build(out)
    assert code == ExitCode.OK and verified == []
    assert f"verified {len(names)}, {len(names)} cached, 0 failed" in err
    assert "unchanged since it passed" in second

    values = out / "kas" / "values.yaml"
    os.utime(values, ns=(values.stat().st_atime_ns, values.stat().st_mtime_ns + 10**9))
    verified.clear()
    assert _build(out)[0] == ExitCode.OK
    assert verified == ["kas"], "a chart file with another modification time is verified again"


def test_a_chart_edited_after_it_passed_is_verified_again_and_fails(
    tmp_path: Path, verified: list[str]
) -> None:
    out = tmp_path / "charts"
    assert _build(out)[0] == ExitCode.OK
    deployment = out / "kas" / "templates" / "deployment.yaml"
    planted = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: planted}\ndata: {key: 1}\n"
    deployment.write_text(deployment.read_text() + planted)  # data values must be strings
    verified.clear()
    code, _, err = _build(out)
    assert code == ExitCode.VERIFY_FAILED and verified == ["kas"]
    assert "1 failed" in err and "planted" in err
    stored = json.loads((out / cache.CACHE_NAME).read_text())
    assert "kas" not in stored, "a failure is never remembered"
    verified.clear()
    assert _build(out)[0] == ExitCode.VERIFY_FAILED and verified == ["kas"]


def test_another_runway_or_checker_verifies_everything_again(
    tmp_path: Path, verified: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "charts"
    assert _build(out)[0] == ExitCode.OK
    cache._tool_digest.cache_clear()
    monkeypatch.setattr(cache, "CHECKERS", (*cache.CHECKERS, "pyyaml"))
    verified.clear()
    assert _build(out)[0] == ExitCode.OK
    assert len(verified) == 4
    cache._tool_digest.cache_clear()


def test_a_cache_runway_did_not_write_is_not_trusted(tmp_path: Path, verified: list[str]) -> None:
    out = tmp_path / "charts"
    assert _build(out)[0] == ExitCode.OK
    stored = json.loads((out / cache.CACHE_NAME).read_text())
    stored["kas"]["report"]["problems"] = ["planted"]
    stored["agentk"]["report"] = "passed, honestly"
    (out / cache.CACHE_NAME).write_text(json.dumps(stored))
    verified.clear()
    assert _build(out)[0] == ExitCode.OK
    assert sorted(verified) == ["agentk", "kas"]
    (out / cache.CACHE_NAME).write_text("{not json")
    verified.clear()
    assert _build(out)[0] == ExitCode.OK and len(verified) == 4


def test_build_json_says_which_verdicts_were_cached(tmp_path: Path) -> None:
    out = tmp_path / "charts"
    assert _build(out, "--format", "json")[0] == ExitCode.OK
    code, stdout, _ = _build(out, "--format", "json")
    assert code == ExitCode.OK
    assert [r["cached"] for r in json.loads(stdout)["verified"]] == [True] * 4


def test_runway_verify_itself_always_verifies(tmp_path: Path, verified: list[str]) -> None:
    out = tmp_path / "charts"
    assert _build(out)[0] == ExitCode.OK
    verified.clear()
    assert run_cli("verify", str(out / "kas")).exit_code == ExitCode.OK
    assert verified == ["kas"]
