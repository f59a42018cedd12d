"""The workspace runner fleet on a cluster: the upstream GitLab Runner chart with runway's
hardened profile (`runway/workspace/runner.py`), its token in a Secret from stack config."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from runway.manifest.environment import RunwayEnvironment
from runway.platform.charts import repository_release
from runway.workspace import runner


def fleet_of(env: RunwayEnvironment) -> runner.Fleet | None:
    spec = env.spec.runner_fleet
    if spec is None:
        return None
    return runner.Fleet(
        gitlab_url=env.spec.gitlab.url,
        tags=tuple(spec.tags),
        concurrency=spec.concurrency,
        max_cpu=spec.max_cpu,
        max_memory=spec.max_memory,
    )


class RunnerFleetComponent(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        fleet: runner.Fleet,
        token: pulumi.Input[str],
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("runway:platform:RunnerFleet", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        restricted = {"pod-security.kubernetes.io/enforce": "restricted"}
        namespace = k8s.core.v1.Namespace(
            f"{name}-runner", metadata={"name": fleet.namespace, "labels": restricted}, opts=child
        )
        jobs = k8s.core.v1.Namespace(
            f"{name}-jobs",
            metadata={"name": fleet.jobs_namespace, "labels": restricted},
            opts=child,
        )
        in_namespaces = pulumi.ResourceOptions(
            parent=self, provider=provider, depends_on=[namespace, jobs]
        )
        for obj in runner.fleet_rbac(fleet, {"app.kubernetes.io/managed-by": "runway"}):
            kind, meta = obj["kind"], obj["metadata"]
            resource = f"{name}-{kind.lower()}-{meta['namespace']}-{meta['name']}"
            if kind == "ServiceAccount":
                k8s.core.v1.ServiceAccount(
                    resource,
                    metadata=meta,
                    automount_service_account_token=obj.get("automountServiceAccountToken"),
                    opts=in_namespaces,
                )
            elif kind == "Role":
                k8s.rbac.v1.Role(resource, metadata=meta, rules=obj["rules"], opts=in_namespaces)
            else:
                k8s.rbac.v1.RoleBinding(
                    resource,
                    metadata=meta,
                    role_ref=obj["roleRef"],
                    subjects=obj["subjects"],
                    opts=in_namespaces,
                )
        secret = k8s.core.v1.Secret(
            f"{name}-runner-token",
            metadata={"name": fleet.token_secret, "namespace": namespace.metadata.name},
            string_data={"runner-token": token, "runner-registration-token": ""},
            opts=child,
        )
        self.release = repository_release(
            f"{name}-runner",
            runner.RUNNER_CHART,
            release="workspaces-runner",
            namespace=namespace.metadata.name,
            values=runner.values(fleet),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[secret]),
        )
        self.register_outputs({"status": self.release.status})
