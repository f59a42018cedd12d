"""The Kubernetes backend: a devfile → the objects the agent applies for one workspace.

A Deployment (the tools injector as an init container into a shared volume; the main container
running the start script; the devfile's other containers beside it), a PersistentVolumeClaim per
devfile volume and for /projects, a Service for the endpoints, a ServiceAccount without a token,
and a NetworkPolicy. The agent's token is a *reference* to a Secret the agent creates. Everything
is hardened like our charts; a devfile that needs what hardening forbids is refused, naming the
field.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from runway.errors import Diagnostic, ManifestError
from runway.workspace import start
from runway.workspace.ci_job import check_post_start
from runway.workspace.devfile import Container, Workspace

UID = 65532
DEFAULT_REQUESTS = {"cpu": "250m", "memory": "512Mi"}
DEFAULT_LIMITS = {"cpu": "2", "memory": "4Gi"}
TOOLS_DIR = "/gl-tools"
TOKEN_DIR = "/var/run/gl-agent"


@dataclasses.dataclass(frozen=True, slots=True)
class ManifestOptions:
    workspace: str
    namespace: str
    kas_address: str
    projects_size: str = "10Gi"
    tools_image: str = start.TOOLS_IMAGE


def _name(options: ManifestOptions, suffix: str = "") -> str:
    return f"ws-{options.workspace}{'-' + suffix if suffix else ''}"[:63].rstrip("-")


def token_secret(options: ManifestOptions) -> str:
    return _name(options, "agent-token")


def _labels(options: ManifestOptions) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "workspace",
        "app.kubernetes.io/instance": options.workspace,
        "app.kubernetes.io/managed-by": "runway",
    }


def _security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _resources(container: Container) -> dict[str, Any]:
    requests = {
        "cpu": container.cpu_request or DEFAULT_REQUESTS["cpu"],
        "memory": container.memory_request or DEFAULT_REQUESTS["memory"],
    }
    limits = {
        "cpu": container.cpu_limit or DEFAULT_LIMITS["cpu"],
        "memory": container.memory_limit or DEFAULT_LIMITS["memory"],
    }
    return {"requests": requests, "limits": limits}


def _probe(port: int) -> dict[str, Any]:
    return {"tcpSocket": {"port": port}, "periodSeconds": 10, "failureThreshold": 6}


def check(workspace: Workspace) -> list[Diagnostic]:
    """What a hardened pod cannot do for this devfile."""
    problems = check_post_start(workspace)
    for container in (workspace.main, *workspace.others):
        for endpoint in container.endpoints:
            if endpoint.port < 1024:
                problems.append(
                    Diagnostic(
                        workspace.file,
                        f"port {endpoint.port} needs root to bind; workspaces run as UID {UID}, "
                        "use a port of 1024 or above",
                        field=endpoint.field,
                    )
                )
        if container is not workspace.main and not container.endpoints:
            problems.append(
                Diagnostic(
                    workspace.file,
                    f"container {container.name!r} has no endpoint, so it cannot be health-checked; "
                    "declare the port it listens on",
                    field=f"{container.field}.endpoints",
                )
            )
    return problems


def manifests(workspace: Workspace, options: ManifestOptions) -> list[dict[str, Any]]:
    problems = check(workspace)
    if problems:
        raise ManifestError(problems)
    labels = _labels(options)
    meta = {"namespace": options.namespace, "labels": labels}
    claims: list[dict[str, Any]] = [_claim(_name(options, "projects"), options.projects_size, meta)]
    volumes: list[dict[str, Any]] = [
        {"name": "projects", "persistentVolumeClaim": {"claimName": _name(options, "projects")}},
        {"name": "gl-tools", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}},
        {"name": "home", "emptyDir": {"sizeLimit": "2Gi"}},
        {
            "name": "agent-token",
            "secret": {"secretName": token_secret(options), "defaultMode": 0o400},
        },
    ]
    for volume in workspace.volumes:
        if volume.ephemeral:
            volumes.append({"name": f"dv-{volume.name}", "emptyDir": {}})
        else:
            claim = _name(options, volume.name)
            claims.append(_claim(claim, volume.size or "1Gi", meta))
            volumes.append(
                {"name": f"dv-{volume.name}", "persistentVolumeClaim": {"claimName": claim}}
            )
    env = [
        {"name": "GL_TOOLS_DIR", "value": TOOLS_DIR},
        {"name": "PROJECTS_ROOT", "value": "/projects"},
        {"name": "PROJECT_SOURCE", "value": "/projects"},
        {"name": start.TOKEN_VARIABLE, "value": f"{TOKEN_DIR}/token"},
        {"name": "GL_WORKSPACE_NAME", "value": options.workspace},
        {"name": "HOME", "value": "/home/workspace"},
    ]
    env += [
        {"name": key, "value": value}
        for key, value in start.start_variables(workspace, kas_address=options.kas_address).items()
    ]
    env += [{"name": key, "value": value} for key, value in workspace.main.env.items()]
    main = {
        "name": workspace.main.name,
        "image": workspace.main.image,
        "imagePullPolicy": "IfNotPresent",
        "env": env,
        "ports": [{"name": "editor", "containerPort": start.EDITOR_PORT}]
        + [_port(e.name, e.port) for e in workspace.main.endpoints],
        "resources": _resources(workspace.main),
        "securityContext": _security_context(),
        "readinessProbe": _probe(start.EDITOR_PORT),
        "livenessProbe": _probe(start.EDITOR_PORT),
        "volumeMounts": [
            {"name": "projects", "mountPath": "/projects"},
            {"name": "gl-tools", "mountPath": TOOLS_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "home", "mountPath": "/home/workspace"},
            {"name": "agent-token", "mountPath": TOKEN_DIR, "readOnly": True},
            *_mounts(workspace.main),
        ],
    }
    if workspace.main.override_command:
        main["command"] = ["/bin/sh", "-c", start.SCRIPT]
    else:
        _command(main, workspace.main)
    sidecars = []
    for container in workspace.others:
        sidecar: dict[str, Any] = {
            "name": container.name,
            "image": container.image,
            "imagePullPolicy": "IfNotPresent",
            "env": [{"name": k, "value": v} for k, v in container.env.items()],
            "ports": [_port(e.name, e.port) for e in container.endpoints],
            "resources": _resources(container),
            "securityContext": _security_context(),
            "readinessProbe": _probe(container.endpoints[0].port),
            "livenessProbe": _probe(container.endpoints[0].port),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]
            + ([{"name": "projects", "mountPath": "/projects"}] if container.mount_sources else [])
            + _mounts(container),
        }
        _command(sidecar, container)
        sidecars.append(sidecar)
    injector = {
        "name": "gl-tools-injector",
        "image": options.tools_image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", "-c", start.INJECT],
        "env": [{"name": "GL_TOOLS_DIR", "value": TOOLS_DIR}],
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": _security_context(),
        "volumeMounts": [{"name": "gl-tools", "mountPath": TOOLS_DIR}],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": _name(options), **meta},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": _name(options),
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UID,
                        "runAsGroup": UID,
                        "fsGroup": UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "initContainers": [injector],
                    "containers": [main, *sidecars],
                    "volumes": volumes,
                },
            },
        },
    }
    service_ports = [{"name": "editor", "port": start.EDITOR_PORT, "targetPort": start.EDITOR_PORT}]
    for container in (workspace.main, *workspace.others):
        service_ports += [
            {"name": e.name[:15], "port": e.port, "targetPort": e.port} for e in container.endpoints
        ]
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": _name(options), **meta},
            "automountServiceAccountToken": False,
        },
        *claims,
        deployment,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": _name(options), **meta},
            "spec": {"type": "ClusterIP", "selector": labels, "ports": service_ports},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": _name(options), **meta},
            "spec": {
                "podSelector": {"matchLabels": labels},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
            },
        },
    ]


def _claim(name: str, size: str, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, **meta},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
    }


def _port(name: str, port: int) -> dict[str, Any]:
    return {"name": name[:15], "containerPort": port}


def _mounts(container: Container) -> list[dict[str, Any]]:
    return [{"name": f"dv-{name}", "mountPath": path} for name, path in container.volume_mounts]


def _command(target: dict[str, Any], container: Container) -> None:
    if container.command:
        target["command"] = list(container.command)
    if container.args:
        target["args"] = list(container.args)
