"""verify checks function, not only form: each defect that kept a shipped chart from running is
planted here, and verify must name it. Contract tests: no KAS, agentk or proxy binary runs here,
so the charts are judged against the upstream contracts kept in runway/data/contracts/."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runway import verify
from runway.common import contract_data
from runway.common.kube import pod_spec
from runway.common.mappings import merge
from runway.errors import ExitCode
from runway.verify import cel, contracts, verify_chart, wiring
from runway.verify.together import Installed, check, load_objects, render
from tests.chart_helpers import chart_from, objects
from tests.conftest import MANIFESTS, run_cli

KAS = (MANIFESTS / "kas" / "runway.yml").read_text()
AGENTK = (MANIFESTS / "agentk" / "runway.yml").read_text()
PROXY = (MANIFESTS / "gitlab-workspaces-proxy" / "runway.yml").read_text()


def _spec(manifest: str) -> str:
    """The spec block of a shipped manifest, to rebuild it under the test helper's metadata."""
    return manifest.split("\nspec:\n", 1)[1]


def _problems(tmp: Path, manifest: str, edit: Callable[[str], str] = lambda s: s) -> list[str]:
    _, chart = chart_from(tmp, _spec(edit(manifest)), api="runway/v1+dev", image=None)
    return verify_chart(chart).problems


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new)

    return edit


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("dist") / "charts"
    result = run_cli("build", str(MANIFESTS), "-o", str(output), "--no-verify")
    assert result.exit_code == 0, result.stderr
    return output


def _rendered(chart: Path) -> list[dict[str, Any]]:
    return objects(chart)


