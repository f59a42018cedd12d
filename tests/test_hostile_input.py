"""Hostile and broken input: one clear message naming the file, a non-zero exit, nothing written."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import fuzz
from runway.errors import ExitCode
from tests.conftest import MANIFESTS, run_cli

HEAD = "apiVersion: runway/v1\nkind: RunwayService\nmetadata: {name: svc}\n"


def _service(tmp_path: Path, text: str, name: str = "runway.yml") -> Path:
    folder = tmp_path / "svc"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize(
    "spec",
    ["spec: " + "[" * 28000 + "]" * 28000, "spec:\n  regions:\n    " + "- " * 28000 + "x"],
    ids=["flow", "block"],
)
@pytest.mark.parametrize("command", [["validate"], ["build", "--no-verify"]])
def test_deep_nesting_is_refused_before_the_composer_recurses(
    tmp_path: Path, spec: str, command: list[str]
) -> None:
    folder = _service(tmp_path, HEAD + spec + "\n")
    out = tmp_path / "out"
    result = run_cli(*command, str(folder), *(["-o", str(out)] if command[0] == "build" else []))
    assert result.exit_code == ExitCode.INVALID_INPUT, result.stderr
    assert "runway.yml:" in result.stderr and "nesting deeper than 64 levels" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_deep_nesting_in_a_devfile_is_refused(tmp_path: Path) -> None:
    devfile = tmp_path / "devfile.yaml"
    devfile.write_text("schemaVersion: 2.2.0\ncomponents: " + "[" * 28000 + "]" * 28000 + "\n")
    result = run_cli("workspace", "check", str(devfile))
    assert result.exit_code != 0
    assert "nesting deeper than 64 levels" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[a]", "apiVersion must be a string, not list"),
        ("{a: 1}", "apiVersion must be a string, not dict"),
        ("!!set {a, b}", "apiVersion must be a string, not dict"),
        ("!!int abc", "'abc' is not a valid !!int value"),
        ("!!bool rest", "'rest' is not a valid !!bool value"),
        ('!!float ""', "'' is not a valid !!float value"),
        ("!custom x", "unknown YAML tag !custom"),
        ("!!python/object:os.system x", "is not a valid !!python/object:os.system value"),
    ],
)
def test_odd_values_and_tags_get_a_located_message(
    tmp_path: Path, value: str, message: str
) -> None:
    folder = _service(
        tmp_path, f"apiVersion: {value}\nkind: RunwayService\nmetadata: {{name: x}}\nspec: {{}}\n"
    )
    result = run_cli("validate", str(folder))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "runway.yml:1:" in result.stderr and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_kind_as_a_list_is_refused(tmp_path: Path) -> None:
    folder = _service(tmp_path, "apiVersion: runway/v1\nkind: [a]\nmetadata: {name: x}\nspec: {}\n")
    result = run_cli("validate", str(folder))
    assert (
        result.exit_code == ExitCode.INVALID_INPUT
        and "runway.yml:2:1: kind: kind must be a string" in result.stderr
    )


def test_env_values_keep_the_text_as_written(tmp_path: Path) -> None:
    folder = _service(
        tmp_path,
        "apiVersion: runway/v1+dev\nkind: RunwayService\nmetadata: {name: svc}\nspec:\n"
        "  regions: [us-east1]\n  environment:\n"
        "    A: 1.10\n    B: 012345\n    C: 0x1F\n    D: 1e3\n    E: 1e400\n    F: true\n",
    )
    (folder / "env-production.yml").write_text("G: 1.10\nH: 0o17\nI: 007\n")
    out = tmp_path / "out"
    result = run_cli(
        "build",
        str(folder),
        "-o",
        str(out),
        "--no-verify",
        "--env",
        "production",
        "--image",
        "registry.example.com/svc:1",
    )
    assert result.exit_code == 0, result.stderr
    values = (out / "svc" / "values.yaml").read_text()
    for name, text in {
        "A": "1.10",
        "B": "012345",
        "C": "0x1F",
        "D": "1e3",
        "E": "1e400",
        "F": "true",
        "G": "1.10",
        "H": "0o17",
        "I": "007",
    }.items():
        assert f'"{name}": "{text}"' in values


@pytest.mark.parametrize(
    ("secret_file", "config_path", "message"),
    [
        ("/etc/svc/a", "/etc/svc/a", "config file and secret s are both mounted at /etc/svc/a"),
        ("/tmp/token", "/etc/svc/a", "/tmp/token would shadow the writable /tmp"),
        ("/", "/etc/svc/a", "/ would shadow the root filesystem"),
        ("/etc/svc/../x", "/etc/svc/a", "/etc/svc/../x is not a normalised path"),
        ("/etc/svc", "/etc/svc/a", "a file cannot sit inside another file's path"),
    ],
)
def test_mount_paths_that_collide_or_shadow_are_refused_at_validate(
    tmp_path: Path, secret_file: str, config_path: str, message: str
) -> None:
    folder = _service(
        tmp_path,
        "apiVersion: runway/v1+dev\nkind: RunwayService\nmetadata: {name: svc}\nspec:\n"
        "  regions: [us-east1]\n  secrets:\n    - name: s\n"
        f"      existing: {{name: svc, key: k}}\n      file: {secret_file}\n"
        f"  config_files:\n    - path: {config_path}\n      content: x\n",
    )
    result = run_cli("validate", str(folder))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in result.stderr, result.stderr


def _outputs(tmp_path: Path) -> dict[str, list[str]]:
    devfile = str(Path(__file__).parent / "fixtures" / "workspace" / "default.devfile.yaml")
    charts = tmp_path / "charts"
    assert (
        run_cli("build", str(MANIFESTS / "agentk"), "-o", str(charts), "--no-verify").exit_code == 0
    )
    return {
        "build": ["build", str(MANIFESTS / "agentk"), "--no-verify", "-o"],
        "package": ["package", str(charts / "agentk"), "-o"],
        "schema": ["schema", "-o"],
        "turnup": ["turnup", str(MANIFESTS / "agentk"), "--offering", "self-managed", "-o"],
        "workspace job": [
            "workspace",
            "job",
            devfile,
            "--workspace",
            "w",
            "--kas-address",
            "wss://kas.example.com",
            "-o",
        ],
        "workspace manifests": [
            "workspace",
            "manifests",
            devfile,
            "--workspace",
            "w",
            "--namespace",
            "ws",
            "--agent-id",
            "1",
            "--workspace-id",
            "2",
            "--dns-zone",
            "workspaces.example.com",
            "--project-url",
            "https://gitlab.example.com/g/p.git",
            "--project-path",
            "p",
            "-o",
        ],
    }


@pytest.mark.parametrize(
    "command", ["build", "package", "schema", "turnup", "workspace job", "workspace manifests"]
)
def test_an_output_under_a_file_or_where_nothing_may_be_written_is_one_message(
    tmp_path: Path, command: str
) -> None:
    args = _outputs(tmp_path)[command]
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me\n")
    for target in (blocker / "out" / "x.yaml", Path("/proc/1/runway-out/x.yaml")):
        result = run_cli(*args, str(target))
        assert result.exit_code == 1, (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("runway: cannot write "), result.stderr
        assert "choose another output (-o)" in result.stderr
    assert blocker.read_text() == "keep me\n"


def test_a_killed_build_leaves_nothing_that_a_later_build_or_package_picks_up(
    tmp_path: Path,
) -> None:
    """A build killed at random points, then build and package again: only complete charts."""
    import random
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "charts"
    rng = random.Random(7)
    for _ in range(4):
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from runway.cli import main; main()",
                "build",
                str(MANIFESTS),
                "-o",
                str(out),
                "--no-verify",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
    # A staging directory as a killed write leaves it: hidden, with a Chart.yaml but incomplete.
    partial = out / ".kas.abc123"
    partial.mkdir(parents=True)
    (partial / "Chart.yaml").write_text("apiVersion: v2\nname: kas\nversion: 0.1.0\n")
    rebuilt = run_cli("build", str(MANIFESTS), "-o", str(out), "--no-verify")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.is_dir()]
    (out / ".agentk.stale").mkdir()
    (out / ".agentk.stale" / "Chart.yaml").write_text(
        "apiVersion: v2\nname: agentk\nversion: 9.9.9\n"
    )
    packages = tmp_path / "packages"
    cwd = Path.cwd()
    try:
        import os

        os.chdir(tmp_path)
        (tmp_path / "dist").mkdir()
        (tmp_path / "dist" / "charts").symlink_to(out)
        packed = run_cli("package", "-o", str(packages))
    finally:
        os.chdir(cwd)
    assert packed.exit_code == 0, packed.stderr
    names = sorted(p.name for p in packages.glob("*.tgz"))
    assert names == sorted(f"{d.name}-0.1.0.tgz" for d in MANIFESTS.iterdir() if d.is_dir())


def test_an_anchor_aliased_many_times_is_refused_by_expanded_size(tmp_path: Path) -> None:
    lines = [
        "apiVersion: runway/v1+dev",
        "kind: RunwayService",
        "metadata: {name: svc}",
        "spec:",
        "  regions: [us-east1]",
        "  environment:",
        '    A: &big "' + "x" * 900_000 + '"',
        *(f"    B{i}: *big" for i in range(199)),
    ]
    folder = _service(tmp_path, "\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = run_cli("build", str(folder), "-o", str(out), "--no-verify")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "runway.yml:7:8: the document expands to more than 4194304 characters" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("kind", ["fifo", "device", "outside"])
def test_only_regular_files_inside_the_service_directory_are_read(
    tmp_path: Path, kind: str
) -> None:
    import os

    folder = _service(tmp_path, HEAD + "spec: {regions: [us-east1]}\n")
    target = folder / "env-production.yml"
    if kind == "fifo":
        os.mkfifo(target)
        expected = "env-production.yml: not a regular file"
    elif kind == "device":
        (folder / "runway.yml").unlink()
        (folder / "runway.yml").symlink_to("/dev/zero")
        expected = "runway.yml: links to /dev/zero, outside"
    else:
        secret = tmp_path / "elsewhere.yml"
        secret.write_text("TOKEN: x\n")
        target.symlink_to(secret)
        expected = f"env-production.yml: links to {secret}, outside"
    result = run_cli("validate", str(folder))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert expected in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("where", "line", "kind"),
    [
        ("    TOKEN: glpat-abcdefghij1234567890\n", "spec.environment.TOKEN", "GitLab Token"),
        ("    KEY: AKIAIOSFODNN7EXAMPLE\n", "spec.environment.KEY", "AWS Access Key"),
        (
            "    URL: https://deploy:hunter22@registry.example.com/v2\n",
            "spec.environment.URL",
            "Basic Auth Credentials",
        ),
    ],
)
def test_a_literal_secret_in_an_env_value_is_refused_without_echoing_it(
    tmp_path: Path, where: str, line: str, kind: str
) -> None:
    folder = _service(
        tmp_path,
        "apiVersion: runway/v1+dev\nkind: RunwayService\nmetadata: {name: svc}\nspec:\n"
        "  regions: [us-east1]\n  environment:\n" + where,
    )
    out = tmp_path / "out"
    result = run_cli("build", str(folder), "-o", str(out), "--no-verify")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert (
        "runway.yml:7:" in result.stderr
        and f"{line}: looks like a literal secret ({kind})" in result.stderr
    )
    assert where.split(": ", 1)[1].strip() not in result.stderr, "the secret is never echoed"
    assert not out.exists()


def test_a_private_key_in_a_config_file_or_env_file_is_refused_and_the_pragma_allows(
    tmp_path: Path,
) -> None:
    folder = _service(
        tmp_path,
        "apiVersion: runway/v1+dev\nkind: RunwayService\nmetadata: {name: svc}\nspec:\n"
        "  regions: [us-east1]\n  environment:\n"
        "    EXAMPLE: glpat-abcdefghij1234567890  # pragma: allowlist secret\n"
        "  config_files:\n    - path: /etc/svc/key.pem\n      content: |\n"
        "        -----BEGIN RSA PRIVATE KEY-----\n        MIIE\n",
    )
    (folder / "env-production.yml").write_text(
        "SLACK: xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJ1234\n"
    )
    result = run_cli("validate", str(folder))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "spec.config_files.0.content: looks like a literal secret (Private Key)" in result.stderr
    assert (
        "env-production.yml:1:8: SLACK: looks like a literal secret (Slack Token)" in result.stderr
    )
    assert "EXAMPLE" not in result.stderr, "an allowlisted line passes"


def test_a_field_at_the_wrong_level_is_not_told_to_be_itself(tmp_path: Path) -> None:
    folder = _service(tmp_path, HEAD + "regions: [us-east1]\nspec: {regions: [us-east1]}\n")
    result = run_cli("validate", str(folder))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "runway.yml:4:1: regions: unknown field 'regions'" in result.stderr
    assert "did you mean 'regions'" not in result.stderr
    assert "'regions' is a field elsewhere in the manifest; check the indentation" in result.stderr


def test_a_control_character_is_located(tmp_path: Path) -> None:
    folder = _service(tmp_path, HEAD + 'spec:\n  regions: [us-east1]\n  request_timeout: "9\x01"\n')
    result = run_cli("validate", str(folder))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "runway.yml:6:22: invalid YAML: character U+0001 is not allowed" in result.stderr


def test_a_kubernetes_pair_built_without_env_warns_about_its_deployment_files(
    tmp_path: Path,
) -> None:
    pair = Path(__file__).parent / "fixtures" / "real" / "kube-pair"
    result = run_cli("build", str(pair), "-o", str(tmp_path / "out"), "--no-verify")
    assert result.exit_code == 0, result.stderr
    assert "warning: env: deployment files exist for production; build with --env" in result.stderr


def test_credentials_in_a_registry_url_are_never_echoed(tmp_path: Path) -> None:
    archive = tmp_path / "svc-1.0.0.tgz"
    archive.write_bytes(b"not a chart")
    for url in (
        "oci://robot:hunter2-s3cret@127.0.0.1:1/charts/x",
        "https://robot:hunter2-s3cret@gitlab.example.com/x",
    ):
        result = run_cli("publish", str(archive), "--to", url, "--plain-http")
        assert result.exit_code != 0
        assert "hunter2-s3cret" not in result.stderr + result.stdout


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(fuzz.SEEDS), rng=st.randoms(use_true_random=False))
def test_mutated_real_manifests_never_crash_the_loader_or_compiler(
    seed: Path, rng: random.Random, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A bounded slice of `python -m bench.fuzz` (10,000 cases, by hand): a mutated manifest
    either loads and compiles or ends in a RunwayError, never anything else."""
    text = fuzz.mutate(seed.read_text(), rng)
    fuzz.run_case(seed, text, tmp_path_factory.mktemp("fuzz"))


