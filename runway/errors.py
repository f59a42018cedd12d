"""One error hierarchy and one diagnostic type for every stage.

Stages report problems as `Diagnostic` values (collected, never printed); a stage that cannot
go on raises a `RunwayError`. Only the CLI turns either into text and an exit code.
"""

from __future__ import annotations

import dataclasses
import enum


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclasses.dataclass(frozen=True, slots=True)
class Diagnostic:
    """A located problem: `file:line:col: field.path: message` plus an optional hint."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    field: str = ""
    hint: str = ""
    severity: Severity = Severity.ERROR

    def location(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self) -> str:
        field = f"{self.field}: " if self.field else ""
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        text = f"{self.location()}: {prefix}{field}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
            "severity": str(self.severity),
        }


class ExitCode(enum.IntEnum):
    """Every exit status runway uses, so a CI job can tell failures apart (README, "Exit codes").

    Only the CLI's error handler exits; a stage says which row applies by the error it raises.
    """

    OK = 0
    FAILED = 1
    """The work could not be done: writing, packaging, a registry, a network."""
    USAGE = 2
    """The command line is wrong (click uses 2 for its own usage errors too)."""
    INVALID_INPUT = 3
    """A manifest, devfile, stack project or other input file is invalid."""
    VERIFY_FAILED = 4
    """A chart, bundle or set of charts failed verification."""
    NOT_FOUND = 5
    """What was asked for is not there: no such release, no compatible version."""
    POLICY_VIOLATION = 6
    """A planned environment breaks a policy."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C (128 + SIGINT, as shells report it)."""


class RunwayError(Exception):
    """Base of every error a user can cause; the CLI prints `str(err)` and exits non-zero."""

    exit_code = ExitCode.FAILED


class UsageError(RunwayError):
    """The command line itself is wrong (a path that does not exist, a bad option value)."""

    exit_code = ExitCode.USAGE


class ManifestError(RunwayError):
    """One or more manifests are invalid; carries every diagnostic found in one pass."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.render() for d in diagnostics))


class BuildError(RunwayError):
    """A chart could not be compiled or written."""


class OutputError(RunwayError):
    """An output path cannot be written (a file where a directory belongs, no permission, …)."""


class InvalidInputError(RunwayError):
    """Input files are invalid and their diagnostics were already reported."""

    exit_code = ExitCode.INVALID_INPUT


class VerifyError(RunwayError):
    """A chart failed verification."""

    exit_code = ExitCode.VERIFY_FAILED


class NotFoundError(RunwayError):
    """A release or version that was asked for does not exist where it was looked for."""

    exit_code = ExitCode.NOT_FOUND


class PolicyError(RunwayError):
    """A planned environment violates one or more policies."""

    exit_code = ExitCode.POLICY_VIOLATION


class PackageError(RunwayError):
    """A chart could not be packaged or signed, or an archive is not a chart."""


class PublishError(RunwayError):
    """A registry refused, could not be reached, or holds something that conflicts."""


class MissingExtraError(RunwayError):
    """A command needs packages of an extra that is not installed (`runway[stacks]`)."""

    def __init__(self, command: str, extra: str, module: str) -> None:
        super().__init__(
            f"{command} needs the {extra!r} extra ({module} is not installed): "
            f"pip install 'runway[{extra}]'"
        )
