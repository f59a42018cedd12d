"""compile: a ChartSpec → the chart's files, as `{relative path: bytes}` (nothing written).

Go templates under chart-templates/templates are copied byte for byte (fixed text, owned by the
platform team). Jinja2, with delimiters that cannot meet Go's `{{ }}`, writes Chart.yaml and
README.md; values.yaml and values.schema.json come from the values model. A manifest's strings
only ever reach values.yaml, as data.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
from pydantic import BaseModel

from runway.chart import values as v
from runway.chart.profiles import self_managed
from runway.chart.spec import ChartSpec
from runway.common.yamlio import yaml_text

KUBE_VERSION = ">=1.29.0-0"


def _templates_root() -> Path:
    """The base chart: inside the installed package, or chart-templates/ of a source checkout."""
    installed = Path(__file__).resolve().parents[1] / "chart_templates"
    return (
        installed if installed.is_dir() else Path(__file__).resolve().parents[2] / "chart-templates"
    )


TEMPLATES = _templates_root()


@functools.cache
def _environment(root: Path) -> jinja2.Environment:
    """The one Jinja environment: sandboxed, strict, delimiters that Go templates never use."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(root / "generated"),
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["md"] = _markdown_cell
    env.filters["tojson"] = _scalar
    return env


@functools.cache
def _static_files(root: Path) -> tuple[tuple[str, bytes], ...]:
    base = root / "templates"
    return tuple(
        (f"templates/{p.relative_to(base).as_posix()}", p.read_bytes())
        for p in sorted(base.rglob("*"))
        if p.is_file()
    )


def artifact_hub(spec: ChartSpec) -> dict[str, str]:
    """Artifact Hub's chart annotations: the images the chart runs (the workload's, when built
    with one, the helm test's and the registration hook's) and the license."""
    image = spec.values.image
    images = []
    if image.repository:
        reference = "/".join(p for p in (image.registry, image.repository) if p)
        reference += f"@{image.digest}" if image.digest else f":{image.tag or spec.app_version}"
        images.append({"name": spec.name, "image": reference})
    images.append({"name": "helm-test", "image": spec.values.tests.image})
    images.append({"name": "registration", "image": spec.values.registration.image})
    return {
        "artifacthub.io/images": yaml_text(images),
        "artifacthub.io/license": "MIT",
    }


def compile_chart(spec: ChartSpec, root: Path = TEMPLATES) -> dict[str, bytes]:
    env = _environment(root)
    profiles = self_managed(spec.values)
    dumped = spec.values.model_dump(mode="json", by_alias=True)
    fields = _top_level(spec.values)
    context = {
        "chart": spec,
        "kube_version": KUBE_VERSION,
        "annotations": {**spec.annotations, **artifact_hub(spec)},
        "maintainer": spec.annotations.get("runway.gitlab.com/owner-email-handle", ""),
        "gitlab_versions": spec.annotations.get("runway.gitlab.com/gitlab-versions", ""),
        "image_set": bool(spec.values.image.repository),
        "uid": spec.values.podSecurityContext.runAsUser,
        "listeners": dumped["listeners"],
        "table": _values_table(fields),
        "profiles": [
            {
                "name": p.name,
                "title": p.title,
                "description": p.description,
                "yaml": _profile_yaml(p.name, p.values),
            }
            for p in profiles
        ],
    }
    files = dict(_static_files(root))
    for profile in context["profiles"]:
        header = f"# {profile['title']}: {profile['description']}\n"
        files[f"profiles/{profile['name']}.yaml"] = (header + profile["yaml"]).encode()
    files["Chart.yaml"] = env.get_template("Chart.yaml.j2").render(context).encode()
    files["README.md"] = env.get_template("README.md.j2").render(context).encode()
    files["values.yaml"] = values_yaml(fields).encode()
    files["values.schema.json"] = _schema_bytes()
    files[".helmignore"] = b".git/\n*.tmp\n*.orig\n"
    return dict(sorted(files.items()))


@functools.cache
def _schema_bytes() -> bytes:
    """The values schema is the same for every chart: generated once per process."""
    return (json.dumps(v.schema(), indent=2, sort_keys=True) + "\n").encode()


_SORTED_JSON = json.JSONEncoder(sort_keys=True).encode
_SCALAR_JSON = json.JSONEncoder(ensure_ascii=False).encode
"""json.dumps builds an encoder on every call given any option: a chart's README and values.yaml
take some 350 of these."""


def _markdown_cell(value: Any) -> str:
    text = value if isinstance(value, str) else _SORTED_JSON(value)
    return text.replace("|", "\\|").replace("\n", " ") or '""'


@functools.cache
def _fields(model: type[BaseModel]) -> tuple[tuple[str, str, str], ...]:
    """(attribute, key in values, description) of each field of a values model, in order."""
    return tuple(
        (name, field.alias or name, field.description or "")
        for name, field in model.model_fields.items()
    )


_TYPE_NAMES = {"NoneType": "null", "str": "string", "dict": "object", "list": "array"}
"""JSON Schema's names for the README's type column; others (int, bool) keep Python's."""


