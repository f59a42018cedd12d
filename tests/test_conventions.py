"""Helm users' habits the charts accept: `--set` numbers for string values, and an umbrella
chart's `global` values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runway import helm
from runway.common.mappings import merge
from runway.errors import ExitCode, VerifyError
from tests.chart_helpers import container, objects, one
from tests.conftest import MANIFESTS, run_cli


@pytest.fixture(scope="module")
def kas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("charts")
    assert run_cli("build", str(MANIFESTS / "kas"), "-o", str(out), "--no-verify").exit_code == 0
    return out / "kas"


def test_set_numbers_for_tags_and_quantities_pass_the_schema(kas: Path) -> None:
    """What `helm --set image.tag=17 --set resources.limits.cpu=2` hands the chart, and
    `--set rollingUpdate.maxSurge=1`, which Kubernetes needs as a number."""
    rolling = one(objects(kas, {"rollingUpdate": {"maxSurge": 1}}), "Deployment")["spec"]
    assert rolling["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    found = objects(kas, {"image": {"tag": 17}, "resources": {"limits": {"cpu": 2}}})
    main = container(found)
    assert main["image"].endswith("/gitlab-kas:17")
    assert main["resources"]["limits"]["cpu"] == 2
    with pytest.raises(VerifyError, match="cpu"):
        helm.render(kas, {"resources": {"limits": {"cpu": "lots"}}}, name="rel", namespace="ns")


@pytest.mark.parametrize("probe", ["liveness", "startup"])
def test_a_set_the_api_server_would_refuse_fails_at_the_schema(kas: Path, probe: str) -> None:
    """Kubernetes requires successThreshold 1 for liveness and startup probes: `helm install
    --set probes.liveness.successThreshold=2` must stop at the values schema, not at the API
    server halfway through an install. Readiness probes may ask for more."""
    enabled = {"enabled": True, "type": "tcp", "port": "http"}
    with pytest.raises(VerifyError, match="successThreshold"):
        helm.render(
            kas,
            {"probes": {probe: {**enabled, "successThreshold": 2}}},
            name="rel",
            namespace="ns",
        )
    ready = container(objects(kas, {"probes": {"readiness": {"successThreshold": 2}}}))
    assert ready["readinessProbe"]["successThreshold"] == 2


SECRET = {"existing": {"name": "s", "key": "k"}, "file": "/etc/extra/value"}


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"secrets": {"db.password": SECRET}}, id="secret-with-a-dot"),
        pytest.param({"secrets": {"s" * 57: SECRET}}, id="secret-of-57"),
        pytest.param(
            {"listeners": {"Http": {"port": 8080, "exposure": "internal"}}},
            id="listener-in-capitals",
        ),
        pytest.param({"networkPolicy": {"internalCidrs": ["10.0.0.0/33"]}}, id="prefix-too-long"),
        pytest.param(
            {"networkPolicy": {"cloudflare": {"cidrs": ["173.245.48/20"]}}}, id="three-octets"
        ),
        pytest.param(
            {"service": {"loadBalancerSourceRanges": ["office"]}}, id="source-range-not-a-cidr"
        ),
        pytest.param({"rollingUpdate": {"maxSurge": "1"}}, id="pods-as-a-string"),
        pytest.param({"rollingUpdate": {"maxUnavailable": "150%"}}, id="over-100-percent"),
        pytest.param(
            {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}, id="no-pod-may-move"
        ),
        pytest.param({"listeners": {"agent": {"host": "KAS.example.com"}}}, id="host-in-capitals"),
        pytest.param(
            {"listeners": {"agent": {"extraHosts": ["kas_1.example.com"]}}},
            id="host-with-underscore",
        ),
        pytest.param({"listeners": {"agent": {"path": "api"}}}, id="relative-path"),
        pytest.param({"podLabels": {"team": "a b"}}, id="label-value-with-a-space"),
        pytest.param({"commonLabels": {"team": "x" * 64}}, id="label-value-of-64"),
        pytest.param({"nodeSelector": {"bad key!": "x"}}, id="label-key-with-a-space"),
        pytest.param(
            {"podAnnotations": {"-starts-with-a-dash": "x"}}, id="annotation-key-with-a-dash-first"
        ),
        pytest.param({"priorityClassName": "Bad_Name"}, id="priority-class-in-capitals"),
        pytest.param({"env": {"1=BAD": "x"}}, id="env-name-with-equals"),
    ],
)
def test_what_the_api_server_would_refuse_fails_at_the_schema(
    kas: Path, values: dict[str, Any]
) -> None:
    """Values every JSON schema of the objects lets through and the API server refuses: a
    secret's volume `secret-NAME` (a DNS label of at most 63 characters), a listener's port name,
    ranges, pod counts, hosts and paths at the edge, labels, annotations, names and env names.
    The values schema refuses them at `helm install`, before anything is applied."""
    with pytest.raises(
        VerifyError, match=r"propertyName|does not match pattern|'not' failed|anyOf|maxLength"
    ):
        helm.render(kas, values, name="rel", namespace="ns")


def test_ipv6_ranges_pass_the_schema(kas: Path) -> None:
    """Dual-stack clusters: internal sources may be IPv6 ranges."""
    values = {
        "networkPolicy": {"internalCidrs": ["10.0.0.0/8", "fd00::/8"]},
        "listeners": {"agent": {"exposure": "internal"}},
    }
    policy = one(objects(kas, values), "NetworkPolicy", "rel-kas")
    assert "fd00::/8" in json.dumps(policy)


def test_secrets_and_secret_volumes_never_share_a_volume_name(kas: Path) -> None:
    """`--set secrets.volume-0…` beside a `secretVolumes` entry: each family has its own prefix."""
    values = {
        "secrets": {"volume-0": SECRET},
        "secretVolumes": [{"name": "whole", "path": "/etc/whole"}],
    }
    pod = one(objects(kas, values), "Deployment")["spec"]["template"]["spec"]
    names = [volume["name"] for volume in pod["volumes"]]
    assert len(names) == len(set(names)), names
    assert {"secret-volume-0", "extra-secret-0"} <= set(names)


def test_an_umbrella_charts_global_values_are_accepted(kas: Path) -> None:
    values: dict[str, Any] = {
        "global": {
            "storageClass": "fast",
            "imagePullSecrets": [{"name": "from-umbrella"}, "by-name"],
            "anything": {"else": True},
        }
    }
    deployment = one(objects(kas, values), "Deployment")
    assert deployment["spec"]["template"]["spec"]["imagePullSecrets"] == [
        {"name": "from-umbrella"},
        {"name": "by-name"},
    ]
    values["imagePullSecrets"] = [{"name": "own"}, "by-name"]
    pods = [o for o in objects(kas, values) if o["kind"] in ("Deployment", "Pod", "Job")]
    assert len(pods) >= 2
    for pod in pods:
        spec = pod["spec"].get("template", pod)["spec"]
        assert spec["imagePullSecrets"] == [
            {"name": "from-umbrella"},
            {"name": "by-name"},
            {"name": "own"},
        ], pod["kind"]


def test_a_gitlab_version_with_its_edition_meets_a_range_at_its_lower_bound() -> None:
    from runway import versions

    wanted = versions.parse_gitlab_version("17.6.0-ee")
    assert versions.parse_range(">=17.6.0 <19.0.0").allows(wanted)
    assert versions.parse_gitlab_version("v17.6.0-ce.0") == versions.parse_version("17.6.0")
    assert not versions.parse_range(">=17.6.0").allows(versions.parse_version("17.6.0-rc1"))


def test_validate_in_a_service_repository_finds_dot_runway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = tmp_path / ".runway"
    service.mkdir()
    (service / "runway.yml").write_text(
        "apiVersion: runway/v1\nkind: RunwayService\nmetadata: {name: svc}\n"
        "spec: {regions: [us-east1]}\n"
    )
    monkeypatch.chdir(tmp_path)
    result = run_cli("validate")
    assert result.exit_code == 0, result.stderr
    assert "1 service(s) valid" in result.stdout


def continuation_problems(text: str) -> list[str]:
    """Lines of ```sh blocks that continue a command (`--flag …`) the line before did not
    continue with `\\` (a comment there ends the command: the rest runs on its own)."""
    import itertools
    import re

    found = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines, heredoc = [], ""
        for line in block.splitlines():
            if heredoc:
                heredoc = "" if line.strip() == heredoc else heredoc
                continue
            lines.append(line)
            opened = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
            heredoc = opened[1] if opened else ""
        for before, line in itertools.pairwise(lines):
            if line.lstrip().startswith("-") and not before.rstrip().endswith("\\"):
                found.append(line.strip())
    return found


def test_every_shell_block_in_the_docs_survives_a_paste() -> None:
    root = Path(__file__).resolve().parent.parent
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        assert continuation_problems(doc.read_text()) == [], doc.name
    broken = "```sh\nrunway turnup kas \\\n  --version 1  # a comment\n  --gitlab-url x\n```\n"
    assert continuation_problems(broken) == ["--gitlab-url x"]


