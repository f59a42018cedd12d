"""Writing files and directories atomically: a reader sees the old output or the new, never half."""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from runway.errors import OutputError


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with _writing(path):
        _write_bytes(path, data)


def _write_bytes(path: Path, data: bytes) -> None:
    if path.is_dir():
        raise IsADirectoryError(21, "is a directory", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_tree_atomic(target: Path, files: Mapping[str, bytes], *, swept: bool = False) -> bool:
    """Replace directory `target` with exactly `files`; returns False when nothing changed.
    `swept`: the caller already ran `sweep_stale` for it (many trees, one pass over the parent)."""
    with _writing(target):
        return _write_tree(target, files, swept)


def _write_tree(target: Path, files: Mapping[str, bytes], swept: bool) -> bool:
    if not swept:
        sweep_stale(target.parent, [target.name])
    staging = _stage(target, files)
    if staging is None:
        return False
    _commit(target, staging)
    return True


def stage_tree(target: Path, files: Mapping[str, bytes]) -> Path | None:
    """`files` written into a hidden directory beside `target`, for `commit_tree` to put in its
    place (one a run never commits is swept by the next, as a killed write's is); None when
    `target` already holds exactly `files`. Lets a build write on several cores and still put
    nothing in place until every chart is written."""
    with _writing(target):
        return _stage(target, files)


def commit_tree(target: Path, staging: Path) -> None:
    """Put a staged tree in `target`'s place, atomically."""
    with _writing(target):
        _commit(target, staging)


def _stage(target: Path, files: Mapping[str, bytes]) -> Path | None:
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(20, "is a file, not a directory", str(target))
    if target.is_dir() and _same_tree(target, files):
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        for folder in _folders(files):
            os.mkdir(staging / folder)
            os.chmod(staging / folder, 0o755)  # whatever the umask took away
        for relative, data in sorted(files.items()):
            _write_new(staging / relative, data)
        os.chmod(staging, 0o755)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _commit(target: Path, staging: Path) -> None:
    try:
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _folders(files: Iterable[str]) -> list[str]:
    """Every folder the relative paths `files` need, parents before children."""
    needed: set[str] = set()
    for relative in files:
        folder = posixpath.dirname(relative)
        while folder and folder not in needed:
            needed.add(folder)
            folder = posixpath.dirname(folder)
    return sorted(needed, key=lambda folder: (folder.count("/"), folder))


def _write_new(path: Path, data: bytes) -> None:
    """A new file holding `data`, mode 0644 whatever the umask; on its descriptor alone (no
    buffered file object, no second lookup of the path: a chart is 26 files)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        remaining = memoryview(data)
        while remaining:
            remaining = remaining[os.write(descriptor, remaining) :]
        os.fchmod(descriptor, 0o644)
    finally:
        os.close(descriptor)


def _same_tree(target: Path, files: Mapping[str, bytes]) -> bool:
    existing = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    if existing != set(files):
        return False
    return all((target / name).read_bytes() == data for name, data in files.items())


def complete_directories(parent: Path, marker: str) -> list[Path]:
    """Directories of `parent` holding `marker`, leaving out hidden ones (a killed write's
    staging directory is hidden and may be partial)."""
    if not parent.is_dir():
        return []
    return sorted(
        p for p in parent.iterdir() if not p.name.startswith(".") and (p / marker).is_file()
    )


_LEFTOVER = re.compile(r"\.(?P<name>[^./][^/]*?)\.(old|[a-z0-9_]+)")
"""What `_write_tree` leaves when killed: `mkdtemp(prefix=".NAME.")` or `.NAME.old`."""


def sweep_stale(parent: Path, names: Iterable[str]) -> None:
    """What a killed run left in `parent` for the trees `names` (hidden `.NAME.*` directories),
    in one pass over it, however many trees a build writes. Other names are
    left alone: another run (a CI shard sharing the directory) may be writing them now."""
    wanted = set(names)
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        match = _LEFTOVER.fullmatch(entry.name)
        if match and match["name"] in wanted and entry.is_dir():
            shutil.rmtree(entry.path, ignore_errors=True)


class _writing:
    """Turns an OS error while writing `path` into one message naming it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: object
    ) -> None:
        if isinstance(error, OSError):
            where = error.filename or self.path
            reason = error.strerror or str(error)
            if isinstance(error, FileExistsError | NotADirectoryError):
                where = next(
                    (
                        p
                        for p in (Path(where), *Path(where).parents)
                        if p.exists() and not p.is_dir()
                    ),
                    Path(where),
                )
                reason = "is a file, not a directory"
            raise OutputError(
                f"cannot write {self.path}: {where} {reason}; "
                "choose another output (-o) or fix its permissions"
            ) from None
