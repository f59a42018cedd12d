"""Shared helpers: small file trees on disk and the CLI run in-process."""

from __future__ import annotations

import dataclasses
import os
import re
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from runway import cli
from tests.servers import Registry

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MANIFESTS = ROOT / "manifests"


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write `files` (relative path → text, dedented, or bytes) under `root`."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@dataclasses.dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    runner = CliRunner()
    outcome = runner.invoke(cli.main, list(args), catch_exceptions=False, env=env)
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr)


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[Mapping[str, str | bytes]], Path]:
    def make(files: Mapping[str, str | bytes]) -> Path:
        return write_tree(tmp_path, files)

    return make


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The real OCI registry for this test session (each test uses its own repository path)."""
    server = Registry(tmp_path_factory.mktemp("registry")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    server = Registry(tmp_path_factory.mktemp("auth-registry"), users=REGISTRY_USERS).start()
    yield server
    server.stop()


REGISTRY_USERS = {"ci-bot": "correct horse battery staple"}


@pytest.fixture
def repo(request: pytest.FixtureRequest) -> str:
    """A repository path no other test uses."""
    return "t/" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:60].strip("-")


@pytest.fixture(scope="session")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """`archives("kas", "1.0.0", ">=17.0 <18.0")` → a packaged chart (built once per session)."""
    root = tmp_path_factory.mktemp("archives")
    made: dict[tuple[str, str, str | None, str], Path] = {}

    def make(name: str, version: str, gitlab_versions: str | None = None, image: str = "") -> Path:
        key = (name, version, gitlab_versions, image)
        if key not in made:
            charts = root / f"charts-{len(made)}"
            args = ["build", str(MANIFESTS / name), "-o", str(charts), "--version", version]
            args += ["--no-verify"]
            if gitlab_versions:
                args += ["--gitlab-versions", gitlab_versions]
            if image:
                args += ["--image", image]
            built = run_cli(*args)
            assert built.exit_code == 0, built.stderr
            packaged = run_cli("package", str(charts / name), "-o", str(root / f"pkg-{len(made)}"))
            assert packaged.exit_code == 0, packaged.stderr
            made[key] = Path(packaged.stdout.split()[0])
        return made[key]

    return make


# Publishing waits RUNWAY_PUBLISH_SETTLE (1 s) before its last read-back to catch a racing
# publish; tests that do not race keep it short (the race test sets its own).
os.environ.setdefault("RUNWAY_PUBLISH_SETTLE", "0.05")

QUICK_RETRY = {
    "RUNWAY_RETRY_ATTEMPTS": "4",
    "RUNWAY_RETRY_WAIT": "0.05",
    "RUNWAY_PUBLISH_SETTLE": "0",
}


_INPUT = re.compile(r"\$\[\[\s*inputs\.(\w+)\s*\]\]")


def ci_template(text: str, given: Mapping[str, str] | None = None) -> tuple[set[str], Any]:
    """(inputs used, jobs) of a GitLab CI template with `spec:inputs`, interpolated as GitLab
    would: given values, else each input's default."""
    header = YAML(typ="safe").load(text.split("\n---\n", 1)[0])
    declared = header["spec"]["inputs"]
    values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    values.update(given or {})
    used = set(_INPUT.findall(text))
    body = _INPUT.sub(lambda match: values[match[1]], text.split("\n---\n", 1)[1])
    return used, YAML(typ="safe").load(body)