def _values(chart: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load((chart / "values.yaml").read_text())
    return loaded


def _deployment(found: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in found if o["kind"] == "Deployment")


def _container(found: list[dict[str, Any]]) -> dict[str, Any]:
    spec = pod_spec(_deployment(found))
    assert spec is not None
    first: dict[str, Any] = spec["containers"][0]
    return first


def _contract(
    name: str, found: list[dict[str, Any]], values: dict[str, Any] | None = None
) -> list[str]:
    return contracts.check(name, found, values or {}, "")


# KAS --------------------------------------------------------------------------------------------


def test_a_config_path_that_is_not_mounted_is_named(tmp_path: Path) -> None:
    edit = _replace(
        "websocket_token_secret_file: /etc/kas/secrets/websocket_token_secret",
        "websocket_token_secret_file: /etc/kas/redis/websocket_token_secret",
    )
    problems = _problems(tmp_path, KAS, edit)
    assert any(
        "agent.kubernetes_api.websocket_token_secret_file points at "
        "/etc/kas/redis/websocket_token_secret, which is not mounted" in p
        for p in problems
    ), problems


def test_a_config_key_kas_does_not_know_is_refused(tmp_path: Path) -> None:
    edit = _replace(
        '          listen:\n            network: tcp\n            address: ":8160"',
        '          listen_address: ":8160"\n          listen:\n            network: tcp\n            address: ":8160"',
    )
    problems = _problems(tmp_path, KAS, edit)
    assert any("workspaces.listen_address is not a kas configuration key" in p for p in problems), (
        problems
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "listen_grace_period: 5s",
            "listen_grace_period: 5m",
            "workspaces.listen.listen_grace_period is '5m', which kas does not read as a duration",
        ),
        (
            "websocket: true",
            'websocket: "true"',
            "agent.listen.websocket is 'true', which kas does not read as a bool",
        ),
        (
            "shutdown_grace_period: 300s",
            "shutdown_grace_period: 3600s",
            "workspaces.listen.shutdown_grace_period is 3600s, but the pod is killed 300 s after",
        ),
    ],
)
def test_a_config_value_kas_cannot_read_or_honour_is_named(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    """protojson takes a Duration only as seconds with an `s` suffix and a bool only as a bool:
    anything else stops KAS at start; and a drain longer than the pod's grace period is cut."""
    assert not [p for p in _problems(tmp_path / "as-shipped", KAS) if "contract kas" in p]
    problems = _problems(tmp_path / "edited", KAS, _replace(old, new))
    assert any(expected in p for p in problems), problems


def test_the_redis_block_follows_the_chart_values(shipped: Path) -> None:
    values = {
        "redis": {
            "address": "",
            "sentinels": ["sentinel-0:26379", "sentinel-1:26379"],
            "masterName": "gitlab",
            "database": 2,
            "tls": True,
            "password": {"name": "external-redis", "key": "password"},
            "passwordFile": "/etc/kas/redis/password",
        }
    }
    found = objects(shipped / "kas", {**values, "image": {"repository": "x/kas"}})
    config = next(
        o for o in found if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-config")
    )
    text = next(iter(config["data"].values()))
    assert "sentinel:\n    addresses:\n    - sentinel-0:26379" in text
    assert "master_name: gitlab" in text and "database_index: 2" in text
    assert "password_file: /etc/kas/redis/password" in text and "tls:\n    enabled: true" in text
    container = _container(found)
    assert {
        "name": "redis-password",
        "mountPath": "/etc/kas/redis/password",
        "subPath": "password",
        "readOnly": True,
    } in container["volumeMounts"]
    assert not any(e["name"].startswith("REDIS_") for e in container["env"]), (
        "KAS reads no REDIS_* env"
    )


def test_a_generated_gitlab_shared_secret_and_a_short_private_secret_are_refused(
    tmp_path: Path,
) -> None:
    edit = _replace(
        "      existing:\n        name: gitlab-kas-secret\n        key: kas_shared_secret",
        "      generate:\n        bytes: 32",
    )
    edit_private = _replace(
        "      generate:\n        bytes: 32\n      file: /etc/kas/secrets/private_api_secret",
        "      generate:\n        length: 32\n      file: /etc/kas/secrets/private_api_secret",
    )
    problems = _problems(tmp_path, KAS, lambda s: edit(edit_private(s)))
    assert any(
        "gitlab.authentication_secret_file" in p
        and "GitLab Rails (gitlab_kas.secret_file) must hold the same value" in p
        for p in problems
    ), problems
    assert any(
        "private_api.listen.authentication_secret_file" in p
        and "exactly 32 bytes" in p
        and "holds 24 bytes" in p
        for p in problems
    ), problems


def test_the_agent_route_as_grpc_is_refused(tmp_path: Path) -> None:
    edit = _replace(
        "    - name: agent\n      port: 8150\n      protocol: http",
        "    - name: agent\n      port: 8150\n      protocol: grpc",
    )
    problems = _problems(tmp_path, KAS, edit)
    assert any("routes / to agent.listen.address as gRPC" in p for p in problems), problems
    assert any("appProtocol kubernetes.io/h2c" in p for p in problems), problems


def test_an_old_kas_without_its_own_private_api_address_is_refused(tmp_path: Path) -> None:
    edit = _replace(
        "    OWN_PRIVATE_API_URL: grpc://$(POD_IP):8155\n", '    OWN_PRIVATE_API_PORT: "8155"\n'
    )
    problems = _problems(tmp_path, KAS, edit)
    assert any(
        "kas 17.9.2 needs env OWN_PRIVATE_API_URL or OWN_PRIVATE_API_CIDR" in p for p in problems
    ), problems
    newer = _problems(
        tmp_path / "new", KAS, lambda s: edit(s).replace("gitlab-kas:v17.9.2", "gitlab-kas:v18.2.0")
    )
    assert not any("OWN_PRIVATE_API" in p for p in newer), newer


def test_the_own_private_api_url_expands_the_pod_ip(shipped: Path) -> None:
    container = _container(objects(shipped / "kas", {"image": {"repository": "x/kas"}}))
    names = [e["name"] for e in container["env"]]
    assert names.index("POD_IP") < names.index("OWN_PRIVATE_API_URL")
    assert {"name": "OWN_PRIVATE_API_URL", "value": "grpc://$(POD_IP):8155"} in container["env"]


# agentk, proxy, AI Gateway ----------------------------------------------------------------------


def test_agentk_without_its_pod_env_is_refused(shipped: Path) -> None:
    found = _rendered(shipped / "agentk")
    assert _contract("agentk", found) == []
    container = _container(found)
    container["env"] = [e for e in container["env"] if e["name"] != "POD_NAME"]
    assert _contract("agentk", found) == [
        f"contract agentk: Deployment/{_deployment(found)['metadata']['name']} container agentk: "
        "env POD_NAME is required by agentk (it exits at start without it)"
    ]


def test_agentk_probed_where_it_does_not_answer_is_named(shipped: Path) -> None:
    """agentk answers the kubelet at GET /liveness and /readiness on its observability port
    (8080, as upstream's chart probes); a TCP probe passes while agentk is wedged."""
    found = _rendered(shipped / "agentk")
    container = _container(found)
    assert container["livenessProbe"]["httpGet"]["path"] == "/liveness"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readiness"
    where = f"Deployment/{_deployment(found)['metadata']['name']} container agentk"
    container["livenessProbe"] = {"tcpSocket": {"port": 8080}}
    container["readinessProbe"]["httpGet"]["path"] = "/healthz"
    assert _contract("agentk", found) == [
        f"contract agentk: {where}: no HTTP livenessProbe; agentk serves one on 8080",
        f"contract agentk: {where}: readinessProbe asks /healthz, but agentk serves it at /readiness",
    ]
    container["readinessProbe"]["httpGet"] = {"path": "/readiness", "port": 9090}
    assert any("readinessProbe targets port 9090" in p for p in _contract("agentk", found))


def test_agentk_without_lease_rights_is_refused(tmp_path: Path) -> None:
    edit = _replace(
        "      - api_groups: [coordination.k8s.io]\n        resources: [leases]",
        "      - api_groups: [coordination.k8s.io]\n        resources: [configmaps]",
    )
    problems = _problems(tmp_path, AGENTK, edit)
    assert any(
        "may not get, create, update leases (coordination.k8s.io) in its namespace" in p
        for p in problems
    ), problems


def test_agentk_grants_the_workspace_objects_cluster_wide(shipped: Path) -> None:
    found = _rendered(shipped / "agentk")
    roles = [o for o in found if o["kind"] == "ClusterRole"]
    (role,) = roles
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert {
        "namespaces",
        "deployments",
        "services",
        "persistentvolumeclaims",
        "networkpolicies",
        "secrets",
    } <= resources
    binding = next(o for o in found if o["kind"] == "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]


def test_the_proxy_needs_its_config_from_a_secret_its_label_and_both_hosts(tmp_path: Path) -> None:
    edit = _replace("      aliases:\n        - workspaces.gitlab.example.com\n", "")
    problems = _problems(tmp_path, PROXY, edit)
    assert any("its apex workspaces.gitlab.example.com is not" in p for p in problems), problems
    renamed = _problems(
        tmp_path / "b",
        PROXY.replace("name: gitlab-workspaces-proxy\n", "name: workspaces-proxy\n", 1),
    )
    # chart_from names every service svc: the label comes from the chart name
    assert any("pod label app.kubernetes.io/name is 'svc'" in p for p in renamed), renamed
    no_flag = _problems(
        tmp_path / "c", PROXY, _replace("  args: [-config, /app/config/config.yaml]\n", "")
    )
    assert any("args lack -config, which gitlab-workspaces-proxy requires" in p for p in no_flag), (
        no_flag
    )


def test_the_proxy_config_in_a_config_map_is_refused(shipped: Path) -> None:
    found = _rendered(shipped / "gitlab-workspaces-proxy")
    spec = pod_spec(_deployment(found))
    assert spec is not None
    config = next(v for v in spec["volumes"] if v["name"].startswith("secret-config"))
    config.pop("secret")
    config["configMap"] = {
        "name": "proxy-config",
        "items": [{"key": "config.yaml", "path": "value"}],
    }
    found.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "proxy-config"},
            "data": {"config.yaml": "auth: {}\n"},
        }
    )
    problems = _contract("gitlab-workspaces-proxy", found)
    assert any("holds credentials but comes from configMap proxy-config" in p for p in problems), (
        problems
    )


