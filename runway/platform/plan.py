"""`runway stack plan`: run both stack programs under Pulumi's mock mode and list what they create.

No cloud, no Pulumi CLI: every resource registration is recorded (type token, name, inputs in
camelCase, as the engine would see them), with plausible outputs returned so dependent resources
can be built. Secrets from config are placeholders, never real values.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from runway.errors import UsageError
from runway.manifest.environment import RunwayEnvironment, load_environment
from runway.platform import programs, projects
from runway.platform.releases import environment_releases

SECRET_PLACEHOLDER = "[secret: set with pulumi config set --secret]"
RUNTIME_SECRETS = ("runnerToken", "agentToken")
"""Secrets a program reads only for some environments (the runner fleet), so no project declares."""


@dataclasses.dataclass(frozen=True, slots=True)
class PlannedResource:
    stack: str
    type: str
    name: str
    inputs: dict[str, Any]
    component: str = ""
    """The runway component it belongs to (`runway:platform:Cluster staging-us-east1`), if any."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every registration; answers with the inputs plus the outputs programs read."""

    def __init__(self, stack: str, env: RunwayEnvironment) -> None:
        self.stack = stack
        self.env = env
        self.resources: list[PlannedResource] = []
        self.parents: dict[str, str] = {}  # URN → parent URN
        self.labels: dict[str, str] = {}  # URN → "type name"
        self.pending_parent = ""

    def component_of(self, parent: str) -> str:
        """The nearest runway component above a resource whose parent is `parent`."""
        while parent:
            label = self.labels.get(parent, "")
            if label.startswith("runway:platform:"):
                return label
            parent = self.parents.get(parent, "")
        return ""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = _redact(json.loads(json.dumps(args.inputs, default=str)))
        component = self.component_of(self.pending_parent)
        self.resources.append(PlannedResource(self.stack, args.typ, args.name, inputs, component))
        state = dict(inputs)
        state.setdefault("name", args.name)
        state.update(_outputs(args.typ, inputs, self.env))
        return f"{args.name}-id", state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Invokes answer as GitLab would for what the programs look up (a group by path)."""
        if args.token == "gitlab:index/getGroup:getGroup":
            path = str(args.args.get("fullPath", ""))
            return {"fullPath": path, "groupId": 4242, "id": "4242"}, []
        return {}, []


MOCK_CA = "-----BEGIN CERTIFICATE-----\n(Memorystore's server CA)\n-----END CERTIFICATE-----\n"

SECRET_SIG = "4dabf18193072939515e22adb298388d"
"""Pulumi's marker of a secret value on the wire (sdk/go/common/resource/sig)."""
REDACTED = "[secret]"


def _redact(value: Any) -> Any:
    """Secrets never reach a plan: a secret-wrapped value becomes `[secret]`."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return REDACTED
        return {key: _redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


_FIXED_OUTPUTS: dict[str, dict[str, Any]] = {
    "gcp:compute/globalAddress:GlobalAddress": {"address": "203.0.113.10"},
    "gitlab:index/clusterAgent:ClusterAgent": {"agentId": 101},
    "gitlab:index/clusterAgentToken:ClusterAgentToken": {"token": "mock-agent-token"},
    "gitlab:index/userRunner:UserRunner": {"token": "glrt-mock-runner-token"},
    "gitlab:index/application:Application": {
        "applicationId": "mock-client-id",
        "secret": "mock-client-secret",
    },
    "random:index/randomBytes:RandomBytes": {
        "base64": "bW9jay1rYXMtc2hhcmVkLXNlY3JldC0zMi1ieXRlcyE=",
        "hex": "00",
    },
    "random:index/randomPassword:RandomPassword": {"result": "mock-signing-key"},
    "gcp:redis/instance:Instance": {
        "host": "10.0.0.3",
        "port": 6378,
        "authString": "mock-redis-auth",
        "serverCaCerts": [{"cert": MOCK_CA}],
    },
}
"""Outputs the programs read, as the provider would return them, by resource type."""


def _outputs(typ: str, inputs: dict[str, Any], env: RunwayEnvironment) -> dict[str, Any]:
    if typ == "gcp:container/cluster:Cluster":
        dns = f"gke-0123456789abcdef-{env.spec.project.id}.{inputs.get('location', 'region')}.gke.goog"
        return {
            "endpoint": "192.0.2.10",
            "masterAuth": {"clusterCaCertificate": "LS0tLS1CRUdJTg=="},
            "controlPlaneEndpointsConfig": {
                "dnsEndpointConfig": {
                    **_dig_dict(inputs, "controlPlaneEndpointsConfig", "dnsEndpointConfig"),
                    "endpoint": dns,
                }
            },
        }
    if typ == "gcp:serviceaccount/account:Account":
        return {"email": f"{inputs['accountId']}@{env.spec.project.id}.iam.gserviceaccount.com"}
    if typ == "gcp:certificatemanager/dnsAuthorization:DnsAuthorization":
        return {
            "dnsResourceRecords": [
                {
                    "name": f"_acme-challenge.{inputs['domain']}.",
                    "type": "CNAME",
                    "data": f"{inputs['name']}.authorize.certificatemanager.goog.",
                }
            ]
        }
    if typ in _FIXED_OUTPUTS:
        return dict(_FIXED_OUTPUTS[typ])
    if typ == "pulumi:pulumi:StackReference":
        kubeconfigs = {region: "(kubeconfig from the infra stack)" for region in env.spec.regions}
        redis = {
            region: {"address": "10.0.0.3:6378", "auth": "mock-redis-auth", "ca": MOCK_CA}
            for region in env.spec.regions
        }
        return {
            "outputs": {
                "kubeconfigs": kubeconfigs,
                "projectId": env.spec.project.id,
                "redis": redis,
            }
        }
    return {}


class _ParentRecordingMonitor(MockMonitor):
    """Pulumi's mock monitor, noting each registration's parent so the plan groups by component."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording = mocks

    def RegisterResource(self, request: Any) -> Any:
        self.recording.pending_parent = request.parent
        response = cast(Any, super()).RegisterResource(request)
        self.recording.parents[response.urn] = request.parent
        self.recording.labels[response.urn] = f"{request.type} {request.name}"
        return response


