"""Contract tests: GitLab's package registry Helm channels, one channel per stage.

No GitLab runs here; `GitLabHelmApi` speaks exactly the documented API (upload, index, download,
the three token kinds, duplicates accepted), so these tests pin what runway sends and expects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import helm_python
import pytest

from runway.publish.archive import read_archive
from tests.conftest import QUICK_RETRY, Result, run_cli
from tests.servers import GitLabHelmApi

Archives = Callable[..., Path]
TOKEN = {"RUNWAY_GITLAB_TOKEN": "glpat-test"}


@pytest.fixture
def gitlab() -> Iterator[GitLabHelmApi]:
    server = GitLabHelmApi()
    yield server
    server.close()


def _publish(gitlab: GitLabHelmApi, *archives: Path, env: dict[str, str] = TOKEN) -> Result:
    return run_cli("publish", *map(str, archives), "--to", gitlab.base, env={**QUICK_RETRY, **env})


def test_publish_uploads_each_chart_once_to_the_first_channel(
    gitlab: GitLabHelmApi, archives: Archives
) -> None:
    kas, agentk = archives("kas", "1.0.0"), archives("agentk", "1.0.0")
    result = _publish(gitlab, kas, agentk)
    assert result.exit_code == 0, result.stderr
    assert sorted(gitlab.uploads) == [("canary", "agentk", "1.0.0"), ("canary", "kas", "1.0.0")]
    assert gitlab.packages["canary"][0][1] in (kas.read_bytes(), agentk.read_bytes())
    assert f"published kas 1.0.0 → {gitlab.base}/canary" in result.stdout

    again = _publish(gitlab, kas, agentk)
    assert again.exit_code == 0
    assert len(gitlab.uploads) == 2, "GitLab would accept a duplicate; runway does not send one"


@pytest.mark.parametrize(
    "env",
    [
        {"RUNWAY_GITLAB_TOKEN": "glpat-test"},
        {"CI_JOB_TOKEN": "job-test"},
        {"RUNWAY_REGISTRY_USER": "deploy-user", "RUNWAY_REGISTRY_PASSWORD": "deploy-secret"},
    ],
    ids=["private-token", "job-token", "deploy-token"],
)
def test_every_documented_token_kind_is_sent_as_gitlab_expects(
    gitlab: GitLabHelmApi, archives: Archives, env: dict[str, str]
) -> None:
    result = _publish(gitlab, archives("kas", "1.0.0"), env=env)
    assert result.exit_code == 0, result.stderr
    assert gitlab.uploads == [("canary", "kas", "1.0.0")]


def test_a_missing_or_wrong_token_is_a_clear_message(
    gitlab: GitLabHelmApi, archives: Archives
) -> None:
    for env in ({}, {"RUNWAY_GITLAB_TOKEN": "glpat-wrong"}):
        result = _publish(gitlab, archives("kas", "1.0.0"), env=env)
        assert result.exit_code == 1
        assert "refused the credentials (HTTP 401)" in result.stderr
        assert "glpat-wrong" not in result.stderr
    assert gitlab.uploads == []


def test_a_different_archive_under_a_published_version_is_refused(
    gitlab: GitLabHelmApi, archives: Archives
) -> None:
    assert _publish(gitlab, archives("kas", "1.0.0")).exit_code == 0
    changed = archives("kas", "1.0.0", image="registry.example.com/kas:v18.0.0")
    refused = _publish(gitlab, changed)
    assert refused.exit_code == 1
    assert "already published in canary" in refused.stderr
    assert len(gitlab.uploads) == 1


def test_promote_uploads_the_same_bytes_to_the_next_channel_and_resolve_reads_channels(
    gitlab: GitLabHelmApi, archives: Archives
) -> None:
    old, new = archives("kas", "1.0.0", ">=17.0 <18.0"), archives("kas", "1.1.0", ">=17.0 <19.0")
    assert _publish(gitlab, old, new).exit_code == 0
    promoted = run_cli(
        "promote", "kas", "1.0.0", "--to", "stable", "--registry", gitlab.base, env=TOKEN
    )
    assert promoted.exit_code == 0, promoted.stderr
    stable = [data for meta, data in gitlab.packages["stable"] if meta["version"] == "1.0.0"]
    assert stable == [old.read_bytes()]

    def resolve(stage: str) -> dict[str, str]:
        result = run_cli(
            "resolve",
            "kas",
            "--gitlab-version",
            "17.9.2",
            "--stage",
            stage,
            "--registry",
            gitlab.base,
            "--format",
            "json",
            env=TOKEN,
        )
        assert result.exit_code == 0, result.stderr
        release: dict[str, str] = json.loads(result.stdout)["release"]
        return release

    assert resolve("stable")["version"] == "1.0.0"
    assert resolve("canary")["version"] == "1.1.0"
    assert resolve("stable")["digest"] == read_archive(old).digest
    assert resolve("stable")["reference"] == f"{gitlab.base}/stable"


@pytest.mark.parametrize("urls", ["charts/kas-1.0.0.tgz", [], None], ids=["text", "empty", "null"])
def test_an_entry_without_a_digest_or_a_list_of_urls_is_downloaded_from_its_usual_place(
    gitlab: GitLabHelmApi, archives: Archives, urls: Any
) -> None:
    kas = archives("kas", "1.0.0", ">=17.0")
    assert _publish(gitlab, kas).exit_code == 0

    def edit(entry: dict[str, Any]) -> None:
        del entry["digest"]
        entry["urls"] = urls

    gitlab.edit_entry = edit
    result = run_cli(
        "resolve", "kas", "--gitlab-version", "17.9", "--stage", "canary",
        "--registry", gitlab.base, "--format", "json", env=TOKEN,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["release"]["digest"] == read_archive(kas).digest


def test_an_upload_answered_503_is_retried(gitlab: GitLabHelmApi, archives: Archives) -> None:
    gitlab.unavailable = 2
    result = _publish(gitlab, archives("kas", "1.0.0"))
    assert result.exit_code == 0, result.stderr
    assert gitlab.uploads == [("canary", "kas", "1.0.0")]


def test_helm_installs_from_the_channel_runway_published_to(
    gitlab: GitLabHelmApi, archives: Archives, tmp_path: Path
) -> None:
    kas = archives("kas", "1.0.0")
    assert _publish(gitlab, kas).exit_code == 0
    helm_python.pull(
        "kas",
        repo_url=f"{gitlab.base}/canary",
        version="1.0.0",
        destination=tmp_path,
        username="deploy-user",
        password="deploy-secret",
    )
    assert (tmp_path / "kas-1.0.0.tgz").read_bytes() == kas.read_bytes()


def test_a_url_that_is_no_registry_is_refused(archives: Archives) -> None:
    result = run_cli("publish", str(archives("kas", "1.0.0")), "--to", "https://example.com/charts")
    assert result.exit_code == 2
    assert "not a registry URL runway knows" in result.stderr
