"""Progress of a long run: click's bar with a count and the elapsed time on a terminal, plain
result lines otherwise (CI logs, pipes, NO_COLOR), and only problems and the summary with
--quiet."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

QUIET_OPTION = click.option(
    "-q", "--quiet", is_flag=True, help="Only problems and the one-line summary"
)


def _is_terminal(stream: Any) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """Counts items as they finish; one summary line at the end, always on stderr."""

    def __init__(self, label: str, *, quiet: bool) -> None:
        self.label = label
        self.quiet = quiet
        self.started = time.monotonic()
        self._bar: Any = None
        self._shown = False

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"

    @property
    def live(self) -> bool:
        return self._bar is not None

    def start(self, total: int) -> None:
        """Show the bar, on a terminal only, for more than one item."""
        if self.quiet or total < 2 or "NO_COLOR" in os.environ or not _is_terminal(sys.stderr):
            return
        bar: Any = click.progressbar(
            length=total,
            label=self.label,
            show_pos=True,
            show_eta=False,
            file=sys.stderr,
            item_show_func=lambda _: self.elapsed(),
        )
        self._bar = bar.__enter__()
        self._shown = True

    def step(self, done: int, total: int) -> None:
        """For callers that learn the total with the first item (`done` counts from 1)."""
        if done == 1:
            self.start(total)
        self.advance()

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def result(self, text: str) -> None:
        """A line saying how one item went (stdout), unless the bar (shown now or earlier, as
        build's while it compiles) or --quiet stands for it."""
        if self.quiet or (self._shown and _is_terminal(sys.stdout)):
            return
        self._clear()
        click.echo(text)

    def outcome(self, text: str) -> None:
        """A result line that always shows (a failure), on stdout like every result."""
        self._clear()
        click.echo(text)

    def problem(self, text: str) -> None:
        self._clear()
        click.echo(text, err=True)

    def summary(self, text: str) -> None:
        self.close()
        click.echo(f"{text} in {self.elapsed()}", err=True)

    def close(self) -> None:
        if self._bar is not None:
            self._clear()
            self._bar.__exit__(None, None, None)
            self._bar = None

    def _clear(self) -> None:
        if self._bar is not None:
            click.echo("\r\033[K", nl=False, err=True)

    @contextmanager
    def running(self, total: int) -> Iterator[Progress]:
        self.start(total)
        try:
            yield self
        finally:
            self.close()
