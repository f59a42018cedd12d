"""Publishing when things go wrong: nothing half-published, one clear message, a re-run finishes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import helm_python
import pytest

from tests.conftest import QUICK_RETRY, run_cli
from tests.servers import FaultProxy, Registry, free_port

Archives = Callable[..., Path]


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry this test alone may stop and start."""
    server = Registry(tmp_path / "registry").start()
    yield server
    server.stop()


@pytest.fixture
def proxy(own_registry: Registry) -> Iterator[FaultProxy]:
    server = FaultProxy(own_registry.host)
    yield server
    server.close()


def _tags(host: str, repository: str) -> list[str]:
    try:
        return sorted(
            helm_python.RegistryClient(plain_http=True).tags(f"oci://{host}/{repository}")
        )
    except helm_python.HelmError:
        return []


def test_registry_stopped_midway_reports_what_was_published_and_a_rerun_finishes(
    own_registry: Registry, proxy: FaultProxy, archives: Archives
) -> None:
    charts = [
        archives("agentk", "1.0.0"),
        archives("kas", "1.0.0"),
        archives("gitlab-workspaces-proxy", "1.0.0"),
    ]

    pushed: list[str] = []

    def stop_after_first_chart(method: str, path: str, status: int) -> None:
        """Stop the registry once agentk is pushed and read back, before kas starts."""
        if method == "PUT" and "agentk/manifests/" in path and status == 201:
            pushed.append(path)
        elif pushed and method == "GET" and "agentk/manifests/" in path and status == 200:
            proxy.hook = None
            own_registry.stop()

    proxy.hook = stop_after_first_chart
    args = ["publish", *map(str, charts), "--to", proxy.url("svc"), "--plain-http"]
    stopped = run_cli(*args, env=QUICK_RETRY)
    assert stopped.exit_code == 1
    lines = stopped.stderr.splitlines()
    assert lines[0].startswith("runway: publishing stopped: ")
    assert lines[1].startswith("  published: agentk 1.0.0 (")
    assert lines[2].startswith("  interrupted (may be partly uploaded): kas 1.0.0 (")
    assert lines[3].startswith("  not published: gitlab-workspaces-proxy 1.0.0 (")
    assert "re-run the same command" in stopped.stderr
    assert "Traceback" not in stopped.stderr

    own_registry.start()
    assert _tags(own_registry.host, "svc/canary/agentk") == ["1.0.0"]
    assert _tags(own_registry.host, "svc/canary/kas") == []
    before = len([r for r in proxy.requests if r[0] == "PUT" and "agentk/manifests" in r[1]])
    rerun = run_cli(*args, env=QUICK_RETRY)
    assert rerun.exit_code == 0, rerun.stderr
    assert "already published agentk 1.0.0" in rerun.stdout
    assert "published kas 1.0.0" in rerun.stdout
    assert "published gitlab-workspaces-proxy 1.0.0" in rerun.stdout
    after = len([r for r in proxy.requests if r[0] == "PUT" and "agentk/manifests" in r[1]])
    assert after == before, "the re-run does not push agentk again"
    for name in ("agentk", "kas", "gitlab-workspaces-proxy"):
        assert _tags(own_registry.host, f"svc/canary/{name}") == ["1.0.0"]


def test_a_registry_answering_503_for_a_while_is_retried(
    proxy: FaultProxy, own_registry: Registry, archives: Archives
) -> None:
    proxy.unavailable(3)
    result = run_cli(
        "publish",
        str(archives("kas", "1.0.0")),
        "--to",
        proxy.url("svc"),
        "--plain-http",
        env=QUICK_RETRY,
    )
    assert result.exit_code == 0, result.stderr
    assert [status for _, _, status in proxy.requests[:3]] == [503, 503, 503]
    assert _tags(own_registry.host, "svc/canary/kas") == ["1.0.0"]


