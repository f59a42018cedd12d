"""Literal secrets in manifests: a token, cloud key or private key written as an env value or in
a config file would ship in values.yaml and a ConfigMap. Well-known secret shapes are found with
detect-secrets' own detectors (the ones keyed to a format, not its entropy or keyword guesses,
which flag ordinary config); a reviewed false positive carries detect-secrets' inline
`# pragma: allowlist secret` on its line.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from runway.errors import Diagnostic
from runway.manifest._yaml import Document, FieldPath

ALLOW = "pragma: allowlist secret"
DETECTORS = (
    "ArtifactoryDetector",
    "AWSKeyDetector",
    "AzureStorageKeyDetector",
    "BasicAuthDetector",
    "CloudantDetector",
    "DiscordBotTokenDetector",
    "GitHubTokenDetector",
    "GitLabTokenDetector",
    "IbmCloudIamDetector",
    "IbmCosHmacDetector",
    "JwtTokenDetector",
    "MailchimpDetector",
    "NpmDetector",
    "OpenAIDetector",
    "PrivateKeyDetector",
    "PypiTokenDetector",
    "SendGridDetector",
    "SlackDetector",
    "SoftlayerDetector",
    "SquareOAuthDetector",
    "StripeDetector",
    "TelegramBotTokenDetector",
    "TwilioKeyDetector",
)


def scan(document: Document, text: str, *, whole: bool) -> list[Diagnostic]:
    """Secrets in env values and config files of one document (`whole`: every value, an env file)."""
    candidates = [
        (path, value) for path, value in _strings(document.data, ()) if whole or _scanned(path)
    ]
    if not candidates:
        return []
    lines = text.splitlines()
    found: list[Diagnostic] = []
    for path, value in candidates:
        line, column = document.position(path)
        if 0 < line <= len(lines) and ALLOW in lines[line - 1]:
            continue
        kinds = _kinds(value)
        if kinds:
            field = ".".join(str(p) for p in path)
            if whole or path[:2] == ("spec", "environment"):
                mount = f"env: {path[-1]}"
            else:
                mount = "file: /the/config/path"
            found.append(
                Diagnostic(
                    document.file,
                    f"looks like a literal secret ({', '.join(kinds)}); it would ship in "
                    "values.yaml and a ConfigMap",
                    line,
                    column,
                    field=field,
                    hint=(
                        "reference it instead: spec.secrets: [{name: ..., existing: {name: SECRET, "
                        f"key: KEY}}, {mount}}}] (runway/v1+dev), or for a reviewed false "
                        f"positive end the line with '# {ALLOW}'"
                    ),
                )
            )
    return found


def _scanned(path: FieldPath) -> bool:
    return path[:2] == ("spec", "environment") or (
        path[:2] == ("spec", "config_files") and len(path) > 3 and path[3] == "content"
    )


def _strings(node: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, (*path, index))
    elif isinstance(node, str):
        yield path, node


def _kinds(value: str) -> list[str]:
    from detect_secrets.core.scan import scan_line

    kinds: set[str] = set()
    with _settings():
        for line in value.splitlines() or [value]:
            kinds.update(str(secret.type) for secret in scan_line(line))
    return sorted(kinds)


@functools.cache
def _plugins() -> list[dict[str, str]]:
    return [{"name": name} for name in DETECTORS]


def _settings() -> Any:
    from detect_secrets.settings import transient_settings

    return transient_settings({"plugins_used": _plugins()})
