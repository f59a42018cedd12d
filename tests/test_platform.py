"""GKE environments under Pulumi's mock mode: what the stacks create, the policies, the CLI plan."""

from __future__ import annotations

import copy
import json
import os
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
from ruamel.yaml import YAML

from runway.errors import ExitCode
from runway.platform import policies
from runway.platform.plan import (
    REDACTED,
    SECRET_PLACEHOLDER,
    Plan,
    PlannedResource,
    RecordingMocks,
    plan,
)
from tests.conftest import ROOT, run_cli

STAGING = ROOT / "environments" / "staging.yml"
PRODUCTION = ROOT / "environments" / "production.yml"


def _of(planned: Plan, typ: str) -> list[PlannedResource]:
    return [r for r in planned.resources if r.type == typ]


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def staging(request: pytest.FixtureRequest) -> Plan:
    return plan(STAGING, preview=request.param)


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def production(request: pytest.FixtureRequest) -> Plan:
    return plan(PRODUCTION, preview=request.param)


def test_staging_is_one_autopilot_cluster_with_workload_identity(staging: Plan) -> None:
    (cluster,) = _of(staging, "gcp:container/cluster:Cluster")
    inputs = cluster.inputs
    assert inputs["enableAutopilot"] is True
    assert inputs["location"] == "us-east1"
    assert inputs["workloadIdentityConfig"] == {"workloadPool": "gitlab-runway-staging.svc.id.goog"}
    assert inputs["deletionProtection"] is False
    assert inputs["privateClusterConfig"]["enablePrivateNodes"] is True
    assert (
        inputs["masterAuthorizedNetworksConfig"]["cidrBlocks"][0]["cidrBlock"] == "203.0.113.0/24"
    )
    assert "nodeConfig" not in inputs, "an Autopilot cluster given node_config is replaced"
    assert _of(staging, "gcp:container/nodePool:NodePool") == []
    (project,) = _of(staging, "gcp:organizations/project:Project")
    assert project.inputs["folderId"] == "123456789012"
    assert project.inputs["autoCreateNetwork"] is False
    apis = {r.inputs["service"] for r in _of(staging, "gcp:projects/service:Service")}
    assert {"container.googleapis.com", "certificatemanager.googleapis.com"} <= apis


def test_production_is_standard_with_dedicated_node_accounts_in_two_regions(
    production: Plan,
) -> None:
    clusters = {
        c.inputs["location"]: c.inputs for c in _of(production, "gcp:container/cluster:Cluster")
    }
    assert sorted(clusters) == ["europe-west1", "us-east1"]
    for inputs in clusters.values():
        assert inputs["deletionProtection"] is True
        assert inputs["removeDefaultNodePool"] is True
        assert inputs["privateClusterConfig"]["enablePrivateEndpoint"] is True
        assert inputs["releaseChannel"] == {"channel": "STABLE"}
    pools = _of(production, "gcp:container/nodePool:NodePool")
    assert len(pools) == 4
    burst = next(p for p in pools if p.inputs["name"] == "burst")
    assert burst.inputs["nodeConfig"]["spot"] is True
    assert burst.inputs["autoscaling"] == {"minNodeCount": 0, "maxNodeCount": 20}
    for pool in pools:
        node = pool.inputs["nodeConfig"]
        assert node["serviceAccount"].endswith(
            "-nodes@gitlab-runway-production.iam.gserviceaccount.com"
        )
        assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert _of(production, "gcp:organizations/project:Project") == [], "an existing project"
    subnets = {
        s.inputs["region"]: s.inputs for s in _of(production, "gcp:compute/subnetwork:Subnetwork")
    }
    assert [r["rangeName"] for r in subnets["europe-west1"]["secondaryIpRanges"]] == [
        "pods",
        "services",
    ]
    assert len(_of(production, "gcp:compute/routerNat:RouterNat")) == 2


def test_every_service_gets_a_workload_identity_binding(production: Plan) -> None:
    members = {
        r.inputs["member"] for r in _of(production, "gcp:serviceaccount/iAMMember:IAMMember")
    }
    assert members == {
        f"serviceAccount:gitlab-runway-production.svc.id.goog[{s}/{s}]"
        for s in ("kas", "gitlab-workspaces-proxy")
    }
    roles = {r.inputs["role"] for r in _of(production, "gcp:serviceaccount/iAMMember:IAMMember")}
    assert roles == {"roles/iam.workloadIdentityUser"}


