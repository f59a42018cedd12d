"""The CI pipelines, run by gitlab-ci-local (a GitLab CI engine) through its shell executor: a tag
pipeline of runway's own `.gitlab-ci.yml`, and a sample service project that includes the
reusable template, each building, verifying, packaging, publishing into the real OCI registry and
running the manual promote job.

The test's copies differ from the files in two ways only, because this machine has no container
runtime and already has runway installed: `image:` keys are dropped (so the shell executor runs
the jobs), and the install lines (`python -m pip install …`, `apt-get …`) become `'true'` (a pip
install here would replace the running venv). The `test` job is not run: it is this suite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python
import pytest
from ruamel.yaml import YAML

from tests.conftest import MANIFESTS, ROOT
from tests.servers import Registry

GITLAB_CI_LOCAL = Path(
    os.environ.get(
        "RUNWAY_GITLAB_CI_LOCAL",
        ROOT / ".venv" / "tools" / "gitlab-ci-local" / "node_modules" / ".bin" / "gitlab-ci-local",
    )
)
TAG = "v1.2.3"
INSTALL_LINE = re.compile(r"^(\s*- )(python -m pip install|apt-get) .*$", re.M)


def for_the_shell_executor(text: str) -> str:
    """The pipeline as this machine can run it (see the module docstring)."""
    text = re.sub(r"^\s*image: .*\n", "", text, flags=re.M)
    return INSTALL_LINE.sub(r"\1'true'", text)


def _git(work: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    }
    done = subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.com", *args],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def _commit_and_tag(work: Path) -> str:
    _git(work, "init", "-q", "-b", "main")
    _git(work, "remote", "add", "origin", "https://gitlab.example.com/group/service.git")
    _git(work, "add", ".")
    _git(work, "commit", "-qm", "release")
    _git(work, "tag", TAG)
    return _git(work, "rev-parse", "--short=8", "HEAD")


def _pipeline(work: Path, jobs: list[str], manual: list[str], *variables: str) -> str:
    """Run `jobs` as a tag pipeline would: CI_COMMIT_TAG set, no CI_COMMIT_BRANCH."""
    assert GITLAB_CI_LOCAL.exists(), (
        f"gitlab-ci-local is missing at {GITLAB_CI_LOCAL}: ./dev test installs it"
    )
    command = [
        str(GITLAB_CI_LOCAL),
        "--home",
        str(work.parent / "gcl-home"),
        "--variable",
        f"CI_COMMIT_TAG={TAG}",
        "--variable",
        f"CI_COMMIT_REF_NAME={TAG}",
        "--variable",
        "CI_PIPELINE_SOURCE=push",
        "--unset-variable",
        "CI_COMMIT_BRANCH",
        "--variable",
        "CI_PIPELINE_IID=7",
        "--variable",
        "CI_REGISTRY_IMAGE=registry.example.com/group/service",
        "--variable",
        "RUNWAY_PLAIN_HTTP=1",
        *(arg for v in variables for arg in ("--variable", v)),
        *(arg for job in manual for arg in ("--manual", job)),
        *jobs,
    ]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    for job in jobs:
        assert re.search(rf"PASS\s+{re.escape(job)}\b", log), f"{job} did not pass:\n{log}"
    return log


def _tags(registry: Registry, repository: str) -> list[str]:
    return sorted(
        helm_python.RegistryClient(plain_http=True).tags(f"oci://{registry.host}/{repository}")
    )


def test_the_install_lines_are_all_the_test_replaces() -> None:
    for path in (ROOT / ".gitlab-ci.yml", ROOT / "ci" / "runway-chart.yml"):
        text = path.read_text()
        replaced = for_the_shell_executor(text)
        assert INSTALL_LINE.search(text), f"{path.name} installs what its jobs use"
        assert len(text.splitlines()) - len(replaced.splitlines()) == text.count("image: ")


def test_a_tag_pipeline_publishes_every_chart_and_the_manual_job_promotes_it(
    registry: Registry, repo: str, tmp_path: Path
) -> None:
    work = tmp_path / "runway"
    shutil.copytree(MANIFESTS, work / "manifests")
    (work / ".gitlab-ci.yml").write_text(
        for_the_shell_executor((ROOT / ".gitlab-ci.yml").read_text())
    )
    _commit_and_tag(work)
    jobs = ["validate", "build", "verify", "package", "publish", "promote"]
    _pipeline(work, jobs, ["promote"], f"CHART_REGISTRY={registry.url(repo)}")
    names = sorted(p.name for p in MANIFESTS.iterdir() if p.is_dir())
    for name in names:
        assert _tags(registry, f"{repo}/canary/{name}") == ["1.2.3"]
        assert _tags(registry, f"{repo}/stable/{name}") == ["1.2.3"]
    listed = [p.read_text() for p in sorted(work.glob("packages-*.txt"))]
    assert len(listed) == 2, "package fans out over two shards"
    assert "".join(listed).count("sha256:") == len(names), "each chart packaged by one shard"
    assert (work / "validate.json").exists(), "validate's artifact"


@pytest.fixture
def service_project(tmp_path: Path) -> Path:
    """A service's repository: its manifest in .runway/, its .gitlab-ci.yml including the
    template (a local include: gitlab-ci-local cannot reach another project)."""
    work = tmp_path / "service"
    shutil.copytree(MANIFESTS / "kas", work / ".runway")
    template = for_the_shell_executor((ROOT / "ci" / "runway-chart.yml").read_text())
    (work / "ci").mkdir()
    (work / "ci" / "runway-chart.yml").write_text(template)
    return work


def test_a_service_project_including_the_template_publishes_and_promotes_its_chart(
    registry: Registry, repo: str, service_project: Path
) -> None:
    include = {
        "include": [
            {
                "local": "ci/runway-chart.yml",
                "inputs": {"registry": registry.url(repo), "runway": "runway"},
            }
        ]
    }
    (service_project / ".gitlab-ci.yml").write_text(json.dumps(include, indent=2))
    short_sha = _commit_and_tag(service_project)
    jobs = ["runway-validate", "runway-chart", "runway-publish", "runway-promote"]
    log = _pipeline(service_project, jobs, ["runway-promote"])
    values = (service_project / "dist" / "charts" / "kas" / "values.yaml").read_text()
    image: dict[str, Any] = YAML(typ="safe").load(values)["image"]
    assert (image["registry"], image["repository"], image["tag"]) == (
        "registry.example.com",
        "group/service",
        short_sha,
    ), "the template passes the service's image to build (--image)"
    assert _tags(registry, f"{repo}/canary/kas") == ["1.2.3"]
    assert _tags(registry, f"{repo}/stable/kas") == ["1.2.3"]
    expanded = YAML(typ="safe").load(
        (service_project / ".gitlab-ci-local" / "expanded-gitlab-ci.yml").read_text()
    )
    for job in jobs:
        assert expanded[job]["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip"
        assert expanded[job]["cache"][0]["paths"] == [".cache/pip"], "pip downloads are cached"
    assert "built dist/charts/kas" in log and "verified 1, 0 cached, 0 failed" in log
