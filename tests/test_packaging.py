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
    # Every process of the run, its verify workers too, starts without the development tools.
    (target / "sitecustomize.py").write_text(WITHOUT.format(packages=DEVELOPMENT_ONLY))
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


def test_pulumi_is_only_in_the_stacks_extra(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        requires = [
            line.split(":", 1)[1].strip()
            for line in archive.read(name).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]
    pulumi = [r for r in requires if r.lower().startswith("pulumi")]
    assert len(pulumi) == 5 and all('extra == "stacks"' in r for r in pulumi), pulumi
    base = [r for r in requires if "extra ==" not in r]
    assert any(r.startswith("helm-python-sdk") for r in base), "chart work needs the Helm engine"


WITHOUT = """
import importlib.abc, sys

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {packages!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
"""
"""Python run first in a process where the named top-level packages seem not installed."""

DEVELOPMENT_ONLY = ("kubernetes_validate", "jsonschema", "jsonschema_specifications", "referencing")
"""What `runway[dev]` adds that chart work must not need (jsonschema-rs stays)."""

PULUMI = ("pulumi", "pulumi_gcp", "pulumi_gitlab", "pulumi_kubernetes", "pulumi_random")

WITHOUT_PULUMI = (
    WITHOUT.format(packages=PULUMI)
    + """
from runway.cli import main
sys.argv = ["runway", *sys.argv[1:]]
main()
"""
)


def _without_pulumi(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PULUMI, *args], cwd=cwd, capture_output=True, text=True
    )


def test_chart_work_runs_without_pulumi_and_stack_names_the_extra(tmp_path: Path) -> None:
    built = _without_pulumi("build", str(MANIFESTS / "kas"), "-o", str(tmp_path / "out"), cwd=ROOT)
    assert built.returncode == 0, built.stderr
    assert "kas: ok" in built.stdout and "verified 1, 0 cached, 0 failed" in built.stderr
    plan = _without_pulumi("stack", "plan", "environments/staging.yml", cwd=ROOT)
    assert plan.returncode == 1, plan.stderr
    assert "pip install 'runway[stacks]'" in plan.stderr
    assert "Traceback" not in plan.stderr