def test_the_edge_certificate_covers_every_host_and_each_gateway_names_its_map(
    staging: Plan,
) -> None:
    (certificate,) = _of(staging, "gcp:certificatemanager/certificate:Certificate")
    domains = certificate.inputs["managed"]["domains"]
    assert "*.workspaces.staging.gitlab.example.com" in domains
    assert "kas.staging.gitlab.example.com" in domains
    maps = {
        m.inputs["name"]
        for m in _of(staging, "gcp:certificatemanager/certificateMap:CertificateMap")
    }
    addresses = {a.inputs["name"] for a in _of(staging, "gcp:compute/globalAddress:GlobalAddress")}
    accounts = {
        f"{a.inputs['accountId']}@gitlab-runway-staging.iam.gserviceaccount.com"
        for a in _of(staging, "gcp:serviceaccount/account:Account")
    }
    releases = _of(staging, "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease")
    assert sorted(r.inputs["metadata"]["name"] for r in releases) == [
        "gitlab-workspaces-proxy",
        "kas",
    ]
    for release in releases:
        values = release.inputs["spec"]["values"]
        gateway = values["gateway"]["create"]
        assert gateway["certificateMap"] in maps
        assert gateway["address"] in addresses
        assert values["serviceAccount"]["gcpServiceAccount"] in accounts
        assert values["metrics"]["kind"] == "PodMonitoring"
    records = {r.inputs["name"] for r in _of(staging, "gcp:dns/recordSet:RecordSet")}
    assert "*.kas-tunnel.staging.gitlab.example.com." in records
    assert "workspaces.staging.gitlab.example.com." in records, "the apex alias follows the host"
    assert any(name.startswith("_acme-challenge.") for name in records)


def test_the_workloads_stack_reads_infra_through_a_stack_reference(staging: Plan) -> None:
    (reference,) = _of(staging, "pulumi:pulumi:StackReference")
    assert reference.stack == "workloads"
    assert reference.name == "organization/runway-infra/staging"
    (provider,) = _of(staging, "pulumi:providers:kubernetes")
    assert provider.inputs["clusterIdentifier"] == "staging-us-east1"
    assert {r.stack for r in _of(staging, "gcp:container/cluster:Cluster")} == {"infra"}


def test_gitops_installs_flux_and_the_agent_with_its_token_from_a_secret(staging: Plan) -> None:
    helm = {r.inputs["chart"]: r.inputs for r in _of(staging, "kubernetes:helm.sh/v3:Release")}
    assert (
        helm["flux2"]["repositoryOpts"]["repo"] == "https://fluxcd-community.github.io/helm-charts"
    )
    agent = helm["gitlab-agent"]
    assert agent["values"]["config"] == {
        "kasAddress": "wss://kas.staging.gitlab.example.com",
        "secretName": "gitlab-agent-token",
    }
    (secret,) = [
        s for s in _of(staging, "kubernetes:core/v1:Secret") if s.name.endswith("-agent-token")
    ]
    assert secret.inputs["stringData"] == REDACTED
    assert SECRET_PLACEHOLDER not in json.dumps([r.inputs for r in staging.resources])


def test_services_deploy_through_flux_or_helm_from_the_stage_of_the_environment(
    staging: Plan, production: Plan
) -> None:
    sources = {
        s.inputs["metadata"]["name"]: s.inputs["spec"]
        for s in _of(staging, "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository")
    }
    assert (
        sources["kas"]["url"] == "oci://registry.gitlab.com/gitlab-org/satellites/charts/canary/kas"
    )
    assert sources["kas"]["ref"] == {"semver": ">=0.1.0"}
    assert sources["gitlab-workspaces-proxy"]["ref"] == {"semver": ">=0.0.0"}
    helm = [
        r
        for r in _of(production, "kubernetes:helm.sh/v3:Release")
        if r.inputs["name"] == "gitlab-workspaces-proxy"
    ]
    assert len(helm) == 2, "one per regional cluster"
    assert (
        helm[0].inputs["chart"]
        == "oci://registry.gitlab.com/gitlab-org/satellites/charts/stable/gitlab-workspaces-proxy"
    )
    regions = sorted(r.inputs["values"]["region"] for r in helm)
    assert regions == ["europe-west1", "us-east1"]


def test_the_shipped_environments_pass_every_policy(staging: Plan, production: Plan) -> None:
    assert policies.check(staging.resources, production=False) == []
    assert policies.check(production.resources, production=True) == []


BAD: dict[str, tuple[str, dict[str, Any], bool]] = {
    "workload-identity": (
        policies.CLUSTER,
        {"resourceLabels": {"gl_env": "x", "managed_by": "runway"}},
        False,
    ),
    "private-control-plane": (
        policies.CLUSTER,
        {"privateClusterConfig": {"enablePrivateEndpoint": False}},
        True,
    ),
    "no-default-node-service-account": (
        policies.NODE_POOL,
        {"nodeConfig": {"serviceAccount": "default"}},
        False,
    ),
    "gke-metadata-server": (
        policies.NODE_POOL,
        {"nodeConfig": {"workloadMetadataConfig": {"mode": "GCE_METADATA"}}},
        False,
    ),
    "reachable-control-plane": (
        policies.CLUSTER,
        {
            "privateClusterConfig": {"enablePrivateEndpoint": True},
            "controlPlaneEndpointsConfig": {"dnsEndpointConfig": {"allowExternalTraffic": False}},
        },
        True,
    ),
    "labels": ("gcp:dns/managedZone:ManagedZone", {"labels": {"gl_env": "x"}}, False),
    "deletion-protection": (policies.CLUSTER, {"deletionProtection": False}, True),
}


