"""Workspaces from one devfile: GitLab's restrictions, the CI job, the Kubernetes objects, the
start script run for real, and the runner fleet."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from runway.errors import Diagnostic, ExitCode, Severity
from runway.verify import kube
from runway.workspace import runner
from tests.conftest import ROOT, run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "workspace"
GOLDEN = FIXTURES / "golden"
KAS = "wss://kas.gitlab.example.com"
DOMAIN = "workspaces.gitlab.example.com"
CI_SCHEMA = json.loads((ROOT / "runway" / "data" / "schemas" / "gitlab-ci.schema.json").read_text())


def _job(devfile: Path, name: str = "ws", *extra: str) -> Any:
    return run_cli(
        "workspace", "job", str(devfile), "--workspace", name, "--kas-address", KAS, *extra
    )


OBJECT_OPTIONS = (
    "--namespace",
    "workspaces",
    "--agent-id",
    "7",
    "--workspace-id",
    "42",
    "--dns-zone",
    DOMAIN,
    "--project-url",
    "https://gitlab.example.com/group/app.git",
    "--project-path",
    "app",
    "--kas-address",
    KAS,
)


def _objects(devfile: Path, name: str = "ws", *extra: str) -> Any:
    return run_cli(
        "workspace", "manifests", str(devfile), "--workspace", name, *OBJECT_OPTIONS, *extra
    )


@pytest.mark.parametrize("shape", ["default", "multi"])
def test_the_ci_job_matches_its_golden_file_and_gitlabs_schema(shape: str) -> None:
    result = _job(FIXTURES / f"{shape}.devfile.yaml", f"{shape}-ws", "--domain", DOMAIN)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (GOLDEN / f"{shape}.job.yml").read_text()
    document = YAML(typ="safe").load(result.stdout)
    assert list(jsonschema.Draft7Validator(CI_SCHEMA).iter_errors(document)) == []
    job = document["workload"]
    assert job["interruptible"] is True
    assert job["tags"] == ["workspaces"]
    assert job["cache"]["key"] == f"workspace-{shape}-ws"
    assert job["services"][0]["alias"] == "gl-tools-injector"
    assert "entrypoint" not in job["services"][0], "the tools image's own entrypoint copies"
    assert job["variables"]["PROJECT_SOURCE"] == "$CI_PROJECT_DIR", "the checked-out project"
    assert job["environment"]["url"] == (
        f"https://60001-{shape}-ws.{DOMAIN}/?folder=$CI_PROJECT_DIR"
    ), "the editor opens the checked-out project"


def test_the_multi_container_job_carries_resources_env_and_ports() -> None:
    job = YAML(typ="safe").load((GOLDEN / "multi.job.yml").read_text())["workload"]
    variables = job["variables"]
    assert variables["KUBERNETES_CPU_LIMIT"] == "2"
    assert variables["KUBERNETES_MEMORY_REQUEST"] == "1Gi"
    assert variables["GOFLAGS"] == {"value": "-mod=mod $HOME", "expand": False}
    assert [s["alias"] for s in job["services"]] == ["gl-tools-injector", "database"]
    assert "GL_AGENTW_TOKEN_FILE_PATH" not in variables, "GitLab fills the token as a file variable"
    assert variables["GL_GITLAB_AGENT_SERVER_ADDRESS"] == {"value": KAS, "expand": False}


@pytest.mark.parametrize("shape", ["default", "multi"])
def test_the_kubernetes_objects_are_gitlabs(shape: str) -> None:
    """GitLab 18.9's objects (contracts §4.1-4.4): names, volumes, labels and annotations the
    proxy and KAS discover the workspace by, GitLab's security context, the project clone."""
    name = f"{shape}-ws"
    result = _objects(FIXTURES / f"{shape}.devfile.yaml", name)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (GOLDEN / f"{shape}.objects.yaml").read_text()
    assert f"Secret workspaces/{name}-file (key: gl_agentw_token" in result.stderr
    objects = [o for o in YAML(typ="safe").load_all(result.stdout) if o]
    for obj in objects:
        assert kube.validate_object(json.loads(json.dumps(obj))) == [], obj["kind"]
        assert obj["metadata"]["labels"]["agent.gitlab.com/id"] == "7"
        annotations = obj["metadata"]["annotations"]
        assert (
            annotations["workspaces.gitlab.com/host-template"] == f"{{{{.port}}}}-{name}.{DOMAIN}"
        )
        assert annotations["workspaces.gitlab.com/id"] == "42"
    by_kind = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert {
        ("Deployment", name),
        ("Service", name),
        ("ServiceAccount", name),
        ("NetworkPolicy", name),
        ("PersistentVolumeClaim", f"{name}-gl-workspace-data"),
        ("ConfigMap", f"{name}-scripts-configmap"),
    } <= by_kind
    assert "Secret" not in {k for k, _ in by_kind}, "agentw's token is a reference"
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 5001,
        "fsGroup": 0,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (injector,) = pod["initContainers"]
    assert injector["name"] == "gl-tools-injector-gl-tools-injector-command-1"
    assert {"name": "GL_TOOLS_DIR", "value": "/projects/.gl-tools"} in injector["env"]
    for container in [*pod["initContainers"], *pod["containers"]]:
        assert {"name": "gl-workspace-data", "mountPath": "/projects"} in container["volumeMounts"]
        context = container["securityContext"]
        assert context["runAsUser"] == 5001 and context["allowPrivilegeEscalation"] is False
        assert context["privileged"] is False and "readOnlyRootFilesystem" not in context
    main = pod["containers"][0]
    env = {e["name"]: e["value"] for e in main["env"]}
    assert env["PROJECT_SOURCE"] == "/projects/app" and env["PROJECTS_ROOT"] == "/projects"
    assert env["GL_PROJECT_URL"] == "https://gitlab.example.com/group/app.git"
    assert env["GL_AGENTW_TOKEN_FILE_PATH"] == "/.workspace-data/variables/file/gl_agentw_token"
    assert main["lifecycle"]["postStart"]["exec"]["command"][-1] == (
        "/workspace-scripts/gl-poststart-commands.sh"
    )
    assert [p["name"] for p in main["ports"]][:2] == ["editor-server", "ssh-server"]
    service = next(o for o in objects if o["kind"] == "Service")
    assert [p["name"] for p in service["spec"]["ports"]][:2] == ["editor-server", "ssh-server"]
    policy = next(o for o in objects if o["kind"] == "NetworkPolicy")
    assert policy["spec"]["ingress"][0]["from"][0]["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "gitlab-workspaces-proxy"}
    }
    from runway.verify import together

    assert together.check([together.Installed("workspace", objects)]).problems == []