def test_the_ai_gateway_port_must_be_the_port_the_chart_serves(tmp_path: Path) -> None:
    manifest = (MANIFESTS / "ai-gateway" / "runway.yml").read_text()
    problems = _problems(tmp_path, manifest, _replace('    AIGW_FASTAPI__API_PORT: "8080"\n', ""))
    assert any(
        "the application listens on 5000 (AIGW_FASTAPI__API_PORT unset, so 5000) but the chart "
        "serves and probes listener http on 8080" in p
        for p in problems
    ), problems


# generic wiring ----------------------------------------------------------------------------------


def test_a_secret_file_and_a_config_file_at_one_path_are_refused(tmp_path: Path) -> None:
    spec = """  image: registry.example.com/svc:1.0.0
  listeners:
    - name: http
      port: 8080
  secrets:
    - name: token
      existing: {name: svc-token, key: token}
      file: /etc/svc/app.conf
  config_files:
    - path: /etc/svc/app.conf
      content: "a = 1\\n"
"""
    source = tmp_path / "svc"
    source.mkdir()
    (source / "runway.yml").write_text(
        "apiVersion: runway/v1+dev\nkind: RunwayService\nmetadata:\n  name: svc\nspec:\n" + spec
    )
    result = run_cli("validate", str(source))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert (
        "spec: config file and secret token are both mounted at /etc/svc/app.conf" in result.stderr
    )


@pytest.mark.parametrize(
    ("plant", "expected"),
    [
        (
            lambda spec, c: spec["volumes"].append(
                {"name": "gone", "secret": {"secretName": "nowhere"}}
            ),
            "volume gone names Secret nowhere, which the chart does not create",
        ),
        (
            lambda spec, c: c["volumeMounts"].append({"name": "tmp", "mountPath": "/etc/../etc/x"}),
            "not a normalised path",
        ),
        (
            lambda spec, c: c["volumeMounts"].append({"name": "tmp", "mountPath": "/"}),
            "mounts over the root filesystem",
        ),
        (
            lambda spec, c: c["volumeMounts"].append(dict(c["volumeMounts"][-1], name="tmp")),
            "the same path as volume",
        ),
        (
            lambda spec, c: c["volumeMounts"].append({"name": "other", "mountPath": "/tmp"}),
            "shadows the chart's writable /tmp",
        ),
        (
            lambda spec, c: c["env"].append(
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "k"}}}
            ),
            "env TOKEN names Secret missing",
        ),
        (
            lambda spec, c: c["env"].append({"name": "CA_FILE", "value": "/etc/ssl/ca.pem"}),
            "env CA_FILE points at /etc/ssl/ca.pem, which is not mounted",
        ),
        (
            lambda spec, c: c.update(readinessProbe={"tcpSocket": {"port": 9999}}),
            "readinessProbe tcpSocket port 9999 is not a container port",
        ),
        (
            lambda spec, c: spec.update(serviceAccountName="ghost"),
            "serviceAccountName names ServiceAccount ghost",
        ),
        (
            lambda spec, c: c["livenessProbe"].update(successThreshold=2),
            "livenessProbe successThreshold is 2; Kubernetes requires 1",
        ),
    ],
)
def test_each_pod_wiring_defect_is_named(shipped: Path, plant: Any, expected: str) -> None:
    found = _rendered(shipped / "agentk")
    values = _values(shipped / "agentk")
    assert wiring.check(found, values) == []
    spec = pod_spec(_deployment(found))
    assert spec is not None
    plant(spec, spec["containers"][0])
    problems = wiring.check(found, values)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("where", "name", "expected"),
    [
        (
            "container",
            "agent--api",
            "is not a valid port name: it must not contain consecutive hyphens",
        ),
        (
            "container",
            "kubernetes-internal",
            "is not a valid port name: it must be no more than 15",
        ),
        ("container", "9090", "is not a valid port name: it must contain at least one letter"),
        ("probe", "Health", "is not a valid port name: it must contain only lower-case letters"),
        ("target", "-http", "is not a valid port name: it must not begin or end with a hyphen"),
        ("service", "HTTP", "Service port name 'HTTP' is not a DNS-1123 label"),
    ],
)
def test_a_port_name_the_api_server_refuses_is_named(
    shipped: Path, where: str, name: str, expected: str
) -> None:
    """Kubernetes' IsValidPortName and DNS-1123 rules, which no JSON schema carries: the
    Deployment or Service would be refused at install."""
    found = _rendered(shipped / "kas")
    values = _values(shipped / "kas")
    assert wiring.check(found, values) == []
    container = _container(found)
    service = next(o for o in found if o["kind"] == "Service")
    if where == "container":
        container["ports"].append({"name": name, "containerPort": 9999})
    elif where == "probe":
        container["startupProbe"] = {"tcpSocket": {"port": name}}
    elif where == "target":
        service["spec"]["ports"][0]["targetPort"] = name
    else:
        service["spec"]["ports"][0]["name"] = name
    problems = wiring.check(found, values)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("plant", "expected"),
    [
        (
            lambda spec, c, svc: spec["containers"].append(dict(c)),
            "container name 'kas' is used more than once",
        ),
        (
            lambda spec, c, svc: spec["volumes"].append(dict(spec["volumes"][0])),
            "volume name 'tmp' is used more than once",
        ),
        (
            lambda spec, c, svc: c["ports"].append(dict(c["ports"][0], containerPort=9999)),
            "container kas port name",
        ),
        (
            lambda spec, c, svc: svc["spec"]["ports"].append(
                dict(svc["spec"]["ports"][0], port=9999)
            ),
            "Service port name",
        ),
    ],
)
def test_a_name_used_twice_where_kubernetes_wants_it_unique_is_named(
    shipped: Path, plant: Any, expected: str
) -> None:
    found = _rendered(shipped / "kas")
    values = _values(shipped / "kas")
    assert wiring.check(found, values) == []
    spec = pod_spec(_deployment(found))
    assert spec is not None
    plant(spec, spec["containers"][0], next(o for o in found if o["kind"] == "Service"))
    problems = wiring.check(found, values)
    assert any(expected in p and "used more than once" in p for p in problems), problems


