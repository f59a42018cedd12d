"""Each row of the Cloud Run → Kubernetes mapping (docs/mapping.md) and each template toggle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runway.verify import hardening, kube
from tests.chart_helpers import chart_from, container, objects, one


def _warnings(spec: Any) -> dict[str, str]:
    return {w.field: w.message for w in spec.warnings}


def test_min_instances_zero_floors_at_one_with_a_warning(tmp_path: Path) -> None:
    spec, chart = chart_from(tmp_path, "  scalability: {min_instances: 0, max_instances: 5}\n")
    hpa = one(objects(chart), "HorizontalPodAutoscaler")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 5)
    assert "scale to zero" in _warnings(spec)["spec.scalability.min_instances"]


def test_max_instances_default_and_cpu_target(tmp_path: Path) -> None:
    spec, chart = chart_from(
        tmp_path, "  scalability: {min_instances: 3, max_instance_request_concurrency: 60}\n"
    )
    hpa = one(objects(chart), "HorizontalPodAutoscaler")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert "spec.scalability.min_instances" not in _warnings(spec)


def test_limits_and_derived_requests(tmp_path: Path) -> None:
    _, chart = chart_from(tmp_path, "  resources:\n    limits: {cpu: 2000m, memory: 8G}\n")
    resources = container(objects(chart))["resources"]
    assert resources == {
        "limits": {"cpu": "2000m", "memory": "8G"},
        "requests": {"cpu": "1000m", "memory": "8G"},
    }


def test_default_resources(tmp_path: Path) -> None:
    _, chart = chart_from(tmp_path, "  regions: [us-east1]\n")
    assert container(objects(chart))["resources"]["limits"] == {"cpu": "1000m", "memory": "512Mi"}


def test_startup_cpu_boost_warns(tmp_path: Path) -> None:
    spec, _ = chart_from(tmp_path, "  resources: {startup_cpu_boost: true}\n")
    assert "no Kubernetes equivalent" in _warnings(spec)["spec.resources.startup_cpu_boost"]


def test_probes_with_path_are_http_and_without_are_tcp(tmp_path: Path) -> None:
    spec_text = (
        "  startup_probe: {path: /ready, initial_delay_seconds: 20, period_seconds: 17, failure_threshold: 24, timeout_seconds: 10}\n"
        "  liveness_probe: {period_seconds: 5}\n"
    )
    _, chart = chart_from(tmp_path, spec_text)
    main = container(objects(chart))
    assert main["startupProbe"]["httpGet"] == {"path": "/ready", "port": 8080}
    assert (
        main["startupProbe"]["initialDelaySeconds"],
        main["startupProbe"]["failureThreshold"],
    ) == (20, 24)
    assert main["livenessProbe"]["tcpSocket"] == {"port": 8080}
    assert main["readinessProbe"]["tcpSocket"] == {"port": 8080}


def test_no_probes_means_tcp_on_the_container_port(tmp_path: Path) -> None:
    _, chart = chart_from(tmp_path, "  container_port: 9000\n")
    main = container(objects(chart))
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert main[probe]["tcpSocket"] == {"port": 9000}


def test_grpc_service_gets_grpc_probes_and_h2c(tmp_path: Path) -> None:
    spec_text = "  request_timeout: 3600\n  load_balancing:\n    external_load_balancer: {backend_protocol: HTTP2}\n"
    _, chart = chart_from(tmp_path, spec_text)
    found = objects(chart)
    assert container(found)["livenessProbe"]["grpc"] == {"port": 8080}
    port = one(found, "Service")["spec"]["ports"][0]
    assert (port["name"], port["appProtocol"]) == ("grpc", "kubernetes.io/h2c")
    ingress = one(found, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/backend-protocol"] == "GRPC"
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"


def test_request_timeout_reaches_gateway_routes(tmp_path: Path) -> None:
    _, chart = chart_from(
        tmp_path,
        "  request_timeout: 90\n  load_balancing:\n    external_load_balancer: {enabled: true}\n",
    )
    found = objects(chart, {"gateway": {"enabled": True, "parentRefs": [{"name": "gw"}]}})
    route = one(found, "HTTPRoute")
    assert route["spec"]["rules"][0]["timeouts"]["request"] == "90s"
    assert not [o for o in found if o["kind"] == "Ingress"]
    assert kube.validate_object(route) == []


def test_internal_load_balancer(tmp_path: Path) -> None:
    _, chart = chart_from(
        tmp_path, "  load_balancing:\n    internal_load_balancer: {enabled: true}\n"
    )
    found = objects(chart)
    ingress = one(found, "Ingress")
    assert not any(k.startswith("networking.gke.io/") for k in ingress["metadata"]["annotations"])
    on_gke = one(
        objects(chart, {"ingress": {"internalAnnotations": {"networking.gke.io/x": "true"}}}),
        "Ingress",
    )
    assert on_gke["metadata"]["annotations"]["networking.gke.io/x"] == "true"
    policy = one(found, "NetworkPolicy", "rel-svc")
    cidrs = [p["ipBlock"]["cidr"] for p in policy["spec"]["ingress"][0]["from"] if "ipBlock" in p]
    assert cidrs == ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]


def test_no_load_balancer_means_cluster_only(tmp_path: Path) -> None:
    _, chart = chart_from(tmp_path, "  regions: [us-east1]\n")
    found = objects(chart)
    assert not [o for o in found if o["kind"] in ("Ingress", "HTTPRoute")]
    assert one(found, "NetworkPolicy", "rel-svc")["spec"]["ingress"][0]["from"] == [
        {"namespaceSelector": {}}
    ]


def test_cloudflare_allow_list(tmp_path: Path) -> None:
    _, chart = chart_from(
        tmp_path,
        "  network_policies: {cloudflare: true}\n  load_balancing:\n    external_load_balancer: {backend_protocol: HTTPS}\n",
    )
    found = objects(chart)
    allowed = one(found, "Ingress")["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/whitelist-source-range"
    ]
    assert "173.245.48.0/20" in allowed
    cidrs = [
        p["ipBlock"]["cidr"]
        for p in one(found, "NetworkPolicy", "rel-svc")["spec"]["ingress"][0]["from"]
        if "ipBlock" in p
    ]
    assert "0.0.0.0/0" not in cidrs and "104.16.0.0/13" in cidrs


def test_regions_become_the_region_value(tmp_path: Path) -> None:
    spec_text = "  regions: [europe-west2, us-east1]\n"
    extra = {"env-production.yml": "ENDPOINT: https://${region}.example.com\n"}
    spec, chart = chart_from(tmp_path, spec_text, env="production", extra=extra)
    assert spec.regions == ("europe-west2", "us-east1")
    assert (
        one(objects(chart), "ConfigMap", "rel-svc-env")["data"]["ENDPOINT"]
        == "https://europe-west2.example.com"
    )
    found = objects(chart, {"region": "us-east1"})
    assert (
        one(found, "ConfigMap", "rel-svc-env")["data"]["ENDPOINT"] == "https://us-east1.example.com"
    )


@pytest.mark.parametrize(
    ("strategy", "surge"), [("legacy", "25%"), ("expedited", "100%"), ("regional_rollout", "25%")]
)
def test_deployment_strategy(tmp_path: Path, strategy: str, surge: str) -> None:
    _, chart = chart_from(tmp_path, f"  deployment: {{strategy: {strategy}}}\n")
    rolling = one(objects(chart), "Deployment")["spec"]["strategy"]["rollingUpdate"]
    assert rolling == {"maxSurge": surge, "maxUnavailable": 0}


def test_traffic_percentages_warn(tmp_path: Path) -> None:
    spec, _ = chart_from(tmp_path, "  deployment: {rollout_traffic_percentages: [5, 25, 100]}\n")
    assert "progressive-delivery" in _warnings(spec)["spec.deployment.rollout_traffic_percentages"]


def test_scrape_targets(tmp_path: Path) -> None:
    spec, chart = chart_from(
        tmp_path, '  observability:\n    scrape_targets: ["localhost:8082", "other-host:9000"]\n'
    )
    annotations = one(objects(chart), "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == "8082"
    assert "skipped" in _warnings(spec)["spec.observability.scrape_targets[1]"]
    for kind, expected in (("PodMonitoring", "PodMonitoring"), ("ServiceMonitor", "PodMonitor")):
        monitor = one(objects(chart, {"metrics": {"kind": kind}}), expected)
        assert kube.validate_object(monitor) == []


def test_env_files_become_a_configmap_with_checksum(tmp_path: Path) -> None:
    extra = {"env-staging.yml": "A: 1\nB: two\n"}
    _spec, chart = chart_from(tmp_path, "  regions: [us-east1]\n", env="staging", extra=extra)
    found = objects(chart)
    assert one(found, "ConfigMap", "rel-svc-env")["data"] == {"A": "1", "B": "two"}
    assert container(found)["envFrom"] == [{"configMapRef": {"name": "rel-svc-env"}}]
    before = one(found, "Deployment")["spec"]["template"]["metadata"]["annotations"][
        "checksum/config"
    ]
    after = one(objects(chart, {"env": {"A": "2"}}), "Deployment")["spec"]["template"]["metadata"][
        "annotations"
    ]["checksum/config"]
    assert before != after


def test_secrets_are_references(tmp_path: Path) -> None:
    spec_text = (
        "  secrets:\n"
        "    - {name: generated, generate: {length: 32}, file: /etc/app/generated}\n"
        "    - {name: existing, existing: {name: my-secret, key: token}, env: TOKEN}\n"
        "    - {name: vault, external: {store: vault, path: runway/env/x, property: value}, file: /etc/app/vault}\n"
    )
    _, chart = chart_from(tmp_path, spec_text, api="runway/v1+dev")
    found = objects(chart)
    generated = one(found, "Secret", "rel-svc-generated")
    assert generated["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert len(generated["data"]["value"]) > 40
    external = one(found, "ExternalSecret")
    assert external["spec"]["data"][0]["remoteRef"] == {"key": "runway/env/x", "property": "value"}
    assert kube.validate_object(external) == []
    env = {e["name"]: e for e in container(found)["env"]}
    assert env["TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "my-secret", "key": "token"}
    mounts = {m["mountPath"]: m for m in container(found)["volumeMounts"]}
    assert mounts["/etc/app/generated"]["readOnly"] is True and "/etc/app/vault" in mounts
    assert [o for o in found if o["kind"] == "Secret"] == [generated]


def test_service_account_and_rbac(tmp_path: Path) -> None:
    spec_text = (
        "  service_account:\n    automount_token: true\n    gcp_service_account: app-sa@proj-1.iam.gserviceaccount.com\n"
        "    cluster_wide: true\n    rules: [{resources: [services], verbs: [get, list, watch]}]\n"
    )
    _, chart = chart_from(tmp_path, spec_text, api="runway/v1+dev")
    found = objects(chart)
    account = one(found, "ServiceAccount")
    assert (
        account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
        == "app-sa@proj-1.iam.gserviceaccount.com"
    )
    assert one(found, "ClusterRole")["rules"] == [
        {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]}
    ]
    assert one(found, "ClusterRoleBinding")["subjects"][0]["namespace"] == "ns"
    assert (
        one(found, "Deployment")["spec"]["template"]["spec"]["automountServiceAccountToken"] is True
    )


def test_public_tcp_listener_gets_a_load_balancer(tmp_path: Path) -> None:
    spec_text = "  listeners:\n    - {name: http, port: 8080}\n    - {name: ssh, port: 2222, protocol: tcp, exposure: public}\n"
    _, chart = chart_from(tmp_path, spec_text, api="runway/v1+dev")
    lb = one(objects(chart), "Service", "rel-svc-lb")
    assert lb["spec"]["type"] == "LoadBalancer" and lb["spec"]["ports"][0]["port"] == 2222


def test_wildcard_host_and_tls(tmp_path: Path) -> None:
    spec_text = "  listeners:\n    - {name: http, port: 8080, exposure: public, host: '*.ws.example.com', tls_secret: ws-tls}\n"
    _, chart = chart_from(tmp_path, spec_text, api="runway/v1+dev")
    ingress = one(objects(chart), "Ingress")
    assert ingress["spec"]["tls"] == [{"hosts": ["*.ws.example.com"], "secretName": "ws-tls"}]


@pytest.mark.parametrize(
    ("values", "absent"),
    [
        ({"autoscaling": {"enabled": False}}, "HorizontalPodAutoscaler"),
        ({"pdb": {"enabled": False}}, "PodDisruptionBudget"),
        ({"networkPolicy": {"enabled": False}}, "NetworkPolicy"),
        ({"ingress": {"enabled": False}}, "Ingress"),
        ({"tests": {"enabled": False}}, "Pod"),
        ({"serviceAccount": {"create": False, "name": "existing-sa"}}, "ServiceAccount"),
    ],
)
def test_toggles(tmp_path: Path, values: dict[str, Any], absent: str) -> None:
    _, chart = chart_from(
        tmp_path, "  load_balancing:\n    external_load_balancer: {enabled: true}\n"
    )
    assert [o for o in objects(chart) if o["kind"] == absent]
    found = objects(chart, values)
    assert not [o for o in found if o["kind"] == absent]
    if absent == "HorizontalPodAutoscaler":
        assert one(found, "Deployment")["spec"]["replicas"] == 1


def test_default_service_account_is_refused(tmp_path: Path) -> None:
    from runway.errors import VerifyError

    _, chart = chart_from(tmp_path, "  regions: [us-east1]\n")
    with pytest.raises(VerifyError, match="never the default account"):
        objects(chart, {"serviceAccount": {"create": False}})


def test_hardening_rules_can_fail() -> None:
    pod = {
        "kind": "Deployment",
        "metadata": {"name": "bad", "namespace": "default"},
        "spec": {
            "template": {
                "spec": {
                    "hostNetwork": True,
                    "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
                    "containers": [
                        {
                            "name": "c",
                            "image": "nginx:latest",
                            "ports": [{"containerPort": 80, "hostPort": 80}],
                            "securityContext": {
                                "runAsUser": 0,
                                "capabilities": {"add": ["NET_ADMIN"]},
                            },
                        }
                    ],
                }
            }
        },
    }
    problems = "\n".join(hardening.check(pod))
    for expected in (
        "default namespace",
        "host namespace",
        "hostPath",
        "default service account",
        "seccompProfile",
        "service-account token",
        "allowPrivilegeEscalation",
        "root filesystem",
        "drop ALL",
        "adds capabilities",
        "runAsNonRoot",
        "runAsUser 0",
        "no cpu request",
        "hostPort",
        "no pinned tag",
        "no livenessProbe",
    ):
        assert expected in problems, expected


def test_kubernetes_schema_check_can_fail() -> None:
    assert kube.validate_object(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "x"},
            "spec": {"bogus": 1},
        }
    )
    assert kube.validate_object(
        {
            "apiVersion": "monitoring.googleapis.com/v1",
            "kind": "PodMonitoring",
            "metadata": {"name": "x"},
            "spec": {"endpoints": [{"port": "x", "interval": 5}]},
        }
    )
