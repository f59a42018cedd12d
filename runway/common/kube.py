"""Kubernetes object helpers shared by verify and the offerings."""

from __future__ import annotations

from typing import Any

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "Pod", "CronJob"}

PLACEHOLDER_IMAGE: dict[str, Any] = {
    "image": {"repository": "registry.example.com/verify/placeholder", "tag": "1.0.0"}
}
"""Values that let a chart built without an image render (verify, images): never deployed."""


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
        return (spec.get("template") or {}).get("spec")
    if kind in WORKLOADS:
        return (spec.get("template") or {}).get("spec")
    return None
