"""`./dev crds`: rewrite runway/data/crds/schemas.json from the CRD files beside it, after
adding or updating one (test_verify_wiring checks the two agree)."""

from __future__ import annotations

import json
from pathlib import Path

from runway.verify.kube import CRD_INDEX, crd_index

CRDS = Path(__file__).resolve().parent.parent / "runway" / "data" / "crds"


def sources() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(CRDS.glob("*.yaml"))}


def rendered(index: dict[str, object]) -> str:
    return json.dumps(index, sort_keys=True, separators=(",", ":")) + "\n"


if __name__ == "__main__":
    (CRDS / CRD_INDEX).write_text(rendered(crd_index(sources())))
