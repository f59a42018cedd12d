"""YAML in and out, configured once.

Two readers: `load`/`load_all` for machine-written YAML (Helm's renders, Chart.yaml, values,
our data files), read as Helm and Kubernetes read it (go-yaml v2 through sigs.k8s.io/yaml: YAML
1.1, so `defaultMode: 0400` is octal 256, and a repeated key is an error) with libyaml's C
parser; `load_config` for a component's configuration file, read as the component reads it
(by YAML 1.2's rules, where `on` stays a string, or 1.1's where its contract says so, as KAS's
does). Manifests are read by
`manifest/_yaml.py`, which also records where every node sits; Helm's repository index is
round-tripped by `publish/index.py`.
"""

from __future__ import annotations

import copy
import functools
import threading
import warnings
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import MantissaNoDotYAML1_1Warning, MarkedYAMLError

from runway.common import nesting


class _BlockDumper(yaml.CSafeDumper):
    """libyaml's emitter; its YAML 1.1 resolver quotes `on`, `no`, `0400` and the like, so Helm
    and Kubernetes (go-yaml v2) read back the strings that were written."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # shared objects are written out in full


def _represent_str(dumper: _BlockDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and value.endswith("\n") and " \n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)
# Subclasses (enums, pydantic's and ruamel's own types) are written as their base type.
_BlockDumper.add_multi_representer(str, _represent_str)
_BlockDumper.add_multi_representer(int, yaml.SafeDumper.represent_int)
_BlockDumper.add_multi_representer(float, yaml.SafeDumper.represent_float)
_BlockDumper.add_multi_representer(dict, yaml.SafeDumper.represent_dict)
_BlockDumper.add_multi_representer(list, yaml.SafeDumper.represent_list)


def yaml_text(data: Any) -> str:
    """Block-style YAML of plain data, keys in the order given, multi-line strings as `|` blocks."""
    text: str = yaml.dump(
        data,
        Dumper=_BlockDumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=4096,
    )
    return text


class InvalidYAML(ValueError):
    """Machine-written YAML that Helm or Kubernetes would refuse too."""


class _KubernetesLoader(yaml.CSafeLoader):
    pass


_STR = "tag:yaml.org,2002:str"


def _mapping_without_repeats(loader: _KubernetesLoader, node: yaml.MappingNode) -> Any:
    """The safe loader's mapping, refusing a repeated key, built in one pass; text is taken as
    parsed (what the safe constructor returns for it) without the constructor's lookups."""
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = key_node.value if key_node.tag == _STR else loader.construct_object(key_node, True)
        try:
            repeated = key in mapping
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key", key_node.start_mark
            ) from None
        if repeated:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        if value_node.tag == _STR and isinstance(value_node, yaml.ScalarNode):
            mapping[key] = value_node.value
        else:
            mapping[key] = loader.construct_object(value_node, True)
    return mapping


_KubernetesLoader.add_constructor("tag:yaml.org,2002:map", _mapping_without_repeats)


def load(text: str | bytes) -> Any:
    try:
        return yaml.load(text, Loader=_KubernetesLoader)
    except (yaml.YAMLError, RecursionError) as err:
        raise InvalidYAML(str(err) or "nested too deeply") from None


def load_all(text: str | bytes) -> list[Any]:
    try:
        return list(yaml.load_all(text, Loader=_KubernetesLoader))
    except (yaml.YAMLError, RecursionError) as err:
        raise InvalidYAML(str(err) or "nested too deeply") from None


CONFIG_MAX_DEPTH = 64
"""Deeper nesting than any component's configuration has; refused before anything recursive
(ruamel's C composer, a deep copy) reads it."""

YAML_VERSIONS = {"1.1": (1, 1), "1.2": (1, 2)}
"""The YAML rules a component's reader follows: Go components reading through go-yaml v2
(sigs.k8s.io/yaml, as KAS does) take `yes`, `on` and `0400` as YAML 1.1 does. (ruamel's 1.1
rules also read `1:20` as sexagesimal 80, which go-yaml v2 leaves as text.)"""

# go-yaml v2 reads `1e3` as a float as YAML 1.1 readers may; ruamel reads it too, but warns.
warnings.filterwarnings("ignore", category=MantissaNoDotYAML1_1Warning)


class ConfigTooDeep(MarkedYAMLError):
    """A configuration file that nests deeper than CONFIG_MAX_DEPTH."""


def load_config(text: str, version: str = "1.2") -> Any:
    """A component's configuration file as the component reads it, by the YAML rules of
    `version` (YAML_VERSIONS: under 1.2 `on` stays a string, under 1.1 it is true); ruamel's
    YAMLError when it is not YAML or nests deeper than CONFIG_MAX_DEPTH. A fresh copy each
    time: every render of a chart carries the same config files."""
    return copy.deepcopy(_config(text, version))


@functools.lru_cache(maxsize=256)
def _config(text: str, version: str) -> Any:
    reader = _config_reader(version)
    if nesting.may_nest(text, CONFIG_MAX_DEPTH):
        mark = nesting.deeper_than(reader, text, CONFIG_MAX_DEPTH)
        if mark is not None:
            raise ConfigTooDeep(
                problem=f"nesting deeper than {CONFIG_MAX_DEPTH} levels", problem_mark=mark
            )
    return reader.load(text)


_CONFIG_READERS = threading.local()


def _config_reader(version: str) -> YAML:
    """This thread's reader of configuration files by the rules of `version` (libyaml's
    parser): making one scans ruamel's folder for plug-ins, and the pure-Python parser took
    four times as long."""
    readers: dict[str, YAML] = _CONFIG_READERS.__dict__.setdefault("by_version", {})
    reader = readers.get(version)
    if reader is None:
        reader = readers[version] = YAML(typ="safe", pure=False)
        reader.version = YAML_VERSIONS[version]
    reader.doc_infos.clear()  # one per stream read, kept until the reader is discarded
    return reader
