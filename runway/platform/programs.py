"""The two stack programs of an environment.

- infra: project and APIs, network, one cluster per region, identities, edge; exports each
  cluster's kubeconfig (a secret) and the project id;
- workloads: per cluster, a Kubernetes provider from the infra stack's kubeconfig (through a
  StackReference), GitOps (Flux, the agent) and the services.

Splitting them lets `pulumi preview` of workloads run before clusters exist and keeps a provider
replacement from cascading into the infrastructure.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pulumi

from runway.manifest.environment import RunwayEnvironment, load_environment
from runway.platform.cluster import ClusterComponent, provider
from runway.platform.datastores import (
    REDIS_PASSWORD_SECRET,
    DatastoresComponent,
    needs_redis,
    redis_secret,
    redis_values,
)
from runway.platform.edge import EdgeComponent
from runway.platform.gitlab_side import (
    GitLabSideComponent,
    external_secrets,
    service_secrets,
)
from runway.platform.gitops import GitOpsComponent
from runway.platform.identity import IdentityComponent
from runway.platform.network import NetworkComponent
from runway.platform.project import ProjectComponent
from runway.platform.releases import environment_releases
from runway.platform.runners import RunnerFleetComponent, fleet_of
from runway.platform.services import ServicesComponent


def cluster_name(env: RunwayEnvironment, region: str) -> str:
    return f"{env.metadata.name}-{region}"


def infra(env: RunwayEnvironment, releases: list[dict[str, Any]]) -> None:
    name = env.metadata.name
    project = ProjectComponent(name, env)
    after_apis = pulumi.ResourceOptions(depends_on=project.services)
    network = NetworkComponent(name, env, project.project_id, opts=after_apis)
    clusters = {
        region: ClusterComponent(
            cluster_name(env, region),
            env,
            region,
            project.project_id,
            network.network,
            network.subnets[region],
            opts=after_apis,
        )
        for region in env.spec.regions
    }
    IdentityComponent(name, releases, project.project_id, opts=after_apis)
    EdgeComponent(name, env, releases, project.project_id, opts=after_apis)
    if needs_redis(releases):
        datastores = DatastoresComponent(
            name, env, project.project_id, network.network, opts=after_apis
        )
        pulumi.export("redis", datastores.exports())
    pulumi.export("projectId", project.project_id)
    pulumi.export("clusters", {region: c.cluster.name for region, c in clusters.items()})
    pulumi.export("kubeconfigs", {region: c.kubeconfig for region, c in clusters.items()})


def workloads(env: RunwayEnvironment, releases: list[dict[str, Any]], infra_stack: str) -> None:
    reference = pulumi.StackReference(infra_stack)
    kubeconfigs = reference.require_output("kubeconfigs")
    config = pulumi.Config()
    fleet = fleet_of(env)
    secrets: dict[str, dict[str, dict[str, pulumi.Input[str]]]] = {}
    runner_token: pulumi.Input[str] | None = None
    if env.spec.gitlab.agent_project:
        side = GitLabSideComponent(
            env.metadata.name,
            env,
            releases,
            config.require_secret("gitlabToken"),
            reference.require_output("projectId"),
        )
        token: pulumi.Input[str] = side.agent_token
        runner_token = side.runner_token
        secrets = service_secrets(side, env)
    else:
        token = config.require_secret("agentToken")
    redis_users = needs_redis(releases)
    redis = reference.require_output("redis") if redis_users else None
    for region in env.spec.regions:
        name = cluster_name(env, region)
        kubeconfig = kubeconfigs.apply(functools.partial(_of_region, region))
        cluster = provider(name, pulumi.Output.secret(kubeconfig))
        gitops = GitOpsComponent(name, env, token, cluster)
        regional = {service: dict(found) for service, found in secrets.items()}
        values: dict[str, dict[str, Any]] = {}
        if redis is not None:
            for service in redis_users:
                regional.setdefault(service, {})[REDIS_PASSWORD_SECRET] = redis_secret(
                    redis, region
                )
                values[service] = {"redis": redis_values(redis, region)}
        ServicesComponent(
            name,
            releases,
            region,
            cluster,
            depends_on=[gitops],
            secrets=regional,
            values=values,
            objects=external_secrets(env, releases),
        )
        if fleet is not None:
            fleet_token = runner_token or config.require_secret("runnerToken")
            RunnerFleetComponent(name, fleet, fleet_token, cluster)


def run_infra(config: pulumi.Config) -> None:
    """The infra stack's `__main__`: the environment file named in config `environment`."""
    env_file = Path(config.require("environment"))
    env = load_environment(env_file)
    infra(env, environment_releases(env, env_file))


def run_workloads(config: pulumi.Config) -> None:
    env_file = Path(config.require("environment"))
    env = load_environment(env_file)
    workloads(env, environment_releases(env, env_file), config.require("infraStack"))


def _of_region(region: str, kubeconfigs: Any) -> str:
    return str(kubeconfigs[region])
