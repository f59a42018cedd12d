"""Publish, promote and resolve against the real OCI registry (Debian's docker-registry)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import helm_python
import httpx
import pytest

from runway.errors import ExitCode
from runway.publish.archive import read_archive
from tests.conftest import QUICK_RETRY, REGISTRY_USERS, Result, run_cli
from tests.servers import Registry, TokenIssuer

Archives = Callable[..., Path]


def _manifest_digest(registry: Registry, repository: str, tag: str) -> str:
    answer = httpx.get(
        f"http://{registry.host}/v2/{repository}/manifests/{tag}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert answer.status_code == 200, answer.text
    return answer.headers["Docker-Content-Digest"]


def _tags(registry: Registry, repository: str) -> list[str]:
    client = helm_python.RegistryClient(plain_http=True)
    try:
        return sorted(client.tags(f"oci://{registry.host}/{repository}"))
    except helm_python.HelmError:
        return []


def publish(registry_url: str, *archives: Path, force: bool = False, **env: str) -> Result:
    args = ["publish", *map(str, archives), "--to", registry_url, "--plain-http"]
    return run_cli(*args, *(["--force"] if force else []), env={**QUICK_RETRY, **env})


def test_published_chart_is_what_helm_pulls_back(
    registry: Registry, repo: str, archives: Archives, tmp_path: Path
) -> None:
    kas, agentk = archives("kas", "1.0.0"), archives("agentk", "1.0.0")
    result = run_cli("publish", str(kas), str(agentk), "--to", registry.url(repo), "--plain-http")
    assert result.exit_code == 0, result.stderr
    assert f"published kas 1.0.0 → oci://{registry.host}/{repo}/canary/kas" in result.stdout
    assert _tags(registry, f"{repo}/canary/kas") == ["1.0.0"]
    assert _tags(registry, f"{repo}/canary/agentk") == ["1.0.0"]

    helm_python.pull(
        f"oci://{registry.host}/{repo}/canary/kas",
        version="1.0.0",
        destination=tmp_path,
        plain_http=True,
    )
    assert (tmp_path / "kas-1.0.0.tgz").read_bytes() == kas.read_bytes()
    with helm_python.Chart.load(tmp_path / "kas-1.0.0.tgz") as chart:
        assert chart.metadata["version"] == "1.0.0"
        assert "kas/templates/deployment.yaml" in chart.render({}, name="kas", namespace="gitlab")


def test_the_registry_record_carries_the_gitlab_compatibility(
    registry: Registry, repo: str, archives: Archives
) -> None:
    kas = archives("kas", "1.0.0", ">=17.0 <18.0")
    assert publish(registry.url(repo), kas).exit_code == 0
    answer = httpx.get(
        f"http://{registry.host}/v2/{repo}/canary/kas/manifests/1.0.0",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    ).json()
    assert answer["annotations"]["runway.gitlab.com/gitlab-versions"] == ">=17.0 <18.0"
    assert answer["layers"][0]["digest"] == read_archive(kas).digest
    assert "org.opencontainers.image.created" not in answer["annotations"]


def test_republishing_the_same_archive_changes_nothing(
    registry: Registry, repo: str, archives: Archives
) -> None:
    kas = archives("kas", "1.0.0")
    assert publish(registry.url(repo), kas).exit_code == 0
    before = _manifest_digest(registry, f"{repo}/canary/kas", "1.0.0")
    again = run_cli("publish", str(kas), "--to", registry.url(repo), "--plain-http")
    assert again.exit_code == 0
    assert "already published kas 1.0.0" in again.stdout
    assert _manifest_digest(registry, f"{repo}/canary/kas", "1.0.0") == before


def test_a_published_version_is_never_overwritten_without_force(
    registry: Registry, repo: str, archives: Archives
) -> None:
    original = archives("kas", "1.0.0")
    changed = archives("kas", "1.0.0", image="registry.example.com/kas:v18.0.0")
    assert read_archive(original).digest != read_archive(changed).digest
    other = archives("agentk", "1.0.0")
    assert publish(registry.url(repo), original).exit_code == 0
    before = _manifest_digest(registry, f"{repo}/canary/kas", "1.0.0")

    refused = run_cli(
        "publish", str(other), str(changed), "--to", registry.url(repo), "--plain-http"
    )
    assert refused.exit_code == 1
    assert "kas 1.0.0 is already published in canary" in refused.stderr
    assert "nothing was published" in refused.stderr
    assert "--force" in refused.stderr
    assert _manifest_digest(registry, f"{repo}/canary/kas", "1.0.0") == before
    assert _tags(registry, f"{repo}/canary/agentk") == [], "all-or-nothing: agentk waits too"

    forced = run_cli("publish", str(changed), "--to", registry.url(repo), "--plain-http", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "replaced kas 1.0.0" in forced.stdout
    assert _manifest_digest(registry, f"{repo}/canary/kas", "1.0.0") != before


def _promote(registry: Registry, repo: str, version: str, stage: str, *extra: str) -> Result:
    return run_cli(
        "promote",
        "kas",
        version,
        "--to",
        stage,
        "--registry",
        registry.url(repo),
        "--plain-http",
        *extra,
    )


def test_promote_moves_the_same_manifest_forward_one_stage_at_a_time(
    registry: Registry, repo: str, archives: Archives
) -> None:
    stages = ("--stages", "canary,beta,stable")
    kas = archives("kas", "1.0.0")
    result = run_cli("publish", str(kas), "--to", registry.url(repo), "--plain-http", *stages)
    assert result.exit_code == 0, result.stderr
    published = _manifest_digest(registry, f"{repo}/canary/kas", "1.0.0")

    skipping = _promote(registry, repo, "1.0.0", "stable", *stages)
    assert skipping.exit_code == 1
    assert "promote it to beta before stable" in skipping.stderr
    assert _tags(registry, f"{repo}/stable/kas") == []

    to_beta = _promote(registry, repo, "1.0.0", "beta", *stages)
    assert to_beta.exit_code == 0, to_beta.stderr
    assert "promoted kas 1.0.0: canary → beta" in to_beta.stdout
    assert _manifest_digest(registry, f"{repo}/beta/kas", "1.0.0") == published

    again = _promote(registry, repo, "1.0.0", "beta", *stages)
    assert again.exit_code == 0
    assert "already in beta" in again.stdout

    backwards = _promote(registry, repo, "1.0.0", "canary", *stages)
    assert backwards.exit_code == 0, "canary still holds it: nothing to do"

    forced = _promote(
        registry, repo, "1.0.0", "stable", "--force", "--stages", "canary,beta,rc,stable"
    )
    assert forced.exit_code == 0, forced.stderr
    assert _manifest_digest(registry, f"{repo}/stable/kas", "1.0.0") == published


def test_promote_refuses_backwards_unknown_versions_and_unknown_stages(
    registry: Registry, repo: str, archives: Archives
) -> None:
    kas = archives("kas", "1.0.0")
    assert publish(registry.url(repo), kas).exit_code == 0
    assert _promote(registry, repo, "1.0.0", "stable").exit_code == 0
    httpx.delete(
        f"http://{registry.host}/v2/{repo}/canary/kas/manifests/"
        + _manifest_digest(registry, f"{repo}/canary/kas", "1.0.0")
    ).raise_for_status()

    backwards = _promote(registry, repo, "1.0.0", "canary")
    assert backwards.exit_code == 1
    assert "never goes backwards" in backwards.stderr

    missing = _promote(registry, repo, "9.9.9", "stable")
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert "kas 9.9.9 is not published" in missing.stderr

    typo = _promote(registry, repo, "1.0.0", "stabel")
    assert typo.exit_code == 2
    assert "unknown stage 'stabel'; the stages are canary → stable" in typo.stderr


@pytest.fixture
def released(registry: Registry, repo: str, archives: Archives) -> str:
    """kas in several versions and GitLab ranges; 1.0.0 and 1.1.0 promoted to stable."""
    charts = [
        archives("kas", "1.0.0", ">=17.0 <18.0"),
        archives("kas", "1.1.0", ">=17.5 <19.0"),
        archives("kas", "2.0.0", ">=18.0"),
        archives("kas", "2.1.0-rc.1", ">=18.0"),
        archives("kas", "0.9.0", ">=16.0 <17.0"),
    ]
    assert publish(registry.url(repo), *charts).exit_code == 0
    for version in ("1.0.0", "1.1.0"):
        assert _promote(registry, repo, version, "stable").exit_code == 0
    return registry.url(repo)


@pytest.mark.parametrize(
    ("gitlab", "stage", "extra", "expected"),
    [
        ("17.9.2", "stable", (), "1.1.0"),
        ("17.2.0", "stable", (), "1.0.0"),
        ("18.3", "stable", (), "1.1.0"),
        ("18.3", "canary", (), "2.0.0"),
        ("18.3", "canary", ("--devel",), "2.1.0-rc.1"),
        ("16.0.0", "canary", (), "0.9.0"),
        ("16.0.0", "stable", (), None),
        ("19.1.0", "stable", (), None),
    ],
)
def test_resolve_answers_the_newest_compatible_version_in_a_stage(
    released: str, gitlab: str, stage: str, extra: tuple[str, ...], expected: str | None
) -> None:
    result = run_cli(
        "resolve",
        "kas",
        "--gitlab-version",
        gitlab,
        "--stage",
        stage,
        "--registry",
        released,
        "--plain-http",
        "--format",
        "json",
        *extra,
    )
    payload = json.loads(result.stdout)
    if expected is None:
        assert result.exit_code == ExitCode.NOT_FOUND
        assert payload["found"] is False
        assert f"no version of kas in {stage} is compatible with GitLab {gitlab}" in result.stderr
    else:
        assert result.exit_code == 0, result.stderr
        assert payload["release"]["version"] == expected
        assert payload["release"]["stage"] == stage
        assert payload["release"]["reference"].endswith(f"/{stage}/kas")


def test_a_chart_without_a_gitlab_range_suits_every_release(
    registry: Registry, repo: str, archives: Archives
) -> None:
    gateway = archives("ai-gateway", "3.0.0")
    assert read_archive(gateway).gitlab_versions is None
    assert publish(registry.url(repo), gateway).exit_code == 0
    result = run_cli(
        "resolve",
        "ai-gateway",
        "--gitlab-version",
        "15.11",
        "--stage",
        "canary",
        "--registry",
        registry.url(repo),
        "--plain-http",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split()[:2] == ["ai-gateway", "3.0.0"]


def test_resolve_prints_a_line_for_people(released: str) -> None:
    result = run_cli(
        "resolve",
        "kas",
        "--gitlab-version",
        "17.9.2",
        "--stage",
        "stable",
        "--registry",
        released,
        "--plain-http",
    )
    assert result.exit_code == 0
    name, version, reference, digest = result.stdout.split()
    assert (name, version) == ("kas", "1.1.0")
    assert reference.startswith("oci://") and digest.startswith("sha256:")
    bad = run_cli(
        "resolve",
        "kas",
        "--gitlab-version",
        "seventeen",
        "--stage",
        "stable",
        "--registry",
        released,
        "--plain-http",
    )
    assert bad.exit_code == 2
    assert "'seventeen' is not a version" in bad.stderr


def test_credentials_come_from_the_environment(
    auth_registry: Registry, repo: str, archives: Archives
) -> None:
    kas = archives("kas", "1.0.0")
    ((user, password),) = REGISTRY_USERS.items()
    url = auth_registry.url(repo)

    anonymous = publish(url, kas)
    assert anonymous.exit_code == 1
    assert "refused the credentials (HTTP 401)" in anonymous.stderr
    assert "RUNWAY_REGISTRY_USER" in anonymous.stderr

    wrong = publish(url, kas, RUNWAY_REGISTRY_USER=user, RUNWAY_REGISTRY_PASSWORD="wrong")
    assert wrong.exit_code == 1
    assert "wrong" not in wrong.stderr, "a secret never appears in a message"

    elsewhere = publish(
        url,
        kas,
        CI_REGISTRY="registry.gitlab.example",
        CI_REGISTRY_USER=user,
        CI_REGISTRY_PASSWORD=password,
    )
    assert elsewhere.exit_code == 1, "CI's registry token is only sent to CI_REGISTRY"

    ci = publish(
        url,
        kas,
        CI_REGISTRY=auth_registry.host,
        CI_REGISTRY_USER=user,
        CI_REGISTRY_PASSWORD=password,
    )
    assert ci.exit_code == 0, ci.stderr
    promoted = run_cli(
        "promote",
        "kas",
        "1.0.0",
        "--to",
        "stable",
        "--registry",
        url,
        "--plain-http",
        env={"RUNWAY_REGISTRY_USER": user, "RUNWAY_REGISTRY_PASSWORD": password},
    )
    assert promoted.exit_code == 0, promoted.stderr
    tags = httpx.get(
        f"http://{auth_registry.host}/v2/{repo}/stable/kas/tags/list", auth=(user, password)
    ).json()
    assert tags["tags"] == ["1.0.0"]


@pytest.fixture(scope="module")
def token_registry(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Registry, TokenIssuer]]:
    """A real registry with token auth (as registry.gitlab.com has), and its token issuer."""
    issuer = TokenIssuer(REGISTRY_USERS)
    server = Registry(tmp_path_factory.mktemp("token-registry"), token_auth=issuer).start()
    yield server, issuer
    server.stop()
    issuer.close()


@pytest.mark.parametrize(
    ("answer", "detail"),
    [(b"<html>sign in</html>", "Invalid JSON"), (b'{"token": ["a"]}', "token: Input should be")],
)
def test_a_token_service_answering_no_token_is_one_message(
    token_registry: tuple[Registry, TokenIssuer],
    repo: str,
    archives: Archives,
    answer: bytes,
    detail: str,
) -> None:
    server, issuer = token_registry
    ((user, password),) = REGISTRY_USERS.items()
    issuer.answer = answer
    try:
        result = publish(
            server.url(repo),
            archives("kas", "1.0.0"),
            RUNWAY_REGISTRY_USER=user,
            RUNWAY_REGISTRY_PASSWORD=password,
        )
    finally:
        issuer.answer = None
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"runway: {issuer.realm}: the registry returned a token answer"), line
    assert detail in line


def test_bearer_token_auth_publishes_promotes_and_resolves(
    token_registry: tuple[Registry, TokenIssuer], repo: str, archives: Archives
) -> None:
    server, issuer = token_registry
    ((user, password),) = REGISTRY_USERS.items()
    url = server.url(repo)
    kas = archives("kas", "1.0.0", ">=17.0")

    anonymous = publish(url, kas)
    assert anonymous.exit_code == 1
    assert "refused the credentials (HTTP 401)" in anonymous.stderr
    wrong = publish(url, kas, RUNWAY_REGISTRY_USER=user, RUNWAY_REGISTRY_PASSWORD="nope")
    assert wrong.exit_code == 1

    creds = {"RUNWAY_REGISTRY_USER": user, "RUNWAY_REGISTRY_PASSWORD": password}
    assert (
        publish(url, kas, RUNWAY_REGISTRY_USER=user, RUNWAY_REGISTRY_PASSWORD=password).exit_code
        == 0
    )
    promoted = run_cli(
        "promote", "kas", "1.0.0", "--to", "stable", "--registry", url, "--plain-http", env=creds
    )
    assert promoted.exit_code == 0, promoted.stderr
    resolved = run_cli(
        "resolve",
        "kas",
        "--gitlab-version",
        "17.9",
        "--stage",
        "stable",
        "--registry",
        url,
        "--plain-http",
        env=creds,
    )
    assert resolved.exit_code == 0, resolved.stderr
    assert resolved.stdout.split()[:2] == ["kas", "1.0.0"]
    scopes = [r for r in issuer.requests if "scope=" in r]
    assert any(f"repository%3A{repo.replace('/', '%2F')}%2Fstable%2Fkas" in r for r in scopes)


def test_https_to_a_plain_http_registry_says_plain_http_at_once(
    registry: Registry, repo: str
) -> None:
    result = run_cli(
        "resolve",
        "kas",
        "--gitlab-version",
        "17.9.2",
        "--stage",
        "stable",
        "--registry",
        registry.url(repo),
    )
    assert result.exit_code == 1
    assert "the registry answered in plain HTTP" in result.stderr
    assert "pass --plain-http" in result.stderr
    assert "tries" not in result.stderr, "no retries: another try cannot help"


@pytest.mark.parametrize("tool", ["helm", "docker"])
def test_a_helm_or_docker_registry_login_is_used(
    auth_registry: Registry, repo: str, archives: Archives, tmp_path: Path, tool: str
) -> None:
    import base64

    ((user, password),) = REGISTRY_USERS.items()
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {auth_registry.host: {"auth": auth}}}))
    helm_config = config if tool == "helm" else tmp_path / "none.json"
    published = publish(
        auth_registry.url(f"{repo}-{tool}"),
        archives("kas", "1.0.0"),
        HELM_REGISTRY_CONFIG=str(helm_config),
        DOCKER_CONFIG=str(tmp_path if tool == "docker" else tmp_path / "nowhere"),
    )
    assert published.exit_code == 0, published.stderr
    assert password not in published.stdout + published.stderr


def test_package_publish_and_promote_speak_json(
    registry: Registry, repo: str, archives: Archives
) -> None:
    kas = archives("kas", "1.0.0")
    published = run_cli(
        "publish",
        str(kas),
        "--to",
        registry.url(repo),
        "--plain-http",
        "--format",
        "json",
        env=QUICK_RETRY,
    )
    assert published.exit_code == 0, published.stderr
    (entry,) = json.loads(published.stdout)
    assert entry["name"] == "kas" and entry["version"] == "1.0.0" and entry["action"] == "publish"
    assert entry["digest"] == read_archive(kas).digest
    assert entry["reference"].endswith("/canary/kas")
    promoted = _promote(registry, repo, "1.0.0", "stable", "--format", "json")
    assert promoted.exit_code == 0, promoted.stderr
    document = json.loads(promoted.stdout)
    assert document["promoted"] is True and document["from"] == "canary"
    assert document["release"]["digest"] == entry["digest"]
    again = _promote(registry, repo, "1.0.0", "stable", "--format", "json")
    assert json.loads(again.stdout)["promoted"] is False