def test_a_registry_that_stays_unavailable_gives_up_within_the_bound(
    proxy: FaultProxy, own_registry: Registry, archives: Archives
) -> None:
    proxy.unavailable(1000)
    result = run_cli(
        "publish",
        str(archives("kas", "1.0.0")),
        "--to",
        proxy.url("svc"),
        "--plain-http",
        env=QUICK_RETRY,
    )
    assert result.exit_code == 1
    assert "kept answering HTTP 503 Service Unavailable (4 tries)" in result.stderr
    assert len(proxy.requests) == 4
    proxy.unavailable(0)
    assert _tags(own_registry.host, "svc/canary/kas") == []


def test_nothing_listening_is_a_clear_message(archives: Archives) -> None:
    url = f"oci://127.0.0.1:{free_port()}/svc"
    result = run_cli(
        "publish", str(archives("kas", "1.0.0")), "--to", url, "--plain-http", env=QUICK_RETRY
    )
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:" in result.stderr
    assert "connection failed" in result.stderr


def test_a_corrupt_archive_publishes_nothing(
    own_registry: Registry, archives: Archives, tmp_path: Path
) -> None:
    good = archives("agentk", "1.0.0")
    corrupt = tmp_path / "kas-1.0.0.tgz"
    data = archives("kas", "1.0.0").read_bytes()
    corrupt.write_bytes(data[: len(data) // 2])
    not_gzip = tmp_path / "notes.tgz"
    not_gzip.write_text("hello")
    for bad in (corrupt, not_gzip):
        result = run_cli(
            "publish", str(good), str(bad), "--to", own_registry.url("svc"), "--plain-http"
        )
        assert result.exit_code == 1
        assert f"{bad}: corrupt chart archive" in result.stderr
        assert _tags(own_registry.host, "svc/canary/agentk") == []


def _bomb(files: dict[str, int]) -> bytes:
    """A gzipped tar of zero-filled files (name → size): megabytes that compress to kilobytes."""
    import io
    import tarfile

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=1) as tar:
        for name, size in files.items():
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(bytes(size)))
    return raw.getvalue()


@pytest.mark.parametrize(
    ("files", "limit"),
    [
        ({"kas/Chart.yaml": 10, "kas/big.bin": 6 * 2**20}, "5 MiB for a file"),
        (
            {"kas/Chart.yaml": 10, **{f"kas/{i}.bin": 5 * 2**20 for i in range(21)}},
            "100 MiB in all",
        ),
    ],
    ids=["one file", "in all"],
)
def test_an_archive_expanding_past_helms_limits_is_refused(
    tmp_path: Path, files: dict[str, int], limit: str
) -> None:
    """Helm refuses a chart archive that expands past 5 MiB a file or 100 MiB in all; an
    archive from a registry or a directory is read within the same limits, never held whole."""
    bomb = tmp_path / "kas-1.0.0.tgz"
    bomb.write_bytes(_bomb(files))
    assert bomb.stat().st_size < 2**20
    result = run_cli("publish", str(bomb), "--to", str(tmp_path / "repo"))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert (
        f"{bomb}: kas/" in result.stderr and f"expands past Helm's limit ({limit})" in result.stderr
    )


def test_a_missing_archive_is_named(tmp_path: Path) -> None:
    result = run_cli("publish", str(tmp_path / "nope.tgz"), "--to", str(tmp_path / "repo"))
    assert result.exit_code == 1
    assert f"{tmp_path / 'nope.tgz'}: cannot read" in result.stderr


