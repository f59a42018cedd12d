"""What a container really sees: its files (volumes, projections, subPath, items) and its env.

Built from rendered objects only, so the checks in `wiring` and `contracts` judge exactly what the
cluster would run, not what the chart meant to do.
"""

from __future__ import annotations

import base64
import dataclasses
import posixpath
from collections.abc import Iterator
from typing import Any

from runway.common.kube import containers, pod_spec


@dataclasses.dataclass(frozen=True, slots=True)
class Source:
    """Where a file or a directory comes from."""

    kind: str  # configMap, secret, emptyDir, persistentVolumeClaim, downwardAPI, serviceAccountToken, …
    name: str = ""
    key: str = ""  # for a file: the key of the ConfigMap/Secret; empty for a directory

    def describe(self) -> str:
        where = f"{self.kind} {self.name}".strip()
        return f"{where} key {self.key}" if self.key else where


@dataclasses.dataclass(frozen=True, slots=True)
class Mount:
    path: str
    volume: str
    sub_path: str
    read_only: bool


@dataclasses.dataclass
class ContainerView:
    """One container's files and environment, with what each came from."""

    workload: str  # Kind/name
    name: str
    container: dict[str, Any]
    mounts: list[Mount]
    files: dict[str, Source]  # exact file paths
    directories: dict[str, tuple[Source, bool]]  # dir path → (source, contents fully known)
    env: dict[str, str]  # name → description of the source ("value …", "fieldRef …", …)
    env_values: dict[str, str]  # name → literal value, where the chart states one

    @property
    def where(self) -> str:
        return f"{self.workload} container {self.name}"

    def has_path(self, path: str) -> bool:
        """True when `path` exists in this container (a file, a directory, or inside an opaque one)."""
        path = posixpath.normpath(path)
        if path in self.files or path in self.directories:
            return True
        for directory, (_, known) in self.directories.items():
            if not known and path.startswith(directory.rstrip("/") + "/"):
                return True
        return any(f.startswith(path.rstrip("/") + "/") for f in self.files)

    def source_of(self, path: str) -> Source | None:
        return self.files.get(posixpath.normpath(path))

    def ports(self) -> dict[str, int]:
        return {
            str(p.get("name") or p["containerPort"]): int(p["containerPort"])
            for p in self.container.get("ports") or []
            if isinstance(p, dict) and isinstance(p.get("containerPort"), int)
        }

    def args(self) -> list[str]:
        return [str(a) for a in (self.container.get("command") or [])] + [
            str(a) for a in (self.container.get("args") or [])
        ]


@dataclasses.dataclass
class Workload:
    kind: str
    name: str
    labels: dict[str, str]
    pod: dict[str, Any]
    containers: list[ContainerView]

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


def pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    if obj.get("kind") == "Pod":
        return dict((obj.get("metadata") or {}).get("labels") or {})
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return dict(((spec.get("template") or {}).get("metadata") or {}).get("labels") or {})


def index(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) → object."""
    return {(str(o.get("kind")), str((o.get("metadata") or {}).get("name"))): o for o in objects}


def secret_data(obj: dict[str, Any]) -> dict[str, bytes]:
    """A Secret's keys and bytes (data decoded, stringData encoded)."""
    found = {k: base64.b64decode(str(v)) for k, v in (obj.get("data") or {}).items()}
    found.update({k: str(v).encode() for k, v in (obj.get("stringData") or {}).items()})
    return found


def config_data(obj: dict[str, Any]) -> dict[str, bytes]:
    found = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
    found.update({k: base64.b64decode(str(v)) for k, v in (obj.get("binaryData") or {}).items()})
    return found


def workloads(objects: list[dict[str, Any]]) -> Iterator[Workload]:
    by_name = index(objects)
    for obj in objects:
        pod = pod_spec(obj)
        if pod is None:
            continue
        ref = f"{obj['kind']}/{(obj.get('metadata') or {}).get('name')}"
        views = [_container_view(ref, container, pod, by_name) for container in containers(pod)]
        yield Workload(
            kind=str(obj["kind"]),
            name=str((obj.get("metadata") or {}).get("name")),
            labels=pod_labels(obj),
            pod=pod,
            containers=views,
        )