@pytest.mark.parametrize("service", ["kas", "gitlab-workspaces-proxy", "agentk"])
def test_self_managed_values_name_what_a_customer_provides_and_render(
    service: str, tmp_path: Path
) -> None:
    from ruamel.yaml import YAML

    out = tmp_path / "turnup"
    result = run_cli(
        "turnup", str(MANIFESTS / service), "--offering", "self-managed", "-o", str(out)
    )
    assert result.exit_code == 0, result.stderr
    text = (out / "values.yaml").read_text()
    assert text.startswith(f"# Values for {service}:")
    values = YAML(typ="safe").load(text)
    assert values, "not an empty values file"
    assert "secrets" in values, "the Secrets the customer creates are named"
    charts = tmp_path / "charts"
    assert (
        run_cli("build", str(MANIFESTS / service), "-o", str(charts), "--no-verify").exit_code == 0
    )
    assert objects(charts / service, {**values, "image": {"repository": "x/y"}})


def test_the_values_helm_users_reach_for_render_where_they_belong(kas: Path) -> None:
    from runway.verify import representative_values

    values = {
        key: representative_values({})[key]
        for key in (
            "affinity",
            "priorityClassName",
            "commonLabels",
            "commonAnnotations",
            "extraEnvVars",
            "extraEnvVarsCM",
            "extraEnvVarsSecret",
            "extraVolumes",
            "extraVolumeMounts",
            "sidecars",
            "initContainers",
        )
    }
    values["topologySpreadConstraints"] = [
        {
            "maxSkew": 2,
            "topologyKey": "zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "kas"}},
        }
    ]
    found = objects(kas, values)
    deployment = one(found, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["affinity"] == values["affinity"]
    assert pod["priorityClassName"] == "high"
    assert pod["topologySpreadConstraints"] == values["topologySpreadConstraints"]
    assert [c["name"] for c in pod["containers"]] == ["kas", "log-shipper"]
    assert [c["name"] for c in pod["initContainers"]] == ["prepare"]
    assert {"name": "scratch", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]
    main = pod["containers"][0]
    assert {"name": "scratch", "mountPath": "/var/scratch"} in main["volumeMounts"]
    assert {"name": "EXTRA_VAR", "value": "1"} in main["env"]
    assert {"configMapRef": {"name": "extra-env-cm"}} in main["envFrom"]
    assert {"secretRef": {"name": "extra-env-secret"}} in main["envFrom"]
    assert deployment["metadata"]["annotations"]["owner"] == "verify"
    assert all(
        o["metadata"]["labels"].get("team") == "verify" for o in found if "labels" in o["metadata"]
    )
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "kas",
        "app.kubernetes.io/instance": "rel",
    }, "common labels never change the selector"


