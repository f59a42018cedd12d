"""Hostile and broken input: one clear message naming the file, a non-zero exit, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli

HEAD = "apiVersion: runway/v1\nkind: RunwayService\nmetadata: {name: svc}\n"


def _service(tmp_path: Path, text: str, name: str = "runway.yml") -> Path:
    folder = tmp_path / "svc"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize(
    "spec",
    ["spec: " + "[" * 28000 + "]" * 28000, "spec:\n  regions:\n    " + "- " * 28000 + "x"],
    ids=["flow", "block"],
)
@pytest.mark.parametrize("command", [["validate"], ["build", "--no-verify"]])
def test_deep_nesting_is_refused_before_the_composer_recurses(
    tmp_path: Path, spec: str, command: list[str]
) -> None:
    folder = _service(tmp_path, HEAD + spec + "\n")
    out = tmp_path / "out"
    result = run_cli(*command, str(folder), *(["-o", str(out)] if command[0] == "build" else []))
    assert result.exit_code == 1, result.stderr
    assert "runway.yml:" in result.stderr and "nesting deeper than 64 levels" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_deep_nesting_in_a_devfile_is_refused(tmp_path: Path) -> None:
    devfile = tmp_path / "devfile.yaml"
    devfile.write_text("schemaVersion: 2.2.0\ncomponents: " + "[" * 28000 + "]" * 28000 + "\n")
    result = run_cli("workspace", "check", str(devfile))
    assert result.exit_code != 0
    assert "nesting deeper than 64 levels" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[a]", "apiVersion must be a string, not list"),
        ("{a: 1}", "apiVersion must be a string, not dict"),
        ("!!set {a, b}", "apiVersion must be a string, not dict"),
        ("!!int abc", "'abc' is not a valid !!int value"),
        ("!!bool rest", "'rest' is not a valid !!bool value"),
        ('!!float ""', "'' is not a valid !!float value"),
        ("!custom x", "unknown YAML tag !custom"),
        ("!!python/object:os.system x", "is not a valid !!python/object:os.system value"),
    ],
)
def test_odd_values_and_tags_get_a_located_message(
    tmp_path: Path, value: str, message: str
) -> None:
    folder = _service(
        tmp_path, f"apiVersion: {value}\nkind: RunwayService\nmetadata: {{name: x}}\nspec: {{}}\n"
    )
    result = run_cli("validate", str(folder))
    assert result.exit_code == 1
    assert "runway.yml:1:" in result.stderr and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_kind_as_a_list_is_refused(tmp_path: Path) -> None:
    folder = _service(tmp_path, "apiVersion: runway/v1\nkind: [a]\nmetadata: {name: x}\nspec: {}\n")
    result = run_cli("validate", str(folder))
    assert result.exit_code == 1 and "runway.yml:2:1: kind: kind must be a string" in result.stderr


def test_env_values_keep_the_text_as_written(tmp_path: Path) -> None:
    folder = _service(
        tmp_path,
        "apiVersion: runway/v1+dev\nkind: RunwayService\nmetadata: {name: svc}\nspec:\n"
        "  regions: [us-east1]\n  environment:\n"
        "    A: 1.10\n    B: 012345\n    C: 0x1F\n    D: 1e3\n    E: 1e400\n    F: true\n",
    )
    (folder / "env-production.yml").write_text("G: 1.10\nH: 0o17\nI: 007\n")
    out = tmp_path / "out"
    result = run_cli(
        "build",
        str(folder),
        "-o",
        str(out),
        "--no-verify",
        "--env",
        "production",
        "--image",
        "registry.example.com/svc:1",
    )
    assert result.exit_code == 0, result.stderr
    values = (out / "svc" / "values.yaml").read_text()
    for name, text in {
        "A": "1.10",
        "B": "012345",
        "C": "0x1F",
        "D": "1e3",
        "E": "1e400",
        "F": "true",
        "G": "1.10",
        "H": "0o17",
        "I": "007",
    }.items():
        assert f'"{name}": "{text}"' in values


@pytest.mark.parametrize(
    ("secret_file", "config_path", "message"),
    [
        ("/etc/svc/a", "/etc/svc/a", "config file and secret s are both mounted at /etc/svc/a"),
        ("/tmp/token", "/etc/svc/a", "/tmp/token would shadow the writable /tmp"),
        ("/", "/etc/svc/a", "/ would shadow the root filesystem"),
        ("/etc/svc/../x", "/etc/svc/a", "/etc/svc/../x is not a normalised path"),
        ("/etc/svc", "/etc/svc/a", "a file cannot sit inside another file's path"),
    ],
)
def test_mount_paths_that_collide_or_shadow_are_refused_at_validate(
    tmp_path: Path, secret_file: str, config_path: str, message: str
) -> None:
    folder = _service(
        tmp_path,
        "apiVersion: runway/v1+dev\nkind: RunwayService\nmetadata: {name: svc}\nspec:\n"
        "  regions: [us-east1]\n  secrets:\n    - name: s\n"
        f"      existing: {{name: svc, key: k}}\n      file: {secret_file}\n"
        f"  config_files:\n    - path: {config_path}\n      content: x\n",
    )
    result = run_cli("validate", str(folder))
    assert result.exit_code == 1
    assert message in result.stderr, result.stderr
