"""Helm releases of charts from Helm repositories (Flux, the agent, the runner fleet)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def repository_release(
    resource_name: str,
    chart: tuple[str, str, str],
    *,
    release: str,
    namespace: pulumi.Input[str],
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """`chart` is (name, repository URL, pinned version); installs are atomic."""
    name, repository, version = chart
    return k8s.helm.v3.Release(
        resource_name,
        name=release,
        chart=name,
        version=version,
        repository_opts={"repo": repository},
        namespace=namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        opts=opts,
    )
