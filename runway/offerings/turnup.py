"""`runway turnup`: one service, one offering → the files that turn it up (nothing written here)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from runway import versions
from runway.chart.spec import ChartSpec
from runway.common.mappings import merge
from runway.common.yamlio import yaml_text
from runway.errors import NotFoundError, UsageError
from runway.offerings import Offering, flux
from runway.offerings.overrides import customer_config, offering_values, routed_hosts
from runway.publish.compatibility import newest_compatible, newest_in_range
from runway.publish.registry import Release, stage_chart_url


def _documents(objects: list[dict[str, Any]]) -> bytes:
    return "---\n".join(yaml_text(obj) for obj in objects).encode()


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=False) + "\n").encode()


def customer_values(spec: ChartSpec) -> dict[str, Any]:
    """What a customer installing the chart must look at: the hosts it routes, the Secrets it
    reads that they create, and the Redis it uses (the chart's defaults, to edit)."""
    found: dict[str, Any] = {}
    hosts = routed_hosts(spec)
    if hosts:
        found["listeners"] = hosts
    existing = {
        name: {"existing": dict(secret.existing)}
        for name, secret in spec.values.secrets.items()
        if secret.existing
    }
    if existing:
        found["secrets"] = existing
    if spec.values.redis is not None:
        found["redis"] = spec.values.redis.model_dump(mode="json", exclude_defaults=True)
    overrides = customer_config(spec)
    if overrides:
        found["configOverrides"] = overrides
    return found


def self_managed(spec: ChartSpec, chart_url: str) -> dict[str, bytes]:
    """Values for `helm install`: what the customer must review (hosts, their Secrets, Redis),
    with the manifest's self-managed overrides over it, and how to run it."""
    values = merge(customer_values(spec), offering_values(spec, Offering.SELF_MANAGED, {}))
    header = (
        f"# Values for {spec.name}: replace the example hosts with yours, create the Secrets\n"
        "# named here (docs/services.md says what each holds), and point redis at yours.\n"
    )
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
    return {
        "values.yaml": (header + yaml_text(values or {})).encode(),
        "INSTALL.md": install.encode(),
    }


def managed_self_hosted(
    spec: ChartSpec, options: flux.BundleOptions, resolved: str | None
) -> dict[str, bytes]:
    gitlab = customer_config(spec, options.gitlab_url)
    hosts = routed_hosts(spec)
    profile: dict[str, Any] = {"listeners": hosts} if hosts else {}
    if gitlab:
        profile["configOverrides"] = gitlab
    values = offering_values(spec, Offering.MANAGED_SELF_HOSTED, profile)
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
            "hosts": {name: routed["host"] for name, routed in hosts.items()},
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


@dataclasses.dataclass(frozen=True, slots=True)
class ChartRequest:
    """Which chart a managed-self-hosted bundle follows: a stage of a registry, then a semver
    range Flux follows, or the newest chart compatible with a GitLab release (pinned); with
    neither, Flux follows the newest version in the stage."""

    registry: str
    stage: str
    version_range: str | None = None
    gitlab_version: str | None = None


def bundle_options(
    spec: ChartSpec,
    request: ChartRequest,
    releases: list[Release] | None,
    *,
    gitlab_url: str,
    registration_url: str | None = None,
    namespace: str | None = None,
    pull_secret: str | None = None,
    cosign_secret: str | None = None,
    insecure: bool = False,
) -> tuple[flux.BundleOptions, str | None]:
    """The bundle's options and what the request resolves to among `releases` (the stage's
    published versions; None when not asked, with --offline)."""
    if not (request.version_range or request.gitlab_version):
        request = dataclasses.replace(request, version_range=flux.FOLLOW_NEWEST)
    try:
        wanted_range = (
            versions.parse_range(request.version_range) if request.version_range else None
        )
        wanted_gitlab = (
            versions.parse_gitlab_version(request.gitlab_version)
            if request.gitlab_version
            else None
        )
    except ValueError as err:
        raise UsageError(str(err)) from None
    resolved = None
    if releases is not None:
        candidates = releases
        if wanted_gitlab is not None:
            found = newest_compatible(candidates, wanted_gitlab)
            candidates = [found] if found else []
        if wanted_range is not None:
            found = newest_in_range(candidates, wanted_range)
            candidates = [found] if found else []
        if not candidates:
            held = ", ".join(r.version for r in releases) or "nothing"
            raise NotFoundError(
                f"no published version of {spec.name} in {request.stage} at {request.registry} matches"
                + (f" --version {request.version_range!r}" if request.version_range else "")
                + (f" and GitLab {request.gitlab_version}" if request.gitlab_version else "")
                + f" ({request.stage} holds {held}); publish or promote one first"
            )
        resolved = candidates[0].version
    options = flux.BundleOptions(
        service=spec.name,
        namespace=namespace or spec.name,
        chart_url=stage_chart_url(request.registry, request.stage, spec.name),
        gitlab_url=gitlab_url,
        registration_url=registration_url or default_registration_url(gitlab_url, spec.name),
        semver=request.version_range,
        tag=None if request.version_range else resolved,
        pull_secret=pull_secret,
        cosign_secret=cosign_secret,
        insecure=insecure,
        existing_secrets=_existing_secrets(spec),
    )
    return options, resolved


def _existing_secrets(spec: ChartSpec) -> tuple[tuple[str, str, str], ...]:
    found = [
        (ref["name"], ref["key"], f"secret {name} of {spec.name}")
        for name, secret in sorted(spec.values.secrets.items())
        if (ref := secret.existing)
    ]
    redis = spec.values.redis
    if redis is not None and redis.password:
        found.append(
            (redis.password["name"], redis.password["key"], f"Redis password of {spec.name}")
        )
    return tuple(found)