def test_two_processes_racing_one_version_exactly_one_wins(
    own_registry: Registry, proxy: FaultProxy, archives: Archives
) -> None:
    """Two real processes publish different archives as the same version. The proxy orders them
    into the worst case: both pass every check, the first moves the tag and reads it back, and
    only then does the second move it. The first must not report published."""
    import os
    import subprocess
    import sys

    for round_ in range(2):
        version = f"3.0.{round_}"
        left = archives("agentk", version, image=f"registry.example.com/left:{round_}")
        right = archives("agentk", version, image=f"registry.example.com/right:{round_}")
        race = _Race(f"/manifests/{version}")
        proxy.before, proxy.hook = race.order, race.observe
        env = {**os.environ, "RUNWAY_PUBLISH_SETTLE": "1"}
        url = proxy.url("svc")
        racers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from runway.cli import main; main()",
                    "publish",
                    str(archive),
                    "--to",
                    url,
                    "--plain-http",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for archive in (left, right)
        ]
        results = [(p.wait(timeout=120), *p.communicate()) for p in racers]
        proxy.before, proxy.hook = None, None
        assert sorted(code for code, _, _ in results) == [0, 1], results
        winner, loser = (left, right) if results[0][0] == 0 else (right, left)
        failed = next(err for code, _, err in results if code == 1)
        assert "Traceback" not in failed
        assert f"agentk {version}" in failed and "another publish" in failed, failed
        again = run_cli("publish", str(winner), "--to", url, "--plain-http", env=QUICK_RETRY)
        assert again.exit_code == 0 and "already published" in again.stdout, again.stdout
        lost = run_cli("publish", str(loser), "--to", url, "--plain-http", env=QUICK_RETRY)
        assert lost.exit_code == 1, "the registry keeps the winner"


class _Race:
    """Orders two publishers into the worst case: both plan and re-check (3 lookups each: two
    stages, then the re-check) before the first moves the tag, and the second moves it only after
    the first has read it back."""

    def __init__(self, manifest: str) -> None:
        self.manifest = manifest
        self.checked = threading.Semaphore(0)
        self.first_read = threading.Event()
        self.puts = 0
        self.lock = threading.Lock()

    def order(self, method: str, path: str) -> None:
        if method != "PUT" or not path.endswith(self.manifest):
            return
        with self.lock:
            self.puts += 1
            first = self.puts == 1
        if first:
            for _ in range(6):
                assert self.checked.acquire(timeout=60)
        else:
            assert self.first_read.wait(timeout=60)

    def observe(self, method: str, path: str, status: int) -> None:
        if method in ("GET", "HEAD") and path.endswith(self.manifest):
            if status == 404:
                self.checked.release()
            elif status == 200 and self.puts:
                self.first_read.set()


DEEP = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
HOSTILE_BODIES = {
    # what the registry answers: (to a manifest, to a tag list), and what the message says
    "not JSON": (b"<html>maintenance</html>", b"<html>maintenance</html>", "Invalid JSON"),
    "another shape": (b'{"config": {"digest": 1}}', b'{"tags": [{"v": 1}]}', "should be a valid"),
    "a list": (b"[]", b"[]", "Input should be an object"),
    "nested 100,000 deep": (DEEP, DEEP, "recursion limit exceeded"),
}


@pytest.mark.parametrize("body", list(HOSTILE_BODIES))
def test_a_registry_answering_what_no_registry_would_is_one_message(
    proxy: FaultProxy, own_registry: Registry, archives: Archives, body: str
) -> None:
    """Manifests and tag lists come from a server runway does not control: a body that is not
    JSON, has another shape or nests absurdly deep is named with the URL, never a traceback."""
    manifest, tag_list, detail = HOSTILE_BODIES[body]
    published = run_cli(
        "publish", str(archives("kas", "1.0.0")), "--to", proxy.url("svc"), "--plain-http"
    )
    assert published.exit_code == 0, published.stderr

    def hostile(method: str, path: str) -> bytes | None:
        if method != "GET":
            return None
        return tag_list if path.endswith("/tags/list") else manifest

    proxy.answer = hostile
    host = f"127.0.0.1:{proxy.port}"
    promoted = run_cli(
        "promote", "kas", "1.0.0", "--to", "stable", "--registry", proxy.url("svc"), "--plain-http"
    )
    resolved = run_cli(
        "resolve", "kas", "--gitlab-version", "17.0.0", "--stage", "canary",
        "--registry", proxy.url("svc"), "--plain-http",
    )  # fmt: skip
    for result, what in ((promoted, "a manifest"), (resolved, "a tag list")):
        assert result.exit_code == 1, result.stderr
        assert "Traceback" not in result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"runway: oci://{host}/svc/canary/kas"), line
        assert f"the registry returned {what} runway cannot read" in line and detail in line
