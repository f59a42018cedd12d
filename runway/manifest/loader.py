"""From files to validated manifest models, with every problem located in one pass.

`load_paths` is the one entry point: it discovers service directories and loose manifest files,
parses each file once, validates every document, and groups them into `Service` values. It never
raises for bad input: problems come back as diagnostics.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pydantic

from runway.common.mappings import merge
from runway.errors import Diagnostic, UsageError
from runway.manifest import _types, kubernetes, literal_secrets, models
from runway.manifest._yaml import Document, FieldPath, parse_documents, read_text
from runway.manifest.service import LoadResult, Manifest, Service

BASE_NAMES = ("runway.yml", "runway.yaml")
KUBE_SERVICE_NAME = "default-values.yaml"
_ENV_MANIFEST = re.compile(r"^runway-(?P<env>[a-z0-9][-a-z0-9_]*)\.ya?ml$")
_ENV_VARS = re.compile(r"^env-(?P<env>[a-z0-9][-a-z0-9_]*)\.ya?ml$")
_KUBE_DEPLOYMENT = re.compile(
    r"^(?P<runtime>[a-z0-9]+)-service-(?P<env>[a-z0-9][-a-z0-9_]*)\.ya?ml$"
)
_SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__", "dist"})

_KINDS: dict[str, tuple[type[pydantic.BaseModel], ...]] = {
    "RunwayService": (models.RunwayService, models.RunwayServiceDev),
    "RunwayKubernetesService": (kubernetes.RunwayKubernetesService,),
    "RunwayKubernetesDeployment": (kubernetes.RunwayKubernetesDeployment,),
}
_API_VERSIONS = {models.API_V1, models.API_DEV}


def load_paths(paths: Iterable[str | os.PathLike[str]]) -> LoadResult:
    """Load every service found under the given files and directories."""
    groups = discover(paths)
    services: list[Service] = []
    diagnostics: list[Diagnostic] = []
    files: list[str] = []
    for directory, group in groups:
        loaded, problems = _load_group(directory, group)
        services.extend(loaded)
        diagnostics.extend(problems)
        files.extend(_display(p) for p in group)
    _check_unique_names(services, diagnostics)
    return LoadResult(services, diagnostics, files)


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[Path, list[Path]]]:
    """Group manifest files by directory; a named file is taken whatever its name."""
    grouped: dict[Path, set[Path]] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            grouped.setdefault(path.parent, set()).add(path)
        elif path.is_dir():
            found = list(_walk(path))
            if not found:
                raise UsageError(
                    f"{path}: no Runway manifests found (looked for runway.yml, runway-<env>.yml, "
                    "env-<env>.yml, default-values.yaml and <runtime>-service-<env>.yaml)"
                )
            for file in found:
                grouped.setdefault(file.parent, set()).add(file)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return [(directory, sorted(files)) for directory, files in sorted(grouped.items())]


def _walk(root: Path) -> Iterable[Path]:
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(
            d for d in subdirs if d not in _SKIP_DIRS and (not d.startswith(".") or d == ".runway")
        )
        for name in sorted(names):
            if _role(name) is not None:
                yield Path(directory) / name


def _role(name: str) -> tuple[str, str | None] | None:
    if name in BASE_NAMES:
        return ("base", None)
    if name == KUBE_SERVICE_NAME:
        return ("kube-service", None)
    for role, pattern in (
        ("env-manifest", _ENV_MANIFEST),
        ("env-vars", _ENV_VARS),
        ("kube-deployment", _KUBE_DEPLOYMENT),
    ):
        match = pattern.match(name)
        if match:
            return (role, match["env"])
    return None


def _display(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path.absolute()) if relative.startswith("..") else relative


def _load_group(directory: Path, files: list[Path]) -> tuple[list[Service], list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    bases: list[tuple[Manifest, Document]] = []
    env_manifests: dict[str, list[tuple[Manifest, Document]]] = {}
    env_vars: dict[str, dict[str, str]] = {}
    deployments: dict[str, list[tuple[kubernetes.RunwayKubernetesDeployment, Document]]] = {}
    for file in files:
        display = _display(file)
        role, env = _role(file.name) or ("loose", None)
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
    services = _assemble(directory, files, bases, env_manifests, env_vars, deployments, diagnostics)
    return services, diagnostics


def _deployment_env(name: str) -> str:
    match = _KUBE_DEPLOYMENT.match(name)
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
    if kind not in _KINDS:
        where = ("kind",) if "kind" in data else ()
        diagnostics.append(
            Diagnostic(
                document.file,
                "missing kind" if kind is None else f"unknown kind {kind!r}",
                *document.position(where),
                field="kind",
                hint=f"one of: {', '.join(_KINDS)}",
            )
        )
        return None
    candidates = _KINDS[kind]
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


def pydantic_diagnostics(
    document: Document,
    err: pydantic.ValidationError,
    *,
    prefix: FieldPath = (),
    api_version: str = models.API_V1,
) -> list[Diagnostic]:
    """Translate pydantic's errors into located diagnostics (one per problem, in file order)."""
    found: list[Diagnostic] = []
    for error in err.errors(include_url=False):
        loc: FieldPath = (*prefix, *(p for p in error["loc"] if isinstance(p, str | int)))
        kind = error["type"]
        message = str(error["msg"]).removeprefix("Value error, ")
        hint = ""
        key = loc[-1] if loc else ""
        if kind == "extra_forbidden":
            message = f"unknown field {key!r}"
            if api_version == models.API_V1 and key in models.EXTENSION_FIELDS:
                hint = "this is a runway extension: set apiVersion: runway/v1+dev to use it"
            else:
                close = difflib.get_close_matches(
                    str(key), [f for f in _known_fields() if f != key], n=1, cutoff=0.75
                )
                if key in _known_fields():
                    hint = f"{key!r} is a field elsewhere in the manifest; check the indentation"
                elif close:
                    hint = f"did you mean {close[0]!r}?"
                else:
                    hint = "remove it; unknown fields are refused"
        elif kind == "missing":
            message = "required field is missing"
        line, column = document.position(loc, prefer_key=kind == "extra_forbidden")
        found.append(
            Diagnostic(document.file, message, line, column, field=_dotted(loc), hint=hint)
        )
    return sorted(found, key=lambda d: (d.line or 0, d.column or 0))


