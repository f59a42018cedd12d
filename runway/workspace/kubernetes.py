"""The Kubernetes backend: a devfile → the objects GitLab 18.9 makes for one workspace, for the
agent to apply.

GitLab's layout (EE `remote_development`, 18.9.0-pre; contracts §4.1-4.4): a Deployment `<ws>`
whose main container keeps running while its postStart hook clones the project, starts agentw
(KAS-served workspaces) and the editor; the tools injector as the init container
`gl-tools-injector-gl-tools-injector-command-1`; the PVC `<ws>-gl-workspace-data` at /projects in
every container; the Service `<ws>` with `editor-server` 60001 and `ssh-server` 60022; a
ServiceAccount without a token; a NetworkPolicy admitting only the workspaces proxy; the label
`agent.gitlab.com/id` and the annotations `workspaces.gitlab.com/{host-template,id}` the proxy and
KAS discover the workspace by. GitLab's security context (UID 5001, fsGroup 0, no privilege
escalation); beyond GitLab only the RuntimeDefault seccomp profile (docs/workspaces.md says why).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from runway.errors import Diagnostic, ManifestError
from runway.workspace import start
from runway.workspace.ci_job import check_post_start
from runway.workspace.devfile import Container, Workspace

RUN_AS_USER = 5001
DATA_VOLUME = "gl-workspace-data"
SCRIPTS_VOLUME = "gl-workspace-scripts"
SCRIPTS_PATH = "/workspace-scripts"
VARIABLES_VOLUME = "gl-workspace-variables"
VARIABLES_PATH = "/.workspace-data/variables/file"
AGENTW_TOKEN_KEY = "gl_agentw_token"
INJECTOR = "gl-tools-injector-gl-tools-injector-command-1"
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]


@dataclasses.dataclass(frozen=True, slots=True)
class ManifestOptions:
    workspace: str
    namespace: str
    agent_id: str
    workspace_id: str
    dns_zone: str
    project_url: str
    project_path: str
    project_ref: str = "main"
    kas_address: str = ""
    proxy_namespace: str = "gitlab-workspaces"
    data_size: str = "50Gi"
    tools_image: str = start.TOOLS_IMAGE


def file_secret(options: ManifestOptions) -> str:
    """The Secret GitLab's agent fills with the workspace's files (agentw's token among them)."""
    return f"{options.workspace}-file"


def workspace_labels(options: ManifestOptions) -> dict[str, str]:
    """GitLab's labels; the workspace id too, which GitLab adds in shared namespaces and plans to
    add always, so two workspaces in one namespace never select each other's pods."""
    return {
        "agent.gitlab.com/id": options.agent_id,
        "workspaces.gitlab.com/id": options.workspace_id,
    }


def workspace_annotations(options: ManifestOptions) -> dict[str, str]:
    return {
        "workspaces.gitlab.com/host-template": f"{{{{.port}}}}-{options.workspace}.{options.dns_zone}",
        "workspaces.gitlab.com/id": options.workspace_id,
        "workspaces.gitlab.com/max-resources-per-workspace-sha256": hashlib.sha256(
            b"{}"
        ).hexdigest(),
    }


def _container_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _resources(container: Container) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for section, cpu, memory in (
        ("requests", container.cpu_request, container.memory_request),
        ("limits", container.cpu_limit, container.memory_limit),
    ):
        values = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
        if values:
            found[section] = values
    return found


def check(workspace: Workspace) -> list[Diagnostic]:
    """What these objects cannot do for this devfile."""
    problems = check_post_start(workspace)
    for container in (workspace.main, *workspace.others):
        for endpoint in container.endpoints:
            if endpoint.port < 1024:
                problems.append(
                    Diagnostic(
                        workspace.file,
                        f"port {endpoint.port} needs root to bind; workspaces run as UID "
                        f"{RUN_AS_USER} (as GitLab runs them), use a port of 1024 or above",
                        field=endpoint.field,
                    )
                )
            if endpoint.port in (start.EDITOR_PORT, start.SSH_PORT):
                problems.append(
                    Diagnostic(
                        workspace.file,
                        f"port {endpoint.port} is the workspace's own "
                        f"({'editor' if endpoint.port == start.EDITOR_PORT else 'SSH'}); use another",
                        field=endpoint.field,
                    )
                )
    return problems


def manifests(workspace: Workspace, options: ManifestOptions) -> list[dict[str, Any]]:
    problems = check(workspace)
    if problems:
        raise ManifestError(problems)
    ws = options.workspace
    selector = workspace_labels(options)
    meta = {
        "namespace": options.namespace,
        "labels": selector,
        "annotations": workspace_annotations(options),
    }
    volumes, claims = _volumes(workspace, options, meta)
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": ws, **meta},
            "automountServiceAccountToken": False,
        },
        *claims,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{ws}-scripts-configmap", **meta},
            "data": {"gl-poststart-commands.sh": "#!/bin/sh\n" + start.KUBERNETES_POSTSTART},
        },
        _deployment(workspace, options, meta, volumes),
        _service(workspace, ws, meta, selector),
        _network_policy(options, meta, selector),
    ]