@pytest.mark.parametrize("policy", policies.POLICIES, ids=[p.name for p in policies.POLICIES])
def test_each_policy_can_fail(policy: policies.Policy) -> None:
    typ, inputs, production = BAD[policy.name]
    assert policy.check(typ, inputs, production), f"{policy.name} never fails"
    resource = PlannedResource("infra", typ, "bad", inputs)
    assert policy.name in {v.policy for v in policies.check([resource], production=production)}


def _environment(tmp_path: Path, edit: Any) -> Path:
    data = YAML(typ="safe").load(STAGING.read_text())
    edit(data)
    for service in data["spec"]["services"]:
        service["manifest"] = str(ROOT / "manifests" / Path(service["manifest"]).name)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "env.yml"
    out = YAML()
    with path.open("w") as handle:
        out.dump(data, handle)
    _stacks_for(tmp_path, path, str(data["metadata"]["name"]))
    return path


def _stacks_for(tmp_path: Path, env_file: Path, stack: str) -> Path:
    """The shipped Pulumi projects with stack files that name `env_file` (as a user's would)."""
    stacks = tmp_path / "stacks"
    for project in ("infra", "workloads"):
        (stacks / project).mkdir(parents=True, exist_ok=True)
        (stacks / project / "Pulumi.yaml").write_text(
            (ROOT / "stacks" / project / "Pulumi.yaml").read_text()
        )
    (stacks / "infra" / f"Pulumi.{stack}.yaml").write_text(
        f"config:\n  runway-infra:environment: {env_file}\n"
    )
    (stacks / "workloads" / f"Pulumi.{stack}.yaml").write_text(
        f"config:\n  runway-workloads:environment: {env_file}\n"
        f"  runway-workloads:infraStack: organization/runway-infra/{stack}\n"
    )
    return stacks


def test_a_production_environment_with_a_public_control_plane_fails_the_plan(
    tmp_path: Path,
) -> None:
    def risky(data: dict[str, Any]) -> None:
        data["spec"]["production"] = True
        data["spec"]["cluster"]["deletion_protection"] = False

    result = run_cli(
        "stack", "plan", str(_environment(tmp_path, risky)), "--stacks", str(tmp_path / "stacks")
    )
    assert result.exit_code == ExitCode.POLICY_VIOLATION
    assert (
        "policy violation: private-control-plane: gcp:container/cluster:Cluster staging-us-east1"
        in result.stderr
    )
    assert "policy violation: deletion-protection:" in result.stderr


def test_runway_stack_plan_lists_what_a_reviewer_needs(tmp_path: Path) -> None:
    result = run_cli("stack", "plan", str(STAGING), "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["format"] == "runway.gitlab.com/stack-plan/v1"
    assert document["policies"]["passed"] is True
    assert "hosts-agree" in document["policies"]["checked"]
    assert document["secrets_to_set"] == [
        "runway-workloads:gitlabToken",
        "runway-workloads:runnerToken",
    ]
    assert document["counts"]["gcp:container/cluster:Cluster"] == 1
    groups = document["stacks"]["workloads"]
    assert (
        "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease staging-us-east1-kas-helmrelease"
        in (groups["runway:platform:Services staging-us-east1"])
    ), "resources are grouped under the component that makes them"
    resources = document["resources"]
    assert all({"type", "name", "inputs", "component"} <= set(r) for r in resources)
    types = {r["type"] for r in resources}
    assert {
        "gcp:container/cluster:Cluster",
        "gcp:serviceaccount/iAMMember:IAMMember",
        "gcp:certificatemanager/certificate:Certificate",
        "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository",
        "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease",
    } <= types
    table = run_cli("stack", "plan", str(PRODUCTION))
    assert table.exit_code == 0, table.stderr
    assert "gcp:container/cluster:Cluster" in table.stdout
    assert "  stack infra (" in table.stdout and "    runway:platform:Cluster " in table.stdout
    assert "policies: 8 checked, all passed" in table.stdout
    assert "to set before pulumi up: pulumi config set --secret gitlabToken" in table.stdout
    assert "production-europe-west1" in table.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  clustr: {}\n", "env.yml:"),
        ("  regions: [us-west1]\n", "network.subnets has no subnet for region us-west1"),
    ],
)
def test_a_bad_environment_gets_a_located_error(tmp_path: Path, text: str, expected: str) -> None:
    lines = (
        STAGING.read_text()
        .replace("../manifests", str(ROOT / "manifests"))
        .splitlines(keepends=True)
    )
    at = lines.index("spec:\n") + 1
    lines.insert(at, text)
    if "regions:" in text:
        lines = [line for line in lines if not line.startswith("  regions: [us-east1]")]
    (tmp_path / "env.yml").write_text("".join(lines))
    result = run_cli("stack", "plan", str(tmp_path / "env.yml"))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    if "clustr" in text:
        assert f"env.yml:{at + 1}:3: spec.clustr" in result.stderr


