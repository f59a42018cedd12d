"""Servers the publish tests talk to over loopback.

- `Registry`: the real CNCF distribution registry (Debian's `docker-registry`), optionally with
  htpasswd basic auth; can be stopped and started again on the same port and storage.
- `FaultProxy`: forwards to a registry, and can answer 503 for a while or run a hook per request
  (to stop the registry mid-publish).
- `GitLabHelmApi`: a contract double of GitLab's documented Helm package API (no GitLab runs
  here); it implements exactly the endpoints, auth headers and duplicate behaviour the docs give.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import http.server
import io
import json
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import bcrypt
import httpx
from ruamel.yaml import YAML

DOCKER_REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Registry:
    """One `docker-registry serve` process on a loopback port."""

    def __init__(
        self,
        root: Path,
        *,
        users: dict[str, str] | None = None,
        token_auth: TokenIssuer | None = None,
    ) -> None:
        self.root = root
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        root.mkdir(parents=True, exist_ok=True)
        auth = ""
        if users:
            lines = [
                f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}"
                for user, password in users.items()
            ]
            (root / "htpasswd").write_text("\n".join(lines) + "\n")
            auth = f"auth:\n  htpasswd:\n    realm: runway-tests\n    path: {root / 'htpasswd'}\n"
        if token_auth is not None:
            (root / "token-ca.pem").write_bytes(token_auth.certificate_pem)
            auth = (
                "auth:\n  token:\n"
                f"    realm: {token_auth.realm}\n"
                f"    service: {token_auth.service}\n"
                f"    issuer: {token_auth.issuer}\n"
                f"    rootcertbundle: {root / 'token-ca.pem'}\n"
            )
        (root / "config.yml").write_text(
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n" + auth
        )

    def start(self) -> Registry:
        if not Path(DOCKER_REGISTRY).exists():
            raise RuntimeError("docker-registry is not installed: apt-get install docker-registry")
        self._process = subprocess.Popen(
            [DOCKER_REGISTRY, "serve", str(self.root / "config.yml")],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "registry.log").open("ab"),
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://{self.host}/v2/", timeout=1).status_code in (200, 401):
                    return self
            except httpx.TransportError:
                pass
            if self._process.poll() is not None:
                raise RuntimeError((self.root / "registry.log").read_text())
            time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not come up on {self.host}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def url(self, path: str) -> str:
        return f"oci://{self.host}/{path}"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> _Server:
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class FaultProxy:
    """Forwards HTTP to `upstream`; `unavailable(n)` answers 503 to the next n requests, and
    `answer(method, path)` may give a body to send (200, JSON) instead of the registry's."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests: list[tuple[str, str, int]] = []
        self.hook: Callable[[str, str, int], None] | None = None
        self.before: Callable[[str, str], None] | None = None
        self.answer: Callable[[str, str], bytes | None] | None = None
        self._fail = 0
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=10)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy.before is not None:
                    proxy.before(self.command, self.path)
                with proxy._lock:
                    failing = proxy._fail > 0
                    proxy._fail -= failing
                headers: dict[str, str] = {}
                instead = proxy.answer(self.command, self.path) if proxy.answer else None
                if failing:
                    status, content = 503, b"unavailable\n"
                elif instead is not None:
                    status, content = 200, instead
                    headers = {"Content-Type": "application/json"}
                else:
                    headers_in = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    try:
                        answer = proxy._client.request(
                            self.command,
                            f"http://{proxy.upstream}{self.path}",
                            headers=headers_in,
                            content=body,
                        )
                    except httpx.TransportError:
                        status, content = 502, b"upstream down\n"
                    else:
                        status, content = answer.status_code, answer.content
                        headers = {
                            k: v
                            for k, v in answer.headers.items()
                            if k.lower()
                            not in ("content-length", "transfer-encoding", "connection")
                        }
                        if "location" in headers:
                            headers["location"] = headers["location"].replace(
                                proxy.upstream, f"127.0.0.1:{proxy.port}"
                            )
                proxy.requests.append((self.command, self.path, status))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)
                if proxy.hook is not None:
                    proxy.hook(self.command, self.path, status)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

        self._server = _serve(Handler)
        self.port = self._server.server_address[1]

    def unavailable(self, count: int) -> None:
        with self._lock:
            self._fail = count

    def url(self, path: str) -> str:
        return f"oci://127.0.0.1:{self.port}/{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._client.close()