def test_a_sidecar_below_the_hardening_floor_fails_verify(kas: Path) -> None:
    from runway.verify import hardening

    found = objects(kas, {"sidecars": [{"name": "debug", "image": "busybox:1"}]})
    problems = hardening.check(one(found, "Deployment"))
    assert any("container debug" in p for p in problems), problems


def pod_and_main(found: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    pod = one(found, "Deployment")["spec"]["template"]["spec"]
    return pod["securityContext"], container(found)["securityContext"]


def test_security_contexts_default_to_the_floor(kas: Path) -> None:
    pod, main = pod_and_main(objects(kas, {}))
    assert pod["runAsNonRoot"] is True and pod["seccompProfile"] == {"type": "RuntimeDefault"}
    assert main == main | {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_security_contexts_can_be_tightened_and_verify_accepts_it(kas: Path) -> None:
    from runway.verify import hardening

    values = {
        "podSecurityContext": {
            "runAsUser": 20000,
            "fsGroupChangePolicy": "OnRootMismatch",
            "supplementalGroups": [30000],
            "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/kas.json"},
            "seLinuxOptions": {"level": "s0:c123,c456"},
        },
        "containerSecurityContext": {
            "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/kas.json"},
            "appArmorProfile": {"type": "Localhost", "localhostProfile": "kas"},
        },
    }
    found = objects(kas, values)
    pod, main = pod_and_main(found)
    assert pod["runAsUser"] == main["runAsUser"] == 20000
    assert pod["supplementalGroups"] == [30000]
    assert main["appArmorProfile"] == {"type": "Localhost", "localhostProfile": "kas"}
    assert hardening.assess(one(found, "Deployment")) == ([], [])
    with pytest.raises(VerifyError, match="localhostProfile"):
        helm.render(
            kas,
            {"podSecurityContext": {"seccompProfile": {"type": "Localhost"}}},
            name="rel",
            namespace="ns",
        )


