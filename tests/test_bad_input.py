"""Bad files get one clear, located error quickly: never a traceback, never a hang."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runway.errors import ExitCode
from runway.manifest import loader
from tests.conftest import run_cli

GOOD = "apiVersion: runway/v1\nkind: RunwayService\nmetadata:\n  name: svc\n"


def _only(path: Path) -> str:
    result = loader.load_paths([path])
    assert not result.ok
    (diagnostic,) = result.diagnostics
    return diagnostic.render()


def test_malformed_yaml(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text(GOOD + "spec:\n  regions: [us-east1\n")
    text = _only(tmp_path)
    assert ":7:1: invalid YAML: did not find expected ',' or ']'" in text
    assert "flow sequence at line 6, column 12" in text


def test_tab_indentation(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text(GOOD + "spec:\n\tcontainer_port: 1\n")
    assert "invalid YAML" in _only(tmp_path)


def test_duplicate_keys(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text(GOOD + "spec:\n  container_port: 1\n  container_port: 2\n")
    text = _only(tmp_path)
    assert ":7:3: duplicate key 'container_port' (first at line 6)" in text


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghij":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    (tmp_path / "runway.yml").write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    text = _only(tmp_path)
    assert "expands to more than" in text and "billion laughs" in text
    assert time.perf_counter() - started < 10


def test_alias_cycle(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text("a: &a [*a]\n")
    assert "cycle" in _only(tmp_path)


def test_deep_nesting(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text("[" * 5000 + "]" * 5000 + "\n")
    assert "nesting deeper than" in _only(tmp_path)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_bytes(GOOD.encode() + b"spec:\n  image: caf\xe9\n")
    assert ":6:13: not UTF-8 text (byte 0xe9)" in _only(tmp_path)


def test_utf8_bom_is_fine(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert loader.load_paths([tmp_path]).ok


@pytest.mark.parametrize("content", ["", "\n\n", "# just a comment\n", "---\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    (tmp_path / "runway.yml").write_text(content)
    assert "file is empty" in _only(tmp_path)


def test_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text("- a\n- b\n")
    assert "must be a mapping" in _only(tmp_path)


def test_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "runway.yml"
    with path.open("wb") as handle:
        handle.write(GOOD.encode())
        handle.truncate(50 * 1024 * 1024)
    started = time.perf_counter()
    assert "manifests are limited to" in _only(tmp_path)
    assert time.perf_counter() - started < 1


def test_directory_without_manifests(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing here\n")
    result = run_cli("validate", str(tmp_path))
    assert result.exit_code == 2
    assert "no Runway manifests found" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("validate", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr


def test_errors_in_several_files_reported_together(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "runway.yml").write_text("key: [\n")
    result = run_cli("validate", str(tmp_path))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.stderr.count("invalid YAML") == 2