def _without_rules(
    chart: Path, extra: dict[str, Any], dropped: Callable[[dict[str, Any]], bool]
) -> list[str]:
    """Wiring problems of the chart rendered with `extra`, which must have none, once the rules
    `dropped` picks are taken out of its main NetworkPolicy."""
    values = merge(_values(chart), extra)
    found = objects(chart, extra)
    assert wiring.check(found, values) == []
    policy = next(
        o
        for o in found
        if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == f"rel-{chart.name}"
    )
    policy["spec"]["ingress"] = [r for r in policy["spec"]["ingress"] if not dropped(r)]
    return wiring.check(found, values)


AI_GATEWAY_IMAGE = {"image": {"repository": "registry.example.com/ai-gateway", "tag": "1.0.0"}}


@pytest.mark.parametrize(
    ("service", "extra", "port", "asked_by"),
    [
        # a metrics port beside the listener (8082 beside 8080)
        ("ai-gateway", AI_GATEWAY_IMAGE, 8082, "prometheus.io/port"),
        (
            "ai-gateway",
            {**AI_GATEWAY_IMAGE, "metrics": {"kind": "PodMonitoring"}},
            8082,
            "PodMonitoring/rel-ai-gateway",
        ),
        # a listener only the service's own pods may reach
        ("agentk", {}, 8080, "prometheus.io/port"),
        # a public listener limited to the ingress controller's namespace
        (
            "gitlab-workspaces-proxy",
            {
                "networkPolicy": {
                    "ingressNamespaceSelector": {"kubernetes.io/metadata.name": "ingress-nginx"}
                }
            },
            9876,
            "prometheus.io/port",
        ),
    ],
)
def test_a_metrics_port_the_rest_of_the_cluster_cannot_reach_is_named(
    shipped: Path, service: str, extra: dict[str, Any], port: int, asked_by: str
) -> None:
    """The chart's NetworkPolicy denies by default: a scraped port must be let in from every
    namespace, wherever Prometheus runs. The AI Gateway's 8082, agentk's pod-only 8080 and the
    proxy's 9876 behind an ingress namespace selector were each unreachable."""
    problems = _without_rules(
        shipped / service,
        extra,
        lambda rule: (
            rule["ports"][0]["port"] == port and rule["from"] == [{"namespaceSelector": {}}]
        ),
    )
    assert any(
        f"{asked_by} asks Prometheus to scrape port {port}, which no NetworkPolicy" in p
        for p in problems
    ), problems


@pytest.mark.parametrize(("service", "image"), [("kas", {}), ("ai-gateway", AI_GATEWAY_IMAGE)])
def test_a_helm_test_the_network_policy_would_stop_is_named(
    shipped: Path, service: str, image: dict[str, Any]
) -> None:
    """With the ingress-nginx profile only the controller's namespace may reach a public
    listener, and `helm test` connects from the release's own namespace: the chart lets its
    test pod in; without that rule the test fails wherever NetworkPolicies are enforced. (The
    workspaces proxy's listener is also its metrics port, open to the cluster anyway.)"""
    chart = shipped / service
    profile = YAML(typ="safe").load((chart / "profiles" / "ingress-nginx.yaml").read_text())
    problems = _without_rules(
        chart,
        merge(merge(profile, image), {"tests": {"enabled": True}}),
        lambda rule: (
            (rule["from"][0].get("podSelector") or {})
            .get("matchLabels", {})
            .get("app.kubernetes.io/component")
            == "test"
        ),
    )
    assert any(
        f"Pod/rel-{service}-test: helm test connects to rel-{service}.ns.svc" in p
        and "no NetworkPolicy of the chart lets the test pod reach" in p
        for p in problems
    ), problems


@pytest.mark.parametrize(
    ("kind", "field", "value", "expected"),
    [
        ("Deployment", "maxUnavailable", "0", "'0' is a string but not a percentage"),
        ("Deployment", "maxSurge", "1", "'1' is a string but not a percentage"),
        ("Deployment", "maxUnavailable", "150%", "150% is over 100%"),
        ("Deployment", "maxSurge", -1, "-1 is negative"),
        ("PodDisruptionBudget", "maxUnavailable", "1", "'1' is a string but not a percentage"),
    ],
)
def test_pod_counts_the_api_server_refuses_are_named(
    shipped: Path, kind: str, field: str, value: Any, expected: str
) -> None:
    """Kubernetes takes a number or a percentage string (IntOrString); its schema takes any
    string, so `maxUnavailable: "0"`, which every chart once shipped, passed every schema and
    the API server refused the Deployment."""
    found = _rendered(shipped / "kas")
    values = _values(shipped / "kas")
    assert wiring.check(found, values) == []
    target = next(o for o in found if o["kind"] == kind)
    spec = target["spec"]
    (spec["strategy"]["rollingUpdate"] if kind == "Deployment" else spec)[field] = value
    problems = wiring.check(found, values)
    assert any(expected in p and f"{kind}/" in p for p in problems), problems


def test_a_rollout_where_no_pod_may_move_is_named(shipped: Path) -> None:
    found = _rendered(shipped / "kas")
    values = _values(shipped / "kas")
    rolling = _deployment(found)["spec"]["strategy"]["rollingUpdate"]
    rolling.update(maxSurge="0%", maxUnavailable=0)
    problems = wiring.check(found, values)
    assert any("both zero" in p for p in problems), problems


