"""Hardening rules, checked on rendered objects (what the cluster would really get)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

from runway.common.kube import pod_spec

MIN_UID = 10000
EXCEPTIONS_ANNOTATION = "runway.gitlab.com/hardening-exceptions"
CONFINED = ("RuntimeDefault", "Localhost")

__all__ = ["EXCEPTIONS_ANNOTATION", "MIN_UID", "Assessment", "assess", "check"]


class Loosening(NamedTuple):
    """A problem a chart may accept on purpose, naming the exception that accepts it."""

    text: str
    exception: str


class Assessment(NamedTuple):
    problems: list[str]
    accepted: list[str]
    """Loosenings the object declares on purpose (reported, not failed)."""


def check(obj: dict[str, Any]) -> list[str]:
    """Every rule the object breaks, as `Kind/name: problem`."""
    return assess(obj).problems


def assess(obj: dict[str, Any]) -> Assessment:
    """The rules the object breaks, less the loosenings its pods declare with a reason in the
    `runway.gitlab.com/hardening-exceptions` annotation, which are reported as accepted."""
    name = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
    reasons = _declared(obj)
    problems, accepted = [], []
    for found in _problems(obj):
        text, exception = (
            (found.text, found.exception) if isinstance(found, Loosening) else (found, "")
        )
        if reason := reasons.get(exception):
            accepted.append(f"{name}: {text}, accepted on purpose: {reason}")
        else:
            problems.append(f"{name}: {text}")
    return Assessment(problems, accepted)


def _declared(obj: dict[str, Any]) -> dict[str, str]:
    template = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    meta = template if obj.get("kind") != "Pod" else obj.get("metadata") or {}
    text = (meta.get("annotations") or {}).get(EXCEPTIONS_ANNOTATION)
    try:
        reasons = json.loads(text) if isinstance(text, str) else {}
    except (ValueError, RecursionError):  # not JSON, or nested past what json reads
        return {}
    if not isinstance(reasons, dict):
        return {}
    return {str(k): str(v) for k, v in reasons.items() if isinstance(v, str) and v.strip()}


def _problems(obj: dict[str, Any]) -> Iterator[str | Loosening]:
    namespace = (obj.get("metadata") or {}).get("namespace")
    if namespace == "default":
        yield "uses the default namespace"
    if obj.get("kind") == "ServiceAccount" and (obj.get("metadata") or {}).get("name") == "default":
        yield "configures the default service account"
    pod = pod_spec(obj)
    if pod is None:
        return
    is_test = "helm.sh/hook" in ((obj.get("metadata") or {}).get("annotations") or {})
    yield from _pod(pod, is_test)
    pod_context = pod.get("securityContext") or {}
    for init, group in (
        (True, pod.get("initContainers") or []),
        (False, pod.get("containers") or []),
    ):
        for container in group:
            prefix = f"container {container.get('name')}: "
            for found in _container(container, pod_context, probes=not (is_test or init)):
                yield (
                    Loosening(prefix + found.text, found.exception)
                    if isinstance(found, Loosening)
                    else prefix + found
                )


def _pod(pod: dict[str, Any], is_test: bool) -> Iterator[str | Loosening]:
    if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
        yield "shares a host namespace"
    if pod.get("serviceAccountName") in (None, "", "default") and not is_test:
        yield "runs as the default service account"
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            yield f"volume {volume.get('name')} is a hostPath"
    seccomp = ((pod.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
    if seccomp == "Unconfined":
        yield Loosening("pod seccompProfile is Unconfined", "unconfinedSeccomp")
    elif seccomp not in CONFINED:
        yield "pod seccompProfile is not RuntimeDefault or Localhost"
    if pod.get("automountServiceAccountToken") is not False and not _token_needed(pod):
        yield "mounts a service-account token"


def _token_needed(pod: dict[str, Any]) -> bool:
    return pod.get("automountServiceAccountToken") is True


def _container(
    container: dict[str, Any], pod_context: dict[str, Any], *, probes: bool
) -> Iterator[str | Loosening]:
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


def _privileges(context: dict[str, Any]) -> Iterator[str | Loosening]:
    if context.get("allowPrivilegeEscalation") is not False:
        yield "allowPrivilegeEscalation is not false"
    if context.get("privileged"):
        yield "is privileged"
    if context.get("readOnlyRootFilesystem") is not True:
        yield Loosening("root filesystem is writable", "writableRootFilesystem")
    if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
        yield "does not drop ALL capabilities"
    if added := (context.get("capabilities") or {}).get("add"):
        yield Loosening(f"adds capabilities {added}", "addCapabilities")
    if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
        yield Loosening("seccompProfile is Unconfined", "unconfinedSeccomp")
    if (context.get("appArmorProfile") or {}).get("type") == "Unconfined":
        yield Loosening("appArmorProfile is Unconfined", "unconfinedAppArmor")


def _identity(context: dict[str, Any], pod_context: dict[str, Any]) -> Iterator[str | Loosening]:
    if not (context.get("runAsNonRoot") or pod_context.get("runAsNonRoot")):
        yield "runAsNonRoot is not true"
    uid = context.get("runAsUser", pod_context.get("runAsUser"))
    gid = context.get("runAsGroup", pod_context.get("runAsGroup"))
    if not isinstance(uid, int) or uid < MIN_UID:
        yield f"runAsUser {uid} is below {MIN_UID}"
    if not isinstance(gid, int) or gid < MIN_UID:
        yield f"runAsGroup {gid} is below {MIN_UID}"


def _budget_and_ports(container: dict[str, Any]) -> Iterator[str | Loosening]:
    resources = container.get("resources") or {}
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if not (resources.get(kind) or {}).get(resource):
                yield f"has no {resource} {kind[:-1]}"
    for port in container.get("ports") or []:
        if "hostPort" in port:
            yield f"port {port.get('containerPort')} uses a hostPort"
