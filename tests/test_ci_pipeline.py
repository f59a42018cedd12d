"""The CI pipelines' scripts, run for real: a tag pipeline builds, verifies, packages, publishes
and promotes every chart into the real OCI registry, exactly as the jobs would in GitLab CI.

Only the install lines (pip, apt) are left out; this environment already has them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python
from ruamel.yaml import YAML

from tests.conftest import MANIFESTS, ROOT, ci_template
from tests.servers import Registry


def _job_lines(jobs: dict[str, Any], name: str) -> list[str]:
    job = jobs[name]
    before: list[str] | None = job.get("before_script")
    parent = job.get("extends")
    while before is None and parent:
        before = jobs[parent].get("before_script")
        parent = jobs[parent].get("extends")
    lines = [*(before or []), *job["script"]]
    return [line for line in lines if not re.match(r"^(python -m pip|apt-get) ", line)]


def _project(tmp_path: Path) -> Path:
    work = tmp_path / "project"
    shutil.copytree(MANIFESTS, work / "manifests")
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    }
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "."],
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "-qm", "x"],
    ):
        subprocess.run(command, cwd=work, env=env, check=True)
    return work


def _run(jobs: dict[str, Any], names: list[str], work: Path, env: dict[str, str]) -> None:
    for name in names:
        script = "\n".join(_job_lines(jobs, name))
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"job {name} failed:\n{done.stdout}\n{done.stderr}"


def _env(registry: Registry, **extra: str) -> dict[str, str]:
    """The job's environment; job variables expand `$VAR` references as GitLab does."""
    base = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CI_COMMIT_TAG": "v1.2.3",
        "CI_PIPELINE_IID": "7",
        "CI_REGISTRY_IMAGE": "registry.example.com/group/service",
        "CI_COMMIT_SHORT_SHA": "a1b2c3d4",
        "RUNWAY_PLAIN_HTTP": "1",
        "RUNWAY_STAGES": "canary,stable",
    }
    expanded = {
        key: re.sub(r"\$\{?([A-Z_][A-Z0-9_]*)\}?", lambda m: base.get(str(m[1]), str(m[0])), value)
        for key, value in extra.items()
    }
    return {**base, **expanded}


def _tags(registry: Registry, repository: str) -> list[str]:
    return sorted(
        helm_python.RegistryClient(plain_http=True).tags(f"oci://{registry.host}/{repository}")
    )


def test_a_tag_pipeline_publishes_every_chart_and_the_manual_job_promotes_it(
    registry: Registry, repo: str, tmp_path: Path
) -> None:
    jobs = YAML(typ="safe").load((ROOT / ".gitlab-ci.yml").read_text())
    work = _project(tmp_path)
    env = _env(registry, CHART_REGISTRY=registry.url(repo), PROMOTE_TO="stable")
    _run(jobs, ["build", "verify", "package", "publish", "promote"], work, env)
    names = sorted(p.name for p in MANIFESTS.iterdir() if p.is_dir())
    for name in names:
        assert _tags(registry, f"{repo}/stable/{name}") == ["1.2.3"]
    assert (work / "packages.txt").read_text().count("sha256:") == len(names)


def test_the_reusable_template_validates_builds_publishes_and_promotes_one_service(
    registry: Registry, repo: str, tmp_path: Path
) -> None:
    given = {"manifest": "manifests/kas", "registry": registry.url(repo)}
    _, jobs = ci_template((ROOT / "ci" / "runway-chart.yml").read_text(), given)
    work = _project(tmp_path)
    env = _env(registry, **{k: str(v) for k, v in jobs[".runway-base"]["variables"].items()})
    _run(jobs, ["runway-validate", "runway-chart", "runway-publish", "runway-promote"], work, env)
    image = YAML(typ="safe").load((work / "dist" / "charts" / "kas" / "values.yaml").read_text())[
        "image"
    ]
    assert (image["registry"], image["repository"], image["tag"]) == (
        "registry.example.com",
        "group/service",
        "a1b2c3d4",
    ), "the template passes the service's image to build (--image)"
    assert _tags(registry, f"{repo}/stable/kas") == ["1.2.3"]
    assert _tags(registry, f"{repo}/canary/kas") == ["1.2.3"]