def _dotted(path: FieldPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@functools.cache
def _known_fields() -> tuple[str, ...]:
    names: set[str] = set()
    pending: list[type[pydantic.BaseModel]] = [m for group in _KINDS.values() for m in group]
    seen: set[type[pydantic.BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            names.add(field.alias or name)
            pending.extend(_nested_models(field.annotation))
    return tuple(sorted(names))


def _nested_models(annotation: Any) -> list[type[pydantic.BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _nested_models(arg)]


_Slots = dict[str, dict[str, Any]]
"""Service name → its base manifest, environment manifests and Kubernetes deployment bodies."""


def _slot(by_name: _Slots, name: str) -> dict[str, Any]:
    return by_name.setdefault(name, {"base": None, "environments": {}, "deployments": {}})


def _assemble(
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
                directory=_display(directory),
                base=slot["base"],
                environments=slot["environments"],
                env_vars=dict(sorted(env_vars.items())),
                deployments=slot["deployments"],
                files=tuple(_display(f) for f in files),
            )
        )
    if env_vars and not by_name and not diagnostics:
        diagnostics.append(
            Diagnostic(
                _display(directory),
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
                        _display(directory / f"env-{env}.yml"),
                        f"variable {secret.env!r} is also secret {secret.name!r} of service {name!r}",
                        field=secret.env,
                        hint="a secret may not share its name with a plain variable: rename one",
                    )
                )


def _check_unique_names(services: list[Service], diagnostics: list[Diagnostic]) -> None:
    seen: dict[str, Service] = {}
    for service in services:
        chart = _types.kubernetes_name(service.name)
        if chart in seen:
            diagnostics.append(
                Diagnostic(
                    service.directory,
                    f"service {service.name!r} has the same chart name {chart!r} as the service in {seen[chart].directory}",
                    hint="service names must stay unique after '_' becomes '-'",
                )
            )
        else:
            seen[chart] = service
