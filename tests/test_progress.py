"""Long runs on a terminal show a bar instead of one line per chart; CI logs (no terminal),
NO_COLOR and --quiet get plain lines or only the summary; the summary line always comes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest

from runway.cli import _progress
from tests.conftest import MANIFESTS, run_cli


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("charts")
    for service in ("agentk", "ai-gateway"):
        assert (
            run_cli("build", str(MANIFESTS / service), "-o", str(out), "--no-verify").exit_code == 0
        )
    return sorted(str(p) for p in out.iterdir() if p.is_dir())


def test_without_a_terminal_each_chart_gets_its_line(charts: list[str]) -> None:
    done = run_cli("verify", *charts)
    assert done.exit_code == 0, done.stderr
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == [
        f"verify {c}" for c in charts
    ]
    assert "verified 2, 0 failed in " in done.stderr


def test_on_a_terminal_the_bar_stands_for_the_lines(
    charts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[int] = []
    real = click.progressbar

    def progressbar(**kwargs: Any) -> Any:
        shown.append(int(kwargs["length"]))
        return real(**kwargs)

    monkeypatch.setattr(_progress, "_is_terminal", lambda stream: True)
    monkeypatch.setattr(click, "progressbar", progressbar)
    monkeypatch.delenv("NO_COLOR", raising=False)
    done = run_cli("verify", *charts)
    assert done.exit_code == 0 and shown == [2]
    assert "verify " not in done.stdout, "no line per chart under the bar"
    assert "verified 2, 0 failed in " in done.stderr

    shown.clear()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = run_cli("verify", *charts)
    assert shown == [] and plain.stdout.count(": ok (") == 2


def test_quiet_keeps_problems_and_the_summary_only(charts: list[str], tmp_path: Path) -> None:
    done = run_cli("verify", "--quiet", *charts)
    assert done.exit_code == 0 and done.stdout == ""
    assert "verified 2, 0 failed" in done.stderr
    built = run_cli("build", str(MANIFESTS / "kas"), "-o", str(tmp_path), "-q")
    assert built.exit_code == 0 and built.stdout == ""
    assert (
        "built 1, 0 unchanged in" in built.stderr
        and "verified 1, 0 cached, 0 failed" in built.stderr
    )


def test_after_builds_bar_the_terminal_gets_no_line_per_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_progress, "_is_terminal", lambda stream: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    done = run_cli("build", str(MANIFESTS), "-o", str(tmp_path), "--no-verify")
    assert done.exit_code == 0, done.stderr
    assert "built " not in done.stdout and "built 4, 0 unchanged in " in done.stderr