_TopLevel = tuple[str, str, Any, str]
"""(key in values, description, value, identity) of a top-level value."""


def _top_level(values: v.ChartValues) -> list[_TopLevel]:
    found = []
    for name, key, description in _fields(type(values)):
        value = getattr(values, name)
        found.append((key, description, value, _identity(value)))
    return found


def _identity(value: Any) -> str:
    """The same for two values only when they are written alike: their type and JSON, keys in
    order."""
    return f"{type(value).__qualname__}:{_SCALAR_JSON(_plain(value))}"


def _values_table(fields: list[_TopLevel]) -> list[str]:
    """The README's table rows, a line per key."""
    table: list[str] = []
    for field in fields:
        table += _reused(_table_lines, *field)
    return table


def _table_lines(key: str, description: str, value: Any) -> Iterator[str]:
    rows = (
        _rows(value, f"{key}.") if isinstance(value, BaseModel) else [_row(key, description, value)]
    )
    for row in rows:
        default, described = _markdown_cell(row["default"]), _markdown_cell(row["description"])
        yield f"| `{row['key']}` | {row['type']} | `{default}` | {described} |"


def _rows(model: BaseModel, prefix: str) -> Iterator[dict[str, str]]:
    for name, alias, description in _fields(type(model)):
        key = f"{prefix}{alias}"
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from _rows(value, f"{key}.")
        else:
            yield _row(key, description, value)


def _row(key: str, description: str, value: Any) -> dict[str, str]:
    default = _plain(value)
    python_name = type(default).__name__
    return {
        "key": key,
        "type": _TYPE_NAMES.get(python_name, python_name),
        "default": _SORTED_JSON(default),
        "description": description,
    }


_REUSED: dict[tuple[Callable[..., Iterable[str]], str, str], tuple[str, ...]] = {}


def _reused(
    lines_of: Callable[[str, str, Any], Iterable[str]],
    key: str,
    description: str,
    value: Any,
    identity: str,
) -> tuple[str, ...]:
    """`lines_of(key, description, value)`, reused when a value of the same identity comes
    again: most of a chart's values are the base chart's defaults, alike for every service, and
    writing their lines again was half of compiling a chart."""
    memo = (lines_of, key, identity)
    lines = _REUSED.get(memo)
    if lines is None:
        if len(_REUSED) > 20_000:
            _REUSED.clear()
        lines = _REUSED[memo] = tuple(lines_of(key, description, value))
    return lines


def _profile_yaml(name: str, values: dict[str, Any]) -> str:
    return _reused(_yaml_text, name, "", values, _identity(values))[0]


def _yaml_text(key: str, description: str, value: Any) -> tuple[str]:
    return (yaml_text(value),)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, dict):
        return {k: _plain(item) for k, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def values_yaml(fields: list[_TopLevel]) -> str:
    """values.yaml with a helm-docs `# --` comment above every key (the model's descriptions),
    so helm-docs and readers see the same text as the README and the schema."""
    lines = ["# Default values. Every key is checked by values.schema.json at install time.", ""]
    for field in fields:
        lines += _reused(_field_lines, *field)
    return "\n".join(lines).rstrip("\n") + "\n"


def _field_lines(key: str, description: str, value: Any) -> list[str]:
    lines: list[str] = []
    _emit_field(key, description, value, 0, lines)
    lines.append("")
    return lines


def _emit_model(model: BaseModel, indent: int, lines: list[str]) -> None:
    for name, key, description in _fields(type(model)):
        _emit_field(key, description, getattr(model, name), indent, lines)


def _emit_field(key: str, description: str, value: Any, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    if description:
        lines.append(f"{pad}# -- {description}")
    if isinstance(value, BaseModel):
        lines.append(f"{pad}{key}:")
        _emit_model(value, indent + 2, lines)
    elif (
        isinstance(value, dict) and value and all(isinstance(i, BaseModel) for i in value.values())
    ):
        lines.append(f"{pad}{key}:")
        for item_key, item in value.items():
            lines.append(f"{pad}  {_scalar(item_key)}:")
            _emit_model(item, indent + 4, lines)
    else:
        lines.extend(_emit_plain(key, _plain(value), pad))


def _emit_plain(key: str, value: Any, pad: str) -> list[str]:
    """Scalars inline (JSON, which is YAML); lists and mappings in block style."""
    if (
        isinstance(value, list)
        and value
        and all(not isinstance(item, dict | list) for item in value)
    ):
        return [f"{pad}{key}:", *(f"{pad}  - {_scalar(item)}" for item in value)]
    if (
        isinstance(value, dict)
        and value
        and all(not isinstance(item, dict | list) for item in value.values())
    ):
        return [
            f"{pad}{key}:",
            *(f"{pad}  {_scalar(k)}: {_scalar(item)}" for k, item in value.items()),
        ]
    if isinstance(value, dict | list) and value:
        return [f"{pad}{line}" for line in yaml_text({key: value}).splitlines()]
    return [f"{pad}{key}: {_scalar(value)}"]


def _scalar(value: Any) -> str:
    return _SCALAR_JSON(value)