class GitLabHelmApi:
    """GitLab's Helm API as documented (docs.gitlab.com/api/packages/helm), for contract tests.

    Accepts duplicates and serves the newest (documented), needs a token by `PRIVATE-TOKEN`,
    `JOB-TOKEN` or basic auth (deploy token), answers 401 otherwise; index entries carry the
    chart's metadata, a `digest` and relative `urls` under `serverInfo.contextPath`.
    """

    def __init__(self, project: str = "42", *, tokens: dict[str, str] | None = None) -> None:
        self.project = project
        self.tokens = tokens or {"PRIVATE-TOKEN": "glpat-test", "JOB-TOKEN": "job-test"}
        self.deploy = ("deploy-user", "deploy-secret")
        self.uploads: list[tuple[str, str, str]] = []
        self.packages: dict[str, list[tuple[dict[str, Any], bytes]]] = {}
        self.unavailable = 0
        self.edit_entry: Callable[[dict[str, Any]], None] | None = None
        """Changes each index entry as served, as an index GitLab did not write might hold."""
        prefix = f"/api/v4/projects/{project}/packages/helm"
        handler = type("Handler", (_GitLabHandler,), {"api": self, "prefix": prefix})
        self._server = _serve(handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}{prefix}"

    def add(self, channel: str, data: bytes) -> None:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            member = next(
                m for m in tar if m.name.endswith("/Chart.yaml") and m.name.count("/") == 1
            )
            handle = tar.extractfile(member)
            assert handle is not None
            metadata = YAML(typ="safe").load(handle.read())
        self.packages.setdefault(channel, []).append((metadata, data))
        self.uploads.append((channel, metadata["name"], metadata["version"]))

    def index(self, channel: str) -> bytes:
        latest: dict[tuple[str, str], tuple[dict[str, Any], bytes]] = {}
        for metadata, data in self.packages.get(channel, []):
            latest[(metadata["name"], metadata["version"])] = (metadata, data)
        entries: dict[str, list[dict[str, Any]]] = {}
        for (name, version), (metadata, data) in sorted(latest.items()):
            entry = dict(metadata)
            entry.update(
                {
                    "created": "2026-11-23T00:00:00.000000000Z",
                    "digest": hashlib.sha256(data).hexdigest(),
                    "urls": [f"charts/{name}-{version}.tgz"],
                }
            )
            if self.edit_entry is not None:
                self.edit_entry(entry)
            entries.setdefault(name, []).append(entry)
        index = {
            "apiVersion": "v1",
            "entries": entries,
            "generated": "2026-11-23T00:00:00Z",
            "serverInfo": {"contextPath": f"/api/v4/projects/{self.project}/packages/helm"},
        }
        out = io.StringIO()
        YAML().dump(index, out)
        return out.getvalue().encode()

    def close(self) -> None:
        self._server.shutdown()


def _multipart_field(content_type: str, body: bytes, name: str) -> bytes | None:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == name:
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


class TokenIssuer:
    """The token server of the distribution token spec, as registry.gitlab.com's GitLab is.

    Checks basic credentials at `GET /token?service=…&scope=repository:NAME:ACTIONS` and answers
    with an RS256 JWT (certificate in `x5c`) granting what was asked for; the real registry
    verifies it against this issuer's certificate.
    """

    service = "runway-test-registry"
    issuer = "runway-test-issuer"

    def __init__(self, users: dict[str, str]) -> None:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.users = users
        self.requests: list[str] = []
        self.answer: bytes | None = None
        """A body to send (200) instead of a token, as a broken token service might."""
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "runway token issuer")])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
        self._certificate_der = certificate.public_bytes(serialization.Encoding.DER)
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                from urllib.parse import parse_qs, urlparse

                query = parse_qs(urlparse(self.path).query)
                issuer.requests.append(self.path)
                header = self.headers.get("Authorization", "")
                user = ""
                if header.startswith("Basic "):
                    name, _, password = base64.b64decode(header[6:]).decode().partition(":")
                    if issuer.users.get(name) != password:
                        self.send_response(401)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    user = name
                if not user:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = (
                    issuer.answer
                    or json.dumps({"token": issuer.token(user, query.get("scope", []))}).encode()
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = _serve(Handler)
        self.realm = f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def token(self, user: str, scopes: list[str]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        access = []
        for scope in scopes:
            for item in scope.split(" "):
                kind, _, rest = item.partition(":")
                name, _, actions = rest.rpartition(":")
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {
            "typ": "JWT",
            "alg": "RS256",
            "x5c": [base64.b64encode(self._certificate_der).decode()],
        }
        claims = {
            "iss": self.issuer,
            "sub": user,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": f"{now}-{len(self.requests)}",
            "access": access,
        }
        signing_input = f"{_b64(header)}.{_b64(claims)}".encode()
        signature = self._key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return (
            signing_input.decode() + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
        )

    def close(self) -> None:
        self._server.shutdown()


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class _GitLabHandler(http.server.BaseHTTPRequestHandler):
    """GitLabHelmApi's requests; a subclass per server sets `api` and `prefix`."""

    api: GitLabHelmApi
    prefix: str
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self) -> bool:
        for header, token in self.api.tokens.items():
            if self.headers.get(header) == token:
                return True
        basic = self.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            return (user, password) == self.api.deploy
        return False

    def do_GET(self) -> None:
        if not self._authorized():
            return self._reply(401, b'{"message":"401 Unauthorized"}')
        path = unquote(self.path.split("?")[0])
        if not path.startswith(self.prefix + "/"):
            return self._reply(404, b'{"message":"404 Not Found"}')
        channel, _, rest = path[len(self.prefix) + 1 :].partition("/")
        if rest == "index.yaml":
            return self._reply(200, self.api.index(channel), "text/yaml")
        if rest.startswith("charts/") and rest.endswith(".tgz"):
            for metadata, data in reversed(self.api.packages.get(channel, [])):
                if f"charts/{metadata['name']}-{metadata['version']}.tgz" == rest:
                    return self._reply(200, data, "application/octet-stream")
        return self._reply(404, b'{"message":"404 Not Found"}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.api.unavailable > 0:
            self.api.unavailable -= 1
            return self._reply(503, b'{"message":"503 Service Unavailable"}')
        if not self._authorized():
            return self._reply(401, b'{"message":"401 Unauthorized"}')
        path = unquote(self.path.split("?")[0])
        channel = path[len(self.prefix + "/api/") : -len("/charts")]
        if not (path.startswith(self.prefix + "/api/") and path.endswith("/charts")):
            return self._reply(404, b'{"message":"404 Not Found"}')
        chart = _multipart_field(self.headers.get("Content-Type", ""), body, "chart")
        if chart is None:
            return self._reply(400, b'{"error":"chart is missing"}')
        self.api.add(channel, chart)
        return self._reply(201, b'{"message":"201 Created"}')
