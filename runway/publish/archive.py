"""Reproducible chart archives: the same chart gives a byte-identical `.tgz` on any machine, any day.

Helm reads the chart (so `.helmignore`, Chart.yaml checks and the Chart.yaml written are Helm's
own), and the archive holds what `helm package` would put in it, as a tar stream with a fixed
order, one fixed mtime, uid/gid 0, no user names and a gzip header without a time or a file name.
The contents Helm reads are untouched.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import io
import struct
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from runway.common import parallel, yamlio
from runway.errors import PackageError
from runway.writer import write_bytes_atomic

FIXED_EPOCH = 315532800
"""1980-01-01T00:00:00Z, the epoch wheels and ZIP use when SOURCE_DATE_EPOCH is not set."""

GITLAB_VERSIONS = "runway.gitlab.com/gitlab-versions"
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class ChartArchive:
    """A packaged chart: its bytes, its Chart.yaml and the digest registries report for it."""

    path: Path
    data: bytes
    metadata: Mapping[str, Any]
    provenance: bytes | None = None

    @property
    def name(self) -> str:
        return str(self.metadata["name"])

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}.tgz"

    @property
    def gitlab_versions(self) -> str | None:
        annotations = self.metadata.get("annotations") or {}
        value = annotations.get(GITLAB_VERSIONS)
        return str(value) if value else None


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def source_date_epoch(environ: Mapping[str, str]) -> int:
    """The archive mtime: SOURCE_DATE_EPOCH (reproducible-builds.org) or a fixed epoch."""
    raw = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return FIXED_EPOCH
    if not raw.isdigit():
        raise PackageError(
            f"SOURCE_DATE_EPOCH={raw!r} is not a number of seconds since 1970 "
            "(e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct))"
        )
    return int(raw)


def _helm_members(chart: Path, scratch: Path) -> dict[str, tuple[int, bytes]]:
    """Path → (mode, contents) of what `helm package` archives from `chart`: read as Helm reads
    the chart, without Helm compressing an archive only to have it rewritten, except for charts
    with subcharts, which Helm packages itself."""
    from runway import helm

    members = helm.archive_members(chart, scratch / "chart-yaml")
    if members is not None:
        return {name: (0o644, data) for name, data in members.items()}
    return _members(helm.package(chart, scratch).read_bytes())


def _members(archive: bytes) -> dict[str, tuple[int, bytes]]:
    """Path → (mode, contents) of every file in an archive; only the executable bit survives."""
    members: dict[str, tuple[int, bytes]] = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            handle = tar.extractfile(member)
            assert handle is not None
            executable = bool(member.mode & 0o111)
            members[member.name] = (0o755 if executable else 0o644, handle.read())
    return members


def _reproducible(members: Mapping[str, tuple[int, bytes]], mtime: int) -> bytes:
    """The tar stream in a fixed order, one mtime, no owners, gzipped (see _gzip)."""
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(members, key=_member_order):
            mode, data = members[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            info.mode = mode
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return _gzip(stream.getvalue())


GZIP_HEADER = bytes.fromhex("1f8b08000000000002ff")
"""RFC 1952: deflate, no flags (no name), time 0, best compression, OS unknown: what GzipFile
wrote for these archives. Spelled out because Python's own gzip writers differ in the OS byte."""


def _gzip(data: bytes) -> bytes:
    """One gzip member at level 9, compressed in one call (deflate's output does not depend on how
    its input is split, so this matches streaming through GzipFile, with fewer calls)."""
    return (
        GZIP_HEADER + _deflate(data) + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    )


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


DEFLATE_PROBE_DIGEST = "sha256:a7e84f19d41b56b195eb03cb0d4fa2cc65a9417c1c81cc05c23c7b8868f935f8"
"""zlib's level-9 deflate of deflate_probe(). Other implementations behind Python's zlib module
(zlib-ng's compat library, as Fedora 40 ships, or vendor-tuned forks) compress correctly but
differently, and the archive bytes follow the compressor."""


def deflate_probe() -> bytes:
    return b"".join(
        f"key-{i % 97}: value-{(i * 7919) % 1009} {'x' * (i % 13)}\n".encode() for i in range(2000)
    )


@functools.cache
def compresses_like_zlib() -> bool:
    """True when this Python's zlib gives the bytes zlib gives, so archives made here match
    archives made anywhere else."""
    return sha256_digest(_deflate(deflate_probe())) == DEFLATE_PROBE_DIGEST


def compressor_warning() -> str | None:
    """What to tell a user whose archives will not match other machines' byte for byte."""
    if compresses_like_zlib():
        return None
    return (
        f"warning: this Python's zlib ({zlib.ZLIB_RUNTIME_VERSION}) compresses differently from "
        "zlib, so archives made here are valid but not byte-identical to the same charts "
        "packaged elsewhere, and a registry already holding a version packaged elsewhere will "
        "refuse them; package with a Python linked against zlib (python.org's, Debian's, or the "
        "python container images)"
    )


def _member_order(name: str) -> tuple[int, str]:
    """Chart.yaml first (as Helm writes it), then every other file by path."""
    return (0 if name.count("/") == 1 and name.endswith("/Chart.yaml") else 1, name)


MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_EXPANDED_BYTES = 100 * 1024 * 1024
"""Helm's own limits on what a chart archive may expand to, per file and in all (helm.sh/helm/v3
pkg/chart/loader/archive.go: MaxDecompressedFileSize, MaxDecompressedChartSize): an archive a
registry sends is read within them, so a decompression bomb is refused, not held in memory."""


def parse_archive(path: Path, data: bytes, provenance: bytes | None = None) -> ChartArchive:
    """Check that `data` is a chart archive and read its Chart.yaml; PackageError says what is wrong."""
    try:
        files = _bounded_files(path, data)
    except (tarfile.TarError, OSError, EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise PackageError(
            f"{path}: corrupt chart archive ({err}); package it again with `runway package`"
        ) from None
    tops = {name.split("/", 1)[0] for name in files}
    if len(tops) != 1:
        raise PackageError(
            f"{path}: not a chart archive (expected one top-level directory, found {len(tops)})"
        )
    chart_yaml = files.get(f"{tops.pop()}/Chart.yaml")
    if chart_yaml is None:
        raise PackageError(f"{path}: not a chart archive (no Chart.yaml at its top)")
    return ChartArchive(path, data, _chart_metadata(path, chart_yaml), provenance)


def _bounded_files(path: Path, data: bytes) -> dict[str, bytes | None]:
    """Every entry of a gzipped tar by name, with the contents of its regular files (None for
    the rest), each read through to its end (so a damaged stream is found) within Helm's limits."""
    files: dict[str, bytes | None] = {}
    remaining = MAX_EXPANDED_BYTES
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for info in tar:
            if not info.isfile():
                files[info.name] = None
                continue
            if info.size > MAX_FILE_BYTES or info.size > remaining:
                limit = "5 MiB for a file" if info.size > MAX_FILE_BYTES else "100 MiB in all"
                raise PackageError(
                    f"{path}: {info.name} expands past Helm's limit ({limit}); not a chart"
                )
            handle = tar.extractfile(info)
            assert handle is not None
            files[info.name] = handle.read(info.size)
            remaining -= info.size
    return files


def _chart_metadata(path: Path, chart_yaml: bytes) -> dict[str, Any]:
    try:
        metadata = yamlio.load(chart_yaml)
    except yamlio.InvalidYAML as err:
        raise PackageError(f"{path}: Chart.yaml in the archive is not YAML: {err}") from None
    if not isinstance(metadata, dict) or not metadata.get("name") or not metadata.get("version"):
        raise PackageError(f"{path}: Chart.yaml in the archive has no name or version")
    return metadata


def read_archive(path: Path) -> ChartArchive:
    """Load an archive (and its `.prov`, if one lies beside it) from disk."""
    try:
        if path.stat().st_size > MAX_ARCHIVE_BYTES:
            raise PackageError(f"{path}: larger than {MAX_ARCHIVE_BYTES // 2**20} MiB; not a chart")
        data = path.read_bytes()
    except OSError as err:
        raise PackageError(f"{path}: cannot read: {err.strerror}") from None
    prov_path = path.with_name(path.name + ".prov")
    provenance = prov_path.read_bytes() if prov_path.is_file() else None
    return parse_archive(path, data, provenance)


@dataclasses.dataclass(frozen=True, slots=True)
class SigningKey:
    """A PGP key for Helm provenance: the key's name (or email) in a secret keyring file."""

    name: str
    keyring: Path
    passphrase_file: Path | None = None


PER_WORKER = 8
"""Charts a packaging worker must have to be worth its start."""


def package_charts(
    charts: list[Path], destination: Path, *, mtime: int, signing: SigningKey | None = None
) -> Iterator[ChartArchive]:
    """Package charts on every core (processes, or threads for a few: Helm's packaging and zlib
    release the GIL), yielding each archive in the order given."""
    job = functools.partial(package_chart, destination=destination, mtime=mtime, signing=signing)
    return parallel.ordered_map(job, charts, at_least=PER_WORKER, chunksize=4, releases_gil=True)


def package_chart(
    chart: Path, destination: Path, *, mtime: int, signing: SigningKey | None = None
) -> ChartArchive:
    """Package `chart` into `destination/NAME-VERSION.tgz` (and `.prov` when signing)."""
    from runway import helm

    if not (chart / "Chart.yaml").is_file():
        raise PackageError(f"{chart}: not a chart directory (no Chart.yaml); run `runway build`")
    with tempfile.TemporaryDirectory(prefix="runway-package-") as scratch:
        members = _helm_members(chart, Path(scratch))
        data = _reproducible(members, mtime)
        chart_yaml = next(v for k, (_, v) in members.items() if _member_order(k)[0] == 0)
        metadata = _chart_metadata(chart, chart_yaml)
        filename = f"{metadata['name']}-{metadata['version']}.tgz"
        archive = ChartArchive(destination / filename, data, metadata)
        if signing is None:
            write_bytes_atomic(archive.path, data)
            archive.path.with_name(archive.path.name + ".prov").unlink(missing_ok=True)
            return archive
        staged = Path(scratch) / "signed" / filename
        staged.parent.mkdir()
        staged.write_bytes(data)
        prov = helm.sign(
            staged,
            key=signing.name,
            keyring=signing.keyring,
            passphrase_file=signing.passphrase_file,
        ).read_bytes()
    write_bytes_atomic(archive.path, data)
    write_bytes_atomic(archive.path.with_name(archive.path.name + ".prov"), prov)
    return dataclasses.replace(archive, provenance=prov)
