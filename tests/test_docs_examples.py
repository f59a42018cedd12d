"""Every shell example in README.md and docs/ that can run offline is run, in document order, in
a copy of the repository (sharing this .venv), so a broken example fails CI.

A ```sh block that cannot run here says why in a `<!-- not run offline: … -->` line just above
it. Registry URLs of the examples (`oci://registry.example.com/…`) point at the tests' real OCI
registry; `./dev test` is not run from inside the suite it starts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT
from tests.servers import Registry

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- not run offline: (?P<why>[^>]+?) -->\n)?```sh\n(?P<body>.*?)```", re.S)
NOT_FROM_INSIDE = {"./dev test": "it starts this test suite"}


def examples() -> list[tuple[str, str, str]]:
    """(where, script, why not run) of every ```sh block, in document order."""
    found = []
    for document in DOCUMENTS:
        text = document.read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start("body"))
            where = f"{document.relative_to(ROOT)}:{line}"
            found.append((where, match["body"], (match["why"] or "").strip()))
    return found


def _copy_of_the_repository(target: Path) -> Path:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def test_the_parser_sees_every_block_and_each_skip_has_a_reason() -> None:
    found = examples()
    fenced = sum(d.read_text().count("```sh\n") for d in DOCUMENTS)
    assert len(found) == fenced
    assert sum(1 for _, _, why in found if not why) >= 6, "most examples run"


def test_every_offline_shell_example_in_the_docs_runs(registry: Registry, tmp_path: Path) -> None:
    work = _copy_of_the_repository(tmp_path / "repo")
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "RUNWAY_PLAIN_HTTP": "1",
        "HOME": str(tmp_path / "home"),
        "RUNWAY_DEV_SHARED_VENV": "1",
    }
    ran = []
    for where, script, why in examples():
        if why:
            continue
        lines = [
            line
            for line in script.splitlines()
            if not any(line.startswith(skipped) for skipped in NOT_FROM_INSIDE)
        ]
        body = "\n".join(lines).replace("oci://registry.example.com/", f"oci://{registry.host}/")
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", body],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{where}:\n{body}\n{done.stdout}\n{done.stderr}"
        ran.append(where)
    assert (work / "dist" / "packages" / "kas-1.2.3.tgz").exists()
    assert (work / "workload.yml").exists() and (work / "bundle").is_dir()
    assert len(ran) >= 6, ran