@pytest.mark.parametrize(
    ("written", "typo", "field"),
    [
        ("master_cidr: 172.16.0.0/28", "master_cidr: 172.16.0.0/33", "master_cidr"),
        ("[203.0.113.0/24]", "[203.0.113/24]", "authorized_networks"),
        ("cidr: 10.10.0.0/20", "cidr: 10.10.0.256/20", "cidr"),
    ],
)
def test_a_range_gcp_would_refuse_fails_at_validate(
    tmp_path: Path, written: str, typo: str, field: str
) -> None:
    """The old pattern took any digits and dots (`10.10.0.256/20`): GCP refused them at
    `pulumi up`, after a plan that said nothing."""
    text = STAGING.read_text().replace("../manifests", str(ROOT / "manifests"))
    assert written in text
    (tmp_path / "env.yml").write_text(text.replace(written, typo))
    result = run_cli("stack", "plan", str(tmp_path / "env.yml"))
    assert result.exit_code == ExitCode.INVALID_INPUT, result.stdout
    line = next(i for i, row in enumerate(text.splitlines(), 1) if written in row)
    assert f"env.yml:{line}:" in result.stderr and field in result.stderr, result.stderr


def test_two_services_claiming_one_host_are_refused(tmp_path: Path) -> None:
    def clash(data: dict[str, Any]) -> None:
        data["spec"]["services"][1]["hosts"]["http"] = "*.kas-tunnel.staging.gitlab.example.com"

    result = run_cli(
        "stack", "plan", str(_environment(tmp_path, clash)), "--stacks", str(tmp_path / "stacks")
    )
    assert result.exit_code == 2
    assert (
        "*.kas-tunnel.staging.gitlab.example.com is served by both kas and gitlab-workspaces-proxy"
        in result.stderr
    )


