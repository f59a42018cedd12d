"""Rules every planned environment must pass, as plain functions over (type, inputs).

`runway stack plan` and the tests call `check`; `stacks/policy-pack` wraps the same `POLICIES`
for `pulumi preview --policy-pack` (inputs there arrive in the same camelCase).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
REQUIRED_LABELS = ("gl_env", "managed_by")
LABELS_AT = {
    "gcp:organizations/project:Project": ("labels",),
    CLUSTER: ("resourceLabels",),
    NODE_POOL: ("nodeConfig", "resourceLabels"),
    "gcp:compute/globalAddress:GlobalAddress": ("labels",),
    "gcp:dns/managedZone:ManagedZone": ("labels",),
    "gcp:certificatemanager/certificate:Certificate": ("labels",),
    "gcp:certificatemanager/certificateMap:CertificateMap": ("labels",),
    "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry": ("labels",),
    "gcp:certificatemanager/dnsAuthorization:DnsAuthorization": ("labels",),
}

Check = Callable[[str, Mapping[str, Any], bool], str | None]


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    name: str
    description: str
    check: Check
    """(resource type, inputs, production) → a violation message, or None."""


class Resource(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def inputs(self) -> dict[str, Any]: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Violation:
    policy: str
    resource: str
    message: str

    def render(self) -> str:
        return f"{self.policy}: {self.resource}: {self.message}"


def _dig(inputs: Mapping[str, Any], *path: str) -> Any:
    found: Any = inputs
    for key in path:
        found = found.get(key) if isinstance(found, Mapping) else None
    return found


def _workload_identity(typ: str, inputs: Mapping[str, Any], production: bool) -> str | None:
    if typ == CLUSTER and not _dig(inputs, "workloadIdentityConfig", "workloadPool"):
        return "Workload Identity is off (set workloadIdentityConfig.workloadPool)"
    return None


def _private_control_plane(typ: str, inputs: Mapping[str, Any], production: bool) -> str | None:
    public = _dig(inputs, "privateClusterConfig", "enablePrivateEndpoint") is not True
    if typ == CLUSTER and production and public:
        return "a production control plane must have no public endpoint"
    return None


def _reachable_control_plane(typ: str, inputs: Mapping[str, Any], production: bool) -> str | None:
    private = _dig(inputs, "privateClusterConfig", "enablePrivateEndpoint") is True
    dns = _dig(inputs, "controlPlaneEndpointsConfig", "dnsEndpointConfig", "allowExternalTraffic")
    if typ == CLUSTER and private and dns is not True:
        return (
            "a private control plane without the DNS-based endpoint cannot be reached by "
            "`pulumi up` from outside the VPC (set cluster.private.dns_endpoint: true)"
        )
    return None


def _node_service_account(typ: str, inputs: Mapping[str, Any], production: bool) -> str | None:
    if typ != NODE_POOL:
        return None
    account = str(_dig(inputs, "nodeConfig", "serviceAccount") or "")
    if (
        not account
        or account == "default"
        or account.endswith("-compute@developer.gserviceaccount.com")
    ):
        return "nodes run as the default compute service account; give the pool its own"
    return None


def _labels(typ: str, inputs: Mapping[str, Any], production: bool) -> str | None:
    path = LABELS_AT.get(typ)
    if path is None:
        return None
    labels = _dig(inputs, *path) or {}
    missing = [label for label in REQUIRED_LABELS if not labels.get(label)]
    if missing:
        return f"missing labels {', '.join(missing)} at {'.'.join(path)}"
    return None


def _deletion_protection(typ: str, inputs: Mapping[str, Any], production: bool) -> str | None:
    if typ == CLUSTER and production and inputs.get("deletionProtection") is not True:
        return "production clusters need deletionProtection"
    return None


def _metadata_server(typ: str, inputs: Mapping[str, Any], production: bool) -> str | None:
    if (
        typ == NODE_POOL
        and _dig(inputs, "nodeConfig", "workloadMetadataConfig", "mode") != "GKE_METADATA"
    ):
        return "node pools must use the GKE metadata server (Workload Identity)"
    return None


POLICIES = (
    Policy("workload-identity", "Every cluster has Workload Identity", _workload_identity),
    Policy(
        "private-control-plane",
        "Production clusters have no public control-plane endpoint",
        _private_control_plane,
    ),
    Policy(
        "no-default-node-service-account",
        "Node pools run as a dedicated service account",
        _node_service_account,
    ),
    Policy("gke-metadata-server", "Node pools use the GKE metadata server", _metadata_server),
    Policy(
        "reachable-control-plane",
        "A private control plane is reachable through GKE's DNS-based endpoint (IAM)",
        _reachable_control_plane,
    ),
    Policy("labels", "GCP resources carry the environment's labels", _labels),
    Policy(
        "deletion-protection", "Production clusters have deletion protection", _deletion_protection
    ),
)


def check(resources: Iterable[Resource], *, production: bool) -> list[Violation]:
    resources = list(resources)
    found = []
    for resource in resources:
        for policy in POLICIES:
            message = policy.check(resource.type, resource.inputs, production)
            if message:
                found.append(Violation(policy.name, f"{resource.type} {resource.name}", message))
    return found + hosts_agree(resources)


RELEASES = ("kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease", "kubernetes:helm.sh/v3:Release")
CERTIFICATE = "gcp:certificatemanager/certificate:Certificate"
MAP_ENTRY = "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry"
RECORD = "gcp:dns/recordSet:RecordSet"
ZONE = "gcp:dns/managedZone:ManagedZone"


def hosts_agree(resources: Iterable[Resource]) -> list[Violation]:
    """The hosts a release routes (its chart values), the certificate, the DNS records and the
    certificate map must name the same hosts: a host one of them lacks is served by nobody."""
    resources = list(resources)
    zones = [str(r.inputs.get("dnsName", "")).rstrip(".") for r in resources if r.type == ZONE]

    def in_zone(host: str) -> bool:
        bare = host.removeprefix("*.")
        return any(bare == z or bare.endswith("." + z) for z in zones)

    routed, maps = _routed_hosts(resources)
    certified = {
        str(d)
        for r in resources
        if r.type == CERTIFICATE
        for d in _dig(r.inputs, "managed", "domains") or []
    }
    recorded = {
        str(r.inputs.get("name", "")).rstrip("."): f"{r.type} {r.name}"
        for r in resources
        if r.type == RECORD and not str(r.inputs.get("name", "")).startswith("_acme-challenge.")
    }
    found = []
    for host, owner in sorted(routed.items()):
        if in_zone(host) and host not in certified:
            found.append(
                Violation(
                    "hosts-agree",
                    owner,
                    f"routes {host}, which the edge certificate does not cover",
                )
            )
        if in_zone(host) and host not in recorded:
            found.append(Violation("hosts-agree", owner, f"routes {host}, which has no DNS record"))
    found.extend(_unmapped_hosts(resources, routed, maps))
    mapped = {
        str(r.inputs.get("hostname")): f"{r.type} {r.name}"
        for r in resources
        if r.type == MAP_ENTRY
    }
    for host, owner in sorted({**mapped, **recorded}.items()):
        if host not in routed:
            found.append(Violation("hosts-agree", owner, f"serves {host}, which no release routes"))
    return found


def _routed_hosts(resources: list[Resource]) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Each host a release routes → that release; each release Gateway's certificate map → the
    hosts it routes."""
    routed: dict[str, str] = {}
    maps: dict[str, set[str]] = {}
    for release in resources:
        if release.type not in RELEASES:
            continue
        values = _dig(release.inputs, "spec", "values") or release.inputs.get("values") or {}
        certificate_map = _dig(values, "gateway", "create", "certificateMap")
        for listener in (values.get("listeners") or {}).values():
            for host in [listener.get("host"), *(listener.get("extraHosts") or [])]:
                if host:
                    routed.setdefault(str(host), f"{release.type} {release.name}")
                    if certificate_map:
                        maps.setdefault(str(certificate_map), set()).add(str(host))
    return routed, maps


def _unmapped_hosts(
    resources: list[Resource], routed: dict[str, str], maps: dict[str, set[str]]
) -> Iterator[Violation]:
    entries: dict[str, set[str]] = {}
    for r in resources:
        if r.type == MAP_ENTRY:
            entries.setdefault(str(r.inputs.get("map")), set()).add(str(r.inputs.get("hostname")))
    for certificate_map, hosts in sorted(maps.items()):
        for host in sorted(hosts - entries.get(certificate_map, set())):
            yield Violation(
                "hosts-agree",
                routed[host],
                f"routes {host} through certificate map {certificate_map}, which has no entry for it",
            )
