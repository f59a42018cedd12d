"""OCI registries (the distribution API), laid out as Helm lays out charts.

A chart is a manifest with Helm's config (Chart.yaml as JSON) and content layers, tagged with its
version, exactly what `helm push` writes, plus a provenance layer when the archive is signed. The
manifest carries no timestamp unless SOURCE_DATE_EPOCH is set, so the same archive gives the same
manifest digest wherever it is pushed from.

A stage is a repository: `PATH/STAGE/NAME`. Promotion mounts the blobs into the next stage's
repository and puts the same manifest bytes there, so the digest cannot change.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import httpx
import pydantic

from runway.errors import PublishError, UsageError
from runway.publish.archive import GITLAB_VERSIONS, ChartArchive, sha256_digest
from runway.publish.http import HttpClient, RetryPolicy, json_body, registry_credentials
from runway.publish.registry import Release

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.cncf.helm.config.v1+json"
CONTENT = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
PROVENANCE = "application/vnd.cncf.helm.chart.provenance.v1.prov"
_PATH = re.compile(
    r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$"
)


def helm_manifest(archive: ChartArchive, created: str | None) -> tuple[bytes, bytes, list[bytes]]:
    """(config, manifest, blobs) for `archive`, in the layout Helm's own push uses."""
    metadata = dict(archive.metadata)
    config = json.dumps(metadata, sort_keys=True, separators=(",", ":")).encode()
    blobs = [config, archive.data]
    layers = [_descriptor(CONTENT, archive.data)]
    if archive.provenance is not None:
        blobs.append(archive.provenance)
        layers.append(_descriptor(PROVENANCE, archive.provenance))
    annotations = {str(k): str(v) for k, v in (metadata.get("annotations") or {}).items()}
    annotations["org.opencontainers.image.title"] = archive.name
    annotations["org.opencontainers.image.version"] = archive.version
    for field, key in (("description", "description"), ("home", "url")):
        if metadata.get(field):
            annotations[f"org.opencontainers.image.{key}"] = str(metadata[field])
    if created:
        annotations["org.opencontainers.image.created"] = created
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": _descriptor(CONFIG, config),
        "layers": layers,
        "annotations": dict(sorted(annotations.items())),
    }
    return config, json.dumps(manifest, separators=(",", ":")).encode(), blobs


class _Descriptor(pydantic.BaseModel):
    """A content descriptor, by the OCI image spec's field names."""

    mediaType: str = ""
    digest: str


class _Manifest(pydantic.BaseModel):
    """What runway reads of an image manifest (OCI image spec): the rest is kept as sent."""

    config: _Descriptor
    layers: list[_Descriptor] = []
    annotations: dict[str, str] = {}


class _TagList(pydantic.BaseModel):
    """The distribution spec's tag list (`null` for a repository without tags)."""

    tags: list[str] | None = None


def _descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256_digest(data), "size": len(data)}


