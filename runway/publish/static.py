"""A static chart repository: a directory per stage, each with its archives and `index.yaml`.

Serve the directory over HTTP and `helm repo add NAME https://HOST/STAGE` works. Writes take a lock,
write the archive first and the index last (both atomically), so a reader never sees an index
entry without its archive, and two publishers never lose each other's entries.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
from collections.abc import Iterator
from pathlib import Path

from runway.errors import PublishError
from runway.publish import index as idx
from runway.publish.archive import ChartArchive, read_archive
from runway.publish.registry import Release
from runway.writer import write_bytes_atomic, write_text_atomic


class StaticRepository:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def close(self) -> None:
        pass

    def releases(self, name: str, stage: str) -> list[Release]:
        return [self._release(entry, stage) for entry in idx.versions_of(self._index(stage), name)]

    def find(self, name: str, version: str, stage: str) -> Release | None:
        for release in self.releases(name, stage):
            if release.version == version:
                return release
        return None

    def upload(self, archive: ChartArchive, stage: str) -> None:
        directory = self.root / stage
        with self._locked(directory):
            write_bytes_atomic(directory / archive.filename, archive.data)
            prov = directory / f"{archive.filename}.prov"
            if archive.provenance is not None:
                write_bytes_atomic(prov, archive.provenance)
            else:
                prov.unlink(missing_ok=True)
            now = _now()
            entry = idx.entry_for(archive, archive.filename, now)
            index = idx.with_entry(self._index(stage), entry, now)
            write_text_atomic(directory / "index.yaml", idx.dump_index(index))

    def copy(self, release: Release, stage: str) -> None:
        archive = read_archive(self.root / release.stage / f"{release.name}-{release.version}.tgz")
        if archive.digest != release.digest:
            raise PublishError(
                f"{archive.path}: its digest {archive.digest} does not match index.yaml "
                f"({release.digest}); the repository was changed by hand"
            )
        self.upload(archive, stage)

    def _index(self, stage: str) -> idx.Index:
        path = self.root / stage / "index.yaml"
        try:
            return idx.parse_index(path.read_text(encoding="utf-8"), str(path))
        except FileNotFoundError:
            return idx.empty_index()
        except (OSError, UnicodeDecodeError) as err:
            raise PublishError(f"{path}: cannot read: {err}") from None

    def _release(self, entry: dict[str, object], stage: str) -> Release:
        name, version = str(entry["name"]), str(entry["version"])
        digest = idx.digest_of(entry)
        if digest is None:
            digest = read_archive(self.root / stage / f"{name}-{version}.tgz").digest
        return Release(
            name=name,
            version=version,
            stage=stage,
            digest=digest,
            gitlab_versions=idx.gitlab_versions_of(entry),
            reference=str(self.root / stage),
        )

    @contextlib.contextmanager
    def _locked(self, directory: Path) -> Iterator[None]:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            handle = (directory / ".index.lock").open("a")
        except OSError as err:
            raise PublishError(
                f"{directory}: cannot write the repository: {err.strerror}"
            ) from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
