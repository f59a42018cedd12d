"""Each constraint of the manifest contract refuses a violating manifest at the right place.

A case is a manifest with one line marked `# <-`; the error must name that line, the dotted
field path and a message fragment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runway.manifest import loader

BASE = """\
apiVersion: {api}
kind: RunwayService
metadata:
  name: {name}
spec:
{spec}
"""

CASES: list[tuple[str, str, str, str]] = [
    # (id, spec body, field path, message fragment)
    ("port-zero", "  container_port: 0  # <-", "spec.container_port", "greater than or equal to 1"),
    (
        "port-high",
        "  container_port: 70000  # <-",
        "spec.container_port",
        "less than or equal to 65535",
    ),
    ("port-type", "  container_port: http  # <-", "spec.container_port", "valid integer"),
    ("regions-empty", "  regions: []  # <-", "spec.regions", "at least 1"),
    (
        "regions-dup",
        "  regions:  # <-\n    - us-east1\n    - us-east1",
        "spec.regions",
        "listed twice",
    ),
    (
        "readiness-threshold",
        "  readiness_probe:\n    failure_threshold: 4  # <-",
        "spec.readiness_probe.failure_threshold",
        "less than or equal to 3",
    ),
    (
        "readiness-delay",
        "  readiness_probe:\n    initial_delay_seconds: 5  # <-",
        "spec.readiness_probe.initial_delay_seconds",
        "unknown field",
    ),
    (
        "strategy-enum",
        "  deployment:\n    strategy: canary  # <-",
        "spec.deployment.strategy",
        "'legacy'",
    ),
    (
        "rollout-order",
        "  deployment:  # <-\n    rollout_traffic_percentages: [50, 25, 100]",
        "spec.deployment",
        "increase",
    ),
    (
        "rollout-range",
        "  deployment:\n    rollout_traffic_percentages: [5, 250]  # <-",
        "spec.deployment.rollout_traffic_percentages[1]",
        "less than or equal to 100",
    ),
    (
        "cpu-quantity",
        "  resources:\n    limits:\n      cpu: two  # <-",
        "spec.resources.limits.cpu",
        "not a Kubernetes quantity",
    ),
    (
        "memory-quantity",
        "  resources:\n    limits:\n      memory: 8GB  # <-",
        "spec.resources.limits.memory",
        "not a Kubernetes quantity",
    ),
    (
        "min-over-max",
        "  scalability:  # <-\n    min_instances: 5\n    max_instances: 2",
        "spec.scalability",
        "above max_instances",
    ),
    (
        "min-negative",
        "  scalability:\n    min_instances: -1  # <-",
        "spec.scalability.min_instances",
        "greater than or equal to 0",
    ),
    (
        "concurrency",
        "  scalability:\n    max_instance_request_concurrency: 0  # <-",
        "spec.scalability.max_instance_request_concurrency",
        "greater than or equal to 1",
    ),
    (
        "egress-enum",
        "  vpc_access:\n    enabled: true\n    egress: SOME  # <-",
        "spec.vpc_access.egress",
        "ALL_TRAFFIC",
    ),
    (
        "exec-env",
        "  execution_environment: GEN3  # <-",
        "spec.execution_environment",
        "EXECUTION_ENVIRONMENT_GEN1",
    ),
    (
        "backend-protocol",
        "  load_balancing:\n    external_load_balancer:\n      backend_protocol: SPDY  # <-",
        "spec.load_balancing.external_load_balancer.backend_protocol",
        "HTTP2",
    ),
    (
        "billing-type",
        "  request_based_billing: sometimes  # <-",
        "spec.request_based_billing",
        "valid boolean",
    ),
    (
        "timeout-range",
        "  request_timeout: 7200  # <-",
        "spec.request_timeout",
        "less than or equal to 3600",
    ),
    (
        "scrape-target",
        "  observability:\n    scrape_targets:\n      - localhost  # <-",
        "spec.observability.scrape_targets[0]",
        "should match pattern",
    ),
    ("unknown-spec", "  container_prot: 8080  # <-", "spec.container_prot", "unknown field"),
    (
        "unknown-nested",
        "  scalability:\n    max_replicas: 3  # <-",
        "spec.scalability.max_replicas",
        "unknown field",
    ),
    ("extension-in-v1", "  listeners: []  # <-", "spec.listeners", "unknown field"),
]


def _case(
    tmp_path: Path, spec: str, *, api: str = "runway/v1", name: str = "svc"
) -> tuple[Path, int]:
    text = BASE.format(api=api, name=name, spec=spec)
    marker = next(i for i, line in enumerate(text.splitlines(), 1) if "# <-" in line)
    path = tmp_path / "runway.yml"
    path.write_text(text)
    return path, marker


@pytest.mark.parametrize(
    ("spec", "field", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_constraint_is_located(tmp_path: Path, spec: str, field: str, fragment: str) -> None:
    path, line = _case(tmp_path, spec)
    result = loader.load_paths([path])
    assert not result.ok
    assert result.services == []
    matching = [d for d in result.diagnostics if d.field == field]
    assert matching, [d.render() for d in result.diagnostics]
    diagnostic = matching[0]
    assert fragment in diagnostic.message
    assert diagnostic.line == line
    assert diagnostic.file.endswith("runway.yml")


def test_column_points_at_the_value(tmp_path: Path) -> None:
    path, line = _case(tmp_path, "  container_port: 0  # <-")
    (diagnostic,) = loader.load_paths([path]).diagnostics
    assert (diagnostic.line, diagnostic.column) == (line, 19)
    assert diagnostic.render().startswith(f"{diagnostic.file}:{line}:19: spec.container_port: ")


def test_unknown_key_points_at_the_key_with_a_suggestion(tmp_path: Path) -> None:
    path, line = _case(tmp_path, "  container_prot: 8080  # <-")
    (diagnostic,) = loader.load_paths([path]).diagnostics
    assert (diagnostic.line, diagnostic.column) == (line, 3)
    assert "container_port" in diagnostic.hint


def test_extension_in_v1_says_how_to_opt_in(tmp_path: Path) -> None:
    path, _ = _case(tmp_path, "  listeners: []  # <-")
    (diagnostic,) = loader.load_paths([path]).diagnostics
    assert "runway/v1+dev" in diagnostic.hint


@pytest.mark.parametrize(
    ("metadata", "fragment"),
    [
        ("  name: " + "a" * 64, "at most 63 characters"),
        ("  name: Bad Name", "should match pattern"),
        ("  name: svc\n  owner: someone", "unknown field"),
    ],
)
def test_metadata_constraints(tmp_path: Path, metadata: str, fragment: str) -> None:
    (tmp_path / "runway.yml").write_text(
        f"apiVersion: runway/v1\nkind: RunwayService\nmetadata:\n{metadata}\n"
    )
    result = loader.load_paths([tmp_path])
    assert any(fragment in d.message and d.field.startswith("metadata") for d in result.diagnostics)


def test_all_errors_of_a_file_in_one_pass(tmp_path: Path) -> None:
    spec = "  container_port: 0\n  regions: []\n  scalability:\n    min_instances: -2\n  bogus: 1"
    path, _ = _case(tmp_path, spec + "  # <-")
    diagnostics = loader.load_paths([path]).diagnostics
    assert {d.field for d in diagnostics} == {
        "spec.container_port",
        "spec.regions",
        "spec.scalability.min_instances",
        "spec.bogus",
    }
    assert [d.line for d in diagnostics] == sorted(d.line or 0 for d in diagnostics)


def test_missing_required_fields(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text("apiVersion: runway/v1\nkind: RunwayService\nspec: {}\n")
    (diagnostic,) = loader.load_paths([tmp_path]).diagnostics
    assert diagnostic.field == "metadata"
    assert diagnostic.message == "required field is missing"


def test_beta_manifest_gets_migration_hint(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text(
        "apiVersion: runway/v1.0.0-beta\nkind: RunwayService\nmetadata:\n  name: x\n  owner: me\n"
        "spec:\n  image: foo:1\n"
    )
    (diagnostic,) = loader.load_paths([tmp_path]).diagnostics
    assert (diagnostic.line, diagnostic.field) == (1, "apiVersion")
    assert "owner_email_handle" in diagnostic.hint and "runway/v1" in diagnostic.hint


@pytest.mark.parametrize(
    ("head", "fragment"),
    [
        ("apiVersion: runway/v2\nkind: RunwayService", "unknown apiVersion"),
        ("apiVersion: runway/v1\nkind: RunwayJob", "unknown kind"),
        ("apiVersion: runway/v1", "missing kind"),
        ("apiVersion: runway/v1+dev\nkind: RunwayKubernetesService", "no runway/v1+dev form"),
    ],
)
def test_api_version_and_kind(tmp_path: Path, head: str, fragment: str) -> None:
    (tmp_path / "runway.yml").write_text(head + "\nmetadata:\n  name: x\n")
    (diagnostic,) = loader.load_paths([tmp_path]).diagnostics
    assert fragment in diagnostic.message


DEV = "runway/v1+dev"


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        (
            "  listeners:\n    - {name: a, port: 80}\n    - {name: a, port: 81}",
            "spec",
            "listener 'a' is defined twice",
        ),
        (
            "  listeners:\n    - {name: a, port: 80}\n    - {name: b, port: 80}",
            "spec",
            "listener port '80'",
        ),
        (
            "  listeners:\n    - {name: a, port: 80, exposure: world}",
            "spec.listeners[0].exposure",
            "'public'",
        ),
        (
            "  listeners:\n    - {name: a, port: 80, protocol: udp}",
            "spec.listeners[0].protocol",
            "'grpc'",
        ),
        (
            "  listeners:\n    - {name: a, port: 80, host: x.example.com}",
            "spec.listeners[0]",
            "host is only meaningful",
        ),
        (
            "  listeners:\n    - {name: Agent_Port, port: 80}",
            "spec.listeners[0].name",
            "should match pattern",
        ),
        (
            "  listeners:\n    - {name: agent--api, port: 80}",
            "spec.listeners[0].name",
            "should match pattern",
        ),
        ("  secrets:\n    - {name: s, file: /x}", "spec.secrets[0]", "exactly one source"),
        (
            "  secrets:\n    - {name: s, generate: {length: 32}}",
            "spec.secrets[0]",
            "exactly one of file",
        ),
        (
            "  secrets:\n    - {name: s, generate: {length: 32, bytes: 64}, file: /x}",
            "spec.secrets[0].generate",
            "exactly one of length",
        ),
        (
            "  secrets:\n    - {name: s, generate: {length: 8}, file: /x}",
            "spec.secrets[0].generate.length",
            "greater than or equal to 16",
        ),
        (
            "  secrets:\n    - {name: s, generate: {length: 32}, env: lower}",
            "spec.secrets[0].env",
            "should match pattern",
        ),
        (
            # the chart mounts it as volume secret-NAME: a DNS label of at most 63 characters
            f"  secrets:\n    - {{name: {'s' * 57}, existing: {{name: a, key: k}}, file: /x}}",
            "spec.secrets[0].name",
            "at most 56 characters",
        ),
        (
            "  secrets:\n    - {name: s, external: {store: vault, path: ''}, file: /x}",
            "spec.secrets[0].external.path",
            "at least 1",
        ),
        (
            "  config_files:\n    - {path: relative/file, content: x}",
            "spec.config_files[0].path",
            "should match pattern",
        ),
        (
            "  config_files:\n    - {path: /x, content: [1]}",
            "spec.config_files[0].content",
            "text or a mapping",
        ),
        ("  datastores:\n    redis: {sentinels: ['a:1']}", "spec.datastores.redis", "master_name"),
        ("  datastores:\n    redis: {}", "spec.datastores.redis", "exactly one of address"),
        ("  gitlab:\n    versions: 'newest'", "spec.gitlab.versions", "not a version comparator"),
        (
            "  service_account:\n    gcp_service_account: me@gmail.com",
            "spec.service_account.gcp_service_account",
            "should match pattern",
        ),
        (
            "  service_account:\n    rules: [{resources: [pods], verbs: [get]}]",
            "spec.service_account",
            "automount_token",
        ),
        ("  readiness_probe:\n    target: {listener: nope}", "spec", "not in listeners"),
    ],
)
def test_extension_constraints(tmp_path: Path, spec: str, field: str, fragment: str) -> None:
    (tmp_path / "runway.yml").write_text(BASE.format(api=DEV, name="svc", spec=spec))
    result = loader.load_paths([tmp_path])
    assert not result.ok
    assert any(d.field == field and fragment in d.message for d in result.diagnostics), [
        d.render() for d in result.diagnostics
    ]


def test_secret_may_not_share_a_name_with_a_plain_variable(tmp_path: Path) -> None:
    spec = "  secrets:\n    - {name: token, existing: {name: s, key: k}, env: API_TOKEN}"
    (tmp_path / "runway.yml").write_text(BASE.format(api=DEV, name="svc", spec=spec))
    (tmp_path / "env-production.yml").write_text("API_TOKEN: not-a-secret\n")
    (diagnostic,) = loader.load_paths([tmp_path]).diagnostics
    assert diagnostic.file.endswith("env-production.yml")
    assert "API_TOKEN" in diagnostic.message and "rename" in diagnostic.hint


def test_env_file_rules(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text(
        BASE.format(api="runway/v1", name="svc", spec="  regions: [us-east1]")
    )
    (tmp_path / "env-staging.yml").write_text("GOOD: 1\nnested:\n  a: b\n9BAD: x\n")
    diagnostics = loader.load_paths([tmp_path]).diagnostics
    assert [(d.line, d.field or d.message) for d in diagnostics] == [
        (2, "nested"),
        (4, "'9BAD' is not a valid environment variable name"),
    ]


def test_env_values_become_strings(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text(
        BASE.format(api="runway/v1", name="svc", spec="  regions: [us-east1]")
    )
    (tmp_path / "env-staging.yml").write_text("PORT: 8082\nDEBUG: true\nNAME: x\n")
    (service,) = loader.load_paths([tmp_path]).services
    assert service.env_vars == {"staging": {"PORT": "8082", "DEBUG": "true", "NAME": "x"}}


def test_environment_file_must_name_the_same_service(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text(
        BASE.format(api="runway/v1", name="svc", spec="  regions: [us-east1]")
    )
    (tmp_path / "runway-staging.yml").write_text(
        BASE.format(api="runway/v1", name="other", spec="  regions: [us-east1]")
    )
    (diagnostic,) = loader.load_paths([tmp_path]).diagnostics
    assert diagnostic.file.endswith("runway-staging.yml") and diagnostic.field == "metadata.name"


def test_environment_files_without_base(tmp_path: Path) -> None:
    for env in ("staging", "production"):
        (tmp_path / f"runway-{env}.yml").write_text(
            BASE.format(
                api="runway/v1",
                name="svc",
                spec=f"  regions: [us-east1]\n  request_timeout: {len(env)}",
            )
        )
    (service,) = loader.load_paths([tmp_path]).services
    assert service.base is None
    assert service.manifest("staging").spec.request_timeout == 7  # type: ignore[union-attr]
    assert service.manifest("production").spec.request_timeout == 10  # type: ignore[union-attr]


def test_staging_file_replaces_base(tmp_path: Path) -> None:
    (tmp_path / "runway.yml").write_text(
        BASE.format(api="runway/v1", name="svc", spec="  scalability: {min_instances: 8}")
    )
    (tmp_path / "runway-staging.yml").write_text(
        BASE.format(api="runway/v1", name="svc", spec="  regions: [europe-west1]")
    )
    (service,) = loader.load_paths([tmp_path]).services
    staging = service.manifest("staging")
    assert staging.spec.scalability.min_instances == 0  # replaced, not merged
    assert service.manifest("production").spec.scalability.min_instances == 8
    assert service.manifest(None).spec.regions == ["us-east1"]  # type: ignore[union-attr]


def test_several_documents_in_one_file(tmp_path: Path) -> None:
    one = BASE.format(api="runway/v1", name="one", spec="  regions: [us-east1]")
    two = BASE.format(api="runway/v1", name="two", spec="  container_port: 0")
    (tmp_path / "services.yml").write_text(one + "---\n" + two)
    result = loader.load_paths([tmp_path / "services.yml"])
    assert [s.name for s in result.services] == ["one"]
    (diagnostic,) = result.diagnostics
    assert diagnostic.line == one.count("\n") + 1 + 6  # after "---", line 6 of the second document


def test_chart_names_must_stay_unique(tmp_path: Path) -> None:
    for name in ("my_svc", "my-svc"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "runway.yml").write_text(
            BASE.format(api="runway/v1", name=name, spec="  regions: [us-east1]")
        )
    result = loader.load_paths([tmp_path])
    assert any("same chart name 'my-svc'" in d.message for d in result.diagnostics)
