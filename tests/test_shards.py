"""`--shard INDEX/COUNT`: the shards of build, verify and package together are the unsharded run,
byte for byte, and a service keeps its shard as others come and go."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runway.common.shards import Shard, parse_shard
from runway.errors import ExitCode
from tests.conftest import MANIFESTS, run_cli

SERVICE = """\
apiVersion: runway/v1
kind: RunwayService
metadata:
  name: svc-{i}
  owner_email_handle: shards
spec:
  regions: [us-east1]
  load_balancing:
    external_load_balancer:
      backend_protocol: HTTPS
"""


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("manifests")
    for service in MANIFESTS.iterdir():
        if service.is_dir():
            shutil.copytree(service, root / service.name)
    for i in range(12):
        (root / f"svc-{i}").mkdir()
        (root / f"svc-{i}" / "runway.yml").write_text(SERVICE.format(i=i))
    return root


def files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".runway-build-cache")
    }


def test_the_union_of_the_shards_is_the_unsharded_build_and_package(
    manifests: Path, tmp_path: Path
) -> None:
    image = ("--image", "registry.example.com/svc:1.0.0")
    whole = tmp_path / "whole"
    assert run_cli("build", str(manifests), "-o", str(whole), "--no-verify", *image).exit_code == 0
    assert (
        run_cli(
            "package",
            *map(str, sorted(p for p in whole.iterdir() if p.is_dir())),
            "-o",
            str(tmp_path / "whole-packages"),
        ).exit_code
        == 0
    )

    union: dict[str, bytes] = {}
    packages: dict[str, bytes] = {}
    for index in (1, 2, 3):
        out = tmp_path / f"shard-{index}"
        built = run_cli(
            "build", str(manifests), "-o", str(out), "--no-verify", *image, "--shard", f"{index}/3"
        )
        assert built.exit_code == 0, built.stderr
        shard = files(out)
        assert shard, f"shard {index}/3 builds something"
        assert not set(shard) & set(union), "no chart is built by two shards"
        union |= shard
        charts = sorted(p for p in out.iterdir() if p.is_dir())
        packed = run_cli(
            "package",
            *map(str, charts),
            "-o",
            str(tmp_path / f"packages-{index}"),
            "--shard",
            f"{index}/3",
        )
        assert packed.exit_code == 0, packed.stderr
        packages |= files(tmp_path / f"packages-{index}")
    assert union == files(whole)
    assert packages == files(tmp_path / "whole-packages")


def test_verify_shards_split_the_charts_between_them(manifests: Path, tmp_path: Path) -> None:
    out = tmp_path / "charts"
    assert run_cli("build", str(MANIFESTS), "-o", str(out), "--no-verify").exit_code == 0
    charts = sorted(str(p) for p in out.iterdir() if p.is_dir())
    verified = []
    for index in (1, 2):
        done = run_cli("verify", *charts, "--shard", f"{index}/2", "--format", "json")
        assert done.exit_code == 0, done.stderr
        verified += [r["chart"] for r in json.loads(done.stdout)["charts"]]
    assert sorted(verified) == charts


def test_a_service_keeps_its_shard_as_others_come_and_go() -> None:
    names = [f"svc-{i}" for i in range(200)]
    before = {n: next(i for i in range(1, 5) if Shard(i, 4).owns(n)) for n in names}
    assert all(sum(Shard(i, 4).owns(n) for i in range(1, 5)) == 1 for n in names)
    after = {n: next(i for i in range(1, 5) if Shard(i, 4).owns(n)) for n in names[50:]}
    assert all(before[n] == after[n] for n in after)
    sizes = [list(before.values()).count(i) for i in range(1, 5)]
    assert min(sizes) > 30, sizes


@pytest.mark.parametrize("bad", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_a_bad_shard_is_a_usage_error(bad: str) -> None:
    with pytest.raises(ValueError, match="INDEX"):
        parse_shard(bad)
    done = run_cli("build", "--shard", bad, "--no-verify")
    assert done.exit_code == ExitCode.USAGE and "--shard" in done.stderr


def test_a_build_leaves_other_charts_staging_alone(tmp_path: Path) -> None:
    """Shards sharing one output directory (a shell runner) write at the same time: a build
    sweeps what a killed run left for its own charts only, never another's work in progress."""
    out = tmp_path / "charts"
    out.mkdir()
    theirs = out / ".agentk.x1y2z3w4"
    ours = out / ".kas.a1b2c3d4"
    for staging in (theirs, ours):
        (staging / "templates").mkdir(parents=True)
    assert run_cli("build", str(MANIFESTS / "kas"), "-o", str(out), "--no-verify").exit_code == 0
    assert theirs.is_dir() and not ours.exists()
