"""YAML in and out, configured once.

Two readers: `load`/`load_all` for machine-written YAML (Helm's renders, Chart.yaml, our data
files) with the fast C loader; `load_config` for a component's configuration file, read as the
component reads it (YAML 1.2, the pure loader: `on` stays a string). Manifests are read by
`manifest/_yaml.py`, which also records where every node sits; Helm's repository index is
round-tripped by `publish/index.py`.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML


def yaml_text(data: Any) -> str:
    """Block-style YAML of plain data, keys in the order given, multi-line strings as `|` blocks."""
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.representer.add_representer(str, _represent_str)
    yaml.representer.ignore_aliases = lambda _data: True  # shared objects are written out in full
    yaml.dump(data, out)
    return out.getvalue()


def _represent_str(representer: Any, value: str) -> Any:
    style = "|" if "\n" in value and value.endswith("\n") and " \n" not in value else None
    return representer.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def load(text: str | bytes) -> Any:
    return YAML(typ="safe").load(text)


def load_all(text: str | bytes) -> list[Any]:
    return list(YAML(typ="safe").load_all(text))


def load_config(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)
