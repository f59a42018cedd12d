"""Values against a chart's values.schema.json, as Helm checks them before it renders.

Helm compiles the schema again on every render (about half of each render's time); verify
renders every chart under several sets of values, so it compiles the schema once per process
and has Helm render without it. Like Helm's engine (Go's RE2), patterns are read by a regular
expression engine without lookaround or backreferences.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs

FILE = "values.schema.json"


@functools.lru_cache(maxsize=4)
def _validator(text: bytes) -> Any:
    """One compiled validator per schema text: every chart runway builds has the same schema."""
    return jsonschema_rs.validator_for(
        json.loads(text), pattern_options=jsonschema_rs.RegexOptions()
    )


def checker(chart: Path) -> Callable[[dict[str, Any]], list[str]]:
    """A check of merged values (the chart's defaults coalesced with those given) against the
    chart's schema, naming what it refuses in one problem; it passes everything without one."""
    try:
        text = (chart / FILE).read_bytes()
    except FileNotFoundError:
        return lambda merged: []
    try:
        validator = _validator(text)
    except (ValueError, RecursionError) as err:  # jsonschema_rs.ValidationError is a ValueError
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        broken = f"{FILE} is not a JSON schema Helm could use: {reason.splitlines()[0]}"
        return lambda merged: [broken]

    def check(merged: dict[str, Any]) -> list[str]:
        found = [
            f"at '{''.join(f'/{part}' for part in error.instance_path)}': {error.message}"
            for error in validator.iter_errors(merged)
        ]
        return [f"values do not meet {FILE}: " + "; ".join(found)] if found else []

    return check
