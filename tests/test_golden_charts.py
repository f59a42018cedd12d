"""Golden charts: each representative manifest compiles to exactly the chart kept in tests/golden.

A failure here means the generated chart changed. If the change is intended, run `./dev golden`
and commit the refreshed tree with it; the diff is what a reviewer reads.
"""

from __future__ import annotations

import difflib

import pytest

from tests.golden import CASES, Case, compile_case, stored

REFRESH = "if the change is intended, run ./dev golden and commit tests/golden/"


def _difference(expected: dict[str, bytes], actual: dict[str, bytes]) -> str:
    lines = []
    for missing in sorted(expected.keys() - actual.keys()):
        lines.append(f"no longer generated: {missing}")
    for extra in sorted(actual.keys() - expected.keys()):
        lines.append(f"newly generated: {extra}")
    for name in sorted(expected.keys() & actual.keys()):
        if expected[name] != actual[name]:
            lines.extend(
                difflib.unified_diff(
                    expected[name].decode(errors="replace").splitlines(),
                    actual[name].decode(errors="replace").splitlines(),
                    f"golden/{name}",
                    f"compiled/{name}",
                    lineterm="",
                    n=2,
                )
            )
    return "\n".join(lines[:200])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_compiled_chart_is_the_golden_chart_byte_for_byte(case: Case) -> None:
    expected = stored(case)
    assert "Chart.yaml" in expected and "templates/deployment.yaml" in expected, case.tree
    actual = compile_case(case)
    if actual != expected:
        pytest.fail(f"{case.name}: {REFRESH}\n{_difference(expected, actual)}", pytrace=False)


def test_a_changed_template_shows_as_a_diff_naming_the_file() -> None:
    case = CASES[0]
    expected = stored(case)
    planted = dict(expected)
    planted["templates/service.yaml"] += b"# drift\n"
    del planted["values.schema.json"]
    report = _difference(expected, planted)
    assert "+# drift" in report and "compiled/templates/service.yaml" in report
    assert "no longer generated: values.schema.json" in report
