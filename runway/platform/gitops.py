"""GitOps on a cluster: Flux from its Helm chart, and the GitLab agent with its token from a Secret."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from runway.manifest.environment import RunwayEnvironment
from runway.platform.charts import repository_release

FLUX_CHART = ("flux2", "https://fluxcd-community.github.io/helm-charts", "2.16.4")
AGENT_CHART = ("gitlab-agent", "https://charts.gitlab.io", "2.21.0")
AGENT_TOKEN_SECRET = "gitlab-agent-token"


def kas_address(env: RunwayEnvironment) -> str:
    if env.spec.gitlab.kas_address:
        return env.spec.gitlab.kas_address
    host = env.spec.gitlab.url.removeprefix("https://").split("/")[0]
    return f"wss://kas.{host}"


class GitOpsComponent(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        env: RunwayEnvironment,
        agent_token: pulumi.Input[str],
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("runway:platform:GitOps", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        flux_namespace = k8s.core.v1.Namespace(
            f"{name}-flux-system", metadata={"name": "flux-system"}, opts=child
        )
        self.flux = repository_release(
            f"{name}-flux",
            FLUX_CHART,
            release="flux",
            namespace=flux_namespace.metadata.name,
            values={"policies": {"create": True}, "prometheus": {"podMonitor": {"create": False}}},
            opts=child,
        )
        agent_namespace = k8s.core.v1.Namespace(
            f"{name}-gitlab-agent",
            metadata={
                "name": "gitlab-agent",
                "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
            },
            opts=child,
        )
        token = k8s.core.v1.Secret(
            f"{name}-agent-token",
            metadata={"name": AGENT_TOKEN_SECRET, "namespace": agent_namespace.metadata.name},
            string_data={"token": agent_token},
            opts=child,
        )
        self.agent = repository_release(
            f"{name}-agent",
            AGENT_CHART,
            release=env.spec.gitlab.agent,
            namespace=agent_namespace.metadata.name,
            values={
                "config": {"kasAddress": kas_address(env), "secretName": AGENT_TOKEN_SECRET},
                "replicas": 2,
            },
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[token]),
        )
        self.register_outputs({"flux": self.flux.status, "agent": self.agent.status})
