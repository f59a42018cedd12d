"""GitLab wired by the stack, not by hand (pulumi-gitlab beside pulumi-gcp):

- the agent for Kubernetes registered in its project (`ClusterAgent`), its config file committed
  (`RepositoryFile`), and its token (`ClusterAgentToken`) handed to the in-cluster agent;
- the KAS↔GitLab shared secret generated once (`random.RandomBytes`, 32 bytes, base64 as KAS and
  Rails read it), kept in Secret Manager for the GitLab side, and given to KAS as the Secret its
  chart references (`gitlab-kas-secret`, key `kas_shared_secret`);
- the workspaces proxy's OAuth application (`Application`: redirect `https://<apex>/auth/callback`,
  scopes api, read_user, openid, profile) and the proxy's configuration Secret built from it.

Sources: pulumi-gitlab v10 `cluster_agent.py`, `cluster_agent_token.py`, `application.py`,
`repository_file.py` (contracts §9); KAS's secret format (§1.5); the proxy's config (§3.1).
Every secret stays a Pulumi secret output: never in config, exports or the plan.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_gitlab as gitlab
import pulumi_random as random

from runway.manifest.environment import RunwayEnvironment

KAS_SECRET = "gitlab-kas-secret"
KAS_SECRET_KEY = "kas_shared_secret"
PROXY_CONFIG_SECRET = "gitlab-workspaces-proxy-config"
PROXY_SCOPES = ["api", "read_user", "openid", "profile"]


def proxy_apex(releases: list[dict[str, Any]]) -> str | None:
    """The OAuth callback host of the environment's workspaces proxy (its wildcard's apex)."""
    for release in releases:
        if release["service"] != "gitlab-workspaces-proxy":
            continue
        for host in release["edge"]["hosts"]:
            if not host.startswith("*."):
                return str(host)
    return None


class GitLabSideComponent(pulumi.ComponentResource):
    """Everything the GitLab instance must know or hold for this environment."""

    agent_token: pulumi.Output[str]
    kas_secret: pulumi.Output[str] | None
    proxy_config: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        env: RunwayEnvironment,
        releases: list[dict[str, Any]],
        gitlab_token: pulumi.Input[str],
        project_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("runway:platform:GitLabSide", name, None, opts)
        settings = env.spec.gitlab
        api = gitlab.Provider(
            f"{name}-gitlab",
            base_url=f"{settings.url.rstrip('/')}/api/v4/",
            token=gitlab_token,
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_gitlab = pulumi.ResourceOptions(parent=self, provider=api)
        project = str(settings.agent_project)
        agent = gitlab.ClusterAgent(
            f"{name}-agent", project=project, name=settings.agent, opts=on_gitlab
        )
        gitlab.RepositoryFile(
            f"{name}-agent-config",
            project=project,
            branch=settings.agent_branch,
            file_path=f".gitlab/agents/{settings.agent}/config.yaml",
            content=agent_config(env),
            encoding="text",
            commit_message=f"runway: configure agent {settings.agent} for environment {env.metadata.name}",
            overwrite_on_create=True,
            opts=on_gitlab,
        )
        token = gitlab.ClusterAgentToken(
            f"{name}-agent-token",
            project=project,
            agent_id=agent.agent_id,
            name=f"runway-{env.metadata.name}",
            description=f"runway environment {env.metadata.name}",
            opts=on_gitlab,
        )
        self.agent_token = pulumi.Output.secret(token.token)
        self.runner_token: pulumi.Output[str] | None = None
        if env.spec.stack_creates_the_runner:
            self.runner_token = workspace_runner(name, env, api, on_gitlab)
        self.kas_secret = None
        if any(r["service"] == "kas" for r in releases):
            shared = random.RandomBytes(
                f"{name}-kas-shared-secret", length=32, opts=pulumi.ResourceOptions(parent=self)
            )
            stored = gcp.secretmanager.Secret(
                f"{name}-kas-shared-secret",
                project=project_id,
                secret_id=settings.kas_secret_id,
                replication={"auto": {}},
                labels=env.labels(),
                opts=pulumi.ResourceOptions(parent=self),
            )
            gcp.secretmanager.SecretVersion(
                f"{name}-kas-shared-secret",
                secret=stored.id,
                secret_data=shared.base64,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.kas_secret = pulumi.Output.secret(shared.base64)
        self.proxy_config = None
        apex = proxy_apex(releases)
        if apex is not None:
            application = gitlab.Application(
                f"{name}-workspaces-proxy",
                name=f"GitLab workspaces proxy ({env.metadata.name})",
                redirect_url=f"https://{apex}/auth/callback",
                scopes=PROXY_SCOPES,
                confidential=True,
                opts=on_gitlab,
            )
            signing = random.RandomPassword(
                f"{name}-workspaces-proxy-signing-key",
                length=64,
                special=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.proxy_config = pulumi.Output.secret(
                pulumi.Output.all(
                    application.application_id, application.secret, signing.result
                ).apply(
                    lambda parts: proxy_config(
                        settings.url, apex, str(parts[0]), str(parts[1]), str(parts[2])
                    )
                )
            )
        self.register_outputs({"agentId": agent.agent_id})


def workspace_runner(
    name: str, env: RunwayEnvironment, api: gitlab.Provider, on_gitlab: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """The fleet's group runner, created with the fleet's tags (a runner authentication token
    carries its tags from GitLab; the chart cannot set them), and its token, kept secret."""
    fleet = env.spec.runner_fleet
    assert fleet is not None and fleet.group is not None
    group = gitlab.get_group_output(
        full_path=fleet.group, opts=pulumi.InvokeOptions(parent=on_gitlab.parent, provider=api)
    )
    runner = gitlab.UserRunner(
        f"{name}-workspace-runner",
        runner_type="group_type",
        group_id=group.group_id,
        tag_lists=list(fleet.tags),
        untagged=False,
        description=f"runway workspaces ({env.metadata.name})",
        opts=on_gitlab,
    )
    return pulumi.Output.secret(runner.token)


def agent_config(env: RunwayEnvironment) -> str:
    """The agent's config file (JSON is YAML): the environment's workspaces, on its DNS zone."""
    config = {
        "remote_development": {
            "enabled": True,
            "dns_zone": env.spec.dns.workspaces,
            "network_policy": {"enabled": True},
        }
    }
    return json.dumps(config, indent=2) + "\n"


def proxy_config(
    gitlab_url: str, apex: str, client_id: str, client_secret: str, signing_key: str
) -> str:
    """The workspaces proxy's one configuration file (gitlab-workspaces-proxy pkg/config)."""
    return (
        json.dumps(
            {
                "auth": {
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "host": gitlab_url,
                    "redirect_uri": f"https://{apex}/auth/callback",
                    "signing_key": signing_key,
                    "protocol": "https",
                },
                "http": {"enabled": True, "port": 9876},
                "ssh": {"enabled": False},
            },
            indent=2,
        )
        + "\n"
    )


