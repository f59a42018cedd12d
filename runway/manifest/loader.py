"""From files to validated manifest models, with every problem located in one pass.

`load_paths` is the one entry point: it discovers service directories and loose manifest files,
parses each file once, validates every document, and groups them into `Service` values. It never
raises for bad input: problems come back as diagnostics.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pydantic

from runway.errors import Diagnostic
from runway.manifest import _types, kubernetes, literal_secrets, models
from runway.manifest._yaml import Document, parse_documents, read_text
from runway.manifest.assembly import assemble, check_unique_names
from runway.manifest.diagnostics import KINDS, pydantic_diagnostics
from runway.manifest.discovery import (
    KUBE_DEPLOYMENT,
    discover,
    display_path,
    role_of,
)
from runway.manifest.service import LoadResult, Manifest, Service

_API_VERSIONS = {models.API_V1, models.API_DEV}


def load_paths(paths: Iterable[str | os.PathLike[str]]) -> LoadResult:
    """Load every service found under the given files and directories."""
    groups = discover(paths)
    services: list[Service] = []
    diagnostics: list[Diagnostic] = []
    files: list[str] = []
    for directory, group in groups:
        loaded, problems = load_group(directory, group)
        services.extend(loaded)
        diagnostics.extend(problems)
        files.extend(display_path(p) for p in group)
    check_unique_names(services, diagnostics)
    return LoadResult(services, diagnostics, files)


def load_group(directory: Path, files: list[Path]) -> tuple[list[Service], list[Diagnostic]]:
    """The services of one directory, as `discover` grouped its files."""
    diagnostics: list[Diagnostic] = []
    bases: list[tuple[Manifest, Document]] = []
    env_manifests: dict[str, list[tuple[Manifest, Document]]] = {}
    env_vars: dict[str, dict[str, str]] = {}
    deployments: dict[str, list[tuple[kubernetes.RunwayKubernetesDeployment, Document]]] = {}
    for file in files:
        display = display_path(file)
        role, env = role_of(file.name) or ("loose", None)
        text, problem = read_text(file, display, root=directory)
        if problem is not None or text is None:
            diagnostics.append(problem or Diagnostic(display, "cannot read file"))
            continue
        documents, problems = parse_documents(text, display)
        diagnostics.extend(problems)
        if problems:
            continue
        documents = [d for d in documents if d.data is not None]
        for document in documents:
            diagnostics.extend(literal_secrets.scan(document, text, whole=role == "env-vars"))
        if role == "env-vars":
            assert env is not None
            env_vars[env] = _env_vars(documents, display, diagnostics)
            continue
        if not documents:
            diagnostics.append(
                Diagnostic(
                    display,
                    "file is empty: expected a Runway manifest",
                    hint="start from `runway schema` or an example in manifests/",
                )
            )
            continue
        for document in documents:
            model = validate_document(document, diagnostics)
            if model is None:
                continue
            if isinstance(model, kubernetes.RunwayKubernetesDeployment):
                if role != "kube-deployment":
                    env = _deployment_env(file.name)
                deployments.setdefault(env or "default", []).append((model, document))
            elif role == "env-manifest":
                assert env is not None
                env_manifests.setdefault(env, []).append((model, document))
            else:
                bases.append((model, document))
    services = assemble(directory, files, bases, env_manifests, env_vars, deployments, diagnostics)
    return services, diagnostics


def _deployment_env(name: str) -> str:
    match = KUBE_DEPLOYMENT.match(name)
    return match["env"] if match else Path(name).stem


def _env_vars(
    documents: list[Document], display: str, diagnostics: list[Diagnostic]
) -> dict[str, str]:
    """An `env-<env>.yml` file: one flat mapping of variable names to scalar values."""
    result: dict[str, str] = {}
    if len(documents) > 1:
        diagnostics.append(
            Diagnostic(display, "an env file holds one document", *documents[1].position(()))
        )
    if not documents:
        return result
    document = documents[0]
    if not isinstance(document.data, dict):
        diagnostics.append(
            Diagnostic(
                display, "an env file is a flat mapping of NAME: value", *document.position(())
            )
        )
        return result
    for key, value in document.data.items():
        line, column = document.position((key,), prefer_key=True)
        if not isinstance(key, str) or not re.match(_types.ENV_NAME, key):
            diagnostics.append(
                Diagnostic(
                    display,
                    f"{key!r} is not a valid environment variable name",
                    line,
                    column,
                    hint="use letters, digits and _ (not starting with a digit)",
                )
            )
            continue
        if isinstance(value, dict | list) or value is None:
            diagnostics.append(
                Diagnostic(
                    display,
                    "values must be strings, numbers or booleans",
                    *document.position((key,)),
                    field=str(key),
                )
            )
            continue
        result[key] = str(_types._stringify(value))
    return result


def validate_document(document: Document, diagnostics: list[Diagnostic]) -> Any:
    """Validate one document against the model its apiVersion and kind select."""
    data = document.data
    if not isinstance(data, dict):
        diagnostics.append(
            Diagnostic(
                document.file,
                "a manifest must be a mapping with apiVersion, kind, metadata and spec",
                *document.position(()),
            )
        )
        return None
    for field in ("apiVersion", "kind"):
        if field in data and not isinstance(data[field], str):
            diagnostics.append(
                Diagnostic(
                    document.file,
                    f"{field} must be a string, not {type(data[field]).__name__}",
                    *document.position((field,)),
                    field=field,
                    hint="e.g. apiVersion: runway/v1 and kind: RunwayService",
                )
            )
            return None
    api_version = data.get("apiVersion", models.API_V1)
    kind = data.get("kind")
    if api_version == models.API_BETA:
        diagnostics.append(
            Diagnostic(
                document.file,
                f"apiVersion {models.API_BETA} is Runway's 2023 beta format and is no longer accepted",
                *document.position(("apiVersion",)),
                field="apiVersion",
                hint="set apiVersion: runway/v1, replace metadata.owner with metadata.owner_email_handle, "
                "and pass the image from CI (runway build --image) instead of spec.image",
            )
        )
        return None
    if api_version not in _API_VERSIONS:
        diagnostics.append(
            Diagnostic(
                document.file,
                f"unknown apiVersion {api_version!r}",
                *document.position(("apiVersion",)),
                field="apiVersion",
                hint="use runway/v1 (Runway's contract) or runway/v1+dev (with runway's extensions)",
            )
        )
        return None
    if kind == "RunwayEnvironment":
        diagnostics.append(
            Diagnostic(
                document.file,
                "a RunwayEnvironment describes a GKE environment, not a service",
                *document.position(("kind",)),
                field="kind",
                hint=f"check it with: runway stack plan {document.file}",
            )
        )
        return None
    if kind not in KINDS:
        where = ("kind",) if "kind" in data else ()
        diagnostics.append(
            Diagnostic(
                document.file,
                "missing kind" if kind is None else f"unknown kind {kind!r}",
                *document.position(where),
                field="kind",
                hint=f"one of: {', '.join(KINDS)}",
            )
        )
        return None
    candidates = KINDS[kind]
    model = candidates[-1] if api_version == models.API_DEV else candidates[0]
    if api_version == models.API_DEV and len(candidates) == 1:
        diagnostics.append(
            Diagnostic(
                document.file,
                f"{kind} has no runway/v1+dev form",
                *document.position(("apiVersion",)),
                field="apiVersion",
                hint="use apiVersion: runway/v1",
            )
        )
        return None
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as err:
        diagnostics.extend(pydantic_diagnostics(document, err, api_version=api_version))
        return None
