"""GitLab's package registry Helm API, one channel per stage.

Documented endpoints (docs.gitlab.com/api/packages/helm): upload
`POST {base}/api/{channel}/charts` (multipart field `chart`), index
`GET {base}/{channel}/index.yaml`, download `GET {base}/{channel}/charts/{file}.tgz`, where
`base` is `…/api/v4/projects/:id/packages/helm`. GitLab accepts duplicate versions and serves the
newest, so refusing to overwrite is ours to do; it may also process an upload in the background,
so the read-back after an upload polls.

Authentication, first found wins: RUNWAY_GITLAB_TOKEN (`PRIVATE-TOKEN`), RUNWAY_REGISTRY_USER and
RUNWAY_REGISTRY_PASSWORD (a deploy token, by basic auth), CI_JOB_TOKEN (`JOB-TOKEN`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urljoin

from runway.errors import PublishError
from runway.publish import index as idx
from runway.publish.archive import ChartArchive, parse_archive
from runway.publish.http import Credentials, HttpClient, RetryPolicy
from runway.publish.registry import Release


def auth_for(environ: Mapping[str, str]) -> tuple[dict[str, str], Credentials | None]:
    if environ.get("RUNWAY_GITLAB_TOKEN"):
        return {"PRIVATE-TOKEN": environ["RUNWAY_GITLAB_TOKEN"]}, None
    user, password = environ.get("RUNWAY_REGISTRY_USER"), environ.get("RUNWAY_REGISTRY_PASSWORD")
    if user and password:
        return {}, Credentials(user, password)
    if environ.get("CI_JOB_TOKEN"):
        return {"JOB-TOKEN": environ["CI_JOB_TOKEN"]}, None
    return {}, None


class GitLabChannels:
    def __init__(self, url: str, *, retry: RetryPolicy, environ: Mapping[str, str]) -> None:
        self.base = url.rstrip("/")
        self.location = self.base
        headers, credentials = auth_for(environ)
        self._http = HttpClient(retry=retry, credentials=credentials, headers=headers)

    def close(self) -> None:
        self._http.close()

    def releases(self, name: str, stage: str) -> list[Release]:
        return [self._release(entry, stage) for entry in idx.versions_of(self._index(stage), name)]

    def find(self, name: str, version: str, stage: str) -> Release | None:
        for entry in idx.versions_of(self._index(stage), name):
            if str(entry["version"]) == version:
                return self._release(entry, stage)
        return None

    def upload(self, archive: ChartArchive, stage: str) -> None:
        url = f"{self.base}/api/{stage}/charts"
        response = self._http.request(
            "POST",
            url,
            ok=(200, 201),
            files={"chart": (archive.filename, archive.data, "application/gzip")},
        )
        if response.status_code == 404:
            raise PublishError(
                f"POST {url}: not found (HTTP 404); check the project ID in the URL and that "
                "the token can write to its package registry"
            )

    def copy(self, release: Release, stage: str) -> None:
        archive = self._download(release.name, release.version, release.stage)
        if archive.digest != release.digest:
            raise PublishError(
                f"{release.reference}: {release.name} {release.version} downloads with digest "
                f"{archive.digest}, but the index says {release.digest}"
            )
        self.upload(archive, stage)

    def _index(self, stage: str) -> idx.Index:
        url = f"{self.base}/{stage}/index.yaml"
        response = self._http.request("GET", url, ok=(200,))
        if response.status_code == 404:
            return idx.empty_index()
        return idx.parse_index(response.text, url)

    def _download(
        self, name: str, version: str, stage: str, entry: dict[str, object] | None = None
    ) -> ChartArchive:
        """The archive of a version; `entry` (its index entry) saves a fetch of the index."""
        if entry is None:
            entry = next(
                (
                    e
                    for e in idx.versions_of(self._index(stage), name)
                    if str(e["version"]) == version
                ),
                {},
            )
        urls = entry.get("urls")
        first = urls[0] if isinstance(urls, list) and urls else f"charts/{name}-{version}.tgz"
        url = urljoin(f"{self.base}/{stage}/", str(first))
        response = self._http.request("GET", url, ok=(200,))
        if response.status_code == 404:
            raise PublishError(f"GET {url}: {name} {version} is listed but cannot be downloaded")
        return parse_archive(Path(url.rsplit("/", 1)[-1]), response.content)

    def _release(self, entry: dict[str, object], stage: str) -> Release:
        name, version = str(entry["name"]), str(entry["version"])
        digest = idx.digest_of(entry)
        compatibility = idx.gitlab_versions_of(entry)
        if digest is None or "annotations" not in entry:
            archive = self._download(name, version, stage, entry)
            digest = digest or archive.digest
            compatibility = archive.gitlab_versions
        return Release(
            name=name,
            version=version,
            stage=stage,
            digest=digest,
            gitlab_versions=compatibility,
            reference=f"{self.base}/{stage}",
        )
