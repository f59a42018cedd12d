"""Hardening rules, checked on rendered objects (what the cluster would really get)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runway.common.kube import pod_spec

MIN_UID = 10000

__all__ = ["MIN_UID", "check"]


def check(obj: dict[str, Any]) -> list[str]:
    """Every rule the object breaks, as `Kind/name: problem`."""
    name = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
    problems = [f"{name}: {p}" for p in _problems(obj)]
    return problems


def _problems(obj: dict[str, Any]) -> Iterator[str]:
    namespace = (obj.get("metadata") or {}).get("namespace")
    if namespace == "default":
        yield "uses the default namespace"
    if obj.get("kind") == "ServiceAccount" and (obj.get("metadata") or {}).get("name") == "default":
        yield "configures the default service account"
    pod = pod_spec(obj)
    if pod is None:
        return
    is_test = "helm.sh/hook" in ((obj.get("metadata") or {}).get("annotations") or {})
    if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
        yield "shares a host namespace"
    if pod.get("serviceAccountName") in (None, "", "default") and not is_test:
        yield "runs as the default service account"
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            yield f"volume {volume.get('name')} is a hostPath"
    pod_context = pod.get("securityContext") or {}
    if (pod_context.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        yield "pod seccompProfile is not RuntimeDefault"
    if pod.get("automountServiceAccountToken") is not False and not _token_needed(pod):
        yield "mounts a service-account token"
    for init, group in (
        (True, pod.get("initContainers") or []),
        (False, pod.get("containers") or []),
    ):
        for container in group:
            yield from (
                f"container {container.get('name')}: {p}"
                for p in _container(container, pod_context, probes=not (is_test or init))
            )


def _token_needed(pod: dict[str, Any]) -> bool:
    return pod.get("automountServiceAccountToken") is True


def _container(
    container: dict[str, Any], pod_context: dict[str, Any], *, probes: bool
) -> Iterator[str]:
    """Rules for one container; init containers and test pods need no probes (Kubernetes
    forbids probes on init containers)."""
    context = container.get("securityContext") or {}
    yield from _privileges(context)
    yield from _identity(context, pod_context)
    yield from _budget_and_ports(container)
    image = str(container.get("image", ""))
    if image.endswith(":latest") or (":" not in image.rsplit("/", 1)[-1] and "@" not in image):
        yield f"image {image!r} has no pinned tag or digest"
    if probes:
        for probe in ("livenessProbe", "readinessProbe"):
            if probe not in container:
                yield f"has no {probe}"


def _privileges(context: dict[str, Any]) -> Iterator[str]:
    if context.get("allowPrivilegeEscalation") is not False:
        yield "allowPrivilegeEscalation is not false"
    if context.get("privileged"):
        yield "is privileged"
    if context.get("readOnlyRootFilesystem") is not True:
        yield "root filesystem is writable"
    if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
        yield "does not drop ALL capabilities"
    if (context.get("capabilities") or {}).get("add"):
        yield "adds capabilities"


def _identity(context: dict[str, Any], pod_context: dict[str, Any]) -> Iterator[str]:
    if not (context.get("runAsNonRoot") or pod_context.get("runAsNonRoot")):
        yield "runAsNonRoot is not true"
    uid = context.get("runAsUser", pod_context.get("runAsUser"))
    gid = context.get("runAsGroup", pod_context.get("runAsGroup"))
    if not isinstance(uid, int) or uid < MIN_UID:
        yield f"runAsUser {uid} is below {MIN_UID}"
    if not isinstance(gid, int) or gid < MIN_UID:
        yield f"runAsGroup {gid} is below {MIN_UID}"


def _budget_and_ports(container: dict[str, Any]) -> Iterator[str]:
    resources = container.get("resources") or {}
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if not (resources.get(kind) or {}).get(resource):
                yield f"has no {resource} {kind[:-1]}"
    for port in container.get("ports") or []:
        if "hostPort" in port:
            yield f"port {port.get('containerPort')} uses a hostPort"