def service_secrets(
    side: GitLabSideComponent, env: RunwayEnvironment
) -> dict[str, dict[str, dict[str, pulumi.Input[str]]]]:
    """The Secrets the charts reference that the GitLab side fills, by service (KAS's only when
    no secret store reads it from Secret Manager: see `external_secrets`)."""
    found: dict[str, dict[str, dict[str, pulumi.Input[str]]]] = {}
    if side.kas_secret is not None and env.spec.gitlab.secret_store is None:
        found["kas"] = {KAS_SECRET: {KAS_SECRET_KEY: side.kas_secret}}
    if side.proxy_config is not None:
        found["gitlab-workspaces-proxy"] = {PROXY_CONFIG_SECRET: {"config.yaml": side.proxy_config}}
    return found


def external_secrets(
    env: RunwayEnvironment, releases: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """With a secret store: KAS's Secret as an ExternalSecret reading Secret Manager, so the
    shared secret never passes through Pulumi into the cluster."""
    store = env.spec.gitlab.secret_store
    namespaces = {r["service"]: r["namespace"] for r in releases}
    if store is None or "kas" not in namespaces or not env.spec.gitlab.agent_project:
        return {}
    return {
        "kas": [
            {
                "apiVersion": "external-secrets.io/v1",
                "kind": "ExternalSecret",
                "metadata": {"name": KAS_SECRET, "namespace": namespaces["kas"]},
                "spec": {
                    "refreshInterval": "1h",
                    "secretStoreRef": {"name": store.name, "kind": store.kind},
                    "target": {"name": KAS_SECRET, "creationPolicy": "Owner"},
                    "data": [
                        {
                            "secretKey": KAS_SECRET_KEY,
                            "remoteRef": {"key": env.spec.gitlab.kas_secret_id},
                        }
                    ],
                },
            }
        ]
    }
