"""One chart, three offerings: every shipped service turned up each way renders, validates
against Kubernetes schemas and CRDs, and passes the hardening rules."""

from __future__ import annotations

import dataclasses
import gzip
import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runway import helm
from runway.common import yamlio
from runway.common.kube import pod_spec
from runway.common.mappings import merge
from runway.errors import ExitCode, NotFoundError
from runway.offerings import gke
from runway.verify import hardening, kube, wiring
from tests.chart_helpers import chart_from
from tests.conftest import MANIFESTS, QUICK_RETRY, run_cli, write_tree
from tests.servers import Registry

SERVICES = sorted(p.name for p in MANIFESTS.iterdir() if p.is_dir())
PLACEHOLDER = {"image": {"repository": "registry.example.com/placeholder", "tag": "1.0.0"}}
CLOUD_KINDS = {"BackendConfig", "PodMonitoring", "Gateway", "ExternalSecret"}


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("charts")
    built = run_cli("build", *(str(MANIFESTS / s) for s in SERVICES), "-o", str(out), "--no-verify")
    assert built.exit_code == 0, built.stderr
    return out


def _load(path: Path) -> list[dict[str, Any]]:
    return [o for o in YAML(typ="safe").load_all(path.read_text()) if o]


def _rendered(chart: Path, values: dict[str, Any]) -> list[dict[str, Any]]:
    defaults = YAML(typ="safe").load((chart / "values.yaml").read_text())
    base = {} if defaults["image"]["repository"] else PLACEHOLDER
    rendered = helm.render(chart, {**base, **values}, name=chart.name, namespace=chart.name)
    found: list[dict[str, Any]] = []
    for name, text in sorted(rendered.items()):
        if name.endswith(".yaml"):
            found.extend(o for o in YAML(typ="safe").load_all(text) if o)
    return found


