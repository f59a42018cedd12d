"""An independent scanner over every rendered chart: checkov's Kubernetes checks find nothing.

Deliberate exceptions are `checkov.io/skipN` annotations on the object, each with its reason, and
each listed in docs/mapping.md. Two checks are out of scope for every chart (see docs/mapping.md):
CKV_K8S_43 (image digests: the installer pins `image.digest`) and CKV_K8S_15 (pull policy Always:
tags are immutable releases, so IfNotPresent is deliberate).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runway import helm
from runway.common.kube import PLACEHOLDER_IMAGE
from runway.common.mappings import merge
from runway.verify import representative_values
from tests.conftest import MANIFESTS, ROOT, run_cli

CHECKOV = Path(
    os.environ.get("RUNWAY_CHECKOV", ROOT / ".venv" / "tools" / "checkov" / "bin" / "checkov")
)
OUT_OF_SCOPE = "CKV_K8S_43,CKV_K8S_15"
SHIPPED = sorted(p.name for p in MANIFESTS.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every shipped chart with its defaults (registration on) and with representative values."""
    assert CHECKOV.exists(), f"checkov is missing at {CHECKOV}: ./dev test installs it"
    charts = tmp_path_factory.mktemp("dist") / "charts"
    assert run_cli("build", str(MANIFESTS), "-o", str(charts), "--no-verify").exit_code == 0
    out = tmp_path_factory.mktemp("rendered")
    yaml = YAML(typ="safe")
    for name in SHIPPED:
        chart = charts / name
        defaults = yaml.load((chart / "values.yaml").read_text())
        base = {} if defaults["image"]["repository"] else PLACEHOLDER_IMAGE
        registration = {
            "registration": {
                "enabled": True,
                "url": "https://gitlab.example.com/api/v4/satellite_services/x/registration",
                "tokenSecret": {"name": "registration"},
            }
        }
        for label, values in (
            ("defaults", merge(base, registration)),
            ("representative", merge(base, representative_values(defaults))),
        ):
            folder = out / f"{name}-{label}"
            folder.mkdir()
            for template, text in helm.render(chart, values, name="rel", namespace="ns").items():
                if template.endswith(".yaml") and text.strip():
                    (folder / template.replace("/", "_")).write_text(text)
    return out


def _scan(folder: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(folder),
            "--framework",
            "kubernetes",
            "--compact",
            "-o",
            "json",
            "--skip-check",
            OUT_OF_SCOPE,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stdout)
    merged: dict[str, Any] = {"failed": [], "skipped": []}
    for part in report if isinstance(report, list) else [report]:
        results = part.get("results") or {}
        merged["failed"] += results.get("failed_checks") or []
        merged["skipped"] += results.get("skipped_checks") or []
    return merged


def test_checkov_finds_nothing_in_any_shipped_chart(rendered: Path) -> None:
    report = _scan(rendered)
    assert [(f["check_id"], f["resource"]) for f in report["failed"]] == []
    documented = (ROOT / "docs" / "mapping.md").read_text()
    skipped = {s["check_id"] for s in report["skipped"]}
    assert skipped, "the charts carry their documented exceptions"
    for check in skipped:
        assert check in documented, f"{check} is skipped but not explained in docs/mapping.md"
    annotations = re.findall(
        r"checkov\.io/skip\d+: (.*)", "".join(p.read_text() for p in rendered.rglob("*.yaml"))
    )
    for annotation in annotations:
        check, _, reason = annotation.strip('"').partition("=")
        assert check in skipped and len(reason) > 20, annotation


def test_checkov_fails_on_a_planted_defect(rendered: Path, tmp_path: Path) -> None:
    """The scan can fail: an object without its namespace and a pod with a secret as env."""
    source = next(rendered.glob("kas-defaults/*deployment.yaml"))
    text = source.read_text()
    text = re.sub(r"\n  namespace: \"ns\"", "", text, count=1)
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "deployment.yaml").write_text(text)
    failed = {f["check_id"] for f in _scan(planted)["failed"]}
    assert "CKV_K8S_21" in failed
