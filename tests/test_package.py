"""`runway package`: reproducible archives the Helm engine treats like its own, optionally signed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from runway import helm
from runway.errors import VerifyError
from runway.publish.archive import FIXED_EPOCH
from runway.verify import representative_values
from tests.conftest import MANIFESTS, run_cli


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("charts")
    built = run_cli("build", str(MANIFESTS / "kas"), "-o", str(out), "--no-verify")
    assert built.exit_code == 0, built.stderr
    return out / "kas"


def _package(chart: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> Path:
    result = run_cli("package", str(chart), "-o", str(out), *extra, env=env)
    assert result.exit_code == 0, result.stderr
    path_text, digest = result.stdout.split()[:2]
    path = Path(path_text)
    assert digest == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return path


def test_same_chart_gives_byte_identical_archives_whatever_the_file_times(
    chart: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "a" / "kas", tmp_path / "b" / "kas"
    shutil.copytree(chart, first)
    shutil.copytree(chart, second)
    for number, path in enumerate(sorted(second.rglob("*"))):
        os.utime(path, (1_000_000_000 + number * 977, 1_500_000_000 + number * 977))
    one = _package(first, tmp_path / "out-a")
    two = _package(second, tmp_path / "out-b")
    assert one.read_bytes() == two.read_bytes()
    assert one.name == "kas-0.1.0.tgz"


PINNED_DIGEST = "sha256:1091117835c82176146655aad05ec8a32489fe339b91c718ae5a537cbfe632c6"
"""The archive of the chart below, as runway has written it since archives became reproducible.
A registry refuses a published version whose digest changes, so a change of archive format (order,
headers, compression) must be a deliberate decision, and this pin is where it shows."""


def test_the_archive_bytes_of_a_fixed_chart_do_not_change(tmp_path: Path) -> None:
    from runway.publish.archive import package_chart

    chart = tmp_path / "fixed"
    files = {
        "Chart.yaml": 'apiVersion: v2\nname: fixed\nversion: 1.2.3\nappVersion: "4.5.6"\n'
        "description: A chart whose archive bytes are pinned\n",
        "values.yaml": "replicaCount: 1\n",
        "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        '  name: {{ .Release.Name }}\ndata:\n  a: "1"\n',
        "files/hook.sh": "#!/bin/sh\nexit 0\n",
    }
    for name, text in files.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_text(text)
    (chart / "files/hook.sh").chmod(0o755)
    archive = package_chart(chart, tmp_path / "out", mtime=FIXED_EPOCH)
    assert archive.digest == PINNED_DIGEST
    assert archive.path.read_bytes() == archive.data
    assert (archive.name, archive.version) == ("fixed", "1.2.3")


def test_a_zlib_that_compresses_differently_is_named_and_the_archive_still_made(
    chart: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plant another deflate (zlib at level 6 stands in for zlib-ng): `runway package` says its
    archives will not match other machines', and still writes a valid archive."""
    import zlib

    from runway.publish import archive

    archive.compresses_like_zlib.cache_clear()
    assert archive.compresses_like_zlib() and archive.compressor_warning() is None
    real = zlib.compressobj
    monkeypatch.setattr(zlib, "compressobj", lambda _level, *rest: real(6, *rest))
    archive.compresses_like_zlib.cache_clear()
    try:
        result = run_cli("package", str(chart), "-o", str(tmp_path))
    finally:
        archive.compresses_like_zlib.cache_clear()
    assert result.exit_code == 0, result.stderr
    assert "compresses differently from zlib" in result.stderr
    assert "not byte-identical" in result.stderr
    assert archive.read_archive(tmp_path / "kas-0.1.0.tgz").name == "kas"


def test_archive_carries_no_time_owner_or_order_of_the_machine(chart: Path, tmp_path: Path) -> None:
    archive = _package(chart, tmp_path)
    raw = archive.read_bytes()
    assert raw[:4] == b"\x1f\x8b\x08\x00", "gzip header without a file name"
    assert raw[4:8] == b"\x00\x00\x00\x00", "gzip header without a time"
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names[0] == "kas/Chart.yaml"
    assert names[1:] == sorted(names[1:])
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {
        (FIXED_EPOCH, 0, 0, "", "")
    }
    assert {m.mode for m in members} == {0o644}


def test_source_date_epoch_sets_the_archive_time(chart: Path, tmp_path: Path) -> None:
    archive = _package(chart, tmp_path, env={"SOURCE_DATE_EPOCH": "1700000000"})
    with tarfile.open(archive) as tar:
        assert {m.mtime for m in tar.getmembers()} == {1700000000}
    bad = run_cli(
        "package", str(chart), "-o", str(tmp_path / "x"), env={"SOURCE_DATE_EPOCH": "soon"}
    )
    assert bad.exit_code == 1
    assert "SOURCE_DATE_EPOCH='soon' is not a number" in bad.stderr


