"""`runway turnup`: one service, one offering → the files that turn it up (nothing written here)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from runway.chart.compile import yaml_text
from runway.chart.resolve import ChartSpec
from runway.offerings import Offering, flux
from runway.offerings.overrides import offering_values


def _documents(objects: list[dict[str, Any]]) -> bytes:
    return "---\n".join(yaml_text(obj) for obj in objects).encode()


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=False) + "\n").encode()


def self_managed(spec: ChartSpec, chart_url: str) -> dict[str, bytes]:
    """Values for `helm install` (the manifest's self-managed overrides) and how to run it."""
    values = offering_values(spec, Offering.SELF_MANAGED, {})
    install = (
        f"# Install {spec.name} (self-managed)\n\n"
        "```sh\n"
        f"helm install {spec.name} {chart_url} --version {spec.version} \\\n"
        f"  --namespace {spec.name} --create-namespace -f values.yaml\n"
        "```\n\n"
        "Add a profile from the chart's README for your cluster (ingress-nginx, Gateway API, "
        "existing secrets, external Redis, an air-gapped mirror: `runway images "
        f"{spec.name} --mirror MIRROR`).\n"
    )
    return {"values.yaml": yaml_text(values or {}).encode(), "INSTALL.md": install.encode()}


def managed_self_hosted(
    spec: ChartSpec, options: flux.BundleOptions, resolved: str | None
) -> dict[str, bytes]:
    values = offering_values(spec, Offering.MANAGED_SELF_HOSTED, {})
    objects = flux.bundle(options, values)
    files = {name: _documents(found) for name, found in objects.items()}
    files["kustomization.yaml"] = yaml_text(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": list(objects),
        }
    ).encode()
    files["turnup.json"] = _json(
        {
            "service": spec.name,
            "offering": Offering.MANAGED_SELF_HOSTED.value,
            "namespace": options.namespace,
            "chart": {
                "url": options.chart_url,
                "semver": options.semver,
                "tag": options.tag,
                "resolvesTo": resolved,
                "gitlabVersions": spec.annotations.get("runway.gitlab.com/gitlab-versions"),
            },
            "gitlabUrl": options.gitlab_url,
            "registrationUrl": options.registration_url,
            "fill": [dataclasses.asdict(item) for item in flux.secrets_to_fill(options)],
            "apply": list(objects),
        }
    )
    return files


def gitlab_managed(description: dict[str, Any]) -> dict[str, bytes]:
    files = {"release.json": _json(description)}
    for region in description["regions"]:
        files[f"values-{region['region']}.yaml"] = yaml_text(region["values"]).encode()
    return files


def default_registration_url(gitlab_url: str, service: str) -> str:
    return f"{gitlab_url.rstrip('/')}/api/v4/satellite_services/{service}/registration"
