"""The `x-kubernetes-validations` CEL rules of the CRDs we verify against, evaluated as the API
server does at admission: on the object after schema defaulting, at every node that carries rules.

The evaluator is `common-expression-language` (PyPI; Python bindings of the Rust `cel`
interpreter): it implements the CEL spec's macros (`all`, `exists_one`, `has`) and RE2-style
`matches`, and with its strings extension registered (`split`, as the API server has it) it covers
what the Gateway API rules use; it is fast enough to run on every render.
Transition rules (those reading `oldSelf`) need a previous object and are skipped, as are rules
calling a Kubernetes library function no evaluator here has (UNEVALUATED).
"""

from __future__ import annotations

import copy
import functools
import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from runway.verify.kube import crd_schema


def check(obj: dict[str, Any]) -> list[str]:
    """The CEL rules `obj` breaks, as `Kind/name: path: message`."""
    schema = crd_schema(str(obj.get("apiVersion")), str(obj.get("kind")))
    if schema is None:
        return []
    defaulted = copy.deepcopy(obj)
    _default(defaulted, schema)
    name = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
    return [f"{name}: {path}: {message}" for path, message in _walk(defaulted, schema, "")]


def _default(node: Any, schema: dict[str, Any]) -> None:
    if isinstance(node, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key not in node and "default" in sub:
                node[key] = copy.deepcopy(sub["default"])
            if key in node:
                _default(node[key], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, value in node.items():
                if key not in (schema.get("properties") or {}):
                    _default(value, extra)
    elif isinstance(node, list) and isinstance(schema.get("items"), dict):
        for item in node:
            _default(item, schema["items"])


def _walk(node: Any, schema: dict[str, Any], path: str) -> Iterator[tuple[str, str]]:
    for rule in schema.get("x-kubernetes-validations") or []:
        expression = str(rule.get("rule", ""))
        if "oldSelf" in expression or _unevaluated(expression):
            continue
        if not _holds(expression, node):
            yield path or "(root)", str(rule.get("message") or f"failed rule: {expression}")
    if isinstance(node, dict):
        properties = schema.get("properties") or {}
        for key, value in node.items():
            sub = properties.get(key)
            if sub is None and isinstance(schema.get("additionalProperties"), dict):
                sub = schema["additionalProperties"]
            if sub is not None:
                yield from _walk(value, sub, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list) and isinstance(schema.get("items"), dict):
        for position, item in enumerate(node):
            yield from _walk(item, schema["items"], f"{path}[{position}]")


def _holds(expression: str, value: Any) -> bool:
    """True when the rule holds; a rule that cannot be evaluated counts as broken, as at admission."""
    try:
        return _evaluate(expression, _frozen(value)) is True
    except Exception:  # the evaluator raises its own types for no-such-key and bad overloads
        return False


@functools.lru_cache(maxsize=4096)
def _evaluate(expression: str, frozen: Any) -> Any:
    cel = _module("cel")
    context = cel.Context(variables={"self": _thawed(frozen)}, functions=_kubernetes_functions())
    return cel.evaluate(expression, context)


UNEVALUATED = frozenset({"isURL"})
"""Functions of the API server's own CEL libraries that no evaluator here implements (`isURL` is
Go's url.ParseRequestURI): a rule calling one is skipped rather than guessed at."""


@functools.cache
def _unevaluated(expression: str) -> bool:
    try:
        return not UNEVALUATED.isdisjoint(_module("cel").compile(expression).functions())
    except Exception:  # a rule that does not compile is reported by _holds, as at admission
        return False


@functools.cache
def _kubernetes_functions() -> dict[str, Any]:
    """cel-go's strings extension (`split`, `join`, `lowerAscii`, …): every CEL environment of the
    API server has it (k8s.io/apiserver pkg/cel/library ExtensionLibs = URLs, Regex, Lists and
    ext.Strings), and the Rust evaluator's own standard library does not."""
    return dict(_module("stdlib").EXTENSIONS["strings"])


def _module(name: str) -> ModuleType:
    """`cel.NAME` (the Rust evaluator `cel`, or `stdlib`) loaded without the package's
    `__init__`, which also imports its command line (typer, rich, prompt_toolkit: about 140 ms of
    every verify process's start) that verify never uses. A layout it does not expect falls
    back to the plain import."""
    full = f"cel.{name}"
    if full in sys.modules:
        return sys.modules[full]
    if name != "cel":
        _module("cel")  # what the package's other modules import relatively
    package = importlib.util.find_spec("cel")
    locations = package.submodule_search_locations if package else None
    spec = importlib.machinery.PathFinder.find_spec(full, locations) if locations else None
    if spec is None or spec.loader is None:
        return importlib.import_module(full)
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[full]
        raise
    return module


def _frozen(value: Any) -> Any:
    """A hashable copy, so the same rule on the same value is evaluated once."""
    if isinstance(value, dict):
        return ("__map__", tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("__list__", tuple(_frozen(v) for v in value))
    return value


def _thawed(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "__map__":
        return {k: _thawed(v) for k, v in value[1]}
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "__list__":
        return [_thawed(v) for v in value[1]]
    return value
