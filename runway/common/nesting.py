"""How deep YAML text nests, measured before anything recursive reads it.

ruamel's C composer recurses once per level of nesting (a few thousand nested `[` or `- `
overflow the C stack and kill the process), and Python's own recursion (the pure composer, a
deep copy) stops at about a thousand. libyaml's parser keeps its own stack, so its events can
be counted safely at any depth.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

COLLECTIONS = ("SequenceStartEvent", "MappingStartEvent")
ENDS = ("SequenceEndEvent", "MappingEndEvent")


def may_nest(text: str, depth: int) -> bool:
    """Whether `text` might nest collections `depth` deep: each collection YAML opens starts at
    its own `[`, `{`, `-`, `?` or `:`, so text with fewer of them cannot. Parsing the events
    to measure the depth costs a quarter of reading a manifest; this is a few microseconds."""
    return sum(text.count(indicator) for indicator in "[{-?:") >= depth


def deeper_than(yaml: YAML, text: str, depth: int) -> Any | None:
    """Where (ruamel's mark) the first collection nested deeper than `depth` starts in `text`,
    from `yaml`'s event stream; None when none is, or when the text is not YAML (its reader
    says where, and what)."""
    level = 0
    try:
        for event in yaml.parse(text):
            name = type(event).__name__
            if name in COLLECTIONS:
                level += 1
                if level > depth:
                    return event.start_mark
            elif name in ENDS:
                level -= 1
    except YAMLError:
        return None
    return None