LOOSENED = [
    ({"containerSecurityContext": {"readOnlyRootFilesystem": False}}, "writableRootFilesystem"),
    ({"containerSecurityContext": {"capabilities": {"add": ["NET_RAW"]}}}, "addCapabilities"),
    ({"podSecurityContext": {"seccompProfile": {"type": "Unconfined"}}}, "unconfinedSeccomp"),
    (
        {"containerSecurityContext": {"seccompProfile": {"type": "Unconfined"}}},
        "unconfinedSeccomp",
    ),
    (
        {"containerSecurityContext": {"appArmorProfile": {"type": "Unconfined"}}},
        "unconfinedAppArmor",
    ),
]


@pytest.mark.parametrize(("loosened", "exception"), LOOSENED)
def test_loosening_the_floor_needs_its_reason_and_verify_says_so(
    kas: Path, loosened: dict[str, Any], exception: str
) -> None:
    from runway.chart import values as v
    from runway.verify import hardening

    assert {e for e, _, _ in v.LOOSENINGS} == {e for _, e in LOOSENED}, "every loosening tested"
    with pytest.raises(VerifyError, match=exception):
        helm.render(kas, loosened, name="rel", namespace="ns")

    reason = "the vendor's binary writes a lock file beside itself"
    found = objects(kas, merge(loosened, {"hardeningExceptions": {exception: reason}}))
    deployment = one(found, "Deployment")
    problems, accepted = hardening.assess(deployment)
    assert problems == []
    assert len(accepted) == 1 and reason in accepted[0], accepted

    undeclared = json.loads(json.dumps(deployment))
    del undeclared["spec"]["template"]["metadata"]["annotations"][hardening.EXCEPTIONS_ANNOTATION]
    assert len(hardening.check(undeclared)) == 1, "without the annotation verify fails it"


def test_runway_verify_reports_an_accepted_loosening_and_passes(kas: Path, tmp_path: Path) -> None:
    import shutil

    chart = tmp_path / "kas"
    shutil.copytree(kas, chart)
    values = chart / "values.yaml"
    text = values.read_text()
    for old, new in (
        ("  readOnlyRootFilesystem: true", "  readOnlyRootFilesystem: false"),
        ('  writableRootFilesystem: ""', '  writableRootFilesystem: "writes its pid file"'),
    ):
        assert old in text
        text = text.replace(old, new)
    values.write_text(text)
    done = run_cli("verify", str(chart))
    assert done.exit_code == 0, done.stderr
    assert "root filesystem is writable, accepted on purpose: writes its pid file" in done.stderr
    assert done.stderr.count("accepted on purpose") == 1, "reported once, not once per render"


def test_one_declared_exception_does_not_excuse_another(kas: Path) -> None:
    from runway.verify import hardening

    values = {
        "containerSecurityContext": {"readOnlyRootFilesystem": False},
        "hardeningExceptions": {"writableRootFilesystem": "writes a cache"},
        "sidecars": [
            {
                "name": "debug",
                "image": "busybox:1.37",
                "securityContext": {"capabilities": {"add": ["SYS_ADMIN"], "drop": ["ALL"]}},
            }
        ],
    }
    problems = hardening.check(one(objects(kas, values), "Deployment"))
    assert any("container debug: adds capabilities" in p for p in problems), problems


