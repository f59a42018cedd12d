"""The `runway` command's entry point: answers `--version` before importing click, leaves
pydantic's plugin discovery (a scan of every installed distribution) out of start-up, and ends
the process once its answer is out rather than tearing the interpreter down."""

from __future__ import annotations

import atexit
import os
import sys
from typing import NoReturn


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from runway import __version__

        sys.stdout.write(f"runway, version {__version__}\n")
        return
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from runway.cli import main as cli

    try:
        cli()
    except SystemExit as done:
        _leave(done)


def _leave(done: SystemExit) -> NoReturn:
    """Exit with `done`'s code without freeing every module and object first: that teardown
    took a one-chart verify 60 ms and a validate 25 ms after the answer was printed. Exit
    handlers still run and output is still flushed; with other threads still running, or
    output that cannot be flushed, the process exits the usual way."""
    threading = sys.modules.get("threading")
    if not isinstance(done.code, int | None) or (threading and threading.active_count() > 1):
        raise done
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        raise done from None
    os._exit(done.code or 0)


if __name__ == "__main__":
    main()
