"""The managed-self-hosted turn-up bundle: what a GitLab instance applies through the agent.

Objects, as data: a Namespace (Pod Security `restricted`), an OCIRepository that follows the
published chart (a semver range or one resolved version), a HelmRelease (`helm.toolkit.fluxcd.io/v2`,
`chartRef`, remediation, drift detection, values from a Secret), and the two Secrets the instance
fills. Those Secrets hold `${VARIABLE}` references, never values: the instance substitutes them
when it applies the bundle (Flux `postBuild.substituteFrom`, or its own templating), so no file we
write carries a token.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from runway.common.mappings import merge

FOLLOW_NEWEST = ">=0.0.0"
"""The semver range of "the newest version in this stage's repository"."""
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
REGISTRATION_TOKEN_VARIABLE = "RUNWAY_REGISTRATION_TOKEN"
ACCESS_TOKEN_VARIABLE = "RUNWAY_GITLAB_ACCESS_TOKEN"
MANAGED_BY = {
    "app.kubernetes.io/managed-by": "runway",
    "runway.gitlab.com/offering": "managed-self-hosted",
}


@dataclasses.dataclass(frozen=True, slots=True)
class BundleOptions:
    service: str
    namespace: str
    chart_url: str
    """oci://HOST/PATH/STAGE/NAME: the stage's repository of the chart."""
    gitlab_url: str
    registration_url: str
    semver: str | None = None
    tag: str | None = None
    pull_secret: str | None = None
    cosign_secret: str | None = None
    insecure: bool = False
    interval: str = "10m"
    existing_secrets: tuple[tuple[str, str, str], ...] = ()
    """(Secret name, key, what it is) of every existing Secret the chart reads, e.g. KAS's
    GitLab shared secret: the GitLab instance holds those values, so it fills them too."""


@dataclasses.dataclass(frozen=True, slots=True)
class FilledSecret:
    """A Secret the instance fills: which key gets which variable, and why."""

    name: str
    key: str
    variable: str
    purpose: str


def secrets_to_fill(options: BundleOptions) -> list[FilledSecret]:
    return [
        FilledSecret(
            f"{options.service}-registration",
            "token",
            REGISTRATION_TOKEN_VARIABLE,
            "registration token the hook Job presents to GitLab after install and upgrade",
        ),
        FilledSecret(
            f"{options.service}-gitlab-access",
            "token",
            ACCESS_TOKEN_VARIABLE,
            "access token the service uses to call GitLab",
        ),
        *(
            FilledSecret(name, key, _variable(name), purpose)
            for name, key, purpose in options.existing_secrets
        ),
    ]


def _variable(secret: str) -> str:
    return "RUNWAY_SECRET_" + re.sub(r"[^A-Z0-9]", "_", secret.upper())


def _by_secret(items: list[FilledSecret]) -> dict[str, dict[str, FilledSecret]]:
    """Secret name → key → what fills it (two keys of one Secret make one object)."""
    found: dict[str, dict[str, FilledSecret]] = {}
    for item in items:
        found.setdefault(item.name, {})[item.key] = item
    return found


def release_values(options: BundleOptions, offering_values: dict[str, Any]) -> dict[str, Any]:
    """The HelmRelease's inline values: registration and the access token, then the offering's."""
    registration, access, *_ = secrets_to_fill(options)
    wiring: dict[str, Any] = {
        "env": {"RUNWAY_GITLAB_URL": options.gitlab_url},
        "secrets": {
            "gitlab-access-token": {
                "existing": {"name": access.name, "key": access.key},
                "env": ACCESS_TOKEN_VARIABLE,
            }
        },
        "registration": {
            "enabled": True,
            "url": options.registration_url,
            "tokenSecret": {"name": registration.name, "key": registration.key},
        },
    }
    merged: dict[str, Any] = merge(wiring, offering_values)
    return merged


def bundle(
    options: BundleOptions, offering_values: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """File name → the objects in it."""
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": options.namespace,
            "labels": {
                **MANAGED_BY,
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            },
        },
    }
    secrets = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": name,
                "namespace": options.namespace,
                "labels": dict(MANAGED_BY),
                "annotations": {"runway.gitlab.com/filled-by": "gitlab-instance"},
            },
            "stringData": {key: f"${{{item.variable}}}" for key, item in items.items()},
        }
        for name, items in _by_secret(secrets_to_fill(options)).items()
    ]
    return {
        "namespace.yaml": [namespace],
        "secrets.yaml": secrets,
        "ocirepository.yaml": [_source(options)],
        "helmrelease.yaml": [_release(options, release_values(options, offering_values))],
    }


def _source(options: BundleOptions) -> dict[str, Any]:
    return oci_repository(
        options.service,
        options.namespace,
        options.chart_url,
        semver=options.semver,
        tag=options.tag,
        pull_secret=options.pull_secret,
        cosign_secret=options.cosign_secret,
        insecure=options.insecure,
        interval=options.interval,
        labels=MANAGED_BY,
    )


def _release(options: BundleOptions, values: dict[str, Any]) -> dict[str, Any]:
    return helm_release(
        options.service,
        options.namespace,
        values,
        values_from_secret=f"{options.service}-values",
        interval=options.interval,
        labels=MANAGED_BY,
    )


def oci_repository(
    name: str,
    namespace: str,
    chart_url: str,
    *,
    semver: str | None = None,
    tag: str | None = None,
    pull_secret: str | None = None,
    cosign_secret: str | None = None,
    insecure: bool = False,
    interval: str = "10m",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Flux OCIRepository for a Helm chart in an OCI registry (a tag, else a semver range)."""
    ref = {"tag": tag} if tag else {"semver": semver or FOLLOW_NEWEST}
    spec: dict[str, Any] = {
        "interval": interval,
        "url": chart_url,
        "ref": ref,
        "layerSelector": {"mediaType": HELM_CHART_LAYER, "operation": "copy"},
    }
    if pull_secret:
        spec["secretRef"] = {"name": pull_secret}
    if cosign_secret:
        spec["verify"] = {"provider": "cosign", "secretRef": {"name": cosign_secret}}
    if insecure:
        spec["insecure"] = True
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": spec,
    }


def helm_release(
    name: str,
    namespace: str,
    values: dict[str, Any],
    *,
    values_from_secret: str | None = None,
    interval: str = "10m",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Flux HelmRelease of the chart an OCIRepository of the same name holds: remediation,
    rollback on a failed upgrade, drift detection."""
    spec: dict[str, Any] = {
        "interval": interval,
        "releaseName": name,
        "chartRef": {"kind": "OCIRepository", "name": name, "namespace": namespace},
        "timeout": "10m",
        "install": {"remediation": {"retries": 3}},
        "upgrade": {
            "cleanupOnFail": True,
            "remediation": {"retries": 3, "remediateLastFailure": True, "strategy": "rollback"},
        },
        "rollback": {"cleanupOnFail": True},
        "driftDetection": {"mode": "enabled"},
        "values": values,
    }
    if values_from_secret:
        spec["valuesFrom"] = [{"kind": "Secret", "name": values_from_secret, "optional": True}]
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": spec,
    }