_DATA_MOUNT = {"name": DATA_VOLUME, "mountPath": start.DATA_PATH}
_VARIABLES_MOUNT = {"name": VARIABLES_VOLUME, "mountPath": VARIABLES_PATH}


def _common_env(options: ManifestOptions) -> list[dict[str, str]]:
    return [
        {"name": "PROJECTS_ROOT", "value": start.DATA_PATH},
        {"name": "PROJECT_SOURCE", "value": f"{start.DATA_PATH}/{options.project_path}"},
    ]


def _volumes(
    workspace: Workspace, options: ManifestOptions, meta: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pod's volumes and the PersistentVolumeClaims behind them."""
    ws = options.workspace
    volumes: list[dict[str, Any]] = [
        {"name": DATA_VOLUME, "persistentVolumeClaim": {"claimName": f"{ws}-{DATA_VOLUME}"}},
        {
            "name": VARIABLES_VOLUME,
            "projected": {
                "defaultMode": 0o774,
                "sources": [{"secret": {"name": file_secret(options)}}],
            },
        },
        {
            "name": SCRIPTS_VOLUME,
            "projected": {
                "defaultMode": 0o555,
                "sources": [{"configMap": {"name": f"{ws}-scripts-configmap"}}],
            },
        },
    ]
    claims = [_claim(f"{ws}-{DATA_VOLUME}", options.data_size, meta)]
    for volume in workspace.volumes:
        if volume.ephemeral:
            volumes.append({"name": volume.name, "emptyDir": {}})
        else:
            claims.append(_claim(f"{ws}-{volume.name}", volume.size or "1Gi", meta))
            volumes.append(
                {"name": volume.name, "persistentVolumeClaim": {"claimName": f"{ws}-{volume.name}"}}
            )
    return volumes, claims


def _main_container(workspace: Workspace, options: ManifestOptions) -> dict[str, Any]:
    ws = options.workspace
    main_env = [
        {"name": "GL_TOOLS_DIR", "value": start.TOOLS_DIR},
        *_common_env(options),
        {"name": "GL_PROJECT_URL", "value": options.project_url},
        {"name": "GL_PROJECT_REF", "value": options.project_ref},
        {"name": start.TOKEN_VARIABLE, "value": f"{VARIABLES_PATH}/{AGENTW_TOKEN_KEY}"},
        *(
            {"name": k, "value": v}
            for k, v in start.start_variables(workspace, kas_address=options.kas_address).items()
        ),
        *({"name": k, "value": v} for k, v in workspace.main.env.items()),
    ]
    main: dict[str, Any] = {
        "name": workspace.main.name,
        "image": workspace.main.image,
        "imagePullPolicy": "IfNotPresent",
        "env": main_env,
        "envFrom": [{"secretRef": {"name": f"{ws}-env-var", "optional": True}}],
        "ports": [
            {"name": "editor-server", "containerPort": start.EDITOR_PORT, "protocol": "TCP"},
            {"name": "ssh-server", "containerPort": start.SSH_PORT, "protocol": "TCP"},
            *(_port(e.name, e.port) for e in workspace.main.endpoints),
        ],
        "resources": _resources(workspace.main),
        "securityContext": _container_security_context(),
        "volumeMounts": [
            dict(_DATA_MOUNT),
            dict(_VARIABLES_MOUNT),
            {"name": SCRIPTS_VOLUME, "mountPath": SCRIPTS_PATH},
            *_mounts(workspace.main),
        ],
        "lifecycle": {
            "postStart": {
                "exec": {"command": ["/bin/sh", "-c", f"{SCRIPTS_PATH}/gl-poststart-commands.sh"]}
            }
        },
    }
    _command(main, workspace.main)
    return main


def _sidecars(workspace: Workspace, options: ManifestOptions) -> list[dict[str, Any]]:
    sidecars = []
    for container in workspace.others:
        sidecar: dict[str, Any] = {
            "name": container.name,
            "image": container.image,
            "imagePullPolicy": "IfNotPresent",
            "env": [
                *_common_env(options),
                *({"name": k, "value": v} for k, v in container.env.items()),
            ],
            "ports": [_port(e.name, e.port) for e in container.endpoints],
            "resources": _resources(container),
            "securityContext": _container_security_context(),
            "volumeMounts": [dict(_DATA_MOUNT), dict(_VARIABLES_MOUNT), *_mounts(container)],
        }
        _command(sidecar, container)
        sidecars.append(sidecar)
    return sidecars


def _injector(options: ManifestOptions) -> dict[str, Any]:
    """The init container that copies GitLab's tools (editor, agentw) into the data volume."""
    return {
        "name": INJECTOR,
        "image": options.tools_image,
        "imagePullPolicy": "IfNotPresent",
        "env": [{"name": "GL_TOOLS_DIR", "value": start.TOOLS_DIR}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        },
        "securityContext": _container_security_context(),
        "volumeMounts": [dict(_DATA_MOUNT)],
    }


def _deployment(
    workspace: Workspace,
    options: ManifestOptions,
    meta: dict[str, Any],
    volumes: list[dict[str, Any]],
) -> dict[str, Any]:
    ws = options.workspace
    selector = meta["labels"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": ws, **meta},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": selector, "annotations": workspace_annotations(options)},
                "spec": {
                    "serviceAccountName": ws,
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS_USER,
                        "fsGroup": 0,
                        "fsGroupChangePolicy": "OnRootMismatch",
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "initContainers": [_injector(options)],
                    "containers": [
                        _main_container(workspace, options),
                        *_sidecars(workspace, options),
                    ],
                    "volumes": volumes,
                },
            },
        },
    }


