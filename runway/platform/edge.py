"""The edge: a DNS zone, a static address and records per service, a Certificate Manager
certificate (DNS-authorized, wildcard for workspaces) in the certificate map each service's
Gateway names, and the Cloud Armor policy that admits only Cloudflare."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from runway.chart.mapping import cloudflare_cidrs
from runway.manifest.environment import RunwayEnvironment

CLOUDFLARE_POLICY = "cloudflare-only"


class EdgeComponent(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        env: RunwayEnvironment,
        releases: list[dict[str, Any]],
        project: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("runway:platform:Edge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = env.labels()
        dns = env.spec.dns
        self.zone = gcp.dns.ManagedZone(
            name,
            name=dns.zone,
            dns_name=f"{dns.domain}.",
            project=project,
            labels=labels,
            dnssec_config={"state": "on"},
            opts=child,
        )
        in_zone = sorted(
            {h for r in releases for h in r["edge"]["hosts"] if _in_zone(h, dns.domain)}
            | {dns.domain, f"*.{dns.workspaces}"}
        )
        authorizations = []
        for domain in sorted({host.removeprefix("*.") for host in in_zone}):
            label = (
                domain.removesuffix(f".{dns.domain}").replace(".", "-")
                if domain != dns.domain
                else "apex"
            )
            authorization = gcp.certificatemanager.DnsAuthorization(
                f"{name}-{label}",
                name=f"{env.metadata.name}-{label}",
                domain=domain,
                project=project,
                labels=labels,
                opts=child,
            )
            record = authorization.dns_resource_records[0]
            gcp.dns.RecordSet(
                f"{name}-{label}-authorization",
                managed_zone=self.zone.name,
                project=project,
                name=record.name,
                type=record.type,
                ttl=300,
                rrdatas=[record.data],
                opts=child,
            )
            authorizations.append(authorization)
        self.certificate = gcp.certificatemanager.Certificate(
            name,
            name=f"{env.metadata.name}-edge",
            project=project,
            labels=labels,
            managed={
                "domains": in_zone,
                "dns_authorizations": [a.id for a in authorizations],
            },
            opts=child,
        )
        self.addresses: dict[str, gcp.compute.GlobalAddress] = {}
        for release in releases:
            service, hosts = release["service"], release["edge"]["hosts"]
            if not hosts:
                continue
            certificate_name = release["edge"]["certificate"]
            address = gcp.compute.GlobalAddress(
                f"{name}-{service}",
                name=certificate_name,
                project=project,
                labels=labels,
                opts=child,
            )
            self.addresses[service] = address
            if release["edge"]["kind"] == "gateway":
                self._certificate_map(name, service, certificate_name, hosts, project, labels)
            else:
                self._ssl_certificate(name, service, certificate_name, hosts, project)
            for index, host in enumerate(h for h in hosts if _in_zone(h, dns.domain)):
                gcp.dns.RecordSet(
                    f"{name}-{service}-{index}",
                    managed_zone=self.zone.name,
                    project=project,
                    name=f"{host}.",
                    type="A",
                    ttl=300,
                    rrdatas=[address.address],
                    opts=child,
                )
        rules: list[Any] = [
            {
                "action": "allow",
                "priority": 1000 + index,
                "match": {"versioned_expr": "SRC_IPS_V1", "config": {"src_ip_ranges": list(chunk)}},
            }
            for index, chunk in enumerate(_chunks(cloudflare_cidrs(), 10))
        ]
        rules.append(
            {
                "action": "deny(403)",
                "priority": 2147483647,
                "match": {"versioned_expr": "SRC_IPS_V1", "config": {"src_ip_ranges": ["*"]}},
            }
        )
        self.security_policy = gcp.compute.SecurityPolicy(
            name,
            name=CLOUDFLARE_POLICY,
            project=project,
            description="Only Cloudflare reaches services behind Cloudflare",
            rules=rules,
            opts=child,
        )
        self.register_outputs(
            {
                "zone": self.zone.name,
                "certificate": self.certificate.id,
                "addresses": {s: a.address for s, a in self.addresses.items()},
            }
        )

    def _certificate_map(
        self,
        name: str,
        service: str,
        certificate_name: str,
        hosts: list[str],
        project: pulumi.Input[str],
        labels: dict[str, str],
    ) -> None:
        """The map a service's managed Gateway names (networking.gke.io/certmap)."""
        child = pulumi.ResourceOptions(parent=self)
        certificate_map = gcp.certificatemanager.CertificateMap(
            f"{name}-{service}", name=certificate_name, project=project, labels=labels, opts=child
        )
        for index, host in enumerate(hosts):
            gcp.certificatemanager.CertificateMapEntry(
                f"{name}-{service}-{index}",
                name=f"{certificate_name}-{index}",
                map=certificate_map.name,
                hostname=host,
                certificates=[self.certificate.id],
                project=project,
                labels=labels,
                opts=child,
            )

    def _ssl_certificate(
        self,
        name: str,
        service: str,
        certificate_name: str,
        hosts: list[str],
        project: pulumi.Input[str],
    ) -> None:
        """GCE Ingress takes no certificate map: a Google-managed certificate it names by
        `pre-shared-cert` (no wildcards there, so wildcard hosts need the Gateway edge)."""
        domains = [host for host in hosts if not host.startswith("*.")]
        if domains:
            gcp.compute.ManagedSslCertificate(
                f"{name}-{service}",
                name=certificate_name,
                project=project,
                managed={"domains": domains},
                opts=pulumi.ResourceOptions(parent=self),
            )


def _chunks(items: tuple[str, ...], size: int) -> list[tuple[str, ...]]:
    """Cloud Armor takes at most 10 ranges per rule."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def _in_zone(host: str, domain: str) -> bool:
    """Records go only into the environment's own zone; other hosts are the service's to point."""
    bare = host.removeprefix("*.")
    return bare == domain or bare.endswith(f".{domain}")