def _volume_entries(
    volume: dict[str, Any], by_name: dict[tuple[str, str], dict[str, Any]]
) -> tuple[Source, dict[str, Source] | None]:
    """A volume's root source and its files by relative path (None: contents unknown)."""
    if "configMap" in volume or "secret" in volume:
        return _keyed(volume, by_name)
    if "projected" in volume:
        files: dict[str, Source] | None = {}
        for source in volume["projected"].get("sources") or []:
            if "configMap" in source or "secret" in source:
                _, entries = _keyed(source, by_name)
            elif "serviceAccountToken" in source:
                path = source["serviceAccountToken"].get("path", "token")
                entries = {path: Source("serviceAccountToken", key=path)}
            elif "downwardAPI" in source:
                entries = {
                    item["path"]: Source("downwardAPI", key=item["path"])
                    for item in source["downwardAPI"].get("items") or []
                }
            else:
                entries = None
            if entries is None or files is None:
                files = None
            else:
                files.update(entries)
        return Source("projected", volume.get("name", "")), files
    if "downwardAPI" in volume:
        return Source("downwardAPI"), {
            item["path"]: Source("downwardAPI", key=item["path"])
            for item in volume["downwardAPI"].get("items") or []
        }
    kind = next((k for k in volume if k != "name"), "unknown")
    claim = (
        (volume.get(kind) or {}).get("claimName", "") if isinstance(volume.get(kind), dict) else ""
    )
    return Source(kind, claim), None


def _keyed(
    volume: dict[str, Any], by_name: dict[tuple[str, str], dict[str, Any]]
) -> tuple[Source, dict[str, Source] | None]:
    if "configMap" in volume:
        kind, ref = "configMap", volume["configMap"]
        name = str(ref.get("name", ""))
        obj = by_name.get(("ConfigMap", name))
        keys = list(config_data(obj)) if obj else None
    else:
        kind, ref = "secret", volume["secret"]
        name = str(ref.get("secretName") or ref.get("name") or "")
        obj = by_name.get(("Secret", name))
        keys = list(secret_data(obj)) if obj else None
    items = ref.get("items")
    if items:
        return Source(kind, name), {
            str(item["path"]): Source(kind, name, str(item["key"])) for item in items
        }
    if keys is None:
        return Source(kind, name), None
    return Source(kind, name), {key: Source(kind, name, key) for key in keys}


def _container_view(
    workload: str,
    container: dict[str, Any],
    pod: dict[str, Any],
    by_name: dict[tuple[str, str], dict[str, Any]],
) -> ContainerView:
    mounts, files, directories = _filesystem(container, pod, by_name)
    env, values = _environment(container, by_name)
    return ContainerView(
        workload=workload,
        name=str(container.get("name")),
        container=container,
        mounts=mounts,
        files=files,
        directories=directories,
        env=env,
        env_values=values,
    )


def _filesystem(
    container: dict[str, Any], pod: dict[str, Any], by_name: dict[tuple[str, str], dict[str, Any]]
) -> tuple[list[Mount], dict[str, Source], dict[str, tuple[Source, bool]]]:
    """The container's mounts, the files they hold, and the directories they make."""
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    mounts: list[Mount] = []
    files: dict[str, Source] = {}
    directories: dict[str, tuple[Source, bool]] = {}
    for mount in container.get("volumeMounts") or []:
        item = Mount(
            path=str(mount.get("mountPath", "")),
            volume=str(mount.get("name", "")),
            sub_path=str(mount.get("subPath", "")),
            read_only=bool(mount.get("readOnly")),
        )
        mounts.append(item)
        volume = volumes.get(item.volume)
        if volume is None:
            continue
        root, entries = _volume_entries(volume, by_name)
        target = posixpath.normpath(item.path) if item.path.startswith("/") else item.path
        if item.sub_path:
            entry = (entries or {}).get(item.sub_path)
            if entry is not None:
                files[target] = entry
            elif entries is None:
                directories[target] = (root, False)
            continue
        directories[target] = (root, entries is not None)
        for relative, source in (entries or {}).items():
            files[posixpath.normpath(posixpath.join(target, relative))] = source
    return mounts, files, directories


def _environment(
    container: dict[str, Any], by_name: dict[tuple[str, str], dict[str, Any]]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each variable with where it comes from, and the literal values that are known."""
    env: dict[str, str] = {}
    values: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = str(source.get("prefix", ""))
        if "configMapRef" in source:
            name = str(source["configMapRef"].get("name"))
            obj = by_name.get(("ConfigMap", name))
            for key, value in (obj.get("data") or {} if obj else {}).items():
                env[prefix + key] = f"configMap {name} key {key}"
                values[prefix + key] = str(value)
        elif "secretRef" in source:
            name = str(source["secretRef"].get("name"))
            obj = by_name.get(("Secret", name))
            for key in secret_data(obj) if obj else {}:
                env[prefix + key] = f"secret {name} key {key}"
    for item in container.get("env") or []:
        name = str(item.get("name"))
        if "value" in item:
            env[name] = "value"
            values[name] = str(item["value"])
        else:
            ref = item.get("valueFrom") or {}
            kind = next(iter(ref), "valueFrom")
            env[name] = f"{kind} {ref.get(kind)}"
    return env, values