@pytest.mark.parametrize("stack", ["infra", "workloads"])
def test_the_stack_entry_points_run_the_programs(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from runway.manifest.environment import load_environment

    directory = ROOT / "stacks" / stack
    config = YAML(typ="safe").load((directory / "Pulumi.staging.yaml").read_text())["config"]
    config[f"runway-{stack}:gitlabToken"] = "not-a-real-token"
    config[f"runway-{stack}:runnerToken"] = "not-a-real-token"
    monkeypatch.chdir(directory)
    env = load_environment(Path(config[f"runway-{stack}:environment"]))
    mocks = RecordingMocks(stack, env)
    pulumi.runtime.set_mocks(mocks, project=f"runway-{stack}", stack="staging", preview=False)
    pulumi.runtime.set_all_config(config)
    SETTINGS.rpc_manager.clear()

    def program() -> None:
        runpy.run_path(str(directory / "__main__.py"))

    _sync_await(run_pulumi_func(program))
    types = {r.type for r in mocks.resources}
    expected = (
        "gcp:container/cluster:Cluster" if stack == "infra" else "kubernetes:helm.sh/v3:Release"
    )
    assert expected in types
    assert os.getcwd() == str(directory)


def test_the_workspace_runner_fleet_runs_in_every_cluster_with_its_hardened_profile(
    production: Plan,
) -> None:
    fleets = [
        r
        for r in _of(production, "kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "gitlab-runner"
    ]
    assert len(fleets) == 2, "one per regional cluster"
    values = fleets[0].inputs["values"]
    assert values["gitlabUrl"] == "https://gitlab.example.com"
    assert values["concurrent"] == 50
    assert values["runners"]["secret"] == "workspaces-runner-token"
    assert "privileged = false" in values["runners"]["config"]
    tokens = [
        s for s in _of(production, "kubernetes:core/v1:Secret") if s.name.endswith("-runner-token")
    ]
    assert [t.inputs["stringData"] for t in tokens] == [REDACTED, REDACTED]


def test_runway_validate_points_an_environment_file_at_stack_plan() -> None:
    result = run_cli("validate", str(STAGING))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "a RunwayEnvironment describes a GKE environment, not a service" in result.stderr
    assert "hint: check it with: runway stack plan " in result.stderr
    assert "staging.yml:4:7: kind:" in result.stderr


# The real Pulumi project and stack files, by Pulumi's own rules --------------------------------


@pytest.mark.parametrize("project", ["infra", "workloads"])
@pytest.mark.parametrize("stack", ["staging", "production"])
def test_the_shipped_pulumi_projects_follow_pulumis_rules(project: str, stack: str) -> None:
    from runway.platform import projects

    found = projects.load_stack(ROOT / "stacks" / project, stack)
    assert found.project == f"runway-{project}"
    assert found.values[f"runway-{project}:environment"] == f"../../environments/{stack}.yml"
    if project == "workloads":
        assert found.secrets == ("runway-workloads:gitlabToken",), "left to pulumi config set"


def _project(tmp_path: Path, pulumi_yaml: str, stack_yaml: str) -> Path:
    folder = tmp_path / "infra"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text(pulumi_yaml)
    (folder / "Pulumi.staging.yaml").write_text(stack_yaml)
    return folder


PROJECT_HEAD = "name: runway-infra\nruntime: python\nconfig:\n"


@pytest.mark.parametrize(
    ("pulumi_yaml", "stack_yaml", "expected"),
    [
        (
            PROJECT_HEAD + "  runway:environment:\n    type: string\n",
            "config:\n  runway:environment: x\n",
            "Pulumi.yaml:4:3: config.runway:environment: config key 'runway:environment' is not "
            "namespaced by the project and should not define a type",
        ),
        (
            PROJECT_HEAD + "  gcp:project:\n    default: p\n",
            "config: {}\n",
            "should not define a default value",
        ),
        (
            PROJECT_HEAD + "  gcp:project:\n    description: the project\n",
            "config: {}\n",
            "is namespaced and must provide an attribute 'value'",
        ),
        (
            PROJECT_HEAD + "  environment:\n    type: string\n",
            "config: {}\n",
            "Stack 'staging' is missing configuration value 'runway-infra:environment'",
        ),
        (
            PROJECT_HEAD + "  replicas:\n    type: integer\n",
            "config:\n  runway-infra:replicas: many\n",
            "configuration value 'runway-infra:replicas' must be of type integer",
        ),
        (
            "runtime: python\n",
            "config: {}\n",
            'Pulumi project schema: "name" is a required property',
        ),
        (
            PROJECT_HEAD + "  sizes:\n    type: array\n",
            "config: {}\n",
            "config key 'sizes': an array type requires 'items'",
        ),
    ],
)
def test_pulumis_rules_refuse_each_defect_located(
    tmp_path: Path, pulumi_yaml: str, stack_yaml: str, expected: str
) -> None:
    from runway.errors import ManifestError
    from runway.platform import projects

    folder = _project(tmp_path, pulumi_yaml, stack_yaml)
    with pytest.raises(ManifestError) as caught:
        projects.load_stack(folder, "staging")
    assert expected in str(caught.value), str(caught.value)


def test_stack_plan_refuses_an_invalid_project_and_a_stack_naming_another_environment(
    tmp_path: Path,
) -> None:
    stacks = _stacks_for(tmp_path, STAGING, "staging")
    broken = (
        (stacks / "infra" / "Pulumi.yaml")
        .read_text()
        .replace("  environment:", "  runway:environment:")
    )
    (stacks / "infra" / "Pulumi.yaml").write_text(broken)
    result = run_cli("stack", "plan", str(STAGING), "--stacks", str(stacks))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert (
        "Pulumi.yaml:9:3: config.runway:environment: config key 'runway:environment' is not namespaced"
        in result.stderr
    )
    other = _stacks_for(tmp_path / "b", PRODUCTION, "staging")
    elsewhere = run_cli("stack", "plan", str(STAGING), "--stacks", str(other))
    assert elsewhere.exit_code == 2
    assert "Pulumi.staging.yaml: environment is" in elsewhere.stderr
    assert "point the stack at the environment it deploys" in elsewhere.stderr


def test_every_release_routes_the_environments_hosts(staging: Plan) -> None:
    releases = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]["values"]["listeners"]
        for r in _of(staging, "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease")
    }
    assert releases["kas"]["agent"]["host"] == "kas.staging.gitlab.example.com"
    assert releases["kas"]["workspaces"]["host"] == "*.kas-tunnel.staging.gitlab.example.com"
    assert releases["gitlab-workspaces-proxy"]["http"] == {
        "host": "*.workspaces.staging.gitlab.example.com",
        "extraHosts": ["workspaces.staging.gitlab.example.com"],
    }


def test_hosts_that_disagree_fail_the_plan_naming_the_resource(staging: Plan) -> None:
    from runway.platform.policies import hosts_agree

    assert hosts_agree(staging.resources) == []
    resources = copy.deepcopy(staging.resources)
    release = next(
        r
        for r in resources
        if r.type == "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease"
        and r.inputs["metadata"]["name"] == "kas"
    )
    for name in ("agent", "k8s-proxy"):
        release.inputs["spec"]["values"]["listeners"][name]["host"] = (
            "agents.staging.gitlab.example.com"
        )
    messages = [v.render() for v in hosts_agree(resources)]
    owner = "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease staging-us-east1-kas-helmrelease"
    assert (
        f"hosts-agree: {owner}: routes agents.staging.gitlab.example.com, which the edge certificate does not cover"
        in messages
    )
    assert (
        f"hosts-agree: {owner}: routes agents.staging.gitlab.example.com, which has no DNS record"
        in messages
    )
    assert any(
        "through certificate map kas-staging, which has no entry for it" in m for m in messages
    )
    assert any(
        m.startswith("hosts-agree: gcp:dns/recordSet:RecordSet")
        and "serves kas.staging.gitlab.example.com, which no release routes" in m
        for m in messages
    )


