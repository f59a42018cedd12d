"""What `pip install NAME[extras]` puts on disk, read from this venv's installed distributions."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def closure(name: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """The distributions `name[extras]` requires, transitively (markers evaluated here)."""
    seen: set[str] = set()
    environment: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    pending = [(name, extras)]
    while pending:
        current, wanted = pending.pop()
        key = canonicalize_name(current)
        if key in seen and not wanted:
            continue
        seen.add(key)
        for text in metadata.requires(current) or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not any(
                requirement.marker.evaluate({**environment, "extra": extra})
                for extra in (wanted or {""})
            ):
                continue
            if canonicalize_name(requirement.name) not in seen:
                pending.append((requirement.name, frozenset(requirement.extras)))
    return seen


def footprint(name: str, extras: frozenset[str] = frozenset()) -> tuple[int, int]:
    """(bytes, distributions) of `name[extras]` and what it requires."""
    total = 0
    names = closure(name, extras)
    for dist in names:
        for file in metadata.distribution(dist).files or []:
            path = Path(file.locate())
            if path.is_file():
                total += path.stat().st_size
    return total, len(names)


def constraints(extras: frozenset[str]) -> str:
    """constraints.txt: every distribution `runway[extras]` installs, pinned as installed here."""
    lines = [
        f"{metadata.distribution(name).metadata['Name']}=={metadata.version(name)}"
        for name in closure("runway", extras)
        if name != "runway"
    ]
    header = (
        "# Pinned versions of everything runway[dev,stacks] installs, for reproducible installs\n"
        "# (pip install -c constraints.txt …). Refresh with ./dev lock after changing pyproject.toml.\n"
    )
    return header + "\n".join(sorted(lines, key=str.lower)) + "\n"


if __name__ == "__main__":
    print(constraints(frozenset({"dev", "stacks"})), end="")
