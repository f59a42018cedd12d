"""Helm users' habits the charts accept: `--set` numbers for string values, and an umbrella
chart's `global` values."""

from __future__ import annotations

from pathlib import Path

import pytest

from runway import helm
from runway.errors import VerifyError
from tests.chart_helpers import container, objects, one
from tests.conftest import MANIFESTS, run_cli


@pytest.fixture(scope="module")
def kas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("charts")
    assert run_cli("build", str(MANIFESTS / "kas"), "-o", str(out), "--no-verify").exit_code == 0
    return out / "kas"


def test_set_numbers_for_tags_and_quantities_pass_the_schema(kas: Path) -> None:
    """What `helm --set image.tag=17 --set resources.limits.cpu=2` hands the chart."""
    found = objects(kas, {"image": {"tag": 17}, "resources": {"limits": {"cpu": 2}}})
    main = container(found)
    assert main["image"].endswith("/gitlab-kas:17")
    assert main["resources"]["limits"]["cpu"] == 2
    with pytest.raises(VerifyError, match="cpu"):
        helm.render(kas, {"resources": {"limits": {"cpu": "lots"}}}, name="rel", namespace="ns")


def test_an_umbrella_charts_global_values_are_accepted(kas: Path) -> None:
    values = {
        "global": {
            "storageClass": "fast",
            "imagePullSecrets": [{"name": "from-umbrella"}, "by-name"],
            "anything": {"else": True},
        }
    }
    deployment = one(objects(kas, values), "Deployment")
    assert deployment["spec"]["template"]["spec"]["imagePullSecrets"] == [
        {"name": "from-umbrella"},
        {"name": "by-name"},
    ]
