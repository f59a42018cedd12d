"""The workspace runner fleet: a hardened values profile for the upstream GitLab Runner chart.

We do not write a runner chart. The profile sets the Kubernetes executor in its own namespace,
non-privileged jobs with a restricted security context, caps that bound the per-job
KUBERNETES_CPU_*/KUBERNETES_MEMORY_* variables a workspace job asks for, workspace tags,
concurrency, and the runner token from an existing Secret.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from runway.common.kube import parse_quantity

RUNNER_CHART = ("gitlab-runner", "https://charts.gitlab.io", "0.71.0")
RUNNER_SERVICE_ACCOUNT = "workspaces-runner"
JOB_SERVICE_ACCOUNT = "workspace-jobs"
EXECUTOR_RULES = [
    {
        "apiGroups": [""],
        "resources": ["pods", "pods/exec", "pods/attach", "pods/log", "secrets", "configmaps"],
        "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"],
    },
    {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["get"]},
]
"""What the Kubernetes executor does in the jobs namespace: job pods, attaching to them, and
the secrets and config maps it creates for each job (docs.gitlab.com/runner/executors/kubernetes)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Fleet:
    gitlab_url: str = "https://gitlab.example.com"
    token_secret: str = "workspaces-runner-token"
    namespace: str = "gitlab-workspaces-runner"
    jobs_namespace: str = "gitlab-workspaces"
    tags: tuple[str, ...] = ("workspaces",)
    concurrency: int = 20
    job_timeout: str = "8h"
    max_cpu: str = "4"
    max_memory: str = "8Gi"
    default_cpu: str = "500m"
    default_memory: str = "1Gi"
    uid: int = 65532


def values(fleet: Fleet) -> dict[str, Any]:
    """Values for the upstream gitlab-runner chart."""
    config = f'''[[runners]]
  [runners.kubernetes]
    namespace = "{fleet.jobs_namespace}"
    privileged = false
    allow_privilege_escalation = false
    cpu_request = "{fleet.default_cpu}"
    cpu_limit = "{fleet.default_cpu}"
    memory_request = "{fleet.default_memory}"
    memory_limit = "{fleet.default_memory}"
    cpu_request_overwrite_max_allowed = "{fleet.max_cpu}"
    cpu_limit_overwrite_max_allowed = "{fleet.max_cpu}"
    memory_request_overwrite_max_allowed = "{fleet.max_memory}"
    memory_limit_overwrite_max_allowed = "{fleet.max_memory}"
    service_account = "{JOB_SERVICE_ACCOUNT}"
    automount_service_account_token = false
    [runners.kubernetes.pod_security_context]
      run_as_non_root = true
      run_as_user = {fleet.uid}
      run_as_group = {fleet.uid}
      fs_group = {fleet.uid}
    [runners.kubernetes.build_container_security_context]
      allow_privilege_escalation = false
      [runners.kubernetes.build_container_security_context.capabilities]
        drop = ["ALL"]
    [runners.kubernetes.helper_container_security_context]
      allow_privilege_escalation = false
      [runners.kubernetes.helper_container_security_context.capabilities]
        drop = ["ALL"]
    [runners.kubernetes.service_container_security_context]
      allow_privilege_escalation = false
      [runners.kubernetes.service_container_security_context.capabilities]
        drop = ["ALL"]
'''
    return {
        "gitlabUrl": fleet.gitlab_url,
        "concurrent": fleet.concurrency,
        "checkInterval": 3,
        # The chart would create a Role in its own namespace only; jobs run in another, so the
        # bundle brings the runner's ServiceAccount and its Role there (fleet_rbac).
        "rbac": {"create": False},
        "serviceAccount": {"create": False, "name": RUNNER_SERVICE_ACCOUNT},
        "runners": {
            "secret": fleet.token_secret,
            "tags": ",".join(fleet.tags),
            "runUntagged": False,
            "protected": False,
            "name": "gitlab-workspaces",
            "config": config,
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": False,
            "runAsNonRoot": True,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "podSecurityContext": {"runAsUser": 100, "fsGroup": 65533},
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "metrics": {"enabled": True},
    }


def check_caps(fleet: Fleet, requested: dict[str, tuple[str | None, str]]) -> list[str]:
    """Problems of a job's resource variables against the fleet's caps: {variable: (value, field)}."""
    problems = []
    for variable, (value, field) in requested.items():
        if value is None:
            continue
        cap = fleet.max_cpu if "CPU" in variable else fleet.max_memory
        if parse_quantity(value) > parse_quantity(cap):
            problems.append(
                f"{field}: {value} is above the runner fleet's cap of {cap} ({variable})"
            )
    return problems


def fleet_rbac(fleet: Fleet, labels: dict[str, str]) -> list[dict[str, Any]]:
    """The runner's ServiceAccount, the one its config gives job pods, and the runner's rights
    in the jobs namespace: every object the runner's config names."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": RUNNER_SERVICE_ACCOUNT,
                "namespace": fleet.namespace,
                "labels": labels,
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": JOB_SERVICE_ACCOUNT,
                "namespace": fleet.jobs_namespace,
                "labels": labels,
            },
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {
                "name": "workspaces-runner-jobs",
                "namespace": fleet.jobs_namespace,
                "labels": labels,
            },
            "rules": EXECUTOR_RULES,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {
                "name": "workspaces-runner-jobs",
                "namespace": fleet.jobs_namespace,
                "labels": labels,
            },
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "workspaces-runner-jobs",
            },
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": RUNNER_SERVICE_ACCOUNT,
                    "namespace": fleet.namespace,
                }
            ],
        },
    ]


def flux_bundle(fleet: Fleet, *, interval: str = "10m") -> list[dict[str, Any]]:
    """The fleet for a managed self-hosted turn-up: Flux installs the upstream chart."""
    chart, repository, version = RUNNER_CHART
    labels = {"app.kubernetes.io/managed-by": "runway", "app.kubernetes.io/part-of": "workspaces"}
    meta = {"namespace": fleet.namespace, "labels": labels}
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": fleet.namespace,
                "labels": {**labels, "pod-security.kubernetes.io/enforce": "restricted"},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": fleet.jobs_namespace,
                "labels": {**labels, "pod-security.kubernetes.io/enforce": "restricted"},
            },
        },
        *fleet_rbac(fleet, labels),
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": "gitlab", **meta},
            "spec": {"interval": "1h", "url": repository},
        },
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "workspaces-runner", **meta},
            "spec": {
                "interval": interval,
                "chart": {
                    "spec": {
                        "chart": chart,
                        "version": version,
                        "sourceRef": {"kind": "HelmRepository", "name": "gitlab"},
                    }
                },
                "install": {"remediation": {"retries": 3}},
                "upgrade": {"remediation": {"retries": 3, "strategy": "rollback"}},
                "driftDetection": {"mode": "enabled"},
                "values": values(fleet),
            },
        },
    ]
