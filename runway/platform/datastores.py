"""Datastores an environment's services declare, as managed services: Memorystore for Redis, one
instance per region when any service declares Redis, with AUTH and in-transit TLS (server
authentication). Its address, AUTH string and server CA reach the services through the chart's
`redis.*` values and Secrets, the same path a self-managed customer's external Redis takes."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from runway.manifest.environment import RunwayEnvironment

REDIS_PASSWORD_SECRET = "runway-redis"


def needs_redis(releases: list[dict[str, Any]]) -> list[str]:
    return sorted(r["service"] for r in releases if (r.get("datastores") or {}).get("redis"))


class DatastoresComponent(pulumi.ComponentResource):
    redis: dict[str, gcp.redis.Instance]

    def __init__(
        self,
        name: str,
        env: RunwayEnvironment,
        project_id: pulumi.Input[str],
        network: gcp.compute.Network,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("runway:platform:Datastores", name, None, opts)
        self.redis = {
            region: gcp.redis.Instance(
                f"{name}-{region}-redis",
                name=f"{name}-{region}",
                project=project_id,
                region=region,
                tier="STANDARD_HA" if env.spec.production else "BASIC",
                memory_size_gb=1,
                redis_version="REDIS_7_2",
                authorized_network=network.id,
                auth_enabled=True,
                transit_encryption_mode="SERVER_AUTHENTICATION",
                labels=env.labels(),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for region in env.spec.regions
        }
        self.register_outputs({})

    def exports(self) -> dict[str, Any]:
        """What the workloads stack reads: per region the address, and (secret) AUTH and CA."""
        return {
            region: {
                "address": pulumi.Output.concat(instance.host, ":", instance.port.apply(str)),
                "auth": pulumi.Output.secret(instance.auth_string),
                "ca": instance.server_ca_certs.apply(_first_cert),
            }
            for region, instance in self.redis.items()
        }


def redis_values(redis: pulumi.Output[Any], region: str) -> pulumi.Output[dict[str, Any]]:
    """The chart's `redis` values for a region's Memorystore instance."""
    return redis.apply(
        lambda found: {
            "address": found[region]["address"],
            "sentinels": [],
            "tls": True,
            "password": {"name": REDIS_PASSWORD_SECRET, "key": "password"},
            "caSecret": {"name": REDIS_PASSWORD_SECRET, "key": "ca.crt"},
        }
    )


def redis_secret(redis: pulumi.Output[Any], region: str) -> dict[str, pulumi.Input[str]]:
    """The Secret those values reference: the AUTH string and the server CA."""
    return {
        "password": pulumi.Output.secret(redis.apply(lambda found: str(found[region]["auth"]))),
        "ca.crt": redis.apply(lambda found: str(found[region]["ca"])),
    }


def _first_cert(certs: Any) -> str:
    """The server CA Memorystore presents (`serverCaCerts[0].cert`), as an object or a dict."""
    first = (certs or [None])[0]
    found = first.get("cert") if isinstance(first, dict) else getattr(first, "cert", None)
    return str(found or "")
