"""Build a chart from manifest text and render it with the real Helm engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runway import helm
from runway.chart import build
from runway.chart.spec import BuildOptions, ChartSpec
from runway.manifest import loader
from runway.writer import write_tree_atomic

HEAD = "apiVersion: {api}\nkind: RunwayService\nmetadata:\n  name: svc\nspec:\n"


def chart_from(
    tmp: Path,
    spec: str,
    *,
    api: str = "runway/v1",
    image: str | None = "registry.example.com/svc:1.2.3",
    env: str | None = None,
    extra: dict[str, str] | None = None,
) -> tuple[ChartSpec, Path]:
    source = tmp / "src"
    source.mkdir(parents=True, exist_ok=True)
    (source / "runway.yml").write_text(HEAD.format(api=api) + spec)
    for name, text in (extra or {}).items():
        (source / name).write_text(text)
    result = loader.load_paths([source])
    assert result.ok, [d.render() for d in result.diagnostics]
    (service,) = result.services
    chart_spec, files = build.compile_service(service, BuildOptions(environment=env, image=image))
    target = tmp / "charts" / chart_spec.name
    write_tree_atomic(target, files)
    return chart_spec, target


def objects(chart: Path, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    rendered = helm.render(chart, values, name="rel", namespace="ns")
    yaml = YAML(typ="safe")
    found: list[dict[str, Any]] = []
    for name, text in sorted(rendered.items()):
        if name.endswith(".yaml"):
            found.extend(o for o in yaml.load_all(text) if o)
    return found


def one(found: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    matches = [
        o for o in found if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]
    assert len(matches) == 1, [(o["kind"], o["metadata"]["name"]) for o in found]
    return matches[0]


def container(found: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = one(found, "Deployment")
    first: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return first
