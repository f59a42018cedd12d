"""The one module that talks to the Helm engine (helm-python-sdk, Helm v4's Go SDK).

Kept small so that a `helm` binary could serve instead; imported only by commands that need it.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import tarfile
from pathlib import Path
from typing import Any

import helm_python

from runway.errors import PackageError, VerifyError

helm_python.disable_logging()


@dataclasses.dataclass(frozen=True, slots=True)
class LintResult:
    errors: list[str]
    warnings: list[str]


def lint(
    chart: Path, values: dict[str, Any] | None, kube_version: str, *, schema: bool = True
) -> LintResult:
    """`helm lint --strict`; `schema=False` skips validating values against values.schema.json,
    for a caller that renders the same values anyway (a render validates them too)."""
    result = helm_python.lint(
        chart,
        values or {},
        strict=True,
        kube_version=kube_version,
        skip_schema_validation=not schema,
    )
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


@dataclasses.dataclass(frozen=True, slots=True)
class LoadedChart:
    """A chart Helm has read once, to render under several sets of values; close it (`with`).
    `validates_values`: its renders check values against values.schema.json (see `load`)."""

    chart: helm_python.Chart
    validates_values: bool = True

    def __enter__(self) -> LoadedChart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.chart.close()

    def merged_values(self, values: dict[str, Any] | None) -> dict[str, Any]:
        """The chart's defaults coalesced with `values`, as an install composes them (and as
        Helm validates them against the values schema)."""
        try:
            merged: dict[str, Any] = self.chart.merge_values(values or {})
        except helm_python.HelmError as err:
            raise VerifyError(str(err)) from None
        return merged

    def render(self, values: dict[str, Any] | None, *, name: str, namespace: str) -> dict[str, str]:
        """Render offline (`lookup` finds nothing); a values or template error raises VerifyError."""
        try:
            rendered: dict[str, str] = self.chart.render(
                values or {}, name=name, namespace=namespace, is_install=True
            )
        except helm_python.HelmError as err:
            raise VerifyError(str(err)) from None
        return rendered


def load(chart: Path, *, values_schema: bool = True) -> LoadedChart:
    """Helm's reading of a chart directory or archive; VerifyError when Helm cannot read it.

    `values_schema=False` (a chart directory without subcharts): renders skip validating values
    against values.schema.json, for a caller that validates them itself with a validator compiled
    once. Helm compiles the schema again on every render, which was half of each render's time."""
    try:
        loaded = helm_python.Chart.load(chart)
        if values_schema or not chart.is_dir() or _has_subcharts(chart, loaded):
            return LoadedChart(loaded)
        with loaded:
            files = {name: (chart / name).read_bytes() for name in _files_read(chart, loaded)}
            files["Chart.yaml"] = (chart / "Chart.yaml").read_bytes()
            bare = helm_python.Chart.load_archive(_stored_archive(files))
        return LoadedChart(bare, validates_values=False)
    except helm_python.HelmError as err:
        raise VerifyError(str(err)) from None


def _has_subcharts(chart: Path, loaded: helm_python.Chart) -> bool:
    """Subcharts (or their lock) Helm reads, checks and writes its own way."""
    return bool(
        loaded.dependencies or (chart / "charts").exists() or (chart / "Chart.lock").exists()
    )


def _files_read(chart: Path, loaded: helm_python.Chart) -> list[str]:
    """The files Helm read from a chart directory (after .helmignore), but for Chart.yaml and
    values.schema.json, by path inside the chart."""
    names = ["values.yaml"] if (chart / "values.yaml").is_file() else []
    names += [f["name"] for f in (*loaded.files, *loaded.templates, *loaded.crds)]
    return list(dict.fromkeys(names))


def _stored_archive(files: dict[str, bytes]) -> bytes:
    """A chart archive of `files` (path inside the chart → bytes) for Helm to read from memory:
    stored rather than compressed, since it is read once, here."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            member = tarfile.TarInfo(f"chart/{name}")
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=0, mtime=0)


def render(
    chart: Path, values: dict[str, Any] | None, *, name: str, namespace: str
) -> dict[str, str]:
    """Load and render once; see LoadedChart.render."""
    with load(chart) as loaded:
        return loaded.render(values, name=name, namespace=namespace)


def default_values(chart: Path) -> dict[str, Any]:
    """The chart's values.yaml as Helm reads it (from a directory or an archive)."""
    try:
        with helm_python.Chart.load(chart) as loaded:
            values: dict[str, Any] = dict(loaded.values or {})
    except helm_python.HelmError as err:
        raise VerifyError(f"{chart}: Helm cannot load this chart: {err}") from None
    return values


def archive_members(chart: Path, scratch: Path) -> dict[str, bytes] | None:
    """What `helm package` puts in a chart directory's archive, by path below the chart's name:
    every file Helm read from it (after .helmignore) as it is on disk, and Chart.yaml as Helm
    writes it (from the metadata it read). Helm's own archive is compressed only to be
    rewritten (`publish.archive`), so this skips it. None for a chart with subcharts, which Helm
    writes its own way: `package` those. `scratch`: an empty directory."""
    try:
        with helm_python.Chart.load(chart) as loaded:
            if _has_subcharts(chart, loaded):
                return None
            names = _files_read(chart, loaded)
            names += ["values.schema.json"] if loaded.schema is not None else []
            name = str(loaded.name)
        members = {f"{name}/{n}": (chart / n).read_bytes() for n in names}
        members[f"{name}/Chart.yaml"] = _written_chart_yaml(
            (chart / "Chart.yaml").read_bytes(), scratch
        )
    except helm_python.HelmError as err:
        raise PackageError(f"{chart}: Helm cannot package this chart: {err}") from None
    except OSError as err:
        raise PackageError(f"{chart}: cannot read {err.filename}: {err.strerror}") from None
    return members


def _written_chart_yaml(text: bytes, scratch: Path) -> bytes:
    """Chart.yaml as Helm's packaging writes it: the metadata it reads, marshalled again (key
    order, quoting and folding are Go's), by saving a chart that holds only this Chart.yaml."""
    with helm_python.Chart.load_archive(_stored_archive({"Chart.yaml": text})) as alone:
        saved = Path(alone.save(scratch))
    with tarfile.open(saved, mode="r:gz") as tar:
        member = next(m for m in tar if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml"))
        written = tar.extractfile(member)
        assert written is not None
        return written.read()


def package(chart: Path, destination: Path) -> Path:
    """Helm's own archive of `chart` (loaded, checked and saved exactly as `helm package` does)."""
    try:
        return Path(helm_python.package(chart, destination=destination))
    except helm_python.HelmError as err:
        raise PackageError(f"{chart}: Helm cannot package this chart: {err}") from None


def sign(archive: Path, *, key: str, keyring: Path, passphrase_file: Path | None) -> Path:
    """Write Helm's PGP provenance file (`ARCHIVE.prov`) beside `archive`."""
    try:
        return Path(
            helm_python.sign(archive, key=key, keyring=keyring, passphrase_file=passphrase_file)
        )
    except helm_python.HelmError as err:
        raise PackageError(
            f"{archive}: cannot sign with key {key!r} from {keyring}: {err}",
        ) from None


def verify_provenance(archive: Path, keyring: Path) -> dict[str, Any]:
    """Helm's `helm verify`: the archive matches its `.prov` and the signer is in `keyring`."""
    try:
        result: dict[str, Any] = helm_python.verify(archive, keyring)
    except helm_python.HelmError as err:
        raise VerifyError(f"{archive}: provenance does not verify: {err}") from None
    return result