def created_from(environ: Mapping[str, str]) -> str | None:
    raw = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw.isdigit():
        return None
    moment = datetime.datetime.fromtimestamp(int(raw), tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class OciRegistry:
    def __init__(
        self, url: str, *, plain_http: bool, retry: RetryPolicy, environ: Mapping[str, str]
    ) -> None:
        rest = url.removeprefix("oci://").strip("/")
        host, _, path = rest.partition("/")
        if not host or any(c in rest for c in "?#@ "):
            raise UsageError(f"{url}: expected oci://HOST[:PORT]/PATH")
        if path and not _PATH.match(path):
            raise UsageError(
                f"{url}: {path!r} is not a valid OCI repository path (lowercase letters and "
                "digits, separated by '/', '.', '_' or '-', not at either end)"
            )
        self.location = url.rstrip("/")
        self.host = host
        self.path = path
        self._base = f"{'http' if plain_http else 'https'}://{host}/v2/"
        self._created = created_from(environ)
        self._http = HttpClient(
            retry=retry, credentials=registry_credentials(host, environ), registry_auth=True
        )

    def close(self) -> None:
        self._http.close()

    def repository(self, name: str, stage: str) -> str:
        return "/".join(part for part in (self.path, stage, name) if part)

    def releases(self, name: str, stage: str) -> list[Release]:
        found = []
        for tag in self._tags(self.repository(name, stage)):
            release = self.find(name, tag.replace("_", "+"), stage)
            if release is not None:
                found.append(release)
        return found

    def find(self, name: str, version: str, stage: str) -> Release | None:
        repository = self.repository(name, stage)
        manifest = self._manifest(repository, version)
        if manifest is None:
            return None
        _, body = manifest
        layers = [layer for layer in body.layers if layer.mediaType == CONTENT]
        if not layers:
            raise PublishError(
                f"oci://{self.host}/{repository}:{version} is not a Helm chart (no chart layer)"
            )
        return Release(
            name=name,
            version=version,
            stage=stage,
            digest=layers[0].digest,
            gitlab_versions=body.annotations.get(GITLAB_VERSIONS) or None,
            reference=f"oci://{self.host}/{repository}",
        )

    def upload(self, archive: ChartArchive, stage: str) -> None:
        repository = self.repository(archive.name, stage)
        _, manifest, blobs = helm_manifest(archive, self._created)
        for blob in blobs:
            self._upload_blob(repository, blob)
        self._put_manifest(repository, _tag(archive.version), manifest)

    def copy(self, release: Release, stage: str) -> None:
        source = self.repository(release.name, release.stage)
        target = self.repository(release.name, stage)
        found = self._manifest(source, release.version)
        if found is None:
            raise PublishError(f"oci://{self.host}/{source}:{release.version} disappeared")
        raw, body = found
        for descriptor in [body.config, *body.layers]:
            self._mount_blob(target, descriptor.digest, source)
        self._put_manifest(target, _tag(release.version), raw)

    def _url(self, repository: str, *parts: str) -> str:
        return self._base + "/".join((repository, *parts))

    def _tags(self, repository: str) -> list[str]:
        tags: list[str] = []
        url: str | None = self._url(repository, "tags", "list")
        while url:
            response = self._http.request("GET", url, ok=(200,))
            if response.status_code == 404:
                return []
            listed = json_body(response, _TagList, "a tag list", f"oci://{self.host}/{repository}")
            tags.extend(listed.tags or [])
            link = response.headers.get("Link", "")
            url = urljoin(url, link[1 : link.index(">")]) if 'rel="next"' in link else None
        return tags

    def _manifest(self, repository: str, reference: str) -> tuple[bytes, _Manifest] | None:
        response = self._http.request(
            "GET",
            self._url(repository, "manifests", _tag(reference)),
            ok=(200,),
            headers={"Accept": MANIFEST},
        )
        if response.status_code == 404:
            return None
        where = f"oci://{self.host}/{repository}:{reference}"
        return response.content, json_body(response, _Manifest, "a manifest", where)

    def _blob_exists(self, repository: str, digest: str) -> bool:
        response = self._http.request("HEAD", self._url(repository, "blobs", digest), ok=(200,))
        return response.status_code == 200

    def _upload_blob(self, repository: str, data: bytes) -> None:
        digest = sha256_digest(data)
        if self._blob_exists(repository, digest):
            return
        start = self._http.request("POST", self._url(repository, "blobs", "uploads", ""), ok=(202,))
        self._finish_upload(repository, start, digest, data)

    def _finish_upload(
        self, repository: str, start: httpx.Response, digest: str, data: bytes
    ) -> None:
        if start.status_code != 202 or "Location" not in start.headers:
            raise PublishError(
                f"oci://{self.host}/{repository}: the registry did not open a blob upload "
                f"(HTTP {start.status_code})"
            )
        location = httpx.URL(urljoin(self._base, start.headers["Location"]))
        self._http.request(
            "PUT",
            str(location.copy_add_param("digest", digest)),
            ok=(201,),
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )

    def _mount_blob(self, repository: str, digest: str, source: str) -> None:
        if self._blob_exists(repository, digest):
            return
        start = self._http.request(
            "POST",
            self._url(repository, "blobs", "uploads", ""),
            ok=(201, 202),
            params={"mount": digest, "from": source},
        )
        if start.status_code == 201:
            return
        blob = self._http.request("GET", self._url(source, "blobs", digest), ok=(200,))
        if blob.status_code != 200 or sha256_digest(blob.content) != digest:
            raise PublishError(f"oci://{self.host}/{source}: blob {digest} cannot be read back")
        self._finish_upload(repository, start, digest, blob.content)

    def _put_manifest(self, repository: str, tag: str, manifest: bytes) -> None:
        response = self._http.request(
            "PUT",
            self._url(repository, "manifests", tag),
            ok=(201,),
            content=manifest,
            headers={"Content-Type": MANIFEST},
        )
        if response.status_code == 404:
            raise PublishError(
                f"oci://{self.host}/{repository}: the registry refused the manifest (HTTP 404)"
            )


def _tag(version: str) -> str:
    """OCI tags cannot hold `+`; Helm writes build metadata with `_` instead."""
    return version.replace("+", "_")
