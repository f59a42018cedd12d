"""The `runway` command's entry point: answers `--version` before importing click, and leaves
pydantic's plugin discovery (a scan of every installed distribution) out of start-up."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from runway import __version__

        sys.stdout.write(f"runway, version {__version__}\n")
        return
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from runway.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
