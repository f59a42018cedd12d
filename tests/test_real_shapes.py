"""Manifests of the shapes real Runway services use validate without change."""

from __future__ import annotations

from pathlib import Path

import pytest

from runway.manifest import kubernetes, loader, models
from tests.conftest import FIXTURES, MANIFESTS

REAL = FIXTURES / "real"


@pytest.mark.parametrize("case", sorted(p.name for p in REAL.iterdir()))
def test_real_shape_validates(case: str) -> None:
    result = loader.load_paths([REAL / case])
    assert result.ok, [d.render() for d in result.diagnostics]
    assert len(result.services) == 1


def test_large_http_service_and_its_staging_variant() -> None:
    (service,) = loader.load_paths([REAL / "large-http"]).services
    production = service.manifest("production")
    staging = service.manifest("staging")
    assert isinstance(production, models.RunwayService)
    assert isinstance(staging, models.RunwayService)
    assert production.spec.scalability.min_instances == 8
    assert staging.spec.scalability.min_instances == 1
    assert staging.spec.deployment.strategy is models.Strategy.EXPEDITED
    assert production.spec.resources.limits.memory == "8G"
    assert service.env_vars["staging"]["AIGW_DEBUG"] == "true"


def test_grpc_streaming_service() -> None:
    (service,) = loader.load_paths([REAL / "grpc-streaming"]).services
    manifest = service.manifest()
    assert isinstance(manifest, models.RunwayService)
    assert manifest.spec.request_timeout == 3600
    lb = manifest.spec.load_balancing
    assert lb is not None and lb.external_load_balancer is not None
    assert lb.external_load_balancer.backend_protocol is models.BackendProtocol.HTTP2


def test_minimal_service_defaults() -> None:
    (service,) = loader.load_paths([REAL / "minimal"]).services
    spec = service.manifest().spec
    assert isinstance(spec, models.ServiceSpec)
    assert (spec.container_port, spec.resources.limits.cpu, spec.resources.limits.memory) == (
        8080,
        "1000m",
        "512Mi",
    )
    assert spec.deployment.strategy is models.Strategy.LEGACY
    assert spec.request_based_billing is True


def test_kubernetes_pair_merges_the_production_file() -> None:
    (service,) = loader.load_paths([REAL / "kube-pair"]).services
    production = service.manifest("production")
    assert isinstance(production, kubernetes.RunwayKubernetesService)
    assert production.spec.scalability.min_instances == 4
    assert production.spec.scalability.cpu_utilization == 60  # kept from default-values.yaml
    assert production.spec.environment == {"GOOGLE_CLOUD_REGION": "${region}", "LOG_LEVEL": "warn"}
    assert (
        kubernetes.substitute_region(production.spec.environment, "us-east-1")[
            "GOOGLE_CLOUD_REGION"
        ]
        == "us-east-1"
    )
    body = service.deployments["production"]
    assert [v.path for v in body.secretVolumes] == ["/var/secrets/gcp"]
    requests = production.spec.resources.requests
    assert requests is not None and requests.ephemeral_storage == "1Gi"


def test_kubernetes_deployment_errors_point_into_the_deployment_file(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    source = REAL / "kube-pair" / ".runway" / "code-suggest"
    (root / "default-values.yaml").write_text((source / "default-values.yaml").read_text())
    text = (
        (source / "eks-service-production.yaml")
        .read_text()
        .replace("min_instances: 4", "min_instances: 400")
    )
    text = text.replace("max_instances: 40", "max_instances: 4")
    (root / "eks-service-production.yaml").write_text(text)
    result = loader.load_paths([root])
    (diagnostic,) = result.diagnostics
    assert diagnostic.file.endswith("eks-service-production.yaml")
    assert diagnostic.field == "code-suggest.spec.scalability"
    assert "environment production" in diagnostic.message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "      cpu: 500m\n",
            "      cpu: 2500m\n",
            "requests.cpu (2500m) is above the cpu limit (2), which Kubernetes refuses",
        ),
        (
            '    limits:\n      cpu: "2"\n      memory: 2Gi\n',
            "    limits:\n",
            "requests.memory (1Gi) is above the memory limit (512Mi, the default when limits",
        ),
    ],
)
def test_a_request_above_its_limit_is_refused_where_it_is_written(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    """The API server refuses a container whose request is above its limit; the chart's
    defaults (1000m, 512Mi) count where the manifest leaves a limit out."""
    source = REAL / "kube-pair" / ".runway" / "code-suggest"
    text = (source / "default-values.yaml").read_text()
    assert old in text
    (tmp_path / "default-values.yaml").write_text(text.replace(old, new))
    (diagnostic,) = loader.load_paths([tmp_path]).diagnostics
    assert expected in diagnostic.message, diagnostic.render()
    assert diagnostic.field == "spec.resources" and (diagnostic.line or 0) > 1


def test_kubernetes_deployment_for_unknown_service(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    source = REAL / "kube-pair" / ".runway" / "code-suggest"
    (root / "default-values.yaml").write_text((source / "default-values.yaml").read_text())
    (root / "gke-service-staging.yaml").write_text(
        "apiVersion: runway/v1\nkind: RunwayKubernetesDeployment\nother-service:\n  spec: {}\n"
    )
    (diagnostic,) = loader.load_paths([root]).diagnostics
    assert (diagnostic.line, diagnostic.field) == (3, "other-service")


def test_shipped_manifests_validate() -> None:
    result = loader.load_paths([MANIFESTS])
    assert result.ok, [d.render() for d in result.diagnostics]
    assert {s.name for s in result.services} >= {
        "kas",
        "gitlab-workspaces-proxy",
        "agentk",
        "ai_gateway",
    }
