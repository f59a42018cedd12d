"""Mapping helpers shared by the loader, verify and the offerings."""

from __future__ import annotations

from typing import Any


def merge(base: Any, override: Any) -> Any:
    """Deep merge: mappings merge key by key, anything else (lists too) is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    return override
