"""The chart compiler end to end: shipped charts verify clean, builds are deterministic, user
strings stay data, and the values schema is enforced by the Helm engine at install time."""

from __future__ import annotations

import filecmp
import json
import shutil
from pathlib import Path

import helm_python
import pytest
from ruamel.yaml import YAML

from runway import helm
from runway.errors import ExitCode, VerifyError
from runway.verify import verify_chart
from tests.chart_helpers import chart_from, container, objects, one
from tests.conftest import MANIFESTS, run_cli

SHIPPED = sorted(p.name for p in MANIFESTS.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("dist") / "charts"
    result = run_cli("build", str(MANIFESTS), "-o", str(output), "--no-verify")
    assert result.exit_code == 0, result.stderr
    return output


@pytest.mark.parametrize("chart", ["agentk", "ai-gateway", "gitlab-workspaces-proxy", "kas"])
def test_shipped_chart_verifies(shipped: Path, chart: str) -> None:
    report = verify_chart(shipped / chart)
    assert report.problems == []
    profiles = len(list((shipped / chart / "profiles").glob("*.yaml")))
    assert report.renders == 2 + profiles and report.objects > 10


def test_build_is_byte_identical_and_order_independent(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    dirs = sorted(str(MANIFESTS / d) for d in SHIPPED)
    assert run_cli("build", *dirs, "-o", str(first), "--no-verify").exit_code == 0
    assert run_cli("build", *reversed(dirs), "-o", str(second), "--no-verify").exit_code == 0
    comparison = filecmp.dircmp(first, second)
    assert sorted(comparison.common_dirs) == [
        "agentk",
        "ai-gateway",
        "gitlab-workspaces-proxy",
        "kas",
    ]
    for name in comparison.common_dirs:
        for path in (first / name).rglob("*"):
            if path.is_file():
                assert (
                    path.read_bytes()
                    == (second / name / path.relative_to(first / name)).read_bytes()
                ), path


def test_reused_lines_are_the_lines_a_fresh_compile_writes() -> None:
    """compile reuses the values.yaml lines, README rows and profiles of a value it wrote before:
    every service compiled after all the others must get the bytes it gets alone (the shipped
    manifests and the real-shape fixtures, under each environment and with and without an
    image: their listeners, probes, env, secrets and config files differ)."""
    from runway.chart import build
    from runway.chart import compile as compiler
    from runway.chart.spec import BuildOptions
    from runway.manifest import loader
    from tests.conftest import FIXTURES

    shipped = loader.load_paths([MANIFESTS / d for d in SHIPPED])
    real = loader.load_paths(sorted(p for p in (FIXTURES / "real").iterdir() if p.is_dir()))
    services = [*shipped.services, *real.services]  # loaded apart: some share a name
    assert shipped.ok and real.ok and len(services) >= 8
    cases = [
        (service, BuildOptions(environment=env, image=image))
        for service in services
        for env in (None, "production")
        for image in (None, "registry.example.com/svc:1.2.3")
        if env is None or env in service.environments
    ]
    warm = [build.compile_service(service, options)[1] for service, options in cases]
    assert len(compiler._REUSED) > 50
    for (service, options), files in zip(cases, warm, strict=True):
        compiler._REUSED.clear()
        assert build.compile_service(service, options)[1] == files, (service.name, options)


def test_rebuild_skips_unchanged_charts(tmp_path: Path) -> None:
    assert (
        run_cli("build", str(MANIFESTS / "kas"), "-o", str(tmp_path), "--no-verify").exit_code == 0
    )
    again = run_cli("build", str(MANIFESTS / "kas"), "-o", str(tmp_path), "--no-verify")
    assert again.stdout.startswith("unchanged")


def test_invalid_manifest_builds_nothing(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "runway.yml").write_text(
        "apiVersion: runway/v1\nkind: RunwayService\nmetadata: {name: x}\nspec: {container_port: 0}\n"
    )
    result = run_cli("build", str(tmp_path / "src"), "-o", str(tmp_path / "out"))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "nothing was built" in result.stderr
    assert not (tmp_path / "out").exists()


PAYLOADS = [
    "{{ .Release.Name }}",
    '{{ lookup "v1" "Secret" "kube-system" "" }}',
    '{{ printf "%s" "x" }}',
    "a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: pwned",
    "quote\" and 'single' and \\back",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_manifest_strings_stay_verbatim(tmp_path: Path, payload: str) -> None:
    import json

    spec = (
        f"  args: [{json.dumps(payload)}]\n"
        f"  environment:\n    VALUE: {json.dumps(payload)}\n"
        f"  config_files:\n    - path: /etc/app/conf\n      content: {json.dumps(payload)}\n"
        "  listeners:\n    - {name: http, port: 8080, exposure: public, path: "
        + json.dumps("/" + payload)
        + "}\n"
    )
    _, chart = chart_from(tmp_path, spec, api="runway/v1+dev")
    found = objects(chart)
    assert not [o for o in found if o["metadata"]["name"] == "pwned"]
    assert container(found)["args"] == [payload]
    assert one(found, "ConfigMap", "rel-svc-env")["data"]["VALUE"] == payload
    assert list(one(found, "ConfigMap", "rel-svc-config")["data"].values()) == [payload]
    ingress = one(found, "Ingress")
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/" + payload


def test_unknown_value_is_refused_at_install(tmp_path: Path) -> None:
    _, chart = chart_from(tmp_path, "  regions: [us-east1]\n")
    with pytest.raises(VerifyError, match=r"replicaCont|additional"):
        helm.render(chart, {"replicaCont": 3}, name="rel", namespace="ns")
    with pytest.raises(VerifyError, match=r"replicaCount|integer"):
        helm.render(chart, {"replicaCount": "three"}, name="rel", namespace="ns")
    with pytest.raises(VerifyError):
        helm.render(
            chart, {"listeners": {"http": {"exposure": "everyone"}}}, name="rel", namespace="ns"
        )
    lint = helm.lint(chart, {"autoscaling": {"enabeld": True}}, "v1.31.0")
    assert lint.errors


def test_chart_without_image_requires_one_at_install(tmp_path: Path) -> None:
    _, chart = chart_from(tmp_path, "  regions: [us-east1]\n", image=None)
    with pytest.raises(VerifyError, match=r"image\.repository is required"):
        helm.render(chart, None, name="rel", namespace="ns")
    found = objects(chart, {"image": {"repository": "mirror.example.com/app", "tag": "2.0.0"}})
    assert container(found)["image"] == "mirror.example.com/app:2.0.0"
    assert verify_chart(chart).ok


def test_verify_fails_a_broken_chart(tmp_path: Path) -> None:
    _, chart = chart_from(tmp_path, "  regions: [us-east1]\n")
    broken = tmp_path / "broken"
    shutil.copytree(chart, broken)
    deployment = broken / "templates" / "deployment.yaml"
    deployment.write_text(
        deployment.read_text().replace(
            "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"
        )
    )
    helpers = broken / "templates" / "_helpers.tpl"
    helpers.write_text(
        helpers.read_text().replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
    )
    pdb = broken / "templates" / "pdb.yaml"
    pdb.write_text(pdb.read_text().replace("maxUnavailable:", "maxUnavailabel:"))
    report = verify_chart(broken)
    assert any("root filesystem is writable" in p for p in report.problems)
    assert any("PodDisruptionBudget" in p and "maxUnavailabel" in p for p in report.problems)
    result = run_cli("verify", str(broken))
    assert result.exit_code == ExitCode.VERIFY_FAILED and "FAILED" in result.stdout
    as_json = run_cli("verify", str(chart), str(broken), "--format", "json")
    assert as_json.exit_code == ExitCode.VERIFY_FAILED
    document = json.loads(as_json.stdout)
    assert [c["ok"] for c in document["charts"]] == [True, False]
    assert any("root filesystem is writable" in p for p in document["charts"][1]["problems"])
    assert document["together"] is None


def test_verify_still_holds_representative_values_to_the_schema(tmp_path: Path) -> None:
    """Lint skips the schema (the render of the same values checks it); plant a schema that
    refuses the representative replica count and the render must say so."""
    _, chart = chart_from(tmp_path, "  regions: [us-east1]\n")
    schema_path = chart / "values.schema.json"
    schema = json.loads(schema_path.read_text())
    schema["properties"]["replicaCount"]["maximum"] = 2
    schema_path.write_text(json.dumps(schema))
    problems = verify_chart(chart).problems
    assert any(
        p.startswith("render (representative values):") and "replicaCount" in p for p in problems
    ), problems


SCHEMA_BREAKS = [
    {"replicaCount": "3"},
    {"bogus": 1},
    {"gateway": {"healthCheck": {"enabled": True, "port": 0, "path": "/"}}},
    {"rollingUpdate": {"maxUnavailable": "0"}},
    {"networkPolicy": {"healthCheckCidrs": ["not-a-cidr"]}},
    {"secrets": {"Bad_Name": {"generate": {"bytes": 32}, "file": "/etc/x"}}},
    {"env": {"1BAD": "x"}},
    {"commonLabels": {"team": "x" * 64}},
    {"podSecurityContext": {"appArmorProfile": {"type": "Localhost"}}},
]


@pytest.mark.parametrize("chart", SHIPPED)
def test_verify_refuses_the_values_helms_own_schema_check_refuses(
    shipped: Path, chart: str
) -> None:
    """Contract test against Helm's engine: verify checks values with a schema validator
    compiled once and has Helm render without the schema, so on every shipped chart both must
    pass and refuse the same values (the values each shipped profile and the representative
    values give, and planted breaks of the schema's types, patterns, keys, ranges and `if`)."""
    from runway.common import yamlio
    from runway.common.mappings import merge
    from runway.verify import representative_values, values_schema

    directory = shipped / chart
    defaults = yamlio.load((directory / "values.yaml").read_text())
    check = values_schema.checker(directory)
    accepted = [
        {},
        representative_values(defaults),
        *(yamlio.load(p.read_text()) for p in sorted((directory / "profiles").glob("*.yaml"))),
    ]
    refused = [merge(representative_values(defaults), bad) for bad in SCHEMA_BREAKS]
    verdicts = []
    with helm.load(directory) as loaded:
        for values in accepted + refused:
            merged = loaded.merged_values(values)
            try:
                loaded.chart.validate_schema(merged)
                helm_refuses = False
            except helm_python.HelmValuesError:
                helm_refuses = True
            assert bool(check(merged)) == helm_refuses, (values, check(merged))
            verdicts.append(helm_refuses)
    assert verdicts == [False] * len(accepted) + [True] * len(refused)


@pytest.mark.parametrize(
    ("schema", "said"),
    [
        ("{not json", "values.schema.json is not a JSON schema Helm could use"),
        ('{"type": "object", "properties": {"replicaCount": {"type": 5}}}', "not a JSON schema"),
        ('{"type": "object", "properties": {"replicaCount": {"maximum": 1}}}', "replicaCount"),
    ],
)
def test_verify_names_a_values_schema_helm_could_not_use_or_that_refuses_the_values(
    shipped: Path, tmp_path: Path, schema: str, said: str
) -> None:
    """Helm refuses to install with a schema it cannot read, or values it refuses; verify must
    say so on every render rather than pass the chart (or crash)."""
    chart = tmp_path / "kas"
    shutil.copytree(shipped / "kas", chart)
    (chart / "values.schema.json").write_text(schema)
    report = verify_chart(chart)
    renders = [p for p in report.problems if p.startswith("render (")]
    assert renders and all(said in p for p in renders), report.problems
    assert not report.ok


def test_helm_renders_a_chart_read_without_its_schema_as_it_renders_it_whole(
    shipped: Path,
) -> None:
    """The chart verify renders is the chart Helm reads, less values.schema.json: the same
    templates, files, metadata and defaults, and the same objects (but the random secrets)."""
    from runway.common import yamlio
    from runway.verify import representative_values

    directory = shipped / "kas"
    values = representative_values(yamlio.load((directory / "values.yaml").read_text()))
    with helm.load(directory) as whole, helm.load(directory, values_schema=False) as bare:
        assert whole.validates_values and not bare.validates_values
        assert bare.chart.schema is None and whole.chart.schema
        for part in ("metadata", "values", "files", "templates", "crds"):
            assert getattr(bare.chart, part) == getattr(whole.chart, part), part
        rendered = [c.render(values, name="r", namespace="n") for c in (whole, bare)]
    assert rendered[0].keys() == rendered[1].keys()
    differing = [name for name in rendered[0] if rendered[0][name] != rendered[1][name]]
    assert differing == ["kas/templates/secrets.yaml"]
    broken = {"replicaCount": "three"}
    with helm.load(directory) as whole, pytest.raises(VerifyError, match="replicaCount"):
        whole.render(broken, name="r", namespace="n")


def test_a_chart_with_subcharts_is_rendered_with_helms_own_schema_check(
    shipped: Path, tmp_path: Path
) -> None:
    """Helm checks a subchart's values against the subchart's schema: verify leaves a chart with
    subcharts whole."""
    directory = tmp_path / "kas"
    shutil.copytree(shipped / "kas", directory)
    shutil.copytree(shipped / "agentk", directory / "charts" / "agentk")
    with helm.load(directory, values_schema=False) as loaded:
        assert loaded.validates_values and loaded.chart.schema


def test_verify_names_a_chart_helm_cannot_read(tmp_path: Path) -> None:
    _, chart = chart_from(tmp_path, "  regions: [us-east1]\n")
    meta = chart / "Chart.yaml"
    meta.write_text(meta.read_text().replace("version:", "versio:", 1))
    problems = verify_chart(chart).problems
    assert len(problems) == 1 and problems[0].startswith("Helm cannot read the chart:"), problems
    assert "version" in problems[0]


def test_chart_files(tmp_path: Path) -> None:
    _spec, chart = chart_from(tmp_path, "  regions: [us-east1, europe-west1]\n")
    names = {str(p.relative_to(chart)) for p in chart.rglob("*") if p.is_file()}
    assert {
        "Chart.yaml",
        "values.yaml",
        "values.schema.json",
        "README.md",
        "templates/NOTES.txt",
        "templates/tests/test-connection.yaml",
    } <= names
    chart_yaml = (chart / "Chart.yaml").read_text()
    assert 'name: "svc"' in chart_yaml and "kubeVersion:" in chart_yaml
    assert '"runway.gitlab.com/regions": "us-east1,europe-west1"' in chart_yaml
    values = (chart / "values.yaml").read_text().splitlines()
    keys = [
        i
        for i, line in enumerate(values)
        if line
        and not line.lstrip().startswith(("#", "-"))
        and line.rstrip().endswith((":", '"', "]", "}"))
        and ":" in line
        and not line.startswith(" " * 6)
    ]
    for index in keys:
        if values[index].startswith("  ") and values[index - 1].strip().startswith('"'):
            continue
        assert values[index - 1].lstrip().startswith("# -- ") or values[index - 1].strip().endswith(
            ":"
        ), values[index]
    readme = (chart / "README.md").read_text()
    assert "`autoscaling.minReplicas`" in readme and "helm install svc oci://" in readme
    defaults = YAML(typ="safe").load((chart / "values.yaml").read_text())
    full = json.dumps(defaults["listeners"], sort_keys=True).replace("|", "\\|")
    assert f"| `listeners` | object | `{full}` |" in readme, "README shows full object defaults"


def test_rebuild_cache_skips_compiling_and_notices_changes(tmp_path: Path) -> None:
    from runway.chart import build
    from runway.chart.spec import BuildOptions
    from runway.manifest import loader

    source = tmp_path / "src"
    source.mkdir()
    manifest = source / "runway.yml"
    manifest.write_text(
        "apiVersion: runway/v1\nkind: RunwayService\nmetadata: {name: svc}\nspec: {container_port: 8080}\n"
    )
    out = tmp_path / "charts"
    options = BuildOptions(image="registry.example.com/svc:1")
    (first,) = build.build_services(loader.load_paths([source]).services, options, out)
    assert first.changed and first.warnings
    (again,) = build.build_services(loader.load_paths([source]).services, options, out)
    assert not again.changed and again.warnings == first.warnings
    manifest.write_text(manifest.read_text().replace("8080", "9090"))
    (changed,) = build.build_services(loader.load_paths([source]).services, options, out)
    assert changed.changed and "9090" in (out / "svc" / "values.yaml").read_text()
    (out / build.CACHE_NAME).write_text("{not json")
    (rebuilt,) = build.build_services(loader.load_paths([source]).services, options, out)
    assert not rebuilt.changed  # corrupt cache counts as empty; identical bytes are not rewritten


def test_a_build_request_returns_the_diagnostics_and_writes_nothing_when_invalid(
    tmp_path: Path,
) -> None:
    from runway.chart.build import BuildRequest, build
    from runway.chart.spec import BuildOptions
    from runway.errors import UsageError

    source = tmp_path / "svc"
    source.mkdir()
    (source / "runway.yml").write_text(
        "apiVersion: runway/v1\nkind: RunwayService\nmetadata: {name: svc}\n"
        "spec: {container_port: eighty}\n"
    )
    out = tmp_path / "charts"
    result = build(BuildRequest((source,), out, BuildOptions()))
    assert not result.loaded.ok and result.charts == []
    assert any("container_port" in d.render() for d in result.loaded.diagnostics)
    assert not out.exists()
    (source / "runway.yml").write_text(
        "apiVersion: runway/v1\nkind: RunwayService\nmetadata: {name: svc}\n"
        "spec: {container_port: 8080}\n"
    )
    built = build(BuildRequest((source,), out, BuildOptions(image="registry.example.com/svc:1")))
    assert [c.name for c in built.charts] == ["svc"] and (out / "svc" / "Chart.yaml").is_file()
    with pytest.raises(UsageError):
        build(BuildRequest((source,), out, BuildOptions(version="one")))


def test_build_json_is_one_document_with_the_same_exit_code(tmp_path: Path) -> None:
    import json

    source = tmp_path / "svc"
    source.mkdir()
    (source / "runway.yml").write_text(
        "apiVersion: runway/v1\nkind: RunwayService\nmetadata: {name: svc}\n"
        "spec: {container_port: eighty}\n"
    )
    out = tmp_path / "charts"
    invalid = run_cli("build", str(source), "-o", str(out), "--format", "json")
    assert invalid.exit_code == ExitCode.INVALID_INPUT
    document = json.loads(invalid.stdout)
    assert document["valid"] is False and document["charts"] == []
    assert document["diagnostics"][0]["field"].startswith("spec.container_port")
    built = run_cli("build", str(MANIFESTS / "kas"), "-o", str(out), "--format", "json")
    assert built.exit_code == 0, built.stderr
    document = json.loads(built.stdout)
    assert [c["name"] for c in document["charts"]] == ["kas"]
    assert [(v["chart"], v["ok"]) for v in document["verified"]] == [(str(out / "kas"), True)]
