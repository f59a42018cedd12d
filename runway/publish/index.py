"""Helm repository `index.yaml`: read one (ours or GitLab's), add an entry without losing any."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from runway.common import nesting
from runway.errors import PublishError
from runway.publish.archive import GITLAB_VERSIONS, ChartArchive
from runway.versions import parse_version

Index = dict[str, Any]


def empty_index() -> Index:
    return {"apiVersion": "v1", "entries": {}}


INDEX_MAX_DEPTH = 64
"""Deeper than any Helm repository index nests; refused before the (recursive) reader sees it."""


def parse_index(text: str, source: str) -> Index:
    """Round-trip load, so that entries written by other tools come back out unchanged."""
    if (
        nesting.may_nest(text, INDEX_MAX_DEPTH)
        and nesting.deeper_than(YAML(typ="safe"), text, INDEX_MAX_DEPTH) is not None
    ):
        raise PublishError(
            f"{source}: index.yaml nests deeper than {INDEX_MAX_DEPTH} levels, so it is "
            "not a Helm repository index; fix or restore it"
        )
    try:
        loaded = YAML(typ="rt").load(text)
    except YAMLError as err:
        raise PublishError(f"{source}: index.yaml is not YAML ({err}); fix or restore it") from None
    if loaded is None:
        return empty_index()
    if not isinstance(loaded, dict) or not isinstance(loaded.get("entries") or {}, dict):
        raise PublishError(f"{source}: index.yaml is not a Helm repository index")
    loaded.setdefault("apiVersion", "v1")
    loaded["entries"] = loaded.get("entries") or {}
    return loaded


def dump_index(index: Index) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(index, out)
    return out.getvalue()


def entry_for(archive: ChartArchive, url: str, created: str) -> dict[str, Any]:
    """An index entry as Helm writes it: the Chart.yaml fields plus urls, created and digest."""
    entry = dict(archive.metadata)
    entry.update(
        {"urls": [url], "created": created, "digest": archive.digest.removeprefix("sha256:")}
    )
    return entry


def with_entry(index: Index, entry: Mapping[str, Any], generated: str) -> Index:
    """A copy of `index` holding `entry` (replacing only the same name and version)."""
    name, version = str(entry["name"]), str(entry["version"])
    entries = {key: list(value) for key, value in index["entries"].items()}
    versions = [e for e in entries.get(name, []) if str(e.get("version")) != version]
    versions.append(dict(entry))
    versions.sort(key=_version_key, reverse=True)
    entries[name] = versions
    return {**index, "entries": dict(sorted(entries.items())), "generated": generated}


def _version_key(entry: Mapping[str, Any]) -> Any:
    try:
        return (1, parse_version(str(entry.get("version"))))
    except ValueError:
        return (0, str(entry.get("version")))


def versions_of(index: Index, name: str) -> list[dict[str, Any]]:
    """The entries of chart `name`, leaving out what Helm itself skips as invalid (an entry
    without a name or a version)."""
    listed = index["entries"].get(name)
    return [
        e
        for e in (listed if isinstance(listed, list) else [])
        if isinstance(e, dict) and e.get("name") and e.get("version")
    ]


def gitlab_versions_of(entry: Mapping[str, Any]) -> str | None:
    annotations = entry.get("annotations")
    value = annotations.get(GITLAB_VERSIONS) if isinstance(annotations, dict) else None
    return str(value) if value else None


def digest_of(entry: Mapping[str, Any]) -> str | None:
    digest = entry.get("digest")
    if not digest:
        return None
    text = str(digest)
    return text if text.startswith("sha256:") else f"sha256:{text}"
