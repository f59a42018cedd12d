"""Discovery: which files under the given paths are manifests, grouped by service directory,
and what role each file plays (base, environment replacement, env vars, Kubernetes pair)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from runway.errors import UsageError

BASE_NAMES = ("runway.yml", "runway.yaml")


KUBE_SERVICE_NAME = "default-values.yaml"


_ENV_MANIFEST = re.compile(r"^runway-(?P<env>[a-z0-9][-a-z0-9_]*)\.ya?ml$")


_ENV_VARS = re.compile(r"^env-(?P<env>[a-z0-9][-a-z0-9_]*)\.ya?ml$")


KUBE_DEPLOYMENT = re.compile(
    r"^(?P<runtime>[a-z0-9]+)-service-(?P<env>[a-z0-9][-a-z0-9_]*)\.ya?ml$"
)


_SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__", "dist"})


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[Path, list[Path]]]:
    """Group manifest files by directory; a named file is taken whatever its name."""
    grouped: dict[Path, set[Path]] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            grouped.setdefault(path.parent, set()).add(path)
        elif path.is_dir():
            found = list(_walk(path))
            if not found:
                raise UsageError(
                    f"{path}: no Runway manifests found (looked for runway.yml, runway-<env>.yml, "
                    "env-<env>.yml, default-values.yaml and <runtime>-service-<env>.yaml)"
                )
            for file in found:
                grouped.setdefault(file.parent, set()).add(file)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return [(directory, sorted(files)) for directory, files in sorted(grouped.items())]


def _walk(root: Path) -> Iterable[Path]:
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(
            d for d in subdirs if d not in _SKIP_DIRS and (not d.startswith(".") or d == ".runway")
        )
        for name in sorted(names):
            if role_of(name) is not None:
                yield Path(directory) / name


def role_of(name: str) -> tuple[str, str | None] | None:
    if name in BASE_NAMES:
        return ("base", None)
    if name == KUBE_SERVICE_NAME:
        return ("kube-service", None)
    for role, pattern in (
        ("env-manifest", _ENV_MANIFEST),
        ("env-vars", _ENV_VARS),
        ("kube-deployment", KUBE_DEPLOYMENT),
    ):
        match = pattern.match(name)
        if match:
            return (role, match["env"])
    return None


def display_path(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path.absolute()) if relative.startswith("..") else relative