@pytest.mark.parametrize(
    ("requests", "limits", "expected"),
    [
        ({"cpu": "2"}, {"cpu": "1500m"}, "requests cpu 2 is above its limit 1500m"),
        ({"memory": "1Gi"}, {"memory": "1000Mi"}, "requests memory 1Gi is above its limit 1000Mi"),
        ({"cpu": "lots"}, {}, "requests.cpu: 'lots' is not a Kubernetes quantity"),
    ],
)
def test_resource_amounts_the_api_server_refuses_are_named(
    shipped: Path, requests: dict[str, str], limits: dict[str, str], expected: str
) -> None:
    """No JSON schema reads quantities (they are any string), so a request above its limit or
    an amount that is not a quantity passes the schemas and is refused at install."""
    found = _rendered(shipped / "kas")
    values = _values(shipped / "kas")
    assert wiring.check(found, values) == []
    resources = _container(found)["resources"]
    resources["requests"].update(requests)
    resources["limits"].update(limits)
    problems = wiring.check(found, values)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", "0.5"),
        ("2", "2"),
        ("512Mi", str(512 * 2**20)),
        ("8G", "8000000000"),
        ("1e3", "1000"),
        ("1E-3", "0.001"),
        ("+1.", "1"),
        ("2E", str(2 * 10**18)),
        (".5Ki", "512"),
    ],
)
def test_quantities_read_as_kubernetes_reads_them(text: str, value: str) -> None:
    from decimal import Decimal

    from runway.common.kube import parse_quantity

    assert parse_quantity(text) == Decimal(value)


@pytest.mark.parametrize("text", ["lots", "1.2.3", "1Kb", "", "1 Gi", "e3"])
def test_what_is_not_a_quantity_is_refused(text: str) -> None:
    from runway.common.kube import parse_quantity

    with pytest.raises(ValueError, match="is not a Kubernetes quantity"):
        parse_quantity(text)


def test_routes_services_and_roles_that_lead_nowhere_are_named(shipped: Path) -> None:
    found = _rendered(shipped / "kas")
    assert (
        wiring.check(
            found,
            {
                "secrets": {"s": {"existing": {"name": "gitlab-kas-secret"}}},
                "redis": {"password": {"name": "gitlab-redis-secret"}},
            },
        )
        == []
    )
    planted = copy.deepcopy(found)
    ingress = next(o for o in planted if o["kind"] == "Ingress")
    ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] = {"name": "nope"}
    service = next(o for o in planted if o["kind"] == "Service")
    service["spec"]["ports"][0]["targetPort"] = "missing"
    twin = copy.deepcopy(next(o for o in planted if o["kind"] == "Ingress" and o is not ingress))
    twin["metadata"]["name"] = "twin"
    planted.append(twin)
    planted.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "b"},
            "roleRef": {"kind": "Role", "name": "absent"},
            "subjects": [],
        }
    )
    problems = "\n".join(wiring.check(planted, {}))
    assert "backend port nope is not a port of Service" in problems
    assert "targets missing, which no selected container declares" in problems
    assert "is also claimed by Ingress/" in problems
    assert "roleRef Role/absent is not created by the chart" in problems
    assert (
        "names Secret gitlab-kas-secret, which the chart does not create and values do not declare"
        in problems
    )


def test_a_config_map_over_one_mebibyte_is_refused() -> None:
    big = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "big"},
        "data": {"a": "x" * (1024 * 1024)},
    }
    assert wiring.check([big], {}) == [
        "ConfigMap/big: 1048577 bytes of data, over Kubernetes' limit of 1 MiB; split it or mount it from a volume"
    ]


# CEL ---------------------------------------------------------------------------------------------


def _gateway(*hosts: str) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "kas"},
        "spec": {
            "gatewayClassName": "gke-l7-global-external-managed",
            "listeners": [
                {"name": f"l{i}", "protocol": "HTTPS", "port": 443, "hostname": h}
                for i, h in enumerate(hosts)
            ],
        },
    }


def test_two_https_listeners_with_one_hostname_break_the_gateway_cel_rule() -> None:
    assert cel.check(_gateway("kas.example.com", "kas-2.example.com")) == []
    assert cel.check(_gateway("kas.example.com", "kas.example.com")) == [
        "Gateway/kas: spec.listeners: Combination of port, protocol and hostname must be unique for each listener"
    ]
    terminated = _gateway("kas.example.com")
    terminated["spec"]["listeners"][0]["tls"] = {"mode": "Terminate"}
    assert cel.check(terminated) == [
        "Gateway/kas: spec.listeners[0].tls: certificateRefs or options must be specified when mode is Terminate"
    ]
    terminated["spec"]["listeners"][0]["tls"]["certificateRefs"] = [{"name": "kas-tls"}]
    assert cel.check(terminated) == []


def test_a_field_a_crd_does_not_declare_is_refused_where_the_api_server_would_drop_it() -> None:
    """A misspelt field in a custom resource is pruned at admission (refused under strict field
    validation), so the setting it meant never takes effect: verify names it."""
    from runway.verify import kube

    gateway = _gateway("kas.example.com")
    gateway["spec"]["addresses"] = [{"type": "NamedAddress", "value": "kas-production"}]
    assert kube.validate_object(gateway) == []
    gateway["spec"]["listeners"][0]["hostnam"] = "kas.example.com"
    problems = kube.validate_object(gateway)
    assert len(problems) == 1 and problems[0].startswith("spec.listeners.0:"), problems
    assert "hostnam" in problems[0]
    release: dict[str, Any] = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "kas", "namespace": "gitlab"},
        "spec": {
            "chartRef": {"kind": "OCIRepository", "name": "kas"},
            "interval": "10m",
            "values": {"anything": {"the": "chart reads"}},
        },
    }
    assert kube.validate_object(release) == []
    release["spec"]["timout"] = "5m"
    assert any("timout" in p for p in kube.validate_object(release))


def test_the_crd_index_is_what_the_shipped_crds_say() -> None:
    """verify reads CRD schemas from an index (JSON, 3 ms) rather than the CRDs' YAML (95 ms a
    process): it must hold every served version of every shipped CRD and nothing else. After
    adding or updating a CRD, `./dev schemas` rewrites it."""
    from runway.verify import kube
    from tests.schema_indexes import CRDS, rendered, sources

    expected = kube.crd_index(sources())
    stale = sorted(
        name
        for name in {**expected["sources"], **_index_sources()}
        if expected["sources"].get(name) != _index_sources().get(name)
    )
    assert not stale, f"runway/data/crds/{kube.CRD_INDEX} is stale for {stale}: run ./dev schemas"
    assert (CRDS / kube.CRD_INDEX).read_text() == rendered(expected)
    every = kube.crd_schemas()
    assert len(expected["sources"]) == len(list(CRDS.glob("*.yaml"))) and len(every) >= 17
    assert kube.crd_schema("apps/v1", "Deployment") is None
    assert kube.crd_schema("v1", "Service") is None
    gateway = kube.crd_schema("gateway.networking.k8s.io/v1", "Gateway")
    assert gateway is not None and "spec" in gateway["properties"]
    assert kube.crd_schema("gateway.networking.k8s.io/v1beta1", "HTTPRoute") is not None
    assert kube.crd_schema("external-secrets.io/v1", "ExternalSecret") is not None
    assert all(kube.crd_schema(*key) is schema for key, schema in every.items())
    assert kube.crd_schema("gateway.networking.k8s.io/v1", "Gatewa") is None


