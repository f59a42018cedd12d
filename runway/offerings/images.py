"""Every image a chart can run, for mirroring into an air-gapped registry.

The chart is rendered by the Helm engine with every optional pod switched on (the helm test,
the registration hook), so the list is what a cluster could pull, not a guess from values.
Rendered a second time with `global.imageRegistry` set, it also gives each image's mirrored
name exactly as the chart will ask for it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from runway.common import yamlio
from runway.common.kube import PLACEHOLDER_IMAGE, containers, pod_spec
from runway.common.mappings import merge
from runway.errors import VerifyError

UNSET = "(image.repository, set at install)"
_EVERY_POD = {
    "tests": {"enabled": True},
    "registration": {
        "enabled": True,
        "url": "https://gitlab.example.com/register",
        "tokenSecret": {"name": "registration"},
    },
}


@dataclasses.dataclass(frozen=True, slots=True)
class ChartImage:
    image: str
    used_by: tuple[str, ...]
    mirrored: str = ""


def _images(rendered: dict[str, str]) -> list[tuple[str, str]]:
    """(image, Kind/name container) in render order."""
    found: list[tuple[str, str]] = []
    for template, text in sorted(rendered.items()):
        if not template.endswith((".yaml", ".yml")):
            continue
        try:
            documents = yamlio.load_all(text)
        except yamlio.InvalidYAML as err:
            raise VerifyError(f"{template} renders YAML Kubernetes would refuse: {err}") from None
        for obj in documents:
            pod = pod_spec(obj) if isinstance(obj, dict) else None
            if pod is None:
                continue
            where = f"{obj['kind']}/{obj['metadata']['name']}"
            for container in containers(pod):
                found.append((str(container["image"]), f"{where} {container['name']}"))
    return found


def chart_images(chart: Path, *, mirror: str = "") -> list[ChartImage]:
    """The images of `chart` (a directory or an archive), with their mirrored names if asked."""
    from runway import helm

    unset = not (helm.default_values(chart).get("image") or {}).get("repository")
    values = merge(PLACEHOLDER_IMAGE if unset else {}, _EVERY_POD)
    plain = _images(helm.render(chart, values, name="images", namespace="images"))
    mirrored = plain
    if mirror:
        with_mirror = merge(values, {"global": {"imageRegistry": mirror}})
        mirrored = _images(helm.render(chart, with_mirror, name="images", namespace="images"))
    placeholder = str(PLACEHOLDER_IMAGE["image"]["repository"])
    by_image: dict[str, tuple[list[str], str]] = {}
    for (image, where), (target, _) in zip(plain, mirrored, strict=True):
        shown = UNSET if unset and image.startswith(placeholder) else image
        users, _ = by_image.setdefault(shown, ([], "" if shown == UNSET or not mirror else target))
        users.append(where)
    return [
        ChartImage(image, tuple(users), target)
        for image, (users, target) in sorted(by_image.items())
    ]
