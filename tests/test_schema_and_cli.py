"""`runway schema` and the CLI's contract: exit codes, JSON output, start-up imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from runway import __version__
from runway.errors import ExitCode
from tests.conftest import FIXTURES, MANIFESTS, ROOT, ci_template, run_cli


def _schema(*args: str) -> dict[str, Any]:
    result = run_cli("schema", *args)
    assert result.exit_code == 0
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


def _documents(root: Path) -> list[tuple[Path, Any]]:
    yaml = YAML(typ="safe")
    found = []
    for path in sorted(root.rglob("*.y*ml")):
        if path.name.startswith("env-"):
            continue
        for document in yaml.load_all(path.read_text()):
            found.append((path, document))
    return found


def test_schema_is_self_contained() -> None:
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    refs = [line for line in json.dumps(schema).split('"$ref": ') if line.startswith('"http')]
    assert refs == []


def _patterns(node: Any) -> set[str]:
    """Every regular expression a JSON Schema holds (`pattern` values, `patternProperties` keys)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.add(node["pattern"])
        found.update(node.get("patternProperties") or {})
        for value in node.values():
            found |= _patterns(value)
    elif isinstance(node, list):
        for value in node:
            found |= _patterns(value)
    return found


def test_every_schema_pattern_is_an_ecma_262_regular_expression() -> None:
    """JSON Schema's regular expressions are ECMA-262's: editors and ajv compile them with
    JavaScript's RegExp (unicode mode), which refuses Python's `(?P<name>…)`. Node compiles every
    pattern of the manifest schema and of the chart values schema."""
    from runway.chart.compile import _schema_bytes

    patterns = sorted(_patterns(_schema()) | _patterns(json.loads(_schema_bytes())))
    assert len(patterns) > 10
    program = (
        "const bad = [];"
        "for (const p of JSON.parse(require('fs').readFileSync(0, 'utf8'))) {"
        "  try { new RegExp(p, 'u'); } catch (e) { bad.push(p + ': ' + e.message); }"
        "}"
        "process.stdout.write(JSON.stringify(bad));"
    )
    result = subprocess.run(
        ["node", "-e", program], input=json.dumps(patterns), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    planted = subprocess.run(
        ["node", "-e", program],
        input=json.dumps(["^(?P<num>[0-9]+)$"]),
        capture_output=True,
        text=True,
    )
    assert len(json.loads(planted.stdout)) == 1


@pytest.mark.parametrize("root", [MANIFESTS, FIXTURES / "real"], ids=["shipped", "real"])
def test_schema_accepts_valid_manifests(root: Path) -> None:
    validator = jsonschema.Draft202012Validator(_schema())
    documents = _documents(root)
    assert documents
    for path, document in documents:
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == [], path


@pytest.mark.parametrize(
    ("patch", "where"),
    [
        ({"container_port": 0}, "spec"),
        ({"regions": []}, "spec"),
        ({"regions": ["us-east1", "us-east1"]}, "spec"),
        ({"unknown": True}, "spec"),
        ({"readiness_probe": {"failure_threshold": 4}}, "spec"),
        ({"deployment": {"strategy": "canary"}}, "spec"),
        ({"resources": {"limits": {"cpu": "two"}}}, "spec"),
        ({"listeners": [{"name": "a", "port": 1}]}, "spec"),
        ({"name": "x" * 64}, "metadata"),
    ],
)
def test_schema_rejects_bad_manifests(patch: dict[str, Any], where: str) -> None:
    validator = jsonschema.Draft202012Validator(_schema("--kind", "RunwayService"))
    document: dict[str, Any] = {
        "apiVersion": "runway/v1",
        "kind": "RunwayService",
        "metadata": {"name": "svc"},
        "spec": {"regions": ["us-east1"]},
    }
    assert validator.is_valid(document)
    document[where] = {**document[where], **patch}
    assert not validator.is_valid(document)


@pytest.mark.parametrize("key", ["9BAD", "with-dash", "x" * 256])
def test_schema_checks_the_keys_of_a_mapping_as_the_models_do(key: str) -> None:
    """Keys with a pattern (environment variable names here) are refused by the schema as by
    the models, not merely left unchecked along with their values."""
    validator = jsonschema.Draft202012Validator(_schema("--kind", "RunwayService"))
    document: dict[str, Any] = {
        "apiVersion": "runway/v1+dev",
        "kind": "RunwayService",
        "metadata": {"name": "svc"},
        "spec": {"regions": ["us-east1"], "environment": {"GOOD_NAME": "1"}},
    }
    assert validator.is_valid(document)
    document["spec"]["environment"] = {key: "1"}
    assert not validator.is_valid(document)


def test_schema_to_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "runway.schema.json"
    result = run_cli("schema", "--kind", "RunwayKubernetesService", "-o", str(target))
    assert result.exit_code == 0
    assert json.loads(target.read_text())["title"] == "Runway manifest: RunwayKubernetesService"


def test_validate_exit_codes(tmp_path: Path) -> None:
    assert run_cli("validate", str(MANIFESTS)).exit_code == 0
    (tmp_path / "runway.yml").write_text(
        "apiVersion: runway/v1\nkind: RunwayService\nmetadata: {name: x}\nspec: {container_port: 0}\n"
    )
    bad = run_cli("validate", str(tmp_path))
    assert bad.exit_code == ExitCode.INVALID_INPUT
    assert "spec.container_port" in bad.stderr
    assert run_cli("validate", "--format", "xml").exit_code == 2


def test_validate_json(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text(
        "apiVersion: runway/v1\nkind: RunwayService\nmetadata: {name: x}\nspec: {container_port: 0}\n"
    )
    result = run_cli("validate", "--format", "json", str(tmp_path))
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    (diagnostic,) = payload["diagnostics"]
    assert diagnostic["line"] == 4 and diagnostic["field"] == "spec.container_port"
    good = json.loads(run_cli("validate", "--format", "json", str(MANIFESTS)).stdout)
    assert good["valid"] is True
    assert {s["name"] for s in good["services"]} >= {"kas", "ai_gateway"}


def test_version() -> None:
    result = run_cli("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


def test_validate_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from runway import cli\n"
        "try:\n"
        "    cli.main(['validate', 'manifests'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "heavy = [m for m in ('helm_python', 'pulumi', 'pulumi_gcp', 'kubernetes_validate', 'jinja2') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "HEAVY="


def test_gitlab_ci_matches_gitlab_schema() -> None:
    schema = json.loads(
        (ROOT / "runway" / "data" / "schemas" / "gitlab-ci.schema.json").read_text()
    )
    validator = jsonschema.Draft7Validator(schema)
    pipelines = [ROOT / ".gitlab-ci.yml", *sorted((ROOT / "ci").glob("*.yml"))]
    assert len(pipelines) > 1, "the reusable template under ci/ is checked too"
    for path in pipelines:
        text = path.read_text()
        documents = list(YAML(typ="safe").load_all(text))
        if len(documents) == 2:
            inputs = documents[0]["spec"]["inputs"]
            used, interpolated = ci_template(text)
            assert used <= set(inputs), f"{path}: undeclared inputs {used - set(inputs)}"
            assert {"manifest", "registry", "stage"} <= set(inputs)
            documents.append(interpolated)
        for document in documents:
            errors = [
                f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)
            ]
            assert errors == [], path


def test_gitlab_ci_schema_catches_a_broken_pipeline() -> None:
    schema = json.loads(
        (ROOT / "runway" / "data" / "schemas" / "gitlab-ci.schema.json").read_text()
    )
    assert not jsonschema.Draft7Validator(schema).is_valid(
        {"job": {"script": "x", "when": "sometimes"}}
    )


def test_version_answers_without_importing_the_cli() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.argv = ['runway', '--version']\n"
        "from runway.__main__ import main; main()\n"
        "print('click loaded' if 'click' in sys.modules else 'light')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    from runway import __version__

    assert done.stdout == f"runway, version {__version__}\nlight\n"
    assert run_cli("--version").stdout == f"runway, version {__version__}\n", "same as click's"


ENDING = """
import atexit, os, sys, threading, time
sys.argv = ["runway", *sys.argv[1:]]
mark = os.environ["MARK"]


class Teardown:
    write = os.open, os.write, os.close, os.O_WRONLY | os.O_CREAT | os.O_APPEND

    def __del__(self):
        open_, write, close, flags = self.write
        handle = open_(mark, flags)
        write(handle, b"torn down\\n")
        close(handle)


kept = Teardown()
atexit.register(lambda: open(mark, "a").write("exit handler\\n"))
if os.environ.get("THREAD"):
    threading.Thread(target=lambda: (time.sleep(0.2), open(mark, "a").write("thread\\n"))).start()
from runway.__main__ import main
main()
"""


@pytest.mark.parametrize(
    ("args", "code", "out"),
    [
        (["validate", str(MANIFESTS / "agentk" / "runway.yml")], 0, "1 service(s) valid"),
        (["validate", "no-such-manifest.yml"], int(ExitCode.USAGE), ""),
    ],
)
def test_the_command_ends_once_its_answer_is_out_without_tearing_the_interpreter_down(
    tmp_path: Path, args: list[str], code: int, out: str
) -> None:
    """Teardown took a one-chart verify 60 ms after its answer was printed; exit handlers, the
    exit code and every line of output must survive ending without it."""
    mark = tmp_path / "mark"
    environment = {**os.environ, "MARK": str(mark)}
    done = subprocess.run(
        [sys.executable, "-c", ENDING, *args], capture_output=True, text=True, env=environment
    )
    assert (done.returncode, done.stdout.startswith(out)) == (code, True), done.stderr
    assert mark.read_text() == "exit handler\n"


def test_a_command_with_threads_still_running_exits_the_usual_way(tmp_path: Path) -> None:
    mark = tmp_path / "mark"
    environment = {**os.environ, "MARK": str(mark), "THREAD": "1"}
    args = ["validate", str(MANIFESTS / "agentk" / "runway.yml")]
    done = subprocess.run(
        [sys.executable, "-c", ENDING, *args], capture_output=True, text=True, env=environment
    )
    assert done.returncode == 0, done.stderr
    assert mark.read_text().splitlines() == ["thread", "exit handler", "torn down"]