def test_the_kubernetes_schemas_are_kubernetes_validates_for_each_version_verify_checks() -> None:
    """runway ships kubernetes-validate's strict schemas for the versions verify checks (7 MB)
    instead of installing the package (72 MB): each index must hold exactly that version's
    files, from the kubernetes-validate this checkout pins. After upgrading it, or changing
    KUBERNETES_VERSIONS, `./dev schemas` rewrites them."""
    from runway.verify import kube
    from tests.schema_indexes import KUBERNETES, kubernetes_indexes, kubernetes_validate_schemas

    expected = kubernetes_indexes()
    shipped = {path.name: path for path in KUBERNETES.glob("v*.json*")}
    assert sorted(shipped) == sorted(expected), "run ./dev schemas"
    for name, data in expected.items():
        assert shipped[name].read_bytes() == data, f"{name} is stale: run ./dev schemas"
    root = kubernetes_validate_schemas()
    for version in kube.KUBERNETES_VERSIONS:
        _, spans = kube.kubernetes_files(version)
        (source,) = root.glob(f"v{version}.*-local-strict")
        files = sorted(source.glob("*.json"))
        assert sorted(spans) == [path.name for path in files] and len(files) > 600
        for path in files:
            assert kube.kubernetes_schema(version, path.name) == json.loads(path.read_text())
        deployment = kube.kubernetes_schema(version, "deployment-apps-v1.json")
        assert deployment["properties"]["apiVersion"]["enum"] == ["apps/v1"]
        assert deployment["additionalProperties"] is False, (
            "the strict schemas refuse unknown fields"
        )
    assert kube.kubernetes_schema("1.34", "deployment-apps-v2.json") is None
    assert b"v1.30.0-local-strict" in expected["v1.30.jsonl"].partition(b"\n")[0]


def test_a_kubernetes_version_without_schemas_is_named() -> None:
    from runway.errors import RunwayError
    from runway.verify import kube

    with pytest.raises(RunwayError, match=r"no Kubernetes schemas for 1\.29 .*reinstall runway"):
        kube.kubernetes_files("1.29")


def _index_sources() -> dict[str, str]:
    import json

    from runway.verify import kube
    from tests.schema_indexes import CRDS

    sources: dict[str, str] = json.loads((CRDS / kube.CRD_INDEX).read_text())["sources"]
    return sources


