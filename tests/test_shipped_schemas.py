"""The shipped upstream schemas as runway checks data against them (jsonschema-rs)."""

from __future__ import annotations

from typing import Any

import pytest

from runway.common import shipped_schemas
from runway.manifest._yaml import WrittenInt


@pytest.mark.parametrize(
    ("name", "good", "bad", "path", "fragment"),
    [
        (
            "gitlab-ci.schema.json",
            {"job": {"script": "x", "when": "manual"}},
            {"job": {"script": "x", "when": "sometimes"}},
            ("job", "when"),
            "sometimes",
        ),
        (
            "pulumi-project.schema.json",
            {"name": "infra", "runtime": "python"},
            {"runtime": "python"},
            (),
            '"name" is a required property',
        ),
        (
            "devfile.schema.json",
            {"schemaVersion": "2.2.0", "components": [{"name": "c", "container": {"image": "i"}}]},
            {"schemaVersion": "2.2.0", "components": [{"name": "c", "container": {}}]},
            ("components", 0),
            "",
        ),
    ],
)
def test_each_shipped_schema_finds_a_planted_defect_where_it_is(
    name: str, good: dict[str, Any], bad: dict[str, Any], path: tuple[Any, ...], fragment: str
) -> None:
    assert shipped_schemas.problems(name, good) == []
    found = shipped_schemas.problems(name, bad)
    assert found, name
    assert any(where[: len(path)] == path and fragment in message for where, message in found), (
        found
    )


def test_numbers_as_yaml_wrote_them_are_checked_as_numbers() -> None:
    """Documents keep how a number was written (an int subclass), which jsonschema-rs refuses
    to take as it is."""
    job = {"job": {"script": "x", "timeout": "1h", "retry": WrittenInt(2, "2")}}
    assert shipped_schemas.problems("gitlab-ci.schema.json", job) == []
    job["job"]["retry"] = WrittenInt(7, "7")
    assert [path for path, _ in shipped_schemas.problems("gitlab-ci.schema.json", job)] != []