def _dig_dict(inputs: dict[str, Any], *path: str) -> dict[str, Any]:
    found: Any = inputs
    for key in path:
        found = found.get(key) if isinstance(found, dict) else None
    return found if isinstance(found, dict) else {}


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    environment: RunwayEnvironment
    resources: list[PlannedResource]
    secrets_to_set: tuple[str, ...] = ()


def _run(
    stack: str,
    env: RunwayEnvironment,
    config: dict[str, str],
    program: Callable[[], None],
    *,
    preview: bool,
) -> list[PlannedResource]:
    mocks = RecordingMocks(stack, env)
    pulumi.runtime.set_mocks(
        mocks,
        project=f"runway-{stack}",
        stack=env.metadata.name,
        preview=preview,
        monitor=_ParentRecordingMonitor(mocks),
    )
    pulumi.runtime.set_all_config(config)
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    _sync_await(run_pulumi_func(program))
    return mocks.resources


def stack_config(
    stacks: Path, stack: str, env: RunwayEnvironment, env_file: Path
) -> projects.StackConfig:
    """The stack's real project and stack files, checked, and naming this environment."""
    found = projects.load_stack(stacks / stack, env.metadata.name)
    named = found.values.get(f"{found.project}:environment")
    if named is None or (found.directory / named).resolve() != env_file.resolve():
        raise UsageError(
            f"{found.directory / f'Pulumi.{found.stack}.yaml'}: environment is {named!r}, not "
            f"{env_file}; point the stack at the environment it deploys"
        )
    return found


def _config(found: projects.StackConfig) -> dict[str, str]:
    config = dict(found.values)
    for key in (*found.secrets, *(f"{found.project}:{k}" for k in RUNTIME_SECRETS)):
        config.setdefault(key, SECRET_PLACEHOLDER)
    return config


def plan(env_file: Path, *, stacks: Path = Path("stacks"), preview: bool = False) -> Plan:
    if not (stacks / "infra" / "Pulumi.yaml").is_file():
        raise UsageError(
            f"{stacks}: no Pulumi projects here (infra/, workloads/); pass --stacks DIR"
        )
    env = load_environment(env_file)
    infra = stack_config(stacks, "infra", env, env_file)
    workloads = stack_config(stacks, "workloads", env, env_file)
    releases = environment_releases(env, env_file)
    infra_stack = workloads.values.get(f"{workloads.project}:infraStack", "")
    if not infra_stack.endswith(f"/{infra.project}/{infra.stack}"):
        raise UsageError(
            f"{workloads.directory / f'Pulumi.{workloads.stack}.yaml'}: infraStack is "
            f"{infra_stack!r}; it must name ORG/{infra.project}/{infra.stack}"
        )
    found = _run(
        "infra", env, _config(infra), lambda: programs.infra(env, releases), preview=preview
    )
    found += _run(
        "workloads",
        env,
        _config(workloads),
        lambda: programs.workloads(env, releases, infra_stack),
        preview=preview,
    )
    needed = list(workloads.secrets)
    if env.spec.gitlab.agent_project is None:
        needed.append(f"{workloads.project}:agentToken")
    if env.spec.runner_fleet is not None and not env.spec.stack_creates_the_runner:
        needed.append(f"{workloads.project}:runnerToken")
    return Plan(env, found, tuple(needed))