def test_chart_files_are_readable_by_everyone_whatever_the_umask(tmp_path: Path) -> None:
    """A chart directory is read by other users and tools (a container build, Helm run by CI),
    so its files are 0644 and its folders 0755 even under a umask of 077."""
    import os

    from runway.writer import write_tree_atomic

    files = {
        "Chart.yaml": b"name: x\n",
        "templates/a.yaml": b"a" * 300_000,
        "templates/tests/t.yaml": b"t\n",
        "files/only/nested.txt": b"n\n",
    }
    old = os.umask(0o077)
    try:
        write_tree_atomic(tmp_path / "x", files)
    finally:
        os.umask(old)
    modes = {str(p.relative_to(tmp_path)): p.stat().st_mode & 0o777 for p in tmp_path.rglob("*")}
    assert modes == {
        "x": 0o755,
        "x/Chart.yaml": 0o644,
        "x/templates": 0o755,
        "x/templates/a.yaml": 0o644,
        "x/templates/tests": 0o755,
        "x/templates/tests/t.yaml": 0o644,
        "x/files": 0o755,
        "x/files/only": 0o755,
        "x/files/only/nested.txt": 0o644,
    }
    assert (tmp_path / "x" / "templates" / "a.yaml").read_bytes() == files["templates/a.yaml"]


