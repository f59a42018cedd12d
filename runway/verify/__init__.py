"""verify: a chart directory → a report (lint, render, schemas, hardening). Nothing is printed."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runway.common import contract_data, parallel, yamlio
from runway.common.kube import PLACEHOLDER_IMAGE
from runway.common.mappings import merge
from runway.errors import VerifyError

if TYPE_CHECKING:
    from runway.helm import LoadedChart

LINT_KUBE_VERSION = "v1.31.0"
LINTED = "representative values"
"""Helm's lint runs once, where the most template paths are switched on; every other set of
values is rendered, which fails on what lint would find in templates."""
RELEASE = "verify"
NAMESPACE = "verify-ns"


@dataclasses.dataclass
class ChartReport:
    chart: str
    problems: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    objects: int = 0
    renders: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"ok": self.ok}


def _hardened_container(name: str, *, probed: bool = False) -> dict[str, Any]:
    probe = {"exec": {"command": ["/bin/true"]}, "periodSeconds": 30}
    return {
        "name": name,
        **({"livenessProbe": probe, "readinessProbe": probe} if probed else {}),
        "image": "registry.example.com/verify/helper:1.0.0",
        "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"cpu": "100m", "memory": "64Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }


def representative_values(defaults: dict[str, Any]) -> dict[str, Any]:
    """Non-default values that switch on every optional template path."""
    listeners = defaults.get("listeners") or {}
    first = next(iter(listeners), None)
    values: dict[str, Any] = {
        "gateway": {
            "enabled": True,
            "parentRefs": [{"name": "external", "namespace": "gateway-system"}],
            "create": {
                "enabled": first is not None,
                "className": "gke-l7-global-external-managed",
                "certificateMap": "verify-certs",
            },
            "healthCheck": {
                "enabled": True,
                "port": (listeners.get(first) or {}).get("port", 8080),
                "path": "/",
            },
        },
        "registration": {
            "enabled": True,
            "url": "https://gitlab.example.com/api/v4/satellite_services/registrations",
            "tokenSecret": {"name": "verify-registration"},
        },
        "metrics": {"enabled": True, "kind": "PodMonitoring", "ports": [9090]},
        "autoscaling": {"enabled": False},
        "replicaCount": 3,
        "global": {"imageRegistry": "mirror.example.com", "imagePullSecrets": ["mirror-pull"]},
        "image": {"digest": "sha256:" + "a" * 64},
        "serviceAccount": {"gcpServiceAccount": "svc@project.iam.gserviceaccount.com"},
        "networkPolicy": {
            "cloudflare": {"enabled": True},
            "ingressNamespaceSelector": {"kubernetes.io/metadata.name": "ingress"},
        },
        "env": {"EXTRA": "value-${region}"},
        "secrets": {
            "extra-generated": {"generate": {"bytes": 32}, "file": "/etc/extra/generated"},
            "extra-external": {
                "external": {"store": "vault", "path": "runway/extra", "property": "value"},
                "env": "EXTRA_EXTERNAL",
            },
        },
        "configFiles": [
            *(defaults.get("configFiles") or []),
            {"key": "extra.conf", "path": "/etc/extra/extra.conf", "content": "a = 1\n"},
        ],
        "redis": {
            "sentinels": ["sentinel-0:26379"],
            "masterName": "main",
            "password": {"name": "redis", "key": "password"},
        },
        "rbac": {"rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]},
        "secretEnvFrom": ["extra-env"],
        "secretVolumes": [{"name": "extra-volume", "path": "/var/secrets/extra"}],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["a"]}]}
                    ]
                }
            }
        },
        "priorityClassName": "high",
        "podSecurityContext": {
            "fsGroupChangePolicy": "OnRootMismatch",
            "supplementalGroups": [20000],
            "seLinuxOptions": {"level": "s0:c123,c456"},
        },
        "containerSecurityContext": {
            "appArmorProfile": {"type": "RuntimeDefault"},
            "seLinuxOptions": {"level": "s0:c123,c456"},
        },
        "commonLabels": {"team": "verify"},
        "commonAnnotations": {"owner": "verify"},
        "extraEnvVars": [{"name": "EXTRA_VAR", "value": "1"}],
        "extraEnvVarsCM": "extra-env-cm",
        "extraEnvVarsSecret": "extra-env-secret",
        "extraVolumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "64Mi"}}],
        "extraVolumeMounts": [{"name": "scratch", "mountPath": "/var/scratch"}],
        "sidecars": [_hardened_container("log-shipper", probed=True)],
        "initContainers": [_hardened_container("prepare")],
    }
    if first is not None:
        values["listeners"] = {first: {"exposure": "public", "host": "*.verify.example.com"}}
    return values


def rendered_objects(
    rendered: dict[str, str], parsed: dict[str, list[Any]] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(template, object) for every object Helm rendered, in template order. `parsed` keeps the
    documents of each text already read: most templates render alike under every set of values,
    and checks only read objects, so renders of one chart share them."""
    parsed = {} if parsed is None else parsed
    found: list[tuple[str, dict[str, Any]]] = []
    for template, text in sorted(rendered.items()):
        if not template.endswith((".yaml", ".yml")):
            continue
        if text not in parsed:
            parsed[text] = [obj for obj in yamlio.load_all(text) if obj]
        found.extend((template, obj) for obj in parsed[text])
    return found