def test_the_values_model_refuses_a_loosening_without_its_reason() -> None:
    from pydantic import ValidationError

    from runway.chart import values as v

    with pytest.raises(ValidationError, match=r"hardeningExceptions\.addCapabilities"):
        v.ChartValues.model_validate(
            {
                "listeners": {"http": {"port": 8080}},
                "primaryListener": "http",
                "containerSecurityContext": {"capabilities": {"add": ["NET_ADMIN"]}},
            }
        )


def test_chart_yaml_carries_artifact_hub_annotations_matching_what_runs(kas: Path) -> None:
    import json

    from ruamel.yaml import YAML

    chart = YAML(typ="safe").load((kas / "Chart.yaml").read_text())
    annotations = chart["annotations"]
    assert annotations["artifacthub.io/license"] == "MIT"
    listed = {i["image"] for i in YAML(typ="safe").load(annotations["artifacthub.io/images"])}
    rendered = run_cli("images", str(kas), "--format", "json")
    assert rendered.exit_code == 0, rendered.stderr
    assert listed == {i["image"] for i in json.loads(rendered.stdout)}, (
        "what the chart really pulls"
    )
    assert chart["maintainers"] == [{"name": "environments-group"}]


def test_shell_completion_completes_commands() -> None:
    import subprocess
    import sys

    script = run_cli("completion", "bash")
    assert script.exit_code == 0 and "_RUNWAY_COMPLETE" in script.stdout
    done = subprocess.run(
        [str(Path(sys.executable).parent / "runway")],
        env={"_RUNWAY_COMPLETE": "bash_complete", "COMP_WORDS": "runway ver", "COMP_CWORD": "1"},
        capture_output=True,
        text=True,
    )
    assert "plain,verify" in done.stdout.splitlines(), done.stdout


def test_verify_of_several_charts_runs_in_parallel_and_reports_in_order(tmp_path: Path) -> None:
    import shutil

    charts = tmp_path / "charts"
    assert run_cli("build", str(MANIFESTS), "-o", str(charts), "--no-verify").exit_code == 0
    names = ["kas", "agentk", "ai-gateway", "gitlab-workspaces-proxy"]
    broken = charts / "agentk" / "templates" / "deployment.yaml"
    broken.write_text(broken.read_text().replace("containerPort:", "containerPortX:"))
    shutil.rmtree(charts / "ai-gateway" / "profiles")
    result = run_cli("verify", *(str(charts / n) for n in names), env={"RUNWAY_JOBS": "2"})
    assert result.exit_code == ExitCode.VERIFY_FAILED
    lines = [line for line in result.stdout.splitlines() if line.startswith("verify ")]
    assert [line.split(":")[0] for line in lines] == [f"verify {charts / n}" for n in names]
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == ["ok", "FAILED", "ok", "ok"]


def test_config_overrides_change_one_key_of_a_config_file_and_keep_the_rest(
    kas: Path, tmp_path: Path
) -> None:
    from ruamel.yaml import YAML

    out = tmp_path / "turnup"
    assert (
        run_cli(
            "turnup", str(MANIFESTS / "kas"), "--offering", "self-managed", "-o", str(out)
        ).exit_code
        == 0
    )
    values = YAML(typ="safe").load((out / "values.yaml").read_text())
    overrides = values["configOverrides"]["/etc/kas/config.yaml"]["gitlab"]
    assert set(overrides) == {"address", "external_url"}, "the keys KAS's contract says you set"
    overrides["address"] = "https://gitlab.acme.test"
    found = objects(kas, {**values, "image": {"repository": "x/kas"}})
    config = next(
        o for o in found if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-config")
    )
    rendered = YAML(typ="safe").load(next(iter(config["data"].values())))
    assert rendered["gitlab"]["address"] == "https://gitlab.acme.test"
    assert rendered["gitlab"]["authentication_secret_file"] == "/etc/kas/secrets/gitlab_kas_secret"
    assert rendered["redis"]["server"]["address"] == "redis-master.gitlab.svc:6379"


