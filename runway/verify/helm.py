"""The one module that talks to the Helm engine (helm-python-sdk, Helm v4's Go SDK).

Kept small so that a `helm` binary could serve instead; imported only by commands that need it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import helm_python

from runway.errors import VerifyError

helm_python.disable_logging()


@dataclasses.dataclass(frozen=True, slots=True)
class LintResult:
    errors: list[str]
    warnings: list[str]


def lint(chart: Path, values: dict[str, Any] | None, kube_version: str) -> LintResult:
    result = helm_python.lint(chart, values or {}, strict=True, kube_version=kube_version)
    errors: list[str] = []
    warnings: list[str] = []
    for message in result.get("messages") or []:
        text = str(message.get("message") or message.get("Err") or message)
        severity = int(message.get("severity", 0) or 0)
        if severity >= 3:
            errors.append(text)
        elif severity == 2:
            warnings.append(text)
    errors.extend(str(e) for e in result.get("errors") or [] if str(e) not in errors)
    return LintResult(errors, warnings)


def render(
    chart: Path, values: dict[str, Any] | None, *, name: str, namespace: str
) -> dict[str, str]:
    """Render offline (`lookup` finds nothing); a values or template error raises VerifyError."""
    try:
        with helm_python.Chart.load(chart) as loaded:
            rendered: dict[str, str] = loaded.render(
                values or {}, name=name, namespace=namespace, is_install=True
            )
    except helm_python.HelmError as err:
        raise VerifyError(str(err)) from None
    return rendered


def package(chart: Path, destination: Path) -> Path:
    return Path(helm_python.package(chart, destination=destination))
