"""The toolkit as a user installs it (a wheel, not this checkout): every module, the base chart
and the data files are in it, and it builds the shipped charts from another directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import MANIFESTS, ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("runway-*.whl")
    return found


def test_the_wheel_holds_every_module_the_base_chart_and_the_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "runway").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert sources <= names, sorted(sources - names)
    templates = {
        "runway/chart_templates/" + p.relative_to(ROOT / "chart-templates").as_posix()
        for p in (ROOT / "chart-templates").rglob("*")
        if p.is_file()
    }
    assert templates <= names, sorted(templates - names)


def test_the_installed_wheel_builds_the_shipped_charts_elsewhere(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "work"
    work.mkdir()
    code = (
        "import sys, runway; assert runway.__file__.startswith(sys.argv[1]), runway.__file__\n"
        "from runway.cli import main\n"
        "sys.argv = ['runway', 'build', sys.argv[2], '-o', 'out']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(target), str(MANIFESTS)],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "verify out/kas: ok" in done.stdout
    assert (work / "out" / "kas" / "templates" / "deployment.yaml").is_file()
