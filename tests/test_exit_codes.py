"""The exit-code table: distinct codes, documented in the README, decided in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from runway import errors
from runway.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
HANDLER = ROOT / "runway" / "cli" / "_common.py"


def test_every_code_is_distinct_and_each_error_class_maps_to_one() -> None:
    assert len({int(code) for code in ExitCode}) == len(ExitCode)
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.RunwayError)
    ]
    for cls in classes:
        assert isinstance(cls.exit_code, ExitCode), cls
        assert cls.exit_code is not ExitCode.OK, cls


def test_the_readme_table_is_the_enum() -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
    assert documented == {int(code) for code in ExitCode}


def _exits(path: Path) -> list[int]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in {"sys.exit", "exit"}:
            found.append(node.lineno)
        if (
            isinstance(node, ast.Raise)
            and node.exc is not None
            and "SystemExit" in ast.unparse(node.exc)
        ):
            found.append(node.lineno)
    return found


def test_only_the_cli_error_handler_exits() -> None:
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "runway").rglob("*.py"))
        if path != HANDLER and (lines := _exits(path))
    }
    assert offenders == {}
    assert _exits(HANDLER), "the handler itself must be found, or this test checks nothing"