def test_stack_plan_diff_shows_what_an_environment_change_adds_changes_and_removes(
    tmp_path: Path,
) -> None:
    before = _environment(tmp_path / "a", lambda data: None)
    old = run_cli(
        "stack", "plan", str(before), "--format", "json", "--stacks", str(tmp_path / "a" / "stacks")
    )
    assert old.exit_code == 0, old.stderr
    (tmp_path / "old.json").write_text(old.stdout)

    def change(data: dict[str, Any]) -> None:
        data["spec"]["cluster"]["release_channel"] = "STABLE"
        data["spec"]["services"] = data["spec"]["services"][:1]

    after = _environment(tmp_path / "b", change)
    result = run_cli(
        "stack",
        "plan",
        str(after),
        "--diff",
        str(tmp_path / "old.json"),
        "--stacks",
        str(tmp_path / "b" / "stacks"),
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "changed: infra gcp:container/cluster:Cluster staging-us-east1 (releaseChannel)" in lines
    assert any(
        line.startswith("removed: workloads kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease")
        and "gitlab-workspaces-proxy" in line
        for line in lines
    )
    assert not [line for line in lines if line.startswith("added:")]
    junk = tmp_path / "junk.json"
    junk.write_text("[]")
    refused = run_cli("stack", "plan", str(STAGING), "--diff", str(junk))
    assert refused.exit_code == 2 and "not a plan written by runway stack plan" in refused.stderr
    junk.write_text("[" * 100_000 + "]" * 100_000)
    deep = run_cli("stack", "plan", str(STAGING), "--diff", str(junk))
    assert deep.exit_code == 2 and "not a plan written by --format json" in deep.stderr


def test_a_private_cluster_is_reached_through_its_dns_endpoint(production: Plan) -> None:
    for cluster in _of(production, "gcp:container/cluster:Cluster"):
        assert cluster.inputs["privateClusterConfig"]["enablePrivateEndpoint"] is True
        assert cluster.inputs["controlPlaneEndpointsConfig"] == {
            "dnsEndpointConfig": {"allowExternalTraffic": True}
        }


def test_the_kubeconfig_for_a_dns_endpoint_carries_no_cluster_ca() -> None:
    from runway.platform.cluster import kubeconfig

    dns = json.loads(kubeconfig("c", "gke-0123.us-east1.gke.goog", ""))
    assert dns["clusters"][0]["cluster"] == {"server": "https://gke-0123.us-east1.gke.goog"}
    ip = json.loads(kubeconfig("c", "192.0.2.10", "LS0t"))
    assert ip["clusters"][0]["cluster"]["certificate-authority-data"] == "LS0t"
    assert dns["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"


def test_the_stack_wires_gitlab_agent_kas_secret_and_oauth_application(staging: Plan) -> None:
    (agent,) = _of(staging, "gitlab:index/clusterAgent:ClusterAgent")
    assert agent.inputs == {
        **agent.inputs,
        "project": "gitlab-org/satellites/agents",
        "name": "runway-staging",
    }
    (config,) = _of(staging, "gitlab:index/repositoryFile:RepositoryFile")
    assert config.inputs["filePath"] == ".gitlab/agents/runway-staging/config.yaml"
    assert json.loads(config.inputs["content"])["remote_development"]["dns_zone"] == (
        "workspaces.staging.gitlab.example.com"
    )
    (token,) = _of(staging, "gitlab:index/clusterAgentToken:ClusterAgentToken")
    assert token.inputs["agentId"] == 101
    (application,) = _of(staging, "gitlab:index/application:Application")
    assert application.inputs["redirectUrl"] == (
        "https://workspaces.staging.gitlab.example.com/auth/callback"
    ), "the proxy's apex host, where its chart routes /auth/callback"
    assert application.inputs["scopes"] == ["api", "read_user", "openid", "profile"]
    (shared,) = _of(staging, "random:index/randomBytes:RandomBytes")
    assert shared.inputs["length"] == 32, "KAS and GitLab read exactly 32 bytes, base64"
    (version,) = _of(staging, "gcp:secretmanager/secretVersion:SecretVersion")
    assert version.inputs["secretData"] == REDACTED
    secrets = {
        (s.inputs["metadata"]["namespace"], s.inputs["metadata"]["name"]): s.inputs["stringData"]
        for s in _of(staging, "kubernetes:core/v1:Secret")
    }
    assert secrets[("gitlab-agent", "gitlab-agent-token")] == REDACTED
    assert secrets[("kas", "gitlab-kas-secret")] == REDACTED
    assert secrets[("gitlab-workspaces-proxy", "gitlab-workspaces-proxy-config")] == REDACTED
    everything = json.dumps([r.inputs for r in staging.resources])
    for planted in ("mock-agent-token", "mock-client-secret", "mock-signing-key", "bW9jay1rYXMt"):
        assert planted not in everything, "no secret reaches the plan"


def test_without_an_agent_project_the_agent_token_is_set_by_hand(tmp_path: Path) -> None:
    def manual(data: dict[str, Any]) -> None:
        del data["spec"]["gitlab"]["agent_project"]

    env_file = _environment(tmp_path, manual)
    result = run_cli(
        "stack", "plan", str(env_file), "--format", "json", "--stacks", str(tmp_path / "stacks")
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert "runway-workloads:agentToken" in document["secrets_to_set"]
    assert not [r for r in document["resources"] if r["type"].startswith("gitlab:")]


def test_the_stack_creates_the_workspace_runner_with_the_fleets_tags(production: Plan) -> None:
    """A runner authentication token carries its tags from GitLab, so the runner is created
    where they can be set: by the stack, in the fleet's group, and its token goes to the fleet."""
    (runner,) = _of(production, "gitlab:index/userRunner:UserRunner")
    assert runner.inputs["runnerType"] == "group_type"
    assert runner.inputs["groupId"] == 4242, "the group's id, looked up by its path"
    assert runner.inputs["tagLists"] == ["workspaces"] and runner.inputs["untagged"] is False
    assert not [s for s in production.secrets_to_set if s.endswith(":runnerToken")]
    tokens = [
        s for s in _of(production, "kubernetes:core/v1:Secret") if s.name.endswith("-runner-token")
    ]
    assert tokens and all(t.inputs["stringData"] == REDACTED for t in tokens)
    assert "glrt-mock-runner-token" not in json.dumps([r.inputs for r in production.resources])


def test_a_runner_group_without_the_gitlab_side_is_refused(tmp_path: Path) -> None:
    def group_only(data: dict[str, Any]) -> None:
        data["spec"]["runner_fleet"]["group"] = "gitlab-org/satellites"
        del data["spec"]["gitlab"]["agent_project"]

    env_file = _environment(tmp_path, group_only)
    result = run_cli("stack", "plan", str(env_file), "--stacks", str(tmp_path / "stacks"))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "runner_fleet.group needs gitlab.agent_project" in result.stderr


def test_kas_on_gke_talks_to_the_environments_gitlab(staging: Plan) -> None:
    release = next(
        r
        for r in _of(staging, "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease")
        if r.inputs["metadata"]["name"] == "kas"
    )
    overrides = release.inputs["spec"]["values"]["configOverrides"]
    assert overrides == {
        "/etc/kas/config.yaml": {
            "gitlab": {
                "address": "https://staging.gitlab.example.com",
                "external_url": "https://staging.gitlab.example.com",
            }
        }
    }


def test_redis_for_kas_is_memorystore_with_auth_and_tls_wired_through_the_chart(
    staging: Plan, tmp_path: Path
) -> None:
    (instance,) = _of(staging, "gcp:redis/instance:Instance")
    assert instance.inputs["authEnabled"] is True
    assert instance.inputs["transitEncryptionMode"] == "SERVER_AUTHENTICATION"
    release = next(
        r
        for r in _of(staging, "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease")
        if r.inputs["metadata"]["name"] == "kas"
    )
    redis = release.inputs["spec"]["values"]["redis"]
    assert redis == {
        "address": "10.0.0.3:6378",
        "sentinels": [],
        "tls": True,
        "password": {"name": "runway-redis", "key": "password"},
        "caSecret": {"name": "runway-redis", "key": "ca.crt"},
    }
    secret = next(
        s
        for s in _of(staging, "kubernetes:core/v1:Secret")
        if s.inputs["metadata"]["name"] == "runway-redis"
    )
    assert secret.inputs["metadata"]["namespace"] == "kas"
    assert secret.inputs["stringData"] == REDACTED
    # The same values, rendered by the real chart, give KAS a config that uses them.
    charts = tmp_path / "charts"
    assert (
        run_cli(
            "build", str(ROOT / "manifests" / "kas"), "-o", str(charts), "--no-verify"
        ).exit_code
        == 0
    )
    from tests.chart_helpers import objects

    found = objects(charts / "kas", {"image": {"repository": "x/kas"}, "redis": redis})
    config = next(
        o for o in found if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-config")
    )
    text = next(iter(config["data"].values()))
    assert (
        "address: 10.0.0.3:6378" in text and "ca_certificate_file: /etc/runway/redis/ca.crt" in text
    )


def test_with_a_secret_store_kas_reads_its_secret_from_secret_manager(production: Plan) -> None:
    from runway.verify import kube

    externals = [
        r
        for r in production.resources
        if r.type == "kubernetes:external-secrets.io/v1:ExternalSecret"
    ]
    assert externals, "an ExternalSecret per regional cluster"
    for external in externals:
        obj = {k: external.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}
        assert kube.validate_object(obj) == []
        assert obj["metadata"] == {"name": "gitlab-kas-secret", "namespace": "kas"}
        assert obj["spec"]["data"] == [
            {"secretKey": "kas_shared_secret", "remoteRef": {"key": "kas-shared-secret"}}
        ]
        assert obj["spec"]["secretStoreRef"] == {
            "name": "gcp-secret-manager",
            "kind": "ClusterSecretStore",
        }
    written = {s.inputs["metadata"]["name"] for s in _of(production, "kubernetes:core/v1:Secret")}
    assert "gitlab-kas-secret" not in written, "the value never passes through Pulumi"


INTERNAL_SERVICE = """\
apiVersion: runway/v1+dev
kind: RunwayService
metadata:
  name: reports
  owner_email_handle: reports-team
spec:
  image: registry.example.com/reports:1.0.0
  regions: [us-east1]
  listeners:
    - name: http
      port: 8080
      protocol: http
      exposure: internal
      host: reports.internal.example.com
"""


def _with_internal_service(tmp_path: Path, proxy_only: str | None) -> Path:
    """Staging plus a service with an internal listener (served by GKE's internal Ingress)."""
    (tmp_path / "reports").mkdir(parents=True)
    (tmp_path / "reports" / "runway.yml").write_text(INTERNAL_SERVICE)
    data = YAML(typ="safe").load(STAGING.read_text())
    for service in data["spec"]["services"]:
        service["manifest"] = str(ROOT / "manifests" / Path(service["manifest"]).name)
    data["spec"]["services"].append({"manifest": str(tmp_path / "reports")})
    if proxy_only:
        data["spec"]["network"]["subnets"]["us-east1"]["proxy_only"] = proxy_only
    path = tmp_path / "env.yml"
    with path.open("w") as handle:
        YAML().dump(data, handle)
    _stacks_for(tmp_path, path, str(data["metadata"]["name"]))
    return path


def test_internal_listeners_need_a_proxy_only_subnet_in_each_region(tmp_path: Path) -> None:
    """GKE's internal Ingress makes no load balancer in a region without a proxy-only subnet
    (and its controller opens no firewall for the proxies): refused at plan, named; given one,
    the infra stack makes the subnet and the rule."""
    missing = _with_internal_service(tmp_path / "missing", None)
    result = run_cli("stack", "plan", str(missing), "--stacks", str(tmp_path / "missing/stacks"))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert (
        "reports's internal listeners (http) are served by GKE's internal Ingress, which needs a "
        "proxy-only subnet in each region; set spec.network.subnets.us-east1.proxy_only"
    ) in result.stderr
    given = _with_internal_service(tmp_path / "given", "10.129.0.0/23")
    planned = plan(given, stacks=tmp_path / "given" / "stacks")
    (proxies,) = [
        s.inputs
        for s in _of(planned, "gcp:compute/subnetwork:Subnetwork")
        if s.inputs.get("purpose") == "REGIONAL_MANAGED_PROXY"
    ]
    assert proxies["ipCidrRange"] == "10.129.0.0/23" and proxies["role"] == "ACTIVE"
    assert proxies["region"] == "us-east1"
    (rule,) = _of(planned, "gcp:compute/firewall:Firewall")
    assert rule.inputs["sourceRanges"] == ["10.129.0.0/23"]
    assert rule.inputs["direction"] == "INGRESS" and rule.inputs["allows"] == [{"protocol": "tcp"}]
    assert _of(plan(STAGING), "gcp:compute/firewall:Firewall") == [], "none without internal"


@pytest.mark.parametrize(
    ("proxy_only", "admitted"),
    [
        ("10.129.0.0/23", None),
        ("100.64.0.0/23", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/23"]),
    ],
)
def test_the_proxies_of_internal_listeners_are_admitted_by_the_network_policy(
    tmp_path: Path, proxy_only: str, admitted: list[str] | None
) -> None:
    """The internal Ingress's proxies are the pods' clients (packets come from the proxy-only
    range): a range the chart's internal sources (RFC 1918 by default) do not cover is added to
    the release's values; one they cover leaves them as the chart has them."""
    from runway.manifest.environment import load_environment
    from runway.platform.releases import environment_releases

    env_file = _with_internal_service(tmp_path, proxy_only)
    releases = environment_releases(load_environment(env_file), env_file)
    by_service = {r["service"]: r["regions"][0]["values"] for r in releases}
    policy = by_service["reports"].get("networkPolicy") or {}
    assert policy.get("internalCidrs") == admitted
    assert all(
        "internalCidrs" not in (v.get("networkPolicy") or {})
        for n, v in by_service.items()
        if n != "reports"
    )


@pytest.mark.parametrize(
    ("proxy_only", "said"),
    [
        ("10.129.0.0/27", "needs 64 addresses or more"),
        ("10.10.0.0/23", "overlaps"),
    ],
)
def test_a_proxy_only_subnet_gcp_would_refuse_is_named(
    tmp_path: Path, proxy_only: str, said: str
) -> None:
    env = _with_internal_service(tmp_path, proxy_only)
    result = run_cli("stack", "plan", str(env), "--stacks", str(tmp_path / "stacks"))
    assert result.exit_code == ExitCode.INVALID_INPUT and said in result.stderr, result.stderr
    assert "proxy_only" in result.stderr and "Traceback" not in result.stderr
