"""Assembly: validated documents of one directory → `Service` values, with the problems only
visible across files (a service defined twice, a deployment naming no service, secret names)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic

from runway.common.mappings import merge
from runway.errors import Diagnostic
from runway.manifest import _types, kubernetes, models
from runway.manifest._yaml import Document
from runway.manifest.diagnostics import pydantic_diagnostics
from runway.manifest.discovery import KUBE_SERVICE_NAME, display_path
from runway.manifest.service import Manifest, Service

_Slots = dict[str, dict[str, Any]]
"""Service name → its base manifest, environment manifests and Kubernetes deployment bodies."""


def _slot(by_name: _Slots, name: str) -> dict[str, Any]:
    return by_name.setdefault(name, {"base": None, "environments": {}, "deployments": {}})


def assemble(
    directory: Path,
    files: list[Path],
    bases: list[tuple[Manifest, Document]],
    env_manifests: dict[str, list[tuple[Manifest, Document]]],
    env_vars: dict[str, dict[str, str]],
    deployments: dict[str, list[tuple[kubernetes.RunwayKubernetesDeployment, Document]]],
    diagnostics: list[Diagnostic],
) -> list[Service]:
    by_name: _Slots = {}
    _place_bases(by_name, bases, diagnostics)
    _place_environments(by_name, bases, env_manifests, diagnostics)
    _place_deployments(by_name, deployments, diagnostics)
    services: list[Service] = []
    for name, slot in sorted(by_name.items()):
        manifests = [slot["base"], *slot["environments"].values()]
        for env in env_vars:
            _check_secret_names(
                name,
                [m for m in manifests if m is not None],
                env_vars[env],
                env,
                directory,
                diagnostics,
            )
        services.append(
            Service(
                name=name,
                directory=display_path(directory),
                base=slot["base"],
                environments=slot["environments"],
                env_vars=dict(sorted(env_vars.items())),
                deployments=slot["deployments"],
                files=tuple(display_path(f) for f in files),
            )
        )
    if env_vars and not by_name and not diagnostics:
        diagnostics.append(
            Diagnostic(
                display_path(directory),
                "env files found but no manifest beside them",
                hint="add runway.yml or runway-<env>.yml",
            )
        )
    return services


def _place_bases(
    by_name: _Slots, bases: list[tuple[Manifest, Document]], diagnostics: list[Diagnostic]
) -> None:
    for model, document in bases:
        slot = _slot(by_name, model.metadata.name)
        if slot["base"] is not None:
            diagnostics.append(
                Diagnostic(
                    document.file,
                    f"service {model.metadata.name!r} is defined twice",
                    *document.position(("metadata", "name")),
                    field="metadata.name",
                )
            )
        slot["base"] = model


def _place_environments(
    by_name: _Slots,
    bases: list[tuple[Manifest, Document]],
    env_manifests: dict[str, list[tuple[Manifest, Document]]],
    diagnostics: list[Diagnostic],
) -> None:
    only_base = [m.metadata.name for m, _ in bases] if len(bases) == 1 else []
    for env, items in sorted(env_manifests.items()):
        for model, document in items:
            name = model.metadata.name
            if only_base and name != only_base[0] and len(items) == 1:
                diagnostics.append(
                    Diagnostic(
                        document.file,
                        f"names service {name!r} but runway.yml beside it names {only_base[0]!r}",
                        *document.position(("metadata", "name")),
                        field="metadata.name",
                        hint="an environment file replaces runway.yml for one environment of the same service",
                    )
                )
                continue
            _slot(by_name, name)["environments"][env] = model


def _place_deployments(
    by_name: _Slots,
    deployments: dict[str, list[tuple[kubernetes.RunwayKubernetesDeployment, Document]]],
    diagnostics: list[Diagnostic],
) -> None:
    kube_bases = {
        name: slot["base"]
        for name, slot in by_name.items()
        if isinstance(slot["base"], kubernetes.RunwayKubernetesService)
    }
    for env, pairs in sorted(deployments.items()):
        for deployment, document in pairs:
            for service_id, body in deployment.deployments().items():
                service = kube_bases.get(service_id)
                if service is None:
                    diagnostics.append(
                        Diagnostic(
                            document.file,
                            f"no RunwayKubernetesService named {service_id!r} in {KUBE_SERVICE_NAME} beside it",
                            *document.position((service_id,), prefer_key=True),
                            field=service_id,
                            hint="the top-level key of a deployment file is the service id (metadata.name in default-values.yaml)",
                        )
                    )
                    continue
                merged = _merge_deployment(service, body, env, document, diagnostics)
                if merged is not None:
                    _slot(by_name, service_id)["environments"][env] = merged
                    _slot(by_name, service_id)["deployments"][env] = body


def _merge_deployment(
    service: kubernetes.RunwayKubernetesService,
    body: kubernetes.DeploymentBody,
    env: str,
    document: Document,
    diagnostics: list[Diagnostic],
) -> kubernetes.RunwayKubernetesService | None:
    base_spec = service.spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    merged = merge(base_spec, body.spec)
    try:
        return service.model_copy(
            update={"spec": kubernetes.KubeServiceSpec.model_validate(merged)}
        )
    except pydantic.ValidationError as err:
        service_id = service.metadata.name
        for problem in pydantic_diagnostics(document, err, prefix=(service_id, "spec")):
            diagnostics.append(
                dataclasses.replace(problem, message=f"{problem.message} (environment {env})")
            )
        return None


def _check_secret_names(
    name: str,
    manifests: list[Manifest],
    plain: dict[str, str],
    env: str,
    directory: Path,
    diagnostics: list[Diagnostic],
) -> None:
    """Runway refuses a secret that shares its name with a plain variable; so do we."""
    for manifest in manifests:
        if not isinstance(manifest, models.RunwayServiceDev):
            continue
        for secret in manifest.spec.secrets:
            if secret.env and secret.env in plain:
                diagnostics.append(
                    Diagnostic(
                        display_path(directory / f"env-{env}.yml"),
                        f"variable {secret.env!r} is also secret {secret.name!r} of service {name!r}",
                        field=secret.env,
                        hint="a secret may not share its name with a plain variable: rename one",
                    )
                )


def check_unique_names(
    services: list[Service],
    diagnostics: list[Diagnostic],
    taken: Mapping[str, str] | None = None,
) -> None:
    """Chart names are unique among `services` and the charts in `taken` (name → directory)."""
    seen: dict[str, str] = dict(taken or {})
    for service in services:
        chart = _types.kubernetes_name(service.name)
        if chart in seen:
            diagnostics.append(
                Diagnostic(
                    service.directory,
                    f"service {service.name!r} has the same chart name {chart!r} as the service in {seen[chart]}",
                    hint="service names must stay unique after '_' becomes '-'",
                )
            )
        else:
            seen[chart] = service.directory