def verify_chart(chart: Path, *, threads: int = 1) -> ChartReport:
    """Every check of one chart. `threads` > 1 runs Helm's lint and renders side by side (the
    engine releases the GIL and a loaded chart may be shared between threads): worth it when
    this process has the cores to itself."""
    from runway import helm

    report = ChartReport(chart=str(chart))
    try:
        defaults = yamlio.load((chart / "values.yaml").read_text()) or {}
        meta = yamlio.load((chart / "Chart.yaml").read_text()) or {}
        loaded = helm.load(chart, values_schema=False)
    except (OSError, ValueError) as err:
        report.problems.append(f"cannot read the chart: {err}")
        return report
    except VerifyError as err:
        report.problems.append(f"Helm cannot read the chart: {err}")
        return report
    helm_work = concurrent.futures.ThreadPoolExecutor(threads) if threads > 1 else _InTurn()
    with loaded, helm_work:
        _verify_loaded(chart, loaded, defaults, meta, report, helm_work)
    return report


class _InTurn(concurrent.futures.Executor):
    """Each call made as it is handed over, on this thread: Helm's work when the cores are
    taken (by other verify processes, or RUNWAY_JOBS=1)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except Exception as err:  # handed to whoever asks for the result, as a thread would
            done.set_exception(err)
        return done


def _verify_loaded(
    chart: Path,
    loaded: LoadedChart,
    defaults: dict[str, Any],
    meta: dict[str, Any],
    report: ChartReport,
    helm_work: concurrent.futures.Executor,
) -> None:
    """Every check, with the chart read by Helm once and rendered under each set of values.
    Helm's work is handed to `helm_work` up front; its results are checked in a fixed order."""
    from runway import helm
    from runway.verify import contracts, values_schema, wiring

    contract = _contract(meta, report)
    imageless = not (defaults.get("image") or {}).get("repository")
    base = PLACEHOLDER_IMAGE if imageless else {}
    cases = {
        "default values": base,
        "representative values": merge(base, representative_values(defaults)),
    }
    profiles = {
        f"profile {path.stem}": merge(base, yamlio.load(path.read_text()) or {})
        for path in sorted((chart / "profiles").glob("*.yaml"))
    }
    render = functools.partial(
        _render, loaded, None if loaded.validates_values else values_schema.checker(chart)
    )
    # The longest call first. The render of the same values validates them against the schema.
    linted = helm_work.submit(helm.lint, chart, cases[LINTED], LINT_KUBE_VERSION, schema=False)
    refusal = helm_work.submit(render, None) if imageless else None
    renders = {
        label: helm_work.submit(render, values) for label, values in {**cases, **profiles}.items()
    }
    if refusal is not None:
        _check_refusal(refusal, report)
    checked: dict[str, list[str]] = {}  # schema problems by object: shared objects are checked once
    parsed: dict[str, list[Any]] = {}
    schema_broken = False
    for label, rendering in renders.items():
        values = {**cases, **profiles}[label]
        form = label in cases  # profiles: the same templates, so function checks only
        if label == LINTED:
            result = linted.result()
            report.problems.extend(f"lint ({label}): {e}" for e in result.errors)
            report.warnings.extend(f"lint ({label}): {w}" for w in result.warnings)
        try:
            objects = rendered_objects(rendering.result(), parsed)
        except (VerifyError, yamlio.InvalidYAML) as err:
            report.problems.append(f"render ({label}): {err}")
            continue
        report.renders += 1
        malformed = form and _check_form(label, objects, checked, report)
        if malformed or (not form and schema_broken):
            schema_broken = True
            if form:
                report.problems.append(
                    f"{label}: wiring and contract checks skipped: they judge well-formed "
                    "objects, so fix the schema problems first"
                )
            continue
        found = [obj for _, obj in objects]
        effective = merge(defaults, values)
        report.problems.extend(f"{label}: {p}" for p in wiring.check(found, effective))
        if contract and label != "representative values":
            version = str(meta.get("appVersion", ""))
            report.problems.extend(
                f"{label}: {p}" for p in contracts.check(contract, found, effective, version)
            )