def _service(
    workspace: Workspace, ws: str, meta: dict[str, Any], selector: dict[str, str]
) -> dict[str, Any]:
    ports = [
        {"name": "editor-server", "port": start.EDITOR_PORT, "targetPort": start.EDITOR_PORT},
        {"name": "ssh-server", "port": start.SSH_PORT, "targetPort": start.SSH_PORT},
    ]
    for container in (workspace.main, *workspace.others):
        ports += [
            {"name": e.name[:15], "port": e.port, "targetPort": e.port} for e in container.endpoints
        ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": ws, **meta},
        "spec": {"type": "ClusterIP", "selector": selector, "ports": ports},
    }


def _network_policy(
    options: ManifestOptions, meta: dict[str, Any], selector: dict[str, str]
) -> dict[str, Any]:
    """GitLab's: in only from the workspaces proxy; out to DNS and the internet, not private ranges."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": options.workspace, **meta},
        "spec": {
            "podSelector": {"matchLabels": selector},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {
                                    "kubernetes.io/metadata.name": options.proxy_namespace
                                }
                            },
                            "podSelector": {
                                "matchLabels": {"app.kubernetes.io/name": "gitlab-workspaces-proxy"}
                            },
                        }
                    ]
                }
            ],
            "egress": [
                {
                    "ports": [{"port": 53, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            }
                        }
                    ],
                },
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}]},
            ],
        },
    }


def _claim(name: str, size: str, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, **meta},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
    }


def _port(name: str, port: int) -> dict[str, Any]:
    return {"name": name[:15], "containerPort": port, "protocol": "TCP"}


def _mounts(container: Container) -> list[dict[str, Any]]:
    return [{"name": name, "mountPath": path} for name, path in container.volume_mounts]


def _command(target: dict[str, Any], container: Container) -> None:
    """overrideCommand true (GitLab's default): keep the container up, as GitLab does; false: the
    devfile's command and args, or the image's own."""
    if container.override_command:
        target["command"] = ["/bin/sh", "-c"]
        target["args"] = [start.KEEP_ALIVE]
        return
    if container.command:
        target["command"] = list(container.command)
    if container.args:
        target["args"] = list(container.args)
