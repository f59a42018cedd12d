"""Satellite services on a cluster: each from the registry, through Flux (OCIRepository and
HelmRelease, the default) or a Helm release, with the gitlab-managed values of the cluster's
region — the same values `runway turnup --offering gitlab-managed` writes."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from runway.manifest.environment import DeployWith
from runway.offerings import flux

LABELS = {"app.kubernetes.io/managed-by": "runway", "runway.gitlab.com/offering": "gitlab-managed"}


def region_values(release: dict[str, Any], region: str) -> dict[str, Any]:
    for entry in release["regions"]:
        if entry["region"] == region:
            values: dict[str, Any] = entry["values"]
            return values
    raise KeyError(f"{release['service']} has no values for region {region}")


class ServicesComponent(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        releases: list[dict[str, Any]],
        region: str,
        provider: k8s.Provider,
        depends_on: list[pulumi.Resource],
        secrets: dict[str, dict[str, dict[str, pulumi.Input[str]]]] | None = None,
        values: dict[str, dict[str, Any]] | None = None,
        objects: dict[str, list[dict[str, Any]]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`secrets`: by service, the Secrets (name → key → secret value) its chart references
        that the stacks make (the GitLab side, Memorystore), created before the release;
        `values`: by service, values known only from other resources (Memorystore's address)."""
        super().__init__("runway:platform:Services", name, None, opts)
        for release in releases:
            service = release["service"]
            deploy = release["deploy"]
            child = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends_on)
            namespace = k8s.core.v1.Namespace(
                f"{name}-{service}",
                metadata={
                    "name": release["namespace"],
                    "labels": {**LABELS, "pod-security.kubernetes.io/enforce": "restricted"},
                },
                opts=child,
            )
            values_of = {**region_values(release, region), **(values or {}).get(service, {})}
            made: list[pulumi.Resource] = [namespace]
            for secret, data in sorted(((secrets or {}).get(service) or {}).items()):
                made.append(
                    k8s.core.v1.Secret(
                        f"{name}-{service}-{secret}",
                        metadata={
                            "name": secret,
                            "namespace": release["namespace"],
                            "labels": LABELS,
                        },
                        string_data=data,
                        opts=pulumi.ResourceOptions(
                            parent=self, provider=provider, depends_on=[namespace]
                        ),
                    )
                )
            for obj in (objects or {}).get(service) or []:
                made.append(
                    _custom(
                        f"{name}-{service}-{obj['kind'].lower()}-{obj['metadata']['name']}",
                        obj,
                        pulumi.ResourceOptions(
                            parent=self, provider=provider, depends_on=[namespace]
                        ),
                    )
                )
            placed = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=made)
            if deploy["with"] == DeployWith.HELM:
                k8s.helm.v3.Release(
                    f"{name}-{service}",
                    name=service,
                    chart=release["chart"]["url"],
                    version=deploy["version"],
                    namespace=release["namespace"],
                    values=values_of,
                    atomic=True,
                    cleanup_on_fail=True,
                    opts=placed,
                )
                continue
            for obj in (
                flux.oci_repository(
                    service,
                    release["namespace"],
                    release["chart"]["url"],
                    semver=deploy["version"],
                    labels=LABELS,
                ),
                flux.helm_release(service, release["namespace"], values_of, labels=LABELS),
            ):
                _custom(f"{name}-{service}-{obj['kind'].lower()}", obj, placed)
        self.register_outputs({"services": [r["service"] for r in releases]})


def _custom(
    name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        name,
        api_version=obj["apiVersion"],
        kind=obj["kind"],
        metadata=obj["metadata"],
        spec=obj["spec"],
        opts=opts,
    )
