"""YAML documents with the line and column of every node.

The C composer of ruamel.yaml gives nodes with marks at a fraction of the cost of a round-trip
load; we build plain data and a position map from the nodes ourselves, which is also where
duplicate keys, alias bombs, cycles and absurd nesting are caught with a clear message.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import stat
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.representer import RoundTripRepresenter, SafeRepresenter

from runway.errors import Diagnostic, ManifestError

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 200_000
MAX_EXPANDED_CHARS = 4 * MAX_FILE_BYTES
MAX_DEPTH = 64

FieldPath = tuple[str | int, ...]
Position = tuple[int, int]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_STR_TAG = "tag:yaml.org,2002:str"
_CORE_TAGS = "tag:yaml.org,2002:"


@dataclasses.dataclass(frozen=True, slots=True)
class Document:
    """One YAML document: its data, where each value sits, and where each mapping key sits."""

    file: str
    index: int
    data: Any
    values: dict[FieldPath, Position]
    keys: dict[FieldPath, Position]

    def position(self, path: FieldPath, *, prefer_key: bool = False) -> Position:
        """The position of `path`, or of its nearest ancestor that exists."""
        for cut in range(len(path), -1, -1):
            prefix = path[:cut]
            found = (self.keys.get(prefix) if prefer_key else None) or self.values.get(prefix)
            if found:
                return found
        return (1, 1)


class WrittenInt(int):
    """An int that remembers how it was written (`012345`, `0x1F`), for values that are text."""

    text: str

    def __new__(cls, value: int, text: str) -> WrittenInt:
        number = super().__new__(cls, value)
        number.text = text
        return number


class WrittenFloat(float):
    """A float that remembers how it was written (`1.10`, `1e3`, `1e400`)."""

    text: str

    def __new__(cls, value: float, text: str) -> WrittenFloat:
        number = super().__new__(cls, value)
        number.text = text
        return number


for _representer in (SafeRepresenter, RoundTripRepresenter):
    _representer.add_representer(WrittenInt, SafeRepresenter.represent_int)
    _representer.add_representer(WrittenFloat, SafeRepresenter.represent_float)


class _Reject(Exception):
    def __init__(self, message: str, node: Node | None, hint: str = "") -> None:
        self.message = message
        self.node = node
        self.hint = hint


def _mark(node: Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns one composed node tree into plain data plus position maps, within fixed budgets."""

    def __init__(self, yaml: YAML) -> None:
        self._yaml = yaml
        self._count = 0
        self._chars = 0
        self._active: set[int] = set()
        self.values: dict[FieldPath, Position] = {}
        self.keys: dict[FieldPath, Position] = {}

    def build(self, node: Node, path: FieldPath) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            raise _Reject(
                f"the document expands to more than {MAX_NODES} nodes",
                node,
                "anchors and aliases that multiply each other (a 'billion laughs') are refused",
            )
        if len(path) > MAX_DEPTH:
            raise _Reject(f"nesting deeper than {MAX_DEPTH} levels", node)
        self.values.setdefault(path, _mark(node))
        if isinstance(node, ScalarNode):
            self._chars += len(node.value)
            if self._chars > MAX_EXPANDED_CHARS:
                raise _Reject(
                    f"the document expands to more than {MAX_EXPANDED_CHARS} characters of values",
                    node,
                    "an anchor aliased many times multiplies its text; write the values out once",
                )
            return self._scalar(node)
        if id(node) in self._active:
            raise _Reject("an alias refers to a node that contains it (a cycle)", node)
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
        finally:
            self._active.discard(id(node))
        raise _Reject(f"unsupported YAML node {type(node).__name__}", node)

    def _scalar(self, node: ScalarNode) -> Any:
        tag = node.tag or ""
        if tag == _STR_TAG:
            return str(node.value)  # what the safe constructor gives, without its lookups
        if tag == _TIMESTAMP_TAG:
            return str(node.value)
        if not tag.startswith(_CORE_TAGS):
            raise _Reject(
                f"unknown YAML tag {tag}",
                node,
                "manifests use plain YAML values; remove the tag (quote the value to keep it text)",
            )
        try:
            value = self._yaml.constructor.construct_object(node, deep=True)
        except (YAMLError, ValueError, TypeError, LookupError) as err:
            raise _Reject(
                f"{node.value!r} is not a valid {tag.replace(_CORE_TAGS, '!!')} value ({type(err).__name__})",
                node,
                "remove the tag, or quote the value to keep it text",
            ) from None
        if isinstance(value, datetime.date | bytes | set):
            return str(node.value)
        if not node.style and isinstance(value, int) and not isinstance(value, bool):
            return WrittenInt(value, node.value)
        if not node.style and isinstance(value, float):
            return WrittenFloat(value, node.value)
        return value

    def _mapping(self, node: MappingNode, path: FieldPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        explicit: set[Any] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged = self.build(value_node, path)
                sources = merged if isinstance(merged, list) else [merged]
                for source in sources:
                    if not isinstance(source, dict):
                        raise _Reject("a merge key (<<) must name a mapping", value_node)
                    for k, v in source.items():
                        if k not in explicit:
                            result[k] = v
                continue
            if not isinstance(key_node, ScalarNode):
                raise _Reject(
                    "a mapping key must be a plain value, not a list or mapping", key_node
                )
            key = self._scalar(key_node)
            if isinstance(key, bool | float) or key is None:
                key = str(key_node.value)
            if key in explicit:
                first = self.keys.get((*path, key))
                where = f" (first at line {first[0]})" if first else ""
                raise _Reject(f"duplicate key {key!r}{where}", key_node, "remove one of the two")
            explicit.add(key)
            child = (*path, key)
            self.keys[child] = _mark(key_node)
            # A collection's own mark is its first item; the key says better where it is.
            self.values[child] = _mark(
                value_node if isinstance(value_node, ScalarNode) else key_node
            )
            result[key] = self.build(value_node, child)
        return result


def read_text(
    path: Path,
    display: str,
    *,
    limit: int = MAX_FILE_BYTES,
    what: str = "manifests",
    root: Path | None = None,
) -> tuple[str | None, Diagnostic | None]:
    """Read a manifest file as UTF-8 text: a regular file (inside `root` when given), within
    `limit` bytes as measured on the opened file; anything else is one clear diagnostic."""
    if root is not None:
        real, base = path.resolve(), root.resolve()
        if not real.is_relative_to(base):
            return None, Diagnostic(
                display,
                f"links to {real}, outside {root}",
                hint="keep manifest files inside the service directory (copy it in, not a link out)",
            )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as err:
        return None, Diagnostic(display, f"cannot read file: {err.strerror or err}")
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            return None, Diagnostic(
                display,
                "not a regular file (a device, FIFO, socket or directory)",
                hint=f"{what} are plain files",
            )
        if status.st_size > limit:
            return None, Diagnostic(
                display,
                f"file is {status.st_size} bytes; {what} are limited to {limit} bytes",
                hint=f"is this really one of the {what}? keep large data out of it",
            )
        try:
            raw = handle.read(limit + 1)
        except OSError as err:
            return None, Diagnostic(display, f"cannot read file: {err.strerror or err}")
    if len(raw) > limit:
        return None, Diagnostic(display, f"file grew past {limit} bytes while it was read")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        before = raw[: err.start]
        line = before.count(b"\n") + 1
        column = err.start - (before.rfind(b"\n") + 1) + 1
        return None, Diagnostic(
            display,
            f"not UTF-8 text (byte 0x{raw[err.start]:02x})",
            line=line,
            column=column,
            hint="save the file as UTF-8",
        )


def parse_documents(text: str, display: str) -> tuple[list[Document], list[Diagnostic]]:
    """Parse every document of a YAML stream; a broken document stops the file with one error."""
    yaml = YAML(typ="safe", pure=False)
    documents: list[Document] = []
    too_deep = _too_deep(yaml, text, display)
    if too_deep is not None:
        return documents, [too_deep]
    try:
        for index, node in enumerate(yaml.compose_all(text)):
            if node is None:
                continue
            builder = _Builder(yaml)
            try:
                data = builder.build(node, ())
            except _Reject as rej:
                line, column = _mark(rej.node) if rej.node is not None else (None, None)
                return documents, [Diagnostic(display, rej.message, line, column, hint=rej.hint)]
            documents.append(Document(display, index, data, builder.values, builder.keys))
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        problem = err.problem or err.context or "malformed YAML"
        context = err.context_mark
        if err.problem and err.context and context is not None and context is not mark:
            problem += f" ({err.context} at line {context.line + 1}, column {context.column + 1})"
        return documents, [Diagnostic(display, f"invalid YAML: {problem}", line, column)]
    except YAMLError as err:
        position = getattr(err, "position", None)
        if isinstance(position, int):  # the reader's errors (control characters) carry an offset
            before = text[:position]
            line, column = before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1
            character = getattr(err, "character", None)
            code = ord(character) if isinstance(character, str) and character else character
            what = f"character U+{code:04X}" if isinstance(code, int) else "a character"
            return documents, [
                Diagnostic(
                    display,
                    f"invalid YAML: {what} is not allowed (control characters are refused)",
                    line,
                    column,
                    hint="remove it, or write it as an escape inside a double-quoted string",
                )
            ]
        return documents, [Diagnostic(display, f"invalid YAML: {err}")]
    except RecursionError:
        return documents, [Diagnostic(display, f"nesting deeper than {MAX_DEPTH} levels")]
    return documents, []


def _too_deep(yaml: YAML, text: str, display: str) -> Diagnostic | None:
    """Refuse deep nesting from the event stream, before the (recursive) composer sees it.

    libyaml's parser keeps its own stack, but the composer recurses once per level: thousands of
    nested `[` or `- ` would overflow the C stack and kill the process.
    """
    depth = 0
    try:
        for event in yaml.parse(text):
            name = type(event).__name__
            if name in ("SequenceStartEvent", "MappingStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return Diagnostic(
                        display,
                        f"nesting deeper than {MAX_DEPTH} levels",
                        mark.line + 1,
                        mark.column + 1,
                        hint="manifests never need this; is the file generated by mistake?",
                    )
            elif name in ("SequenceEndEvent", "MappingEndEvent"):
                depth -= 1
    except YAMLError:
        return None  # the composer reports it, with its position
    return None


def load_single_document(path: Path, *, what: str, limit: int = MAX_FILE_BYTES) -> Document:
    """The one YAML document of a file (an environment, a devfile); ManifestError otherwise."""
    display = str(path)
    text, problem = read_text(path, display, limit=limit, what=what)
    if problem is not None:
        raise ManifestError([problem])
    assert text is not None
    documents, diagnostics = parse_documents(text, display)
    if diagnostics:
        raise ManifestError(diagnostics)
    if len(documents) != 1:
        raise ManifestError([Diagnostic(display, f"{what} hold exactly one YAML document")])
    return documents[0]