def _nested(depth: int, style: str, innermost: str) -> str:
    if style == "flow":
        return "spec: " + "[" * depth + innermost + "]" * depth + "\n"
    if style == "block":
        return "spec:\n  regions:\n    " + "- " * depth + innermost + "\n"
    return "a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, depth)) + " " * depth + "k: v\n"


@pytest.mark.parametrize("style", ["flow", "block", "mapping"])
@pytest.mark.parametrize("innermost", ["x", "[]", "{}"])
def test_nesting_is_refused_alike_whether_or_not_the_event_stream_is_read_first(
    monkeypatch: pytest.MonkeyPatch, style: str, innermost: str
) -> None:
    """Text with too few indicators to nest past the composer's limit skips the event pass;
    the tree builder then refuses the same nesting, at the same place, with the same words."""
    from runway.common import nesting
    from runway.manifest import _yaml

    refused = []
    for depth in range(58, 68):
        text = _nested(depth, style, innermost if style != "mapping" else "")
        assert nesting.may_nest(text, depth)  # the bound never undercounts
        skipped = _yaml.parse_documents(text, "runway.yml")
        monkeypatch.setattr(nesting, "may_nest", lambda text, depth: True)
        measured = _yaml.parse_documents(text, "runway.yml")
        monkeypatch.undo()
        assert [d.as_dict() for d in skipped[1]] == [d.as_dict() for d in measured[1]], depth
        refused.append(bool(measured[1]))
    assert refused[0] is False and refused[-1] is True, "the depths tried cross the limit"


