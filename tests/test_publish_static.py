"""A static chart repository directory: one index per stage, merged, never losing an entry."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import helm_python
import pytest
from ruamel.yaml import YAML

from runway.publish.archive import read_archive
from tests.conftest import run_cli

Archives = Callable[..., Path]


def _index(path: Path) -> dict[str, list[dict[str, object]]]:
    entries: dict[str, list[dict[str, object]]] = YAML(typ="safe").load(path.read_text())["entries"]
    return entries


def test_publishing_merges_into_the_index_and_keeps_every_entry(
    archives: Archives, tmp_path: Path
) -> None:
    repo = tmp_path / "charts"
    (repo / "canary").mkdir(parents=True)
    (repo / "canary" / "index.yaml").write_text(
        "apiVersion: v1\n"
        "entries:\n"
        "  legacy:\n"
        "  - name: legacy\n"
        "    version: 0.0.1\n"
        "    created: 2020-01-01T00:00:00Z\n"
        "    digest: 00ff\n"
        "    urls:\n"
        "    - https://elsewhere.example/legacy-0.0.1.tgz\n"
        "generated: 2020-01-01T00:00:00Z\n"
    )
    first = run_cli("publish", str(archives("kas", "1.0.0", ">=17.0")), "--to", str(repo))
    assert first.exit_code == 0, first.stderr
    second = run_cli(
        "publish",
        str(archives("kas", "1.1.0")),
        str(archives("agentk", "1.0.0")),
        "--to",
        f"file://{repo}",
    )
    assert second.exit_code == 0, second.stderr
    entries = _index(repo / "canary" / "index.yaml")
    assert [e["version"] for e in entries["kas"]] == ["1.1.0", "1.0.0"]
    assert entries["legacy"][0]["urls"] == ["https://elsewhere.example/legacy-0.0.1.tgz"]
    assert "2020-01-01T00:00:00Z" in (repo / "canary" / "index.yaml").read_text()
    assert entries["kas"][1]["annotations"]["runway.gitlab.com/gitlab-versions"] == ">=17.0"  # type: ignore[index]
    assert entries["kas"][1]["digest"] == read_archive(repo / "canary" / "kas-1.0.0.tgz").digest[7:]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_promote_copies_into_the_next_stage_and_helm_pulls_from_it(
    archives: Archives, served: tuple[Path, str], tmp_path: Path
) -> None:
    root, url = served
    kas = archives("kas", "1.0.0")
    assert run_cli("publish", str(kas), "--to", str(root)).exit_code == 0
    promoted = run_cli("promote", "kas", "1.0.0", "--to", "stable", "--registry", str(root))
    assert promoted.exit_code == 0, promoted.stderr
    assert (root / "stable" / "kas-1.0.0.tgz").read_bytes() == kas.read_bytes()

    helm_python.pull("kas", repo_url=f"{url}/stable", version="1.0.0", destination=tmp_path)
    assert (tmp_path / "kas-1.0.0.tgz").read_bytes() == kas.read_bytes()

    resolved = run_cli(
        "resolve", "kas", "--gitlab-version", "17.9", "--stage", "stable", "--registry", str(root)
    )
    assert resolved.exit_code == 0, resolved.stderr
    assert resolved.stdout.split()[:3] == ["kas", "1.0.0", str(root / "stable")]


def test_a_corrupt_index_is_reported_and_left_alone(archives: Archives, tmp_path: Path) -> None:
    index = tmp_path / "canary" / "index.yaml"
    index.parent.mkdir()
    index.write_text("entries: [unclosed\n")
    result = run_cli("publish", str(archives("kas", "1.0.0")), "--to", str(tmp_path))
    assert result.exit_code == 1
    assert f"{index}: index.yaml is not YAML" in result.stderr
    assert index.read_text() == "entries: [unclosed\n"
    assert not (tmp_path / "canary" / "kas-1.0.0.tgz").exists()


def test_an_index_nested_deep_is_named_not_a_crash(archives: Archives, tmp_path: Path) -> None:
    """index.yaml comes from a directory or GitLab: nesting no index has is refused before the
    (recursive) round-trip reader sees it."""
    index = tmp_path / "canary" / "index.yaml"
    index.parent.mkdir()
    text = "entries: " + "[" * 5000 + "]" * 5000 + "\n"
    index.write_text(text)
    result = run_cli("publish", str(archives("kas", "1.0.0")), "--to", str(tmp_path))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"{index}: index.yaml nests deeper than 64 levels" in result.stderr
    assert index.read_text() == text


def test_index_entries_of_another_shape_are_read_or_skipped_as_helm_does(tmp_path: Path) -> None:
    index = tmp_path / "canary" / "index.yaml"
    index.parent.mkdir()
    index.write_text(
        "entries:\n  kas:\n  - {name: kas, version: 1.0.0, digest: abc, annotations: [1]}\n"
        "  - {version: 2.0.0, digest: def}\n  - 3.0.0\n  other: {name: other}\n"
    )
    for name, found in (("kas", "1.0.0"), ("other", None)):
        resolved = run_cli(
            "resolve", name, "--gitlab-version", "17.9", "--stage", "canary",
            "--registry", str(tmp_path),
        )  # fmt: skip
        assert "Traceback" not in resolved.stderr
        if found:
            assert resolved.exit_code == 0, resolved.stderr
            assert resolved.stdout.split()[:2] == [name, found]
        else:
            assert resolved.exit_code == 5, resolved.stderr


def test_signed_archives_publish_their_provenance(archives: Archives, tmp_path: Path) -> None:
    kas = archives("kas", "1.0.0")
    signed = tmp_path / "in" / kas.name
    signed.parent.mkdir()
    signed.write_bytes(kas.read_bytes())
    (tmp_path / "in" / f"{kas.name}.prov").write_text("-----BEGIN PGP SIGNED MESSAGE-----\n")
    assert run_cli("publish", str(signed), "--to", str(tmp_path / "repo")).exit_code == 0
    assert (tmp_path / "repo" / "canary" / f"{kas.name}.prov").read_text().startswith("-----BEGIN")