def test_helm_renders_the_archive_exactly_like_the_directory(chart: Path, tmp_path: Path) -> None:
    archive = _package(chart, tmp_path / "ours")
    helms_own = helm.package(chart, tmp_path)
    values = representative_values(YAML(typ="safe").load((chart / "values.yaml").read_text()))

    def rendered(source: Path) -> dict[str, str]:
        """The render, with generated random secret values masked."""
        files = helm.render(source, values, name="kas", namespace="gitlab")
        return {k: re.sub(r'"[A-Za-z0-9+/]{40,}={0,2}"', '"<random>"', v) for k, v in files.items()}

    from_dir = rendered(chart)
    assert "<random>" in from_dir["kas/templates/secrets.yaml"]
    assert rendered(archive) == from_dir
    assert rendered(helms_own) == from_dir
    with tarfile.open(archive) as ours, tarfile.open(helms_own) as theirs:
        assert sorted(ours.getnames()) == sorted(theirs.getnames())
        for name in ours.getnames():
            mine, helms = ours.extractfile(name), theirs.extractfile(name)
            assert mine is not None and helms is not None
            assert mine.read() == helms.read(), name


@pytest.fixture(scope="session")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A throwaway RSA signing key: (secret keyring, public keyring) in Helm's legacy format."""
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(home, 0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    gpg = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(
        [*gpg, "--quick-gen-key", "Runway Release <release@runway.example>", "rsa2048", "sign"],
        env=env,
        check=True,
        capture_output=True,
    )
    secret, public = home / "secring.gpg", home / "pubring.gpg"
    secret.write_bytes(
        subprocess.run(
            [*gpg, "--export-secret-keys"], env=env, check=True, capture_output=True
        ).stdout
    )
    public.write_bytes(
        subprocess.run(["gpg", "--export"], env=env, check=True, capture_output=True).stdout
    )
    yield secret, public


def test_signed_archive_verifies_with_the_helm_engine(
    chart: Path, tmp_path: Path, keyring: tuple[Path, Path]
) -> None:
    secret, public = keyring
    archive = _package(
        chart, tmp_path, "--sign", "--key", "Runway Release", "--keyring", str(secret)
    )
    assert (tmp_path / "kas-0.1.0.tgz.prov").is_file()
    verified = helm.verify_provenance(archive, public)
    assert verified["signed_by"] == ["Runway Release <release@runway.example>"]
    unsigned = _package(chart, tmp_path / "plain")
    assert unsigned.read_bytes() == archive.read_bytes()

    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(VerifyError, match="provenance does not verify"):
        helm.verify_provenance(archive, public)


def test_several_charts_signed_at_once_each_verify(
    tmp_path: Path, keyring: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few charts are packaged and signed on threads; each gets its own provenance."""
    secret, public = keyring
    charts = tmp_path / "charts"
    assert run_cli("build", str(MANIFESTS), "-o", str(charts), "--no-verify").exit_code == 0
    monkeypatch.setenv("RUNWAY_JOBS", "2")
    done = run_cli(
        "package",
        *sorted(str(p) for p in charts.iterdir() if p.is_dir()),
        "-o",
        str(tmp_path / "out"),
        "--sign",
        "--key",
        "Runway Release",
        "--keyring",
        str(secret),
        "--format",
        "json",
    )
    assert done.exit_code == 0, done.stderr
    entries = json.loads(done.stdout)
    assert len(entries) == 4 and all(e["signed"] for e in entries)
    for entry in entries:
        verified = helm.verify_provenance(Path(entry["path"]), public)
        assert verified["signed_by"] == ["Runway Release <release@runway.example>"]


def test_signing_mistakes_are_reported(
    chart: Path, tmp_path: Path, keyring: tuple[Path, Path]
) -> None:
    secret, _ = keyring
    no_key = run_cli("package", str(chart), "-o", str(tmp_path), "--sign")
    assert no_key.exit_code == 2
    assert "--sign needs --key" in no_key.stderr
    wrong = run_cli(
        "package",
        str(chart),
        "-o",
        str(tmp_path),
        "--sign",
        "--key",
        "nobody",
        "--keyring",
        str(secret),
    )
    assert wrong.exit_code == 1
    assert "cannot sign with key 'nobody'" in wrong.stderr
    assert not list(tmp_path.glob("*.tgz")), "no archive is left behind when signing fails"


def test_a_directory_that_is_not_a_chart_is_refused(tmp_path: Path) -> None:
    result = run_cli("package", str(tmp_path), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "not a chart directory (no Chart.yaml)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_package_json_names_each_archive_and_its_digest(chart: Path, tmp_path: Path) -> None:
    from runway.publish.archive import read_archive

    result = run_cli("package", str(chart), "-o", str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    (entry,) = json.loads(result.stdout)
    assert entry["name"] == "kas" and entry["signed"] is False
    assert entry["digest"] == read_archive(Path(entry["path"])).digest
    assert entry["digest"].startswith("sha256:")


def test_packaging_on_threads_or_processes_gives_the_serial_archives_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runway.publish import archive

    charts_dir = tmp_path / "charts"
    assert run_cli("build", str(MANIFESTS), "-o", str(charts_dir), "--no-verify").exit_code == 0
    charts = sorted(p for p in charts_dir.iterdir() if p.is_dir())
    monkeypatch.setenv("RUNWAY_JOBS", "1")
    serial = list(archive.package_charts(charts, tmp_path / "serial", mtime=archive.FIXED_EPOCH))
    monkeypatch.setenv("RUNWAY_JOBS", "2")
    threaded = list(archive.package_charts(charts, tmp_path / "threads", mtime=archive.FIXED_EPOCH))
    monkeypatch.setattr(archive, "PER_WORKER", 2)
    parallel = list(
        archive.package_charts(charts, tmp_path / "parallel", mtime=archive.FIXED_EPOCH)
    )
    assert [a.name for a in parallel] == [a.name for a in threaded] == [c.name for c in charts]
    assert (
        [a.digest for a in parallel] == [a.digest for a in threaded] == [a.digest for a in serial]
    )
    assert all(a.path.parent == tmp_path / "parallel" and a.path.exists() for a in parallel)
    done = run_cli("package", *map(str, charts), "-o", str(tmp_path / "q"), "--quiet")
    assert done.exit_code == 0 and done.stdout == "" and "packaged 4 in " in done.stderr


def _odd_chart(root: Path) -> Path:
    """A chart with what Helm's packaging treats specially: ignored files, binary and executable
    files, CRDs, a schema, no values.yaml, and a Chart.yaml Helm writes differently."""
    chart = root / "odd"
    files: dict[str, bytes] = {
        "Chart.yaml": b"# a comment Helm drops\nname: odd\nversion: 0.3.0\napiVersion: v2\n"
        b"description: >-\n  folded\n  text that Helm writes back its own way\n"
        b"annotations:\n  z: '1'\n  a: \"yes\"\nkeywords: [a, b]\n",
        ".helmignore": b"*.tmp\nsecret/\n",
        "scratch.tmp": b"ignored\n",
        "secret/key": b"ignored too\n",
        "values.schema.json": b'{"type": "object"}\n',
        "templates/cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        "templates/_helpers.tpl": b'{{- define "odd.x" -}}x{{- end -}}\n',
        "crds/thing.yaml": b"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n",
        "files/logo.png": bytes(range(256)) * 4,
        "files/run.sh": b"#!/bin/sh\nexit 0\n",
        "LICENSE": b"MIT\n",
    }
    for name, data in files.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_bytes(data)
    (chart / "files/run.sh").chmod(0o755)
    return chart


@pytest.mark.parametrize("which", ["shipped", "odd"])
def test_runway_archives_what_helms_own_package_archives(which: str, tmp_path: Path) -> None:
    """runway reads a chart as Helm does and skips Helm's compressing of an archive it would
    rewrite anyway: the archives must be the ones it made from `helm package`'s, byte for byte
    (Chart.yaml as Helm marshals it, .helmignore applied, every other file as on disk)."""
    from runway.publish import archive

    if which == "odd":
        charts = [_odd_chart(tmp_path)]
    else:
        built = run_cli("build", str(MANIFESTS), "-o", str(tmp_path / "charts"), "--no-verify")
        assert built.exit_code == 0, built.stderr
        charts = sorted(p.parent for p in (tmp_path / "charts").glob("*/Chart.yaml"))
        assert len(charts) == 4
    for index, directory in enumerate(charts):
        scratch = tmp_path / f"scratch-{index}"
        (scratch / "helm").mkdir(parents=True)
        read = archive._helm_members(directory, scratch)
        packaged = archive._members(helm.package(directory, scratch / "helm").read_bytes())
        assert read == packaged, sorted(set(read) ^ set(packaged))
        if which == "odd":
            assert not any("scratch.tmp" in n or "secret/" in n for n in read)
            assert read["odd/Chart.yaml"][1] != (directory / "Chart.yaml").read_bytes()


def test_a_chart_with_subcharts_is_archived_by_helm_itself(chart: Path, tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    shutil.copytree(chart, parent)
    shutil.copytree(chart, parent / "charts" / "kas")
    assert helm.archive_members(parent, tmp_path / "scratch") is None
    from runway.publish.archive import _helm_members

    members = _helm_members(parent, tmp_path)
    assert any(name.startswith("kas/charts/kas/") for name in members)
