"""The registration hook Job: its script, as Helm renders it, run against a local HTTP server.

The server plays GitLab's side of the contract (docs/offerings.md): it accepts, refuses, or fails
transiently. The script runs here with sh and curl, exactly as the Job's container would.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runway import helm
from runway.errors import VerifyError
from runway.verify import hardening, kube
from tests.conftest import MANIFESTS, run_cli
from tests.servers import free_port

TOKEN = "glrt-registration-test-token"


class FakeGitLab:
    """Answers each POST with the next status of `script` (the last one repeats)."""

    def __init__(self, script: list[tuple[int, str]]) -> None:
        self.script = script
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.requests.append((dict(self.headers), json.loads(body)))
                status, text = owner.script[min(len(owner.requests), len(owner.script)) - 1]
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v4/satellite_services/kas/registration"


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("charts")
    assert run_cli("build", str(MANIFESTS / "kas"), "-o", str(out), "--no-verify").exit_code == 0
    return out / "kas"


def _job(chart: Path, url: str, **registration: Any) -> dict[str, Any]:
    values = {
        "registration": {
            "enabled": True,
            "url": url,
            "tokenSecret": {"name": "kas-registration"},
            "attempts": 3,
            "backoffSeconds": 1,
            **registration,
        }
    }
    rendered = helm.render(chart, values, name="kas", namespace="gitlab-kas")
    job: dict[str, Any] = YAML(typ="safe").load(rendered["kas/templates/registration-job.yaml"])
    return job


def _run(job: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {"PATH": os.environ["PATH"]}
    for item in container["env"]:
        assert "valueFrom" not in item, "the token is a file, never an env var"
        env[item["name"]] = item["value"]
    spec = job["spec"]["template"]["spec"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "registration-token")
    volume = next(v for v in spec["volumes"] if v["name"] == "registration-token")
    assert volume["secret"]["secretName"] == "kas-registration"
    assert volume["secret"]["items"] == [{"key": "token", "path": "token"}]
    assert env["REGISTRATION_TOKEN_FILE"] == f"{mount['mountPath']}/token"
    token_file = Path(tempfile.mkdtemp()) / "token"
    token_file.write_text(TOKEN)
    env["REGISTRATION_TOKEN_FILE"] = str(token_file)
    return subprocess.run(
        [*container["command"], *container["args"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def gitlab_accepts() -> Iterator[FakeGitLab]:
    server = FakeGitLab([(201, '{"status":"registered"}')])
    yield server
    server.server.shutdown()


def test_an_accepted_registration_succeeds_and_sends_the_contract(
    chart: Path, gitlab_accepts: FakeGitLab
) -> None:
    done = _run(_job(chart, gitlab_accepts.url))
    assert done.returncode == 0, done.stderr
    assert "registered with GitLab (HTTP 201)" in done.stdout
    ((headers, body),) = gitlab_accepts.requests
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Content-Type"] == "application/json"
    assert body == {
        "service": "kas",
        "release": "kas",
        "namespace": "gitlab-kas",
        "chartVersion": "0.1.0",
        "appVersion": "v17.9.2",
    }


def test_a_refused_registration_fails_at_once_and_says_why(chart: Path) -> None:
    server = FakeGitLab([(403, '{"message":"403 Forbidden - token revoked"}')])
    done = _run(_job(chart, server.url))
    server.server.shutdown()
    assert done.returncode == 1
    assert len(server.requests) == 1, "a refusal is not retried"
    assert (
        'GitLab refused the registration (HTTP 403): {"message":"403 Forbidden - token revoked"}'
        in done.stderr
    )
    assert "Secret kas-registration/token" in done.stderr
    assert TOKEN not in done.stderr + done.stdout


def test_transient_failures_are_retried_with_backoff(chart: Path) -> None:
    server = FakeGitLab([(503, "busy"), (429, "slow down"), (200, "{}")])
    done = _run(_job(chart, server.url))
    server.server.shutdown()
    assert done.returncode == 0, done.stderr
    assert len(server.requests) == 3
    assert "attempt 1 answered HTTP 503; retrying" in done.stderr


def test_gitlab_unavailable_fails_the_release_after_the_bound(chart: Path) -> None:
    server = FakeGitLab([(502, "bad gateway")])
    done = _run(_job(chart, server.url, attempts=2))
    server.server.shutdown()
    assert done.returncode == 1
    assert len(server.requests) == 2
    assert "did not answer the registration after 2 attempts (last HTTP 502)" in done.stderr

    nobody = _run(_job(chart, f"http://127.0.0.1:{free_port()}/register", attempts=2))
    assert nobody.returncode == 1
    assert "(last HTTP 000)" in nobody.stderr


def test_the_job_is_a_hardened_post_install_hook(chart: Path) -> None:
    job = _job(chart, "https://gitlab.example.com/register")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,post-upgrade"
    assert job["spec"]["backoffLimit"] == 0
    assert hardening.check(job) == []
    assert kube.validate_object(job) == []
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert "app.kubernetes.io/name" not in labels, "the Service must not select the hook pod"


def test_registration_without_url_or_secret_is_refused_at_install(chart: Path) -> None:
    with pytest.raises(VerifyError, match=r"registration\.url is required"):
        helm.render(chart, {"registration": {"enabled": True}}, name="kas", namespace="x")
    with pytest.raises(VerifyError, match=r"registration\.tokenSecret\.name is required"):
        helm.render(
            chart,
            {"registration": {"enabled": True, "url": "https://gitlab.example.com"}},
            name="kas",
            namespace="x",
        )