def test_the_poststart_hook_clones_the_project_then_starts_agent_editor_and_commands(
    tmp_path: Path,
) -> None:
    """The hook from the scripts ConfigMap, run with sh: a real git clone of a local repository
    into /projects/<path>, agentw and the editor (stand-ins logging their flags), postStart."""
    origin = tmp_path / "origin"
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], check=True)
    (origin / "README.md").write_text("hello\n")
    git = ["git", "-C", str(origin), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    objects = [
        o for o in YAML(typ="safe").load_all((GOLDEN / "multi.objects.yaml").read_text()) if o
    ]
    hook = next(o for o in objects if o["kind"] == "ConfigMap")["data"]["gl-poststart-commands.sh"]
    main = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]
    tools, log = _stand_in_tools(tmp_path)
    projects = tmp_path / "projects"
    projects.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    env.update({e["name"]: e["value"] for e in main["env"]})
    token = tmp_path / "token"
    token.write_text("agentw-token")
    env.update(
        {
            "GL_TOOLS_DIR": str(tools),
            "PROJECTS_ROOT": str(projects),
            "PROJECT_SOURCE": str(projects / "app"),
            "GL_PROJECT_URL": f"file://{origin}",
            "GL_AGENTW_TOKEN_FILE_PATH": str(token),
            "GL_POST_START_1": f"pwd >> {log}",
        }
    )
    done = subprocess.run(["sh", "-c", hook], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (projects / "app" / "README.md").read_text() == "hello\n"
    assert (projects / ".gl_project_cloning_successful").exists()
    deadline = time.monotonic() + 10
    while str(projects / "app") not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    calls = log.read_text().splitlines()
    assert (
        f"agent --kas-address {KAS} --token-file {token} --observability-listen-address :60031"
        in calls
    )
    assert any(
        c.startswith("editor --host 0.0.0.0 --port 60001 --log info --without-connection-token")
        for c in calls
    )
    assert str(projects / "app") in calls, "postStart commands run in the project"
    again = subprocess.run(["sh", "-c", hook], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, "a restart keeps the clone (the marker file)"


def _stand_in_tools(tmp_path: Path) -> tuple[Path, Path]:
    """agentw and the editor where GitLab's tools injector puts them, logging their arguments."""
    tools = tmp_path / "tools"
    (tools / "vscode-reh-web" / "bin").mkdir(parents=True)
    log = tmp_path / "calls.log"
    log.touch()
    agent = tools / "agentw"
    editor = tools / "vscode-reh-web" / "bin" / "gitlab-webide-server"
    agent.write_text(f'#!/bin/sh\necho "agent $*" >> {log}\nsleep 1\n')
    editor.write_text(f'#!/bin/sh\necho "editor $*" >> {log}\nexec sleep 30 >/dev/null 2>&1\n')
    for tool in (agent, editor):
        tool.chmod(0o755)
    return tools, log


def _devfile(tmp_path: Path, text: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "devfile.yaml"
    path.write_text(text)
    return path


BASE = """schemaVersion: 2.2.0
components:
  - name: main
    attributes:
      gl/inject-editor: true
    container:
      image: registry.example.com/ws:1
"""

RESTRICTIONS = {
    "schema-version": (
        BASE.replace("2.2.0", "2.1.0"),
        "1:16: schemaVersion: schemaVersion must be exactly 2.2.0",
    ),
    "schema": (
        BASE.replace("      image: registry.example.com/ws:1\n", "      memoryLimit: 1Gi\n"),
        "devfile schema:",
    ),
    "image-component": (
        BASE
        + "  - name: built\n    image:\n      imageName: x\n      dockerfile: {uri: Dockerfile}\n",
        "components.1.image: image components are not supported",
    ),
    "parent": (
        BASE + "parent:\n  uri: https://example.com/devfile.yaml\n",
        "parent: parent is not supported",
    ),
    "projects": (
        BASE
        + "projects:\n  - name: app\n    git: {remotes: {origin: 'https://example.com/a.git'}}\n",
        "projects: projects is not supported",
    ),
    "starter-projects": (
        BASE
        + "starterProjects:\n  - name: s\n    git: {remotes: {origin: 'https://example.com/s.git'}}\n",
        "starterProjects is not supported",
    ),
    "pod-overrides": (
        BASE + "attributes:\n  pod-overrides: {spec: {hostNetwork: true}}\n",
        "attributes.pod-overrides: pod-overrides are not supported",
    ),
    "container-overrides": (
        BASE.replace(
            "      gl/inject-editor: true\n",
            "      gl/inject-editor: true\n      container-overrides: {securityContext: {privileged: true}}\n",
        ),
        "components.0.attributes.container-overrides",
    ),
    "dedicated-pod": (
        BASE + "      dedicatedPod: true\n",
        "components.0.container.dedicatedPod: dedicatedPod is not supported",
    ),
    "source-mapping": (
        BASE + "      sourceMapping: /src\n",
        "components.0.container.sourceMapping",
    ),
    "no-main": (
        BASE.replace("      gl/inject-editor: true\n", "      other: true\n"),
        "exactly one container needs attributes.gl/inject-editor: true (found 0)",
    ),
    "two-mains": (
        BASE
        + "  - name: second\n    attributes:\n      gl/inject-editor: true\n    container:\n      image: registry.example.com/ws:2\n",
        "(found 2)",
    ),
    "gl-component": (
        BASE.replace("name: main", "name: gl-main"),
        "components.0.name: component name 'gl-main' starts with gl-",
    ),
    "gl-command": (
        BASE + "commands:\n  - id: gl-build\n    exec: {component: main, commandLine: make}\n",
        "commands.0.id: command id 'gl-build' starts with gl-",
    ),
    "gl-endpoint": (
        BASE + "      endpoints:\n        - name: gl-web\n          targetPort: 3000\n",
        "endpoints.0.name: endpoint name 'gl-web'",
    ),
    "gl-variable": (
        BASE + "variables:\n  gl_version: '1'\n",
        "variables.gl_version: variable name 'gl_version'",
    ),
    "long-volume": (
        BASE + "  - name: vvvvvvvvvvvvvvvvvvvvvvvvvvvv\n    volume: {size: 1Gi}\n",
        "is 28 characters; GitLab allows fewer than 28",
    ),
    "composite": (
        BASE
        + "commands:\n  - id: build\n    exec: {component: main, commandLine: make}\n  - id: all\n    composite: {commands: [build]}\n",
        "commands.1.composite: composite commands are not supported",
    ),
    "post-stop": (
        BASE
        + "commands:\n  - id: build\n    exec: {component: main, commandLine: make}\nevents:\n  postStop: [build]\n",
        "events.postStop: postStop events are not supported",
    ),
    "post-start-apply": (
        BASE
        + "  - name: vol\n    volume: {}\ncommands:\n  - id: vol-apply\n    apply: {component: vol}\nevents:\n  postStart: [vol-apply]\n",
        "events.postStart.0: postStart must name an exec command",
    ),
    "override-command": (
        BASE + "      command: [/bin/app]\n",
        "components.0.container.command: command cannot be set while overrideCommand is true",
    ),
}


@pytest.mark.parametrize("rule", sorted(RESTRICTIONS))
def test_every_gitlab_restriction_is_refused_with_a_located_error(
    tmp_path: Path, rule: str
) -> None:
    text, expected = RESTRICTIONS[rule]
    path = _devfile(tmp_path, text)
    result = run_cli("workspace", "check", str(path))
    assert result.exit_code == ExitCode.INVALID_INPUT, result.stdout
    assert expected in result.stderr
    assert f"{path}:" in result.stderr
    assert "Traceback" not in result.stderr
    for command in (_job(path), _objects(path)):
        assert command.exit_code == ExitCode.INVALID_INPUT, "every translation checks first"
    as_json = run_cli("workspace", "check", str(path), "--format", "json")
    assert as_json.exit_code == ExitCode.INVALID_INPUT
    document = json.loads(as_json.stdout)
    assert document["valid"] is False
    rendered = [
        Diagnostic(**{**d, "severity": Severity(d["severity"])}).render()
        for d in document["diagnostics"]
    ]
    assert any(expected in line for line in rendered), rendered


def test_the_base_devfile_of_those_tests_is_valid(tmp_path: Path) -> None:
    result = run_cli("workspace", "check", str(_devfile(tmp_path, BASE)))
    assert result.exit_code == 0, result.stderr


def test_a_devfile_over_3_mb_is_refused(tmp_path: Path) -> None:
    path = _devfile(tmp_path, BASE + "# " + "x" * (3 * 1024 * 1024) + "\n")
    result = run_cli("workspace", "check", str(path))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "devfiles are limited to 3145728 bytes" in result.stderr


def test_override_command_false_keeps_the_images_command(tmp_path: Path) -> None:
    text = BASE.replace(
        "      gl/inject-editor: true\n",
        "      gl/inject-editor: true\n      overrideCommand: false\n",
    )
    path = _devfile(tmp_path, text + "      command: [/bin/app]\n")
    assert run_cli("workspace", "check", str(path)).exit_code == 0
    deployment = next(
        o
        for o in YAML(typ="safe").load_all(_objects(path).stdout)
        if o and o["kind"] == "Deployment"
    )
    assert deployment["spec"]["template"]["spec"]["containers"][0]["command"] == ["/bin/app"]


def test_what_a_workspace_cannot_do_is_refused_naming_the_field(tmp_path: Path) -> None:
    low_port = _devfile(
        tmp_path, BASE + "      endpoints:\n        - name: web\n          targetPort: 80\n"
    )
    result = _objects(low_port)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert (
        "components.0.container.endpoints.0.targetPort: port 80 needs root to bind" in result.stderr
    )
    taken = _devfile(
        tmp_path / "taken",
        BASE + "      endpoints:\n        - name: web\n          targetPort: 60001\n",
    )
    assert "port 60001 is the workspace's own (editor)" in _objects(taken).stderr
    quiet = _devfile(
        tmp_path / "quiet",
        BASE + "  - name: helper\n    container:\n      image: registry.example.com/h:1\n",
    )
    assert _objects(quiet).exit_code == 0, "a sidecar without endpoints is fine, as in GitLab"


def test_a_job_above_the_fleets_caps_is_refused(tmp_path: Path) -> None:
    path = _devfile(tmp_path, BASE + "      cpuLimit: '8'\n      memoryLimit: 16Gi\n")
    result = _job(path)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert (
        "components.0.container.cpuLimit: 8 is above the runner fleet's cap of 4" in result.stderr
    )
    assert (
        "components.0.container.memoryLimit: 16Gi is above the runner fleet's cap of 8Gi"
        in result.stderr
    )


def test_post_start_commands_run_only_in_the_main_container(tmp_path: Path) -> None:
    text = BASE + (
        "  - name: db\n    container:\n      image: registry.example.com/db:1\n"
        "      endpoints: [{name: db, targetPort: 5432}]\n"
        "commands:\n  - id: seed\n    exec: {component: db, commandLine: seed}\n"
        "events:\n  postStart: [seed]\n"
    )
    result = _job(_devfile(tmp_path, text))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "events.postStart.0: postStart command 'seed' runs in 'db'" in result.stderr


def test_the_ci_script_runs_agent_editor_and_post_start_in_the_checkout(tmp_path: Path) -> None:
    """The script from the golden job, run with sh against stand-in tools that log their calls."""
    tools, log = _stand_in_tools(tmp_path)
    token = tmp_path / "token"
    token.write_text("token-from-a-file-variable")
    job = YAML(typ="safe").load((GOLDEN / "multi.job.yml").read_text())["workload"]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    for name, value in job["variables"].items():
        env[name] = value["value"] if isinstance(value, dict) else value
    checkout = tmp_path / "builds" / "group" / "app"
    checkout.mkdir(parents=True)
    env.update(
        {
            "GL_TOOLS_DIR": str(tools),
            "PROJECTS_ROOT": str(tmp_path / "builds"),
            "PROJECT_SOURCE": str(checkout),
            "GL_AGENTW_TOKEN_FILE_PATH": str(token),
            "GL_POST_START_1": f'pwd >> {log}; echo "first" >> {log}',
            "GL_POST_START_2": f'echo "second" >> {log}',
        }
    )
    started = time.monotonic()
    done = subprocess.run(
        ["sh", "-c", job["script"][0]], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 20, "the job ends with the agent, not the editor"
    calls = log.read_text().splitlines()
    (agent,) = [c for c in calls if c.startswith("agent ")]
    assert (
        agent
        == f"agent --kas-address {KAS} --token-file {token} --observability-listen-address :60031"
    )
    assert any(c.startswith("editor --host 0.0.0.0 --port 60001") for c in calls)
    assert calls.index(str(checkout)) < calls.index("first") < calls.index("second")
    env.pop("GL_AGENTW_TOKEN_FILE_PATH")
    missing = subprocess.run(
        ["sh", "-c", job["script"][0]], env=env, capture_output=True, text=True, timeout=30
    )
    assert missing.returncode != 0
    assert "GL_AGENTW_TOKEN_FILE_PATH" in missing.stderr


def test_the_runner_fleet_bundle_validates_and_bounds_the_jobs(tmp_path: Path) -> None:
    result = run_cli(
        "workspace",
        "fleet",
        "--gitlab-url",
        "https://gitlab.example.com",
        "--max-cpu",
        "3",
        "-o",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.stderr
    objects = [o for o in YAML(typ="safe").load_all((tmp_path / "fleet.yaml").read_text()) if o]
    assert sorted(o["kind"] for o in objects) == [
        "HelmRelease",
        "HelmRepository",
        "Namespace",
        "Namespace",
        "Role",
        "RoleBinding",
        "ServiceAccount",
        "ServiceAccount",
    ]
    from runway.verify.wiring import runner_fleet

    assert runner_fleet(objects) == []
    jobs_account = next(
        o
        for o in objects
        if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == "workspace-jobs"
    )
    assert jobs_account["metadata"]["namespace"] == "gitlab-workspaces"
    planted = [o for o in objects if o is not jobs_account]
    assert runner_fleet(planted) == [
        "HelmRelease/workspaces-runner: runners.config gives job pods ServiceAccount "
        "gitlab-workspaces/workspace-jobs, which is not created with it; no job could start"
    ]
    unbound = [o for o in objects if o["kind"] != "RoleBinding"]
    assert "may not create pods and pods/exec in gitlab-workspaces" in runner_fleet(unbound)[0]
    for obj in objects:
        assert kube.validate_object(json.loads(json.dumps(obj))) == [], obj["kind"]
    release = next(o for o in objects if o["kind"] == "HelmRelease")
    values = release["spec"]["values"]
    assert release["spec"]["chart"]["spec"]["chart"] == "gitlab-runner"
    assert values["runners"]["secret"] == "workspaces-runner-token"
    assert values["runners"]["runUntagged"] is False
    config = values["runners"]["config"]
    assert "privileged = false" in config
    assert 'cpu_limit_overwrite_max_allowed = "3"' in config
    assert values["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert runner.check_caps(runner.Fleet(max_cpu="3"), {"KUBERNETES_CPU_LIMIT": ("4", "f")})


PLANTED = {
    "GL_AGENTW_TOKEN_FILE_PATH": "glwt-planted-9f1e",
    "CI_JOB_TOKEN": "planted-job-token-77aa",
    "RUNWAY_GITLAB_TOKEN": "glpat-planted-3c3c",
    "RUNWAY_REGISTRY_PASSWORD": "planted-registry-0b0b",
}


def test_no_output_holds_a_token(tmp_path: Path) -> None:
    outputs = []
    for shape in ("default", "multi"):
        devfile = str(FIXTURES / f"{shape}.devfile.yaml")
        for args in (
            (
                "workspace",
                "job",
                devfile,
                "--workspace",
                shape,
                "--kas-address",
                KAS,
                "-o",
                str(tmp_path / f"{shape}.yml"),
            ),
            (
                "workspace",
                "manifests",
                devfile,
                "--workspace",
                shape,
                *OBJECT_OPTIONS,
                "-o",
                str(tmp_path / shape),
            ),
        ):
            result = run_cli(*args, env=PLANTED)
            assert result.exit_code == 0, result.stderr
            outputs.append(result.stdout + result.stderr)
    fleet = run_cli(
        "workspace",
        "fleet",
        "--gitlab-url",
        "https://gitlab.example.com",
        "-o",
        str(tmp_path / "fleet"),
        env=PLANTED,
    )
    assert fleet.exit_code == 0
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= 10
    outputs += [p.read_text() for p in files]
    for secret in PLANTED.values():
        assert all(secret not in text for text in outputs)


def _exec(options: str, command_id: str = "build") -> str:
    return f"commands:\n  - id: {command_id}\n    exec: {{component: main, commandLine: make{options}}}\n"


# Each GitLab rule: a devfile that breaks it (and the message), and one allowed at its edge.
RULES_AT_THE_EDGE: dict[str, tuple[str, str, str]] = {
    "variable-upper-case": (
        BASE + "variables:\n  GL_TOKEN: x\n",
        "variables.GL_TOKEN: variable name 'GL_TOKEN' starts with gl_ (any case)",
        BASE + "variables:\n  GLOBAL_TOKEN: x\n",
    ),
    "variable-dash": (
        BASE + "variables:\n  Gl-x: y\n",
        "variable name 'Gl-x' starts with gl- (any case)",
        BASE + "variables:\n  glx: y\n",
    ),
    "component": (
        BASE.replace("name: main", "name: gl-main"),
        "component name 'gl-main' starts with gl-",
        BASE.replace("name: main", "name: glmain"),
    ),
    "command-label": (
        BASE + _exec(", label: gl-build"),
        "commands.0.exec.label: command label 'gl-build' starts with gl-",
        BASE + _exec(", label: build-gl"),
    ),
    "command-component": (
        BASE
        + "  - name: gl-side\n    attributes: {}\n    container: {image: x}\n"
        + _exec("").replace("main", "gl-side"),
        "commands.0.exec.component: command component 'gl-side' starts with gl-",
        BASE + _exec(""),
    ),
    "event-entry": (
        BASE + _exec("", "gl-init") + "events:\n  preStart: [gl-init]\n",
        "events.preStart.0: event entry 'gl-init' starts with gl-",
        BASE + _exec("", "init") + "events:\n  postStart: [init]\n",
    ),
    "hot-reload": (
        BASE + _exec(", hotReloadCapable: true"),
        "commands.0.exec.hotReloadCapable: hotReloadCapable must be false",
        BASE + _exec(", hotReloadCapable: false"),
    ),
    "exec-env": (
        BASE + _exec(", env: [{name: A, value: b}]"),
        "commands.0.exec.env: exec option 'env' is not supported",
        BASE + _exec(", workingDir: /projects"),
    ),
    "exec-group": (
        BASE + _exec(", group: {kind: build}"),
        "commands.0.exec.group: exec option 'group' is not supported",
        BASE + _exec(", label: Build"),
    ),
    "mount-sources": (
        BASE + "      mountSources: false\n",
        "components.0.container.mountSources: mountSources is not supported",
        BASE + "      env: [{name: A, value: b}]\n",
    ),
    "override-command-type": (
        BASE.replace(
            "      gl/inject-editor: true\n",
            "      gl/inject-editor: true\n      overrideCommand: 'no'\n",
        ),
        "overrideCommand must be true or false",
        BASE.replace(
            "      gl/inject-editor: true\n",
            "      gl/inject-editor: true\n      overrideCommand: false\n",
        )
        + "      command: [/bin/app]\n",
    ),
    "sidecar-command-default": (
        BASE
        + "  - name: db\n    container:\n      image: postgres:16\n      args: [-c, fsync=off]\n",
        "components.1.container.args: args cannot be set while overrideCommand is true (its default)",
        BASE
        + "  - name: db\n    attributes: {overrideCommand: false}\n    container:\n      image: postgres:16\n      args: [-c, fsync=off]\n",
    ),
    "volume-name": (
        BASE + "  - name: " + "v" * 28 + "\n    volume: {size: 1Gi}\n",
        "is 28 characters; GitLab allows fewer than 28",
        BASE + "  - name: " + "v" * 27 + "\n    volume: {size: 1Gi}\n",
    ),
    "unsupported-event": (
        BASE + _exec("") + "events:\n  postStop: [build]\n",
        "events.postStop: postStop events are not supported",
        BASE + _exec("") + "events:\n  postStop: []\n",
    ),
}


@pytest.mark.parametrize("rule", sorted(RULES_AT_THE_EDGE))
def test_each_gitlab_rule_refuses_its_break_and_allows_its_edge(tmp_path: Path, rule: str) -> None:
    broken, message, allowed = RULES_AT_THE_EDGE[rule]
    refused = run_cli("workspace", "check", str(_devfile(tmp_path / "broken", broken)))
    assert refused.exit_code == ExitCode.INVALID_INPUT and message in refused.stderr, refused.stderr
    accepted = run_cli("workspace", "check", str(_devfile(tmp_path / "edge", allowed)))
    assert accepted.exit_code == 0, accepted.stderr


def test_every_rule_in_the_table_is_exercised() -> None:
    from runway.workspace import rules

    assert len(rules.RULES) == 18
    assert all(rule.__doc__ for rule in rules.RULES), "each rule states GitLab's rule"


def test_workspace_check_json_names_the_containers() -> None:
    result = run_cli("workspace", "check", str(FIXTURES / "multi.devfile.yaml"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["valid"] is True and document["main"] and document["others"]


def test_job_manifests_and_fleet_speak_json_with_the_same_objects_as_yaml(tmp_path: Path) -> None:
    devfile = FIXTURES / "default.devfile.yaml"
    as_yaml = YAML(typ="safe").load(_job(devfile, "ws", "--domain", DOMAIN).stdout)
    job = json.loads(_job(devfile, "ws", "--domain", DOMAIN, "--format", "json").stdout)
    assert job == {"workspace": "ws", "job": as_yaml, "files": []}

    objects = [o for o in YAML(typ="safe").load_all(_objects(devfile).stdout) if o]
    written = _objects(devfile, "ws", "--format", "json", "-o", str(tmp_path / "objects"))
    document = json.loads(written.stdout)
    assert document["objects"] == objects
    assert document["files"] == sorted(str(p) for p in (tmp_path / "objects").iterdir())
    (secret,) = document["secrets_to_create"]
    assert secret["namespace"] == "workspaces" and secret["key"] == "gl_agentw_token"
    assert f"Secret workspaces/{secret['name']} " in written.stderr

    fleet = run_cli(
        "workspace",
        "fleet",
        "--gitlab-url",
        "https://gitlab.example.com",
        "-o",
        str(tmp_path / "f"),
        "--format",
        "json",
    )
    assert fleet.exit_code == 0, fleet.stderr
    bundle = json.loads(fleet.stdout)
    assert bundle["files"] == [
        str(tmp_path / "f" / n) for n in ("fleet.yaml", "kustomization.yaml")
    ]
    on_disk = [
        o for o in YAML(typ="safe").load_all((tmp_path / "f" / "fleet.yaml").read_text()) if o
    ]
    assert bundle["objects"] == on_disk


def test_every_command_that_reports_takes_format_json() -> None:
    import click

    from runway.cli import main

    def leaves(command: click.Command, path: str) -> list[tuple[str, click.Command]]:
        if isinstance(command, click.Group):
            return [x for n, c in command.commands.items() for x in leaves(c, f"{path} {n}")]
        return [(path.strip(), command)]

    producers = {"completion", "schema"}  # they print a shell script and a JSON Schema
    missing = [
        path
        for path, command in leaves(main, "")
        if path not in producers
        and not any(
            p.name == "fmt" and "json" in getattr(p.type, "choices", ()) for p in command.params
        )
    ]
    assert missing == []


def test_a_runner_value_the_chart_does_not_read_fails_the_fleet_check() -> None:
    """Each value runway sets must be one the gitlab-runner chart's templates read: a misspelt
    or retired key would be ignored without a word."""
    from runway.verify.wiring import runner_fleet
    from runway.workspace import runner

    objects = runner.flux_bundle(runner.Fleet())
    assert runner_fleet(objects) == []
    release = next(o for o in objects if o["kind"] == "HelmRelease")
    release["spec"]["values"]["runners"]["runUntaged"] = False
    release["spec"]["values"]["serviceAcount"] = {"name": "x"}
    problems = runner_fleet(objects)
    assert any("values.runners.runUntaged is not read" in p for p in problems), problems
    assert any("values.serviceAcount is not read" in p for p in problems), problems