def test_closing_a_crd_schema_keeps_what_the_api_server_keeps() -> None:
    from runway.verify.kube import _closed

    schema = {
        "type": "object",
        "properties": {
            "template": {
                "type": "object",
                "x-kubernetes-embedded-resource": True,
                "properties": {"spec": {"type": "object"}},
            },
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "free": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "properties": {},
            },
        },
        "oneOf": [{"properties": {"template": {"required": ["spec"]}}}],
    }
    closed = _closed(schema)
    assert closed["additionalProperties"] is False
    assert closed["oneOf"] == schema["oneOf"]
    template = closed["properties"]["template"]
    assert set(template["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert template["additionalProperties"] is False
    assert closed["properties"]["labels"]["additionalProperties"] == {"type": "string"}
    assert "additionalProperties" not in closed["properties"]["free"]
    resource = _closed({"type": "object", "properties": {"spec": {"type": "object"}}}, root=True)
    assert set(resource["properties"]) == {"apiVersion", "kind", "metadata", "spec"}


def test_gateway_rules_using_kubernetes_string_functions_are_evaluated() -> None:
    """The infrastructure label rules call `split`, from cel-go's strings extension, which the
    API server's CEL environment has; without it every labelled Gateway would be refused."""
    labelled = _gateway("kas.example.com")
    labelled["spec"]["infrastructure"] = {"labels": {"example.com/team": "kas", "tier": "edge"}}
    assert cel.check(labelled) == []
    long_prefix = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + "/team"
    labelled["spec"]["infrastructure"]["labels"] = {long_prefix: "kas"}
    assert cel.check(labelled) == [
        "Gateway/kas: spec.infrastructure.labels: If specified, the label key's prefix must be "
        "a DNS subdomain not longer than 253 characters in total."
    ]


def test_cel_rules_are_evaluated_without_the_evaluators_command_line() -> None:
    """The evaluator package's `__init__` imports its REPL (typer, rich, prompt_toolkit), about
    140 ms of every verify worker's start; verify loads the evaluator and its strings library alone."""
    code = (
        "import sys\n"
        "from runway.verify import cel\n"
        "gateway = {'apiVersion': 'gateway.networking.k8s.io/v1', 'kind': 'Gateway',"
        " 'metadata': {'name': 'kas'}, 'spec': {'gatewayClassName': 'x', 'infrastructure':"
        " {'labels': {'a' * 300 + '/team': 'kas'}}, 'listeners': [{'name': 'l', 'protocol':"
        " 'HTTP', 'port': 80}]}}\n"
        "print(len(cel.check(gateway)))\n"
        "print(sorted(m for m in ('cel', 'cel.cli', 'typer', 'prompt_toolkit', 'rich') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["1", "[]"]


def test_every_function_the_shipped_crd_rules_call_is_evaluated_or_named() -> None:
    """A rule calling a function the evaluator lacks fails to evaluate, which would refuse every
    object the rule reaches; each such function must be registered or listed as skipped."""
    import cel as evaluator

    from runway.verify.kube import crd_schemas

    def rules(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            yield from (str(r["rule"]) for r in node.get("x-kubernetes-validations") or [])
            for value in node.values():
                yield from rules(value)
        elif isinstance(node, list):
            for value in node:
                yield from rules(value)

    called = {
        function
        for schema in crd_schemas().values()
        for rule in rules(schema)
        for function in evaluator.compile(rule).functions()
        if function[0].isalpha()
    }
    native = {
        "contains": "'ab'.contains('a')",
        "duration": "duration('1s') < duration('2s')",
        "endsWith": "'ab'.endsWith('b')",
        "matches": "'ab'.matches('^a')",
        "size": "size('ab') == 2",
        "startsWith": "'ab'.startsWith('a')",
    }
    missing = called - set(native) - set(cel._kubernetes_functions()) - cel.UNEVALUATED
    assert missing == set(), f"CRD rules call {sorted(missing)}: register or name them in cel.py"
    assert all(evaluator.evaluate(expression, {}) is True for expression in native.values())
    assert cel._unevaluated("isURL(self) && !self.matches('@')")
    assert not cel._unevaluated("self.all(key, key.split('/')[0].size() < 253)")


def test_the_kas_gateway_has_one_listener_per_host(shipped: Path) -> None:
    values = {
        "image": {"repository": "x/kas"},
        "gateway": {
            "enabled": True,
            "create": {"enabled": True, "className": "gke-l7-global-external-managed"},
        },
    }
    found = objects(shipped / "kas", values)
    gateway = next(o for o in found if o["kind"] == "Gateway")
    hosts = [listener["hostname"] for listener in gateway["spec"]["listeners"]]
    assert sorted(hosts) == ["*.kas-tunnel.gitlab.example.com", "kas.gitlab.example.com"]
    assert cel.check(gateway) == []


# the system --------------------------------------------------------------------------------------


def _point_agentk(agentk: Installed, address: str) -> None:
    """agentk's args, telling it where KAS is."""
    _container(agentk.objects)["args"] = [
        "--token-file=/etc/agentk/secrets/token",
        f"--kas-address={address}",
    ]


def test_the_shipped_self_managed_system_holds_together(shipped: Path) -> None:
    parts = [render(shipped / name) for name in ("kas", "agentk", "gitlab-workspaces-proxy")]
    report = check(parts)
    assert report.problems == []
    assert report.objects > 20


def test_agentk_pointing_at_an_unrouted_host_or_a_grpc_route_is_named(shipped: Path) -> None:
    kas, agentk = render(shipped / "kas"), render(shipped / "agentk")
    moved = copy.deepcopy(agentk)
    _point_agentk(moved, "wss://kas.elsewhere.example.com")
    assert check([kas, moved]).problems == [
        "agentk: --kas-address=wss://kas.elsewhere.example.com: no installed chart routes host "
        "kas.elsewhere.example.com; give KAS's agent listener that host"
    ]
    grpc = copy.deepcopy(kas)
    ingress = next(
        o for o in grpc.objects if o["kind"] == "Ingress" and o["metadata"]["name"] == "kas-agent"
    )
    ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"] = "GRPC"
    assert any("sends it as gRPC" in p for p in check([grpc, agentk]).problems)
    assert check([agentk]).problems == [
        "agentk: --kas-address=wss://kas.gitlab.example.com: no KAS chart is installed with it; add the kas chart"
    ]
    internal = copy.deepcopy(agentk)
    _point_agentk(internal, "grpc://kas.gitlab.svc:8150")
    assert check([kas, internal]).problems == []
    _point_agentk(internal, "grpc://kas.gitlab.svc:8153")
    assert check([kas, internal]).problems == [
        "agentk: --kas-address=grpc://kas.gitlab.svc:8153: Service kas port 8153 reaches container "
        "port 8153, but KAS takes agents on 8150 (agent.listen.address)"
    ]


def test_kas_config_is_read_by_yaml_1_1_rules_as_kas_reads_it(shipped: Path) -> None:
    """KAS turns its YAML into JSON with sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) before
    protojson: `websocket: yes` is the bool it wants, and `external_url: yes` is a bool where it
    wants text (KAS stops at start). Read by YAML 1.2's rules, both would be judged the other
    way round."""
    kas = render(shipped / "kas")
    config = next(
        o
        for o in kas.objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-config")
    )
    (key,) = config["data"]
    text = config["data"][key]
    assert "    websocket: true\n" in text and "  external_url: https://" in text
    config["data"][key] = text.replace("    websocket: true\n", "    websocket: yes\n").replace(
        "  external_url: https://gitlab.example.com\n", "  external_url: yes\n"
    )
    problems = [p for p in _contract("kas", kas.objects) if "does not read as a" in p]
    assert len(problems) == 1 and "gitlab.external_url is True" in problems[0], problems
    assert "which kas does not read as a string" in problems[0]


BROKEN_CONFIGS = {
    "nested 5,000 deep": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "nested 200,000 deep": "a: " + "[" * 200_000 + "]" * 200_000 + "\n",
    "not YAML": "agent: [\n",
    "a list": "- agent\n",
}


@pytest.mark.parametrize("broken", list(BROKEN_CONFIGS))
def test_a_kas_config_that_is_not_a_yaml_mapping_is_named_not_a_crash(
    shipped: Path, broken: str
) -> None:
    """The configuration file is text a manifest may give (config_files content): the checks
    that read it say what is wrong with it, and nothing recursive (libyaml's C composer, a
    deep copy) is handed nesting deep enough to overflow its stack."""
    kas = render(shipped / "kas")
    config = next(
        o
        for o in kas.objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-config")
    )
    (key,) = config["data"]
    config["data"][key] = BROKEN_CONFIGS[broken]
    problems = _contract("kas", kas.objects)
    expected = "is not a mapping of configuration keys" if broken == "a list" else "is not YAML"
    assert any(expected in p for p in problems), problems
    if "deep" in broken:
        assert any("nesting deeper than 64 levels" in p for p in problems), problems
    agentk = render(shipped / "agentk")
    _point_agentk(agentk, "grpc://kas.gitlab.svc:8150")
    assert check([kas, agentk]).problems == [
        "agentk: --kas-address=grpc://kas.gitlab.svc:8150: Service kas port 8150: KAS's "
        "configuration file names no agent port (agent.listen.address); see KAS's own check"
    ]


def test_workspace_services_must_carry_what_the_proxy_discovers_them_by(tmp_path: Path) -> None:
    service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ws-1", "labels": {}, "annotations": {}},
        "spec": {"ports": [{"port": 60001}]},
    }
    path = tmp_path / "objects.yaml"
    path.write_text(__import__("json").dumps(service))
    assert check([load_objects(path)]).problems == [
        "objects.yaml: Service/ws-1 lacks label agent.gitlab.com/id, annotation "
        "workspaces.gitlab.com/host-template, annotation workspaces.gitlab.com/id; the "
        "workspaces proxy discovers workspaces only by them"
    ]
    service["metadata"] = {
        "name": "ws-1",
        "labels": {"agent.gitlab.com/id": "7"},
        "annotations": {
            "workspaces.gitlab.com/host-template": "{{.port}}-ws-1.workspaces.example.com",
            "workspaces.gitlab.com/id": "1",
        },
    }
    assert check([Installed("objects.yaml", [service])]).problems == []


def test_verify_together_on_the_command_line(shipped: Path, tmp_path: Path) -> None:
    charts = [str(shipped / n) for n in ("kas", "agentk", "gitlab-workspaces-proxy")]
    result = run_cli("verify", "--together", *charts)
    assert result.exit_code == 0, result.stderr
    assert "verify together kas, agentk, gitlab-workspaces-proxy: ok" in result.stdout
    stray = tmp_path / "ws.yaml"
    stray.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: ws}\nspec: {ports: [{port: 1}]}\n"
    )
    failed = run_cli("verify", "--together", *charts, str(stray))
    assert failed.exit_code == ExitCode.VERIFY_FAILED
    assert "ws.yaml: Service/ws lacks label agent.gitlab.com/id" in failed.stderr
    as_json = run_cli("verify", "--together", *charts, str(stray), "--format", "json")
    assert as_json.exit_code == ExitCode.VERIFY_FAILED
    document = json.loads(as_json.stdout)
    assert all(c["ok"] for c in document["charts"]) and document["together"]["ok"] is False
    assert any("Service/ws lacks label" in p for p in document["together"]["problems"])
    usage = run_cli("verify", str(stray))
    assert usage.exit_code == 2 and "only --together takes files" in usage.stderr


def test_contract_names_match_the_manifest_model() -> None:
    from typing import get_args

    from runway.manifest.models import CONTRACT

    assert sorted(get_args(CONTRACT)) == contract_data.names()


def test_rendered_yaml_is_read_as_kubernetes_reads_it() -> None:
    """go-yaml v2 (sigs.k8s.io/yaml): YAML 1.1 octal, and a repeated key is refused."""
    from runway.common import yamlio

    assert yamlio.load("defaultMode: 0400\n") == {"defaultMode": 0o400}
    assert yamlio.load_config("mode: 0400\n") == {"mode": 400}, "configs stay YAML 1.2"
    with pytest.raises(yamlio.InvalidYAML, match="duplicate key 'name'"):
        yamlio.load_all("---\nmetadata:\n  name: a\n  name: b\n")
    with pytest.raises(yamlio.InvalidYAML, match="unhashable key"):
        yamlio.load("? [a]\n: b\n")
    assert yamlio.load("a: !!str 5\nb: '5'\nc: 5\nd: yes\ne: &x {f: 1}\ng:\n  <<: *x\n") == {
        "a": "5",
        "b": "5",
        "c": 5,
        "d": True,
        "e": {"f": 1},
        "g": {"f": 1},
    }


def test_a_template_rendering_a_repeated_key_fails_verify_with_a_message(
    shipped: Path, tmp_path: Path
) -> None:
    import shutil

    chart = tmp_path / "agentk"
    shutil.copytree(shipped / "agentk", chart)
    (chart / "templates" / "repeated.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n"
    )
    done = run_cli("verify", str(chart))
    assert done.exit_code == ExitCode.VERIFY_FAILED, done.stderr
    assert "duplicate key 'name'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "text",
    ["on", "no", "yes", "off", "y", "n", "0400", "1_000", "0x1F", "~", "null", "True", "1e3"],
)
def test_written_yaml_reads_back_the_same_strings_in_kubernetes_yaml(text: str) -> None:
    """What runway writes (profiles, turn-up values, workspace objects) is read by Helm and
    Kubernetes as YAML 1.1: `on` or `no` left bare would come back as booleans."""
    from runway.common import yamlio

    assert yamlio.load(yamlio.yaml_text({"value": text, "list": [text]})) == {
        "value": text,
        "list": [text],
    }


