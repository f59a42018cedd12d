"""HTTP for every registry: credentials from the environment, bounded retries, one clear error.

Transient failures (connection refused or reset, timeouts, 429 and 5xx answers) are retried with
exponential backoff up to a bound; anything else becomes a `PublishError` naming the URL and what
to do. Secrets never appear in messages.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pydantic
import tenacity

from runway.errors import PublishError

TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})

Shape = TypeVar("Shape", bound=pydantic.BaseModel)


def json_body(response: httpx.Response, shape: type[Shape], what: str, where: str) -> Shape:
    """The JSON a server answered, read as `shape`; a PublishError naming `where` and `what`
    otherwise. A registry is not ours: a body that is not JSON, has another shape or nests
    absurdly deep (pydantic's JSON reader bounds the depth) is one message, never a traceback."""
    try:
        return shape.model_validate_json(response.content)
    except pydantic.ValidationError as err:
        first = err.errors()[0]
        at = ".".join(str(part) for part in first["loc"])
        raise PublishError(
            f"{where}: the registry returned {what} runway cannot read "
            f"({at + ': ' if at else ''}{first['msg']}); is it an OCI registry?"
        ) from None


class _Token(pydantic.BaseModel):
    """A token service's answer (the distribution spec's token auth: `token`, or OAuth's
    `access_token`)."""

    token: str | None = None
    access_token: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    wait: float = 0.5
    max_wait: float = 10.0
    timeout: float = 30.0
    settle: float = 1.0
    """Seconds to wait before the last read-back, so a racing publish of the same version
    that moved the tag just after ours is seen (and ours reported as lost, not published)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RetryPolicy:
        """RUNWAY_RETRY_ATTEMPTS, RUNWAY_RETRY_WAIT (first backoff, seconds), RUNWAY_HTTP_TIMEOUT,
        RUNWAY_PUBLISH_SETTLE."""
        default = cls()
        try:
            return cls(
                attempts=max(1, int(environ.get("RUNWAY_RETRY_ATTEMPTS", default.attempts))),
                wait=float(environ.get("RUNWAY_RETRY_WAIT", default.wait)),
                timeout=float(environ.get("RUNWAY_HTTP_TIMEOUT", default.timeout)),
                settle=float(environ.get("RUNWAY_PUBLISH_SETTLE", default.settle)),
            )
        except ValueError as err:
            raise PublishError(f"bad retry setting in the environment: {err}") from None


@dataclasses.dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = dataclasses.field(repr=False)


def registry_credentials(host: str, environ: Mapping[str, str]) -> Credentials | None:
    """RUNWAY_REGISTRY_USER/_PASSWORD; else CI's CI_REGISTRY_USER/_PASSWORD, only for CI_REGISTRY's host.

    CI's registry token is scoped to the project's own registry, so it is never sent elsewhere.
    """
    user, password = environ.get("RUNWAY_REGISTRY_USER"), environ.get("RUNWAY_REGISTRY_PASSWORD")
    if user and password:
        return Credentials(user, password)
    ci_host = environ.get("CI_REGISTRY", "")
    if ci_host and ci_host == host:
        user, password = environ.get("CI_REGISTRY_USER"), environ.get("CI_REGISTRY_PASSWORD")
        if user and password:
            return Credentials(user, password)
    return login_file_credentials(host, environ)


def login_files(environ: Mapping[str, str]) -> list[Path]:
    """Where `helm registry login` and `docker login` keep logins, in that order."""
    home = Path(environ.get("HOME", "~")).expanduser()
    config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [
        Path(environ.get("HELM_REGISTRY_CONFIG") or config / "helm" / "registry" / "config.json"),
        Path(environ.get("DOCKER_CONFIG") or home / ".docker") / "config.json",
    ]


def login_file_credentials(host: str, environ: Mapping[str, str]) -> Credentials | None:
    """A login `helm registry login HOST` or `docker login HOST` stored for `host` (the `auths`
    entries with a base64 `user:password`; credential helpers are not consulted)."""
    for path in login_files(environ):
        try:
            auths = json.loads(path.read_text()).get("auths") or {}
        except (OSError, ValueError, AttributeError, RecursionError):
            continue
        for key, entry in auths.items():
            if key.removeprefix("https://").removeprefix("http://").rstrip("/") != host:
                continue
            try:
                user, _, password = base64.b64decode(entry.get("auth", "")).decode().partition(":")
            except (ValueError, AttributeError):
                continue
            if user and password:
                return Credentials(user, password)
    return None


class _Transient(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        super().__init__(f"HTTP {response.status_code} {response.reason_phrase}")


class RegistryAuth(httpx.Auth):
    """The distribution auth handshake: answer a 401 challenge with Basic or a Bearer token.

    A Bearer token is fetched from the realm the registry names, for the scope it asks, and reused
    for later requests to the same repository.
    """

    def __init__(self, credentials: Credentials | None, client: httpx.Client) -> None:
        self._credentials = credentials
        self._client = client
        self._headers: dict[str, str] = {}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        key = _repository_key(request.url.path)
        if key in self._headers:
            request.headers["Authorization"] = self._headers[key]
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("WWW-Authenticate", "")
        header = self._answer(challenge)
        if header is None:
            return
        self._headers[key] = header
        request.headers["Authorization"] = header
        yield request

    def _answer(self, challenge: str) -> str | None:
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "basic" and self._credentials is not None:
            return _basic(self._credentials)
        if scheme.lower() != "bearer":
            return None
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        realm = fields.pop("realm", "")
        if not realm:
            return None
        auth = (
            httpx.BasicAuth(self._credentials.username, self._credentials.password)
            if self._credentials
            else None
        )
        answer = self._client.get(realm, params=fields, auth=auth)
        if answer.status_code != 200:
            return None
        body = json_body(answer, _Token, "a token answer", _safe(realm))
        token = body.token or body.access_token
        return f"Bearer {token}" if token else None


def _basic(credentials: Credentials) -> str:
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _repository_key(path: str) -> str:
    match = re.match(r"^/v2/(.+?)/(?:manifests|blobs|tags)/", path)
    return match.group(1) if match else path


class HttpClient:
    """One connection pool, one retry policy, one auth handler for a registry."""

    def __init__(
        self,
        *,
        retry: RetryPolicy,
        credentials: Credentials | None = None,
        headers: Mapping[str, str] | None = None,
        registry_auth: bool = False,
    ) -> None:
        self.retry = retry
        self._client = httpx.Client(
            timeout=retry.timeout, headers=dict(headers or {}), follow_redirects=True
        )
        self._auth: httpx.Auth | None
        if registry_auth:
            token_client = httpx.Client(timeout=retry.timeout, follow_redirects=True)
            self._auth = RegistryAuth(credentials, token_client)
        elif credentials is not None:
            self._auth = httpx.BasicAuth(credentials.username, credentials.password)
        else:
            self._auth = None

    def close(self) -> None:
        self._client.close()

    def request(
        self, method: str, url: str, *, ok: tuple[int, ...], **kwargs: Any
    ) -> httpx.Response:
        """Send with retries; return the response if its status is in `ok` (or 404), else raise."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.attempts),
            wait=tenacity.wait_exponential(multiplier=self.retry.wait, max=self.retry.max_wait),
            retry=tenacity.retry_if_exception(_worth_retrying),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self._client.request(method, url, auth=self._auth, **kwargs)
                    if response.status_code in TRANSIENT_STATUS:
                        raise _Transient(response)
        except _Transient as err:
            raise PublishError(
                f"{_safe(url)} kept answering {err} ({self.retry.attempts} tries); "
                "the registry is unavailable, re-run when it is back"
            ) from None
        except httpx.TransportError as err:
            if _plain_http_peer(err):
                raise PublishError(
                    f"cannot reach {_safe(url)} over HTTPS: the registry answered in plain HTTP; "
                    "if it is a plain-HTTP registry (a local or test one), pass --plain-http "
                    "(or set RUNWAY_PLAIN_HTTP=1)"
                ) from None
            raise PublishError(
                f"cannot reach {_safe(url)}: {_reason(err)} ({self.retry.attempts} tries); "
                "check the URL and that the registry is up, then re-run"
            ) from None
        if response.status_code in ok or response.status_code == 404:
            return response
        raise status_error(method, url, response)


def status_error(method: str, url: str, response: httpx.Response) -> PublishError:
    code = response.status_code
    where = f"{method} {_safe(url)}"
    if code == 401:
        return PublishError(
            f"{where}: the registry refused the credentials (HTTP 401); set "
            "RUNWAY_REGISTRY_USER and RUNWAY_REGISTRY_PASSWORD (or a token) that can access it"
        )
    if code == 403:
        return PublishError(
            f"{where}: access denied (HTTP 403); the credentials lack permission for this path"
        )
    detail = response.text.strip().replace("\n", " ")[:300]
    return PublishError(f"{where}: unexpected HTTP {code} {response.reason_phrase}: {detail}")


def _safe(url: str) -> str:
    """The URL without query string or user info, for messages."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(query=None, userinfo=b""))


def _worth_retrying(err: BaseException) -> bool:
    return isinstance(err, httpx.TransportError | _Transient) and not _plain_http_peer(err)


def _plain_http_peer(err: BaseException) -> bool:
    """A TLS handshake that got an HTTP answer: retrying cannot help, --plain-http would."""
    text = str(err).upper()
    return isinstance(err, httpx.ConnectError) and (
        "WRONG_VERSION_NUMBER" in text or "HTTP_REQUEST" in text or "RECORD_LAYER_FAILURE" in text
    )


def _reason(err: httpx.TransportError) -> str:
    text = str(err) or type(err).__name__
    if isinstance(err, httpx.ConnectError):
        return f"connection failed ({text})"
    if isinstance(err, httpx.TimeoutException):
        return f"timed out ({text or 'no answer'})"
    return text