def test_install_notes_warn_while_a_listener_routes_an_example_host(kas: Path) -> None:
    def notes(values: dict[str, Any]) -> str:
        rendered = helm.render(kas, values, name="rel", namespace="ns")
        return next(text for name, text in rendered.items() if name.endswith("NOTES.txt"))

    assert "WARNING: listener agent still routes the example host kas.gitlab.example.com" in (
        notes({})
    )
    own = {
        name: {"host": f"{name}.gitlab.acme.test", "extraHosts": []}
        for name in ("agent", "k8s-proxy", "workspaces")
    }
    assert "WARNING" not in notes({"listeners": own})
    with_alias = {**own, "agent": {"host": "kas.acme.test", "extraHosts": ["kas.example.com"]}}
    assert "example host kas.example.com" in notes({"listeners": with_alias})


def test_two_runway_charts_render_as_subcharts_of_one_umbrella_with_shared_globals(
    tmp_path: Path,
) -> None:
    """What a platform team does with several satellite services: one umbrella release."""
    import shutil

    from ruamel.yaml import YAML

    from runway.verify import hardening, kube

    charts = tmp_path / "built"
    for service in ("kas", "ai-gateway"):
        built = run_cli("build", str(MANIFESTS / service), "-o", str(charts), "--no-verify")
        assert built.exit_code == 0, built.stderr
    umbrella = tmp_path / "satellites"
    dependencies = []
    for name in ("kas", "ai-gateway"):
        shutil.copytree(charts / name, umbrella / "charts" / name)
        meta = YAML(typ="safe").load((charts / name / "Chart.yaml").read_text())
        dependencies.append(
            {"name": name, "version": meta["version"], "repository": f"file://../{name}"}
        )
    chart_yaml = {
        "apiVersion": "v2",
        "name": "satellites",
        "version": "1.0.0",
        "dependencies": dependencies,
    }
    (umbrella / "Chart.yaml").write_text(json.dumps(chart_yaml))
    values = {
        "global": {
            "imageRegistry": "mirror.acme.test",
            "imagePullSecrets": [{"name": "mirror-pull"}],
            "storageClass": "fast-ssd",
        },
        "ai-gateway": {"image": {"repository": "gitlab-org/ai-gateway", "tag": "1.0.0"}},
    }
    rendered = helm.render(umbrella, values, name="sat", namespace="satellites")
    found = [
        doc
        for name, text in rendered.items()
        if name.endswith(".yaml")
        for doc in YAML(typ="safe").load_all(text)
        if doc
    ]
    deployments = {d["metadata"]["name"]: d for d in found if d["kind"] == "Deployment"}
    assert sorted(deployments) == ["sat-ai-gateway", "sat-kas"]
    for deployment in deployments.values():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["imagePullSecrets"] == [{"name": "mirror-pull"}]
        assert all(c["image"].startswith("mirror.acme.test/") for c in pod["containers"])
    assert [p for obj in found for p in [*kube.validate_object(obj), *hardening.check(obj)]] == []

    with pytest.raises(VerifyError, match="kas"):
        helm.render(umbrella, {**values, "kas": {"replicaCount": "two"}}, name="s", namespace="n")


DEEP_JSON = "[" * 100_000 + "]" * 100_000


def test_json_nested_past_what_python_reads_is_a_problem_or_ignored_never_a_crash(
    kas: Path, tmp_path: Path
) -> None:
    """A chart's values.schema.json and the JSON annotations verify reads are the chart's
    text: nesting deeper than Python's json reader recurses is named, or read as absent."""
    from runway.verify import hardening, verify_chart, wiring

    chart = tmp_path / "kas"
    __import__("shutil").copytree(kas, chart)
    (chart / "values.schema.json").write_text('{"a": ' + DEEP_JSON + "}")
    report = verify_chart(chart)
    assert any(
        "values.schema.json is not a JSON schema Helm could use: nested too deeply" in p
        for p in report.problems
    ), report.problems

    deployment = one(objects(kas), "Deployment")
    annotations = deployment["spec"]["template"]["metadata"].setdefault("annotations", {})
    annotations[hardening.EXCEPTIONS_ANNOTATION] = DEEP_JSON
    assert hardening.check(deployment) == hardening.check(one(objects(kas), "Deployment"))
    service = {
        "metadata": {"name": "s", "annotations": {"cloud.google.com/backend-config": DEEP_JSON}}
    }
    assert wiring._told("Ingress", service, [], {}) is False