def _problems(objects: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for obj in objects:
        problems += kube.validate_object(json.loads(json.dumps(obj)))
        problems += hardening.check(obj)
    return problems


@pytest.mark.parametrize("service", SERVICES)
def test_self_managed_defaults_create_nothing_cloud_specific(charts: Path, service: str) -> None:
    objects = _rendered(charts / service, {})
    assert {o["kind"] for o in objects} & CLOUD_KINDS == set()
    text = json.dumps(objects)
    assert "gke.io" not in text and "cloud.google.com" not in text


@pytest.mark.parametrize("service", SERVICES)
def test_every_documented_profile_renders_valid_and_hardened(charts: Path, service: str) -> None:
    chart = charts / service
    profiles = sorted((chart / "profiles").glob("*.yaml"))
    names = {p.stem for p in profiles}
    assert {"ingress-nginx", "gateway-api", "air-gapped"} <= names
    readme = (chart / "README.md").read_text()
    for profile in profiles:
        assert f"(`profiles/{profile.name}`)" in readme
        values = YAML(typ="safe").load(profile.read_text())
        objects = _rendered(chart, values)
        assert _problems(objects) == [], profile.name


def test_the_shipped_services_offer_the_profiles_they_need(charts: Path) -> None:
    kas_profiles = {p.stem for p in (charts / "kas" / "profiles").glob("*.yaml")}
    assert {"existing-secrets", "external-redis"} <= kas_profiles


@pytest.mark.parametrize("service", SERVICES)
def test_images_lists_every_image_and_the_mirror_covers_them_all(
    charts: Path, service: str
) -> None:
    result = run_cli(
        "images", str(charts / service), "--mirror", "mirror.internal", "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    assert any("curl" in i["image"] for i in listed), "the registration hook's image"
    assert any("agnhost" in i["image"] for i in listed), "the helm test's image"
    mirrored = {i["mirrored"] for i in listed if i["mirrored"]}
    with_mirror = _rendered(
        charts / service,
        {
            "global": {"imageRegistry": "mirror.internal"},
            "tests": {"enabled": True},
            "registration": {
                "enabled": True,
                "url": "https://gitlab.example.com/r",
                "tokenSecret": {"name": "r"},
            },
        },
    )
    pulled = {
        c["image"] for o in with_mirror if (pod := pod_spec(o)) for c in pod.get("containers", [])
    }
    assert all(image.startswith("mirror.internal/") for image in pulled), pulled
    assert mirrored <= pulled


def _turnup(*args: str, env: dict[str, str] | None = None) -> Any:
    return run_cli("turnup", *args, env={**QUICK_RETRY, **(env or {})})


@pytest.mark.parametrize("service", SERVICES)
def test_managed_self_hosted_bundle_validates_and_its_release_renders_hardened(
    charts: Path, service: str, tmp_path: Path
) -> None:
    result = _turnup(
        service,
        "--offering",
        "managed-self-hosted",
        "--registry",
        "oci://registry.example.com/charts",
        "--version",
        ">=0.1.0 <1.0.0",
        "--offline",
        "--gitlab-url",
        "https://gitlab.customer.example",
        "--namespace",
        f"{service}-ns",
        "-o",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.stderr
    objects = [
        o
        for f in sorted(tmp_path.glob("*.yaml"))
        if f.name != "kustomization.yaml"
        for o in _load(f)
    ]
    kinds = sorted(o["kind"] for o in objects if o["kind"] != "Secret")
    assert kinds == ["HelmRelease", "Namespace", "OCIRepository"]
    filled = {o["metadata"]["name"]: o["stringData"] for o in objects if o["kind"] == "Secret"}
    assert _problems(objects) == []
    source = next(o for o in objects if o["kind"] == "OCIRepository")
    assert source["spec"]["url"] == f"oci://registry.example.com/charts/stable/{service}"
    assert source["spec"]["ref"] == {"semver": ">=0.1.0 <1.0.0"}
    release = next(o for o in objects if o["kind"] == "HelmRelease")
    assert release["spec"]["chartRef"]["kind"] == "OCIRepository"
    assert release["spec"]["driftDetection"] == {"mode": "enabled"}
    rendered = _rendered(charts / service, release["spec"]["values"])
    assert _problems(rendered) == []
    job = next(o for o in rendered if o["kind"] == "Job")
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["registration-token"]["secret"]["secretName"] == f"{service}-registration"
    kustomization = YAML(typ="safe").load((tmp_path / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        f.name for f in tmp_path.glob("*.yaml") if f.name != "kustomization.yaml"
    )
    described = json.loads((tmp_path / "turnup.json").read_text())
    variables = [f["variable"] for f in described["fill"]]
    assert variables[:2] == ["RUNWAY_REGISTRATION_TOKEN", "RUNWAY_GITLAB_ACCESS_TOKEN"]
    values = YAML(typ="safe").load((charts / service / "values.yaml").read_text())
    existing = [s["existing"] for s in values["secrets"].values() if s.get("existing")]
    if values.get("redis") and values["redis"].get("password"):
        existing.append(values["redis"]["password"])
    assert len(variables) == 2 + len(existing)
    for ref in existing:
        assert filled[ref["name"]][ref["key"]].startswith("${RUNWAY_SECRET_"), (
            "the instance fills every existing Secret the chart reads"
        )
    if service == "kas":
        assert filled["gitlab-kas-secret"] == {
            "kas_shared_secret": "${RUNWAY_SECRET_GITLAB_KAS_SECRET}"
        }
        # KAS calls the instance that made the bundle, not the manifest's example GitLab.
        (configmap,) = [o for o in rendered if o["metadata"]["name"].endswith("kas-config")]
        config = yamlio.load(configmap["data"]["00-config.yaml"])
        assert config["gitlab"]["address"] == "https://gitlab.customer.example"
        assert config["gitlab"]["external_url"] == "https://gitlab.customer.example"


MSH = (
    "--offering",
    "managed-self-hosted",
    "--registry",
    "oci://registry.example.com/charts",
    "--offline",
    "--gitlab-url",
    "https://gitlab.customer.example",
)


def test_a_bundle_routes_the_installations_hosts(charts: Path, tmp_path: Path) -> None:
    """The manifest's hosts are GitLab's own or examples: the instance making the bundle names
    its own (`--host`), and the apex beside a wildcard (the OAuth callback) moves with it."""
    result = _turnup(
        "gitlab-workspaces-proxy", *MSH, "--host", "http=*.ws.customer.example", "-o", str(tmp_path)
    )
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr
    release = next(o for o in _load(tmp_path / "helmrelease.yaml") if o["kind"] == "HelmRelease")
    rendered = _rendered(charts / "gitlab-workspaces-proxy", release["spec"]["values"])
    routed = {
        rule["host"] for o in rendered if o["kind"] == "Ingress" for rule in o["spec"]["rules"]
    }
    assert routed == {"*.ws.customer.example", "ws.customer.example"}
    described = json.loads((tmp_path / "turnup.json").read_text())
    assert described["hosts"] == {"http": "*.ws.customer.example"}


def test_a_bundle_without_hosts_says_which_it_keeps(tmp_path: Path) -> None:
    result = _turnup("kas", *MSH, "-o", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    for listener in ("agent", "k8s-proxy", "workspaces"):
        assert f"listener {listener} keeps the manifest's host" in result.stderr
        assert f"--host {listener}=HOST" in result.stderr


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("agent", "give LISTENER=HOST"),
        ("nope=kas.customer.example", "nope is not a listener of kas"),
        ("observability=kas.customer.example", "listener observability of kas is cluster"),
        ("agent=KAS.customer.example", "'KAS.customer.example' is not a DNS name"),
    ],
)
def test_a_host_that_cannot_be_routed_is_refused(tmp_path: Path, host: str, expected: str) -> None:
    result = _turnup("kas", *MSH, "--host", host, "-o", str(tmp_path / "out"))
    assert result.exit_code == ExitCode.USAGE
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_gateway_edge_that_would_shut_the_service_out_is_refused(tmp_path: Path) -> None:
    """The AI Gateway is Cloudflare-only: on the Ingress edge Cloud Armor enforces that and the
    pods admit Google's proxies; forced onto a Gateway, its pods would admit only Cloudflare's
    addresses, which Google's proxies never come from."""
    result = _turnup(
        "ai-gateway",
        "--offering",
        "gitlab-managed",
        "--env",
        "production",
        "--edge",
        "gateway",
        "-o",
        str(tmp_path / "out"),
    )
    assert result.exit_code == ExitCode.USAGE
    assert "the gateway edge cannot carry its Cloudflare allow-list" in result.stderr
    assert not (tmp_path / "out").exists()


def test_gitlab_managed_hosts_come_from_the_environment(tmp_path: Path) -> None:
    result = _turnup(
        "kas", "--offering", "gitlab-managed", "--env", "production", "--host", "agent=a.b.c"
    )
    assert result.exit_code == ExitCode.USAGE
    assert "spec.services[].hosts" in result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_gitlab_managed_values_render_valid_for_every_region(
    charts: Path, service: str, tmp_path: Path
) -> None:
    result = _turnup(
        service, "--offering", "gitlab-managed", "--env", "production", "-o", str(tmp_path)
    )
    assert result.exit_code == 0, result.stderr
    description = json.loads((tmp_path / "release.json").read_text())
    assert description["kind"] == "GitLabManagedRelease"
    assert description["regions"], "one release per region of the manifest"
    for region in description["regions"]:
        values = YAML(typ="safe").load((tmp_path / f"values-{region['region']}.yaml").read_text())
        assert values == region["values"]
        objects = _rendered(charts / service, values)
        assert _problems(objects) == [], region["region"]
        defaults = YAML(typ="safe").load((charts / service / "values.yaml").read_text())
        assert wiring.check(objects, merge(defaults, values)) == [], region["region"]
        account = next(o for o in objects if o["kind"] == "ServiceAccount")
        assert (
            account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
            == (description["gcp"]["serviceAccount"])
        )
        kinds = {o["kind"] for o in objects}
        assert values["metrics"]["kind"] == "PodMonitoring"
        if description["edge"]["hosts"]:
            expected = "Gateway" if description["edge"]["kind"] == "gateway" else "BackendConfig"
            assert expected in kinds


@pytest.mark.parametrize("edge", ["gateway", "ingress"])
def test_kas_behind_gkes_load_balancer_is_checked_at_its_readiness_endpoint(
    charts: Path, tmp_path: Path, edge: str
) -> None:
    """GKE's load balancers check each backend with GET / on the port it serves; KAS's agent
    port answers that with 426 Upgrade Required (it takes WebSocket or gRPC only), so every
    backend would be unhealthy. The release checks KAS at /readiness on 8151 (a HealthCheckPolicy
    on the Gateway edge, the BackendConfig on the Ingress edge) and lets Google's health checkers
    reach it; without that, verify names each route."""
    result = _turnup(
        "kas",
        "--offering",
        "gitlab-managed",
        "--env",
        "production",
        "--edge",
        edge,
        "-o",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.stderr
    values = YAML(typ="safe").load((tmp_path / "values-us-east1.yaml").read_text())
    defaults = YAML(typ="safe").load((charts / "kas" / "values.yaml").read_text())
    objects = _rendered(charts / "kas", values)
    fullname = next(o for o in objects if o["kind"] == "Deployment")["metadata"]["name"]
    if edge == "gateway":
        policy = next(o for o in objects if o["kind"] == "HealthCheckPolicy")
        assert policy["spec"]["targetRef"] == {"group": "", "kind": "Service", "name": fullname}
        assert policy["spec"]["default"]["config"]["httpHealthCheck"] == {
            "portSpecification": "USE_FIXED_PORT",
            "port": 8151,
            "requestPath": "/readiness",
        }
        unchecked = merge(values, {"gateway": {"healthCheck": {"enabled": False}}})
    else:
        config = next(o for o in objects if o["kind"] == "BackendConfig")
        assert config["spec"]["healthCheck"] == {
            "type": "HTTP",
            "requestPath": "/readiness",
            "port": 8151,
        }
        unchecked = merge(values, {"ingress": {"backendConfig": {"healthCheckPath": ""}}})
    assert wiring.check(objects, merge(defaults, values)) == []
    network = next(
        o for o in objects if o["metadata"]["name"] == fullname and o["kind"] == "NetworkPolicy"
    )
    checkers = [
        r for r in network["spec"]["ingress"] if r["ports"] == [{"port": 8151, "protocol": "TCP"}]
    ]
    assert {"ipBlock": {"cidr": "35.191.0.0/16"}} in [f for r in checkers for f in r["from"]]
    problems = wiring.check(_rendered(charts / "kas", unchecked), merge(defaults, unchecked))
    owner = "HTTPRoute" if edge == "gateway" else "Ingress"
    for route in ("agent", "k8s-proxy", "workspaces"):
        assert any(
            p.startswith(
                f"{owner}/{fullname}-{route}: GKE's load balancer checks Deployment/{fullname}"
            )
            for p in problems
        ), problems


def test_gitlab_managed_cloudflare_services_get_the_allow_list_at_the_edge(tmp_path: Path) -> None:
    spec, chart = chart_from(
        tmp_path,
        "  regions: [us-east1, europe-west1]\n  network_policies: {cloudflare: true}\n"
        "  load_balancing:\n    external_load_balancer: {backend_protocol: HTTPS}\n",
    )
    assert spec.values.networkPolicy.cloudflare.enabled
    description = gke.release_description(spec, environment="gprd")
    assert description["edge"]["kind"] == "ingress", "Cloud Armor attaches through BackendConfig"
    assert [r["region"] for r in description["regions"]] == ["us-east1", "europe-west1"]
    for region in description["regions"]:
        objects = _rendered(chart, region["values"])
        assert _problems(objects) == []
        config = next(o for o in objects if o["kind"] == "BackendConfig")
        assert config["spec"]["securityPolicy"] == {"name": "cloudflare-only"}
        service = next(o for o in objects if o["kind"] == "Service")
        annotation = service["metadata"]["annotations"]["cloud.google.com/backend-config"]
        assert json.loads(annotation) == {"default": config["metadata"]["name"]}
        ingress = next(o for o in objects if o["kind"] == "Ingress")
        assert ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"] == "gce"
        assert region["values"]["region"] == region["region"]


def _service(tmp_path: Path, offerings: str) -> None:
    """A v1+dev service `svc` under tmp_path whose spec.offerings is `offerings` (YAML)."""
    body = "\n".join("      " + line for line in textwrap.dedent(offerings).strip().splitlines())
    write_tree(
        tmp_path,
        {
            "svc/runway.yml": "apiVersion: runway/v1+dev\nkind: RunwayService\n"
            "metadata: {name: svc, owner_email_handle: team, department: eng,"
            " department_group: eng-x, product_category: x}\n"
            "spec:\n  image: registry.example.com/svc:1.0.0\n  regions: [us-east1]\n"
            "  offerings:\n" + body + "\n"
        },
    )


def test_an_offering_the_service_does_not_support_is_refused(tmp_path: Path) -> None:
    _service(
        tmp_path,
        """
        supported: [self-managed]
        overrides:
          self-managed:
            replicaCount: 3
    """,
    )
    refused = _turnup(str(tmp_path / "svc"), "--offering", "gitlab-managed", "--env", "gprd")
    assert refused.exit_code == 2
    assert (
        "svc does not support the gitlab-managed offering (it supports self-managed)"
        in refused.stderr
    )
    allowed = _turnup(
        str(tmp_path / "svc"), "--offering", "self-managed", "-o", str(tmp_path / "out")
    )
    assert allowed.exit_code == 0, allowed.stderr
    assert YAML(typ="safe").load((tmp_path / "out" / "values.yaml").read_text()) == {
        "replicaCount": 3
    }


def test_a_mistyped_offering_override_names_the_manifest_field(tmp_path: Path) -> None:
    _service(
        tmp_path,
        """
        overrides:
          gitlab-managed:
            replicaCount: many
    """,
    )
    result = _turnup(
        str(tmp_path / "svc"),
        "--offering",
        "gitlab-managed",
        "--env",
        "gprd",
        "-o",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 2
    assert "spec.offerings.overrides.gitlab-managed" in result.stderr
    assert "replicaCount" in result.stderr
    assert not (tmp_path / "out").exists()


Archives = Callable[..., Path]


def test_a_kas_bundle_at_a_version_range_resolves_against_the_published_registry(
    registry: Registry, repo: str, archives: Archives, tmp_path: Path
) -> None:
    url = registry.url(repo)
    charts = [archives("kas", v, ">=17.0 <19.0") for v in ("1.0.0", "1.1.0", "1.2.0", "2.0.0")]
    assert run_cli("publish", *map(str, charts), "--to", url, "--plain-http").exit_code == 0
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        promoted = run_cli(
            "promote", "kas", version, "--to", "stable", "--registry", url, "--plain-http"
        )
        assert promoted.exit_code == 0, promoted.stderr
    common = (
        "--offering",
        "managed-self-hosted",
        "--registry",
        url,
        "--plain-http",
        "--gitlab-url",
        "https://gitlab.example.com",
    )

    ranged = _turnup("kas", *common, "--version", ">=1.0.0 <2.0.0", "-o", str(tmp_path / "range"))
    assert ranged.exit_code == 0, ranged.stderr
    assert "kas in stable resolves to 1.1.0 now" in ranged.stderr, "1.2.0 never reached stable"
    described = json.loads((tmp_path / "range" / "turnup.json").read_text())
    assert described["chart"]["resolvesTo"] == "1.1.0"
    source = _load(tmp_path / "range" / "ocirepository.yaml")[0]
    assert source["spec"] == {
        **source["spec"],
        "ref": {"semver": ">=1.0.0 <2.0.0"},
        "insecure": True,
    }
    assert source["spec"]["url"] == f"oci://{registry.host}/{repo}/stable/kas"

    canary = _turnup(
        "kas",
        *common,
        "--version",
        ">=1.0.0 <2.0.0",
        "--stage",
        "canary",
        "-o",
        str(tmp_path / "canary"),
    )
    assert "kas in canary resolves to 1.2.0 now" in canary.stderr

    pinned = _turnup("kas", *common, "--gitlab-version", "18.2", "-o", str(tmp_path / "pinned"))
    assert pinned.exit_code == 0, pinned.stderr
    assert _load(tmp_path / "pinned" / "ocirepository.yaml")[0]["spec"]["ref"] == {"tag": "2.0.0"}

    following = _turnup("kas", *common, "--stage", "canary", "-o", str(tmp_path / "follow"))
    assert following.exit_code == 0, following.stderr
    assert "kas in canary resolves to 2.0.0 now" in following.stderr
    assert _load(tmp_path / "follow" / "ocirepository.yaml")[0]["spec"]["ref"] == {
        "semver": ">=0.0.0"
    }

    nothing = _turnup("kas", *common, "--version", ">=3.0.0", "-o", str(tmp_path / "none"))
    assert nothing.exit_code == ExitCode.NOT_FOUND
    assert "no published version of kas in stable" in nothing.stderr
    assert "stable holds" in nothing.stderr
    assert not (tmp_path / "none").exists()


PLANTED = {
    "RUNWAY_REGISTRY_PASSWORD": "planted-registry-password-7f3a",
    "RUNWAY_GITLAB_TOKEN": "glpat-planted-token-91c2",
    "CI_JOB_TOKEN": "planted-job-token-5d10",
    "CI_REGISTRY_PASSWORD": "planted-ci-registry-8e44",
    "RUNWAY_REGISTRATION_TOKEN": "glrt-planted-registration-2b7e",
    "RUNWAY_GITLAB_ACCESS_TOKEN": "planted-access-token-c0de",
}


def test_no_file_or_log_we_write_holds_a_secret_value(tmp_path: Path) -> None:
    """Secret strings planted in every variable runway reads never reach a file or a message."""
    env = {**PLANTED, "RUNWAY_REGISTRY_USER": "someone", "CI_REGISTRY_USER": "ci"}
    out = tmp_path / "dist"
    logs: list[str] = []

    def run(*args: str) -> None:
        result = run_cli(*args, env=env)
        logs.append(result.stdout + result.stderr)
        assert result.exit_code == 0, result.stderr

    bundle = ("--registry", "oci://r.example.com/c", "--version", "*", "--offline")
    offerings = {
        "self-managed": (),
        "gitlab-managed": ("--env", "production"),
        "managed-self-hosted": (*bundle, "--gitlab-url", "https://gitlab.example.com"),
    }
    for service in SERVICES:
        run("build", str(MANIFESTS / service), "-o", str(out / "charts"))
        run("images", service, "--mirror", "mirror.internal")
        for offering, extra in offerings.items():
            run(
                "turnup",
                service,
                "--offering",
                offering,
                *extra,
                "-o",
                str(out / service / offering),
            )
    run(
        "package",
        "-o",
        str(out / "packages"),
        *(str(p) for p in (out / "charts").iterdir() if p.is_dir()),
    )
    run("publish", "--to", str(out / "repository"), *map(str, (out / "packages").glob("*.tgz")))
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 50
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".tgz":
            data = gzip.decompress(data)
        for secret in PLANTED.values():
            assert secret.encode() not in data, f"{path} holds {secret}"
    for secret in PLANTED.values():
        assert all(secret not in log for log in logs)
    secrets_yaml = (out / "kas" / "managed-self-hosted" / "secrets.yaml").read_text()
    assert "${RUNWAY_REGISTRATION_TOKEN}" in secrets_yaml


def test_turnup_json_lists_the_files_it_wrote(tmp_path: Path) -> None:
    result = run_cli(
        "turnup", "kas", "--offering", "self-managed", "-o", str(tmp_path), "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["service"] == "kas" and payload["offering"] == "self-managed"
    assert payload["files"] == sorted(payload["files"]) and payload["files"]
    for written in payload["files"]:
        assert Path(written).is_file() and Path(written).parent == tmp_path


def test_a_turnup_request_reads_the_registry_only_through_the_callers_function() -> None:
    from runway.offerings import Offering
    from runway.offerings.request import TurnupRequest, turn_up

    asked: list[tuple[str, str, str]] = []

    def releases(url: str, name: str, stage: str) -> list[Any]:
        asked.append((url, name, stage))
        return []

    request = TurnupRequest(
        service="kas",
        offering=Offering.MANAGED_SELF_HOSTED,
        registry="oci://registry.example.com/charts",
        gitlab_url="https://gitlab.example.com",
        offline=True,
    )
    offline = turn_up(request, releases, environ={})
    assert asked == [], "--offline never reads the registry"
    assert offline.stage == "stable" and offline.resolved is None and offline.files
    pinned = dataclasses.replace(request, gitlab_version="17.9.0")
    with pytest.raises(NotFoundError):
        turn_up(pinned, releases, environ={})
    assert asked == [("oci://registry.example.com/charts", "kas", "stable")]