def test_helm_work_on_a_second_thread_gives_the_same_reports(
    shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renders and lint run beside the checks when verify has the cores to itself; the report,
    problems in their order included, must not depend on it."""
    broken = tmp_path / "kas"
    shutil.copytree(shipped / "kas", broken)
    (broken / "templates" / "planted.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: planted}\ndata: {key: 1}\n"
        '{{ if .Values.initContainers }}{{ fail "planted render failure" }}{{ end }}\n'
    )
    imageless = tmp_path / "agentk"
    shutil.copytree(shipped / "agentk", imageless)
    for chart in [*(p for p in sorted(shipped.iterdir()) if p.is_dir()), broken, imageless]:
        alone = verify_chart(chart, threads=1).as_dict()
        assert verify_chart(chart, threads=2).as_dict() == alone, chart
    assert not verify_chart(broken, threads=2).ok

    asked: list[int] = []
    real = verify.verify_chart

    def recording(chart: Path, *, threads: int = 1) -> verify.ChartReport:
        asked.append(threads)
        return real(chart, threads=threads)

    monkeypatch.setattr(verify, "verify_chart", recording)
    monkeypatch.setenv("RUNWAY_JOBS", "2")
    assert [r.ok for r in verify.verify_charts([shipped / "kas"])] == [True]
    monkeypatch.setenv("RUNWAY_JOBS", "1")
    assert [r.ok for r in verify.verify_charts([shipped / "kas"])] == [True]
    assert asked == [2, 1]