SCALARS = (
    "a: [yes, no, on, off, y, n, true, True, TRUE, false, null, Null, ~, '', 0o17, 017, 0x1F,\n"
    "    1_000, 1e3, 1.0e+3, .inf, -.Inf, .nan, +1, -0, 2001-12-14, 2001-12-14t21:59:43.10-05:00,\n"
    "    '1.10', \"0x1F\", !!str 12, !!int '7', !!float '1', !!bool 'true', !!binary aGk=, <<, =]\n"
    "b: &x {c: 1}\n"
    "d: {<<: *x, e: 2}\n"
    "%YAML 1.1\n"
)


def test_a_reused_reader_with_rules_found_once_reads_as_a_fresh_one_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The thread's reader and its resolver (rules found once per stream) give the data, the
    positions and the errors a fresh ruamel reader gives, file after file."""
    import random

    from ruamel.yaml import YAML

    from runway.manifest import _yaml

    texts = [SCALARS, "%YAML 1.1\n---\na: yes\nb: 012\n", "a: 1\n---\nb: [2\n"]
    texts += [p.read_text() for p in sorted(MANIFESTS.rglob("*.yml"))]
    rng = random.Random(16)
    texts += [fuzz.mutate(rng.choice(texts), rng) for _ in range(400)]

    def read(text: str) -> list[Any]:
        documents, diagnostics = _yaml.parse_documents(text, "runway.yml")
        typed = [(repr(d.data), _types(d.data), d.values, d.keys) for d in documents]
        return [typed, [d.as_dict() for d in diagnostics]]

    reused = [read(text) for text in texts]
    assert not _yaml._reader().constructor.constructed_objects, "no nodes kept between files"
    monkeypatch.setattr(_yaml, "_reader", lambda: YAML(typ="safe", pure=False))
    fresh = [read(text) for text in texts]
    for text, ours, theirs in zip(texts, reused, fresh, strict=True):
        assert ours == theirs, text


def _types(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k): _types(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_types(v) for v in data]
    return type(data).__name__


@pytest.mark.filterwarnings("ignore::ruamel.yaml.error.MantissaNoDotYAML1_1Warning")
def test_configuration_files_read_through_libyaml_give_what_the_pure_reader_gave(
    tmp_path: Path,
) -> None:
    """Component configuration files are read with libyaml's parser (a quarter of the pure
    parser's time): the shipped charts' configuration files, the manifests, YAML 1.2's tricky
    scalars and fuzzed variants give the same data as ruamel's pure reader wherever both read them, and the
    reader reused file after file keeps no documents."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from runway.common import yamlio
    from runway.common.kube import PLACEHOLDER_IMAGE
    from runway.helm import render

    assert run_cli("build", str(MANIFESTS), "-o", str(tmp_path), "--no-verify").exit_code == 0
    configs = []
    for chart in sorted(p for p in tmp_path.iterdir() if p.is_dir()):
        rendered = render(chart, PLACEHOLDER_IMAGE, name="r", namespace="n")
        for name, text in rendered.items():
            for obj in yamlio.load_all(text) if name.endswith(".yaml") else []:
                if isinstance(obj, dict) and obj.get("kind") == "ConfigMap":
                    configs += [v for v in (obj.get("data") or {}).values() if ":" in v]
    assert configs, "KAS's configuration file"
    tricky = SCALARS.replace("%YAML 1.1\n", "")
    rng = random.Random(29)
    texts = [*configs, tricky, "on: off\nyes: no\nmode: 0400\nport: 08\n"]
    texts += [p.read_text() for p in sorted(MANIFESTS.rglob("*.yml"))]
    texts += [fuzz.mutate(rng.choice(texts), rng) for _ in range(600)]

    def pure(rules: tuple[int, int]) -> YAML:
        reader = YAML(typ="safe", pure=True)
        reader.version = rules
        return reader

    for version, rules in yamlio.YAML_VERSIONS.items():
        both = 0
        for text in texts:
            try:
                theirs = pure(rules).load(text)
            except Exception:
                continue
            try:
                ours = yamlio.load_config(text, version)
            except YAMLError:
                continue  # libyaml refuses a few oddities the pure scanner takes (an empty key)
            assert (repr(ours), _types(ours)) == (repr(theirs), _types(theirs)), (version, text)
            both += 1
        assert both > len(configs) + 100
        for text in configs:
            assert yamlio.load_config(text, version) == pure(rules).load(text)
        assert not yamlio._config_reader(version).doc_infos
    assert yamlio.load_config("on: off\nmode: 0400\n") == {"on": "off", "mode": 400}
    assert yamlio.load_config("on: off\nmode: 0400\n", "1.1") == {True: False, "mode": 256}


@pytest.mark.parametrize("depth", [5_000, 200_000])
def test_a_config_file_nested_deep_is_built_and_verified_without_a_crash(
    tmp_path: Path, depth: int
) -> None:
    """A config file's content is text the manifest gives; verify reads YAML config files to
    check the paths they name, and must not hand nesting this deep to anything recursive."""
    import json

    content = "[" * depth + "]" * depth
    folder = _service(
        tmp_path,
        "apiVersion: runway/v1+dev\nkind: RunwayService\n"
        "metadata: {name: svc, owner_email_handle: x}\nspec:\n  regions: [us-east1]\n"
        f"  config_files:\n    - path: /etc/app/conf.yaml\n      content: {json.dumps(content)}\n",
    )
    result = run_cli(
        "build", str(folder), "-o", str(tmp_path / "out"), "--image", "registry.example.com/a:1"
    )
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr and "verify " in result.stdout
