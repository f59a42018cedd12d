"""Value profiles: documented sets of values for the common ways a chart is installed.

Self-managed profiles are shipped in every chart (`profiles/NAME.yaml`, and in its README);
the GKE profile is what GitLab-managed environments install with. Each is a pure function of
the chart's own values, so a profile only mentions listeners, secrets and datastores the service
really has.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from runway.chart import values as v

MIRROR = "registry.internal.example.com"
GKE_EXTERNAL_GATEWAY_CLASS = "gke-l7-global-external-managed"
GKE_INTERNAL_ANNOTATIONS = {
    "kubernetes.io/ingress.class": "gce-internal",
    "networking.gke.io/internal-load-balancer-allow-global-access": "true",
}

Edge = Literal["gateway", "ingress"]


@dataclasses.dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    description: str
    values: dict[str, Any]


def self_managed(chart: v.ChartValues) -> list[Profile]:
    """The profiles a customer running the chart on their own cluster picks from."""
    found = [
        Profile(
            "ingress-nginx",
            "ingress-nginx",
            "Ingress objects for the ingress-nginx controller; only its namespace may reach the pods.",
            {
                "ingress": {"enabled": True, "className": "nginx"},
                "gateway": {"enabled": False},
                "networkPolicy": {
                    "ingressNamespaceSelector": {"kubernetes.io/metadata.name": "ingress-nginx"}
                },
            },
        ),
        Profile(
            "gateway-api",
            "Gateway API",
            "HTTPRoute/GRPCRoute objects attached to a shared Gateway instead of Ingress.",
            {
                "gateway": {
                    "enabled": True,
                    "parentRefs": [{"name": "shared-gateway", "namespace": "gateway-system"}],
                },
                "networkPolicy": {
                    "ingressNamespaceSelector": {"kubernetes.io/metadata.name": "gateway-system"}
                },
            },
        ),
    ]
    if any(not secret.existing for secret in chart.secrets.values()):
        found.append(
            Profile(
                "existing-secrets",
                "Existing secrets",
                "Every secret read from a Secret you create beforehand (nothing generated).",
                {
                    "secrets": {
                        name: {"existing": {"name": name, "key": "value"}}
                        for name in sorted(chart.secrets)
                        if not chart.secrets[name].existing
                    }
                },
            )
        )
    if chart.redis is not None:
        found.append(
            Profile(
                "external-redis",
                "External Redis",
                "A Redis you run (TLS, password from an existing Secret).",
                {
                    "redis": {
                        "address": "redis.example.internal:6380",
                        "tls": True,
                        "password": {"name": "redis-auth", "key": "password"},
                    }
                },
            )
        )
    found.append(
        Profile(
            "air-gapped",
            "Air-gapped registry mirror",
            "Every image pulled from your mirror (list them with `runway images`).",
            {"global": {"imageRegistry": MIRROR, "imagePullSecrets": ["registry-mirror"]}},
        )
    )
    return found


@dataclasses.dataclass(frozen=True, slots=True)
class GkeSettings:
    """What a GitLab-managed GKE environment says about where a release runs."""

    project: str
    region: str
    environment: str
    edge: Edge | None = None
    certificate_map: str = ""
    """Certificate Manager map (Gateway edge) or pre-shared certificate (Ingress edge) name, and
    the static address's; default SERVICE-ENVIRONMENT, provisioned by the environment's stack."""
    security_policy: str = "cloudflare-only"


def edge_for(chart: v.ChartValues) -> Edge:
    """Ingress when an edge allow-list or an internal listener needs it; else a managed Gateway.

    Cloud Armor (the Cloudflare allow-list at the edge) attaches through BackendConfig, and an
    internal listener needs GKE's internal Ingress class; both are Ingress features here.
    """
    exposures = {listener.exposure for listener in chart.listeners.values()}
    if chart.networkPolicy.cloudflare.enabled or "internal" in exposures:
        return "ingress"
    return "gateway"


def _readiness_endpoint(chart: v.ChartValues) -> tuple[int, str] | None:
    """(port, path) the load balancer should check, when the readiness probe is HTTP: GKE's
    default (GET / on each serving port) fails on ports that only upgrade (KAS's agent port: 426)."""
    readiness = chart.probes.readiness
    listener = chart.listeners.get(readiness.port) if readiness else None
    if not (readiness and readiness.enabled and readiness.type == "http" and listener):
        return None
    return listener.port, readiness.path or "/"


def gke(chart: v.ChartValues, service: str, settings: GkeSettings) -> dict[str, Any]:
    """The values a GitLab-managed GKE release adds to the chart's defaults."""
    edge = settings.edge or edge_for(chart)
    values: dict[str, Any] = {
        "region": settings.region,
        "serviceAccount": {
            "gcpServiceAccount": f"{service}@{settings.project}.iam.gserviceaccount.com"
        },
        "metrics": {"enabled": True, "kind": "PodMonitoring"},
        "podLabels": {"runway.gitlab.com/environment": settings.environment},
    }
    edge_listeners = [
        listener
        for listener in chart.listeners.values()
        if listener.exposure in ("public", "internal") and listener.protocol != "tcp"
    ]
    if not edge_listeners:
        return values
    certificate = settings.certificate_map or f"{service}-{settings.environment}"
    endpoint = _readiness_endpoint(chart)
    if edge == "gateway":
        values["gateway"] = {
            "enabled": True,
            "create": {
                "enabled": True,
                "className": GKE_EXTERNAL_GATEWAY_CLASS,
                "certificateMap": certificate,
                "address": certificate,
            },
        }
        if endpoint:
            port, path = endpoint
            values["gateway"]["healthCheck"] = {"enabled": True, "port": port, "path": path}
    else:
        backend: dict[str, Any] = {"enabled": True}
        if endpoint:
            port, path = endpoint
            backend.update(healthCheckPath=path, healthCheckPort=port)
        if chart.networkPolicy.cloudflare.enabled:
            backend["securityPolicy"] = settings.security_policy
        values["ingress"] = {
            "enabled": True,
            "tls": False,
            "annotations": {
                "kubernetes.io/ingress.class": "gce",
                "kubernetes.io/ingress.allow-http": "false",
                "ingress.gcp.kubernetes.io/pre-shared-cert": certificate,
                "kubernetes.io/ingress.global-static-ip-name": certificate,
            },
            "internalAnnotations": dict(GKE_INTERNAL_ANNOTATIONS),
            "backendConfig": backend,
        }
        values["gateway"] = {"enabled": False}
        if chart.networkPolicy.cloudflare.enabled:
            values["networkPolicy"] = {"cloudflare": {"enabled": False}}
    return values