def _render(
    loaded: LoadedChart,
    check: Callable[[dict[str, Any]], list[str]] | None,
    values: dict[str, Any] | None,
) -> dict[str, str]:
    """Helm's render, after `check` (the values schema, compiled once) where Helm's own render
    does not check the values: refused values raise VerifyError, as Helm's render would."""
    if check is not None:
        refused = check(loaded.merged_values(values))
        if refused:
            raise VerifyError("; ".join(refused))
    return loaded.render(values, name=RELEASE, namespace=NAMESPACE)


def _contract(meta: dict[str, Any], report: ChartReport) -> str:
    """The component contract Chart.yaml names, or "" (reported) when runway does not know it."""
    contract = str((meta.get("annotations") or {}).get(contract_data.ANNOTATION, ""))
    if contract and contract not in contract_data.names():
        report.problems.append(
            f"Chart.yaml names contract {contract!r}, which runway does not know "
            f"(known: {', '.join(contract_data.names())})"
        )
        return ""
    return contract


def _check_refusal(refusal: concurrent.futures.Future[dict[str, str]], report: ChartReport) -> None:
    """A chart built without an image must refuse to render without one (every other render
    gets a placeholder image)."""
    try:
        refusal.result()
        report.problems.append("renders without an image although none was built in")
    except VerifyError as err:
        if "image.repository is required" not in str(err):
            report.problems.append(f"render without an image: {err}")


def _check_form(
    label: str,
    objects: list[tuple[str, dict[str, Any]]],
    checked: dict[str, list[str]],
    report: ChartReport,
) -> bool:
    """Schema, hardening and CEL checks of every object; True when any object is malformed.
    Objects shared between renders are schema-checked once (`checked`)."""
    from runway.verify import cel, hardening, kube

    malformed = False
    for template, obj in objects:
        report.objects += 1
        where = f"{label}: {template}: {obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
        key = json.dumps(obj, sort_keys=True)
        if key not in checked:
            checked[key] = kube.validate_object(json.loads(key))
        malformed = malformed or bool(checked[key])
        report.problems.extend(f"{where}: {p}" for p in checked[key])
        assessment = hardening.assess(obj)
        report.problems.extend(f"{label}: {p}" for p in assessment.problems)
        report.warnings.extend(
            w for w in (f"hardening: {a}" for a in assessment.accepted) if w not in report.warnings
        )
        report.problems.extend(f"{label}: {p}" for p in cel.check(obj))
    return malformed


def verify_charts(charts: list[Path]) -> Iterator[ChartReport]:
    """Verify charts on every core, yielding each report, in the order given, as soon as it and
    those before it are done: in processes, or, when there are too few charts for processes,
    in this one with Helm's work on two threads beside the checks."""
    alone = parallel.processes(len(charts), PER_WORKER) <= 1 and parallel.jobs() > 1
    job = functools.partial(verify_chart, threads=2 if alone else 1)
    return parallel.ordered_map(job, charts, at_least=PER_WORKER)


PER_WORKER = 2
"""Charts a verify worker process must have to be worth its start."""
