"""`./dev schemas`: rewrite the schema indexes verify reads, after adding or updating a CRD in
runway/data/crds or upgrading kubernetes-validate (test_verify_wiring checks each index against
its source): runway/data/crds/schemas.json from the CRD files beside it, and
runway/data/kubernetes/v*.jsonl from the installed kubernetes-validate."""

from __future__ import annotations

import importlib.util
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from runway.verify.kube import CRD_INDEX, KUBERNETES_VERSIONS, crd_index, kubernetes_index

DATA = Path(__file__).resolve().parent.parent / "runway" / "data"
CRDS = DATA / "crds"
KUBERNETES = DATA / "kubernetes"


def sources() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(CRDS.glob("*.yaml"))}


def kubernetes_indexes() -> dict[str, bytes]:
    """File name → index, for every version verify checks, from the installed
    kubernetes-validate."""
    source = f"kubernetes-validate {metadata.version('kubernetes-validate')}"
    return {
        f"v{version}.jsonl": kubernetes_index(kubernetes_validate_schemas(), version, source)
        for version in KUBERNETES_VERSIONS
    }


def kubernetes_validate_schemas() -> Path:
    """The installed kubernetes-validate's kubernetes-json-schema folder (a development
    dependency: runway ships the indexes instead)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    assert spec is not None and spec.submodule_search_locations, "pip install runway[dev]"
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def rendered(index: dict[str, Any]) -> str:
    return json.dumps(index, sort_keys=True, separators=(",", ":")) + "\n"


if __name__ == "__main__":
    (CRDS / CRD_INDEX).write_text(rendered(crd_index(sources())))
    KUBERNETES.mkdir(exist_ok=True)
    for stale in KUBERNETES.glob("v*.json*"):
        stale.unlink()
    for name, data in kubernetes_indexes().items():
        (KUBERNETES / name).write_bytes(data)
