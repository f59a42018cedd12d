"""The CI-runner backend: a devfile → one `.gitlab-ci.yml` job, `workload`, that runs the workspace
on runners customers already have, reached through the KAS reverse tunnel.

The main container is the job's image, working in the project the runner checked out
(`$CI_PROJECT_DIR`, which the editor opens); the tools image runs as a service whose own entrypoint
copies the editor and agentw into `$GL_TOOLS_DIR` on the shared builds volume; other containers run
as services beside it. agentw's token is never in the job: GitLab injects it when it creates the
pipeline, as the file variable `GL_AGENTW_TOKEN_FILE_PATH` (docs/workspaces.md).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from runway.common import shipped_schemas
from runway.errors import BuildError, Diagnostic, ManifestError
from runway.workspace import runner, start
from runway.workspace.devfile import Container, Workspace


@dataclasses.dataclass(frozen=True, slots=True)
class JobOptions:
    workspace: str
    kas_address: str
    tags: tuple[str, ...] = ("workspaces",)
    timeout: str = "8h"
    domain: str = ""
    tools_image: str = start.TOOLS_IMAGE
    fleet: runner.Fleet = dataclasses.field(default_factory=runner.Fleet)


TOOLS_DIR = "$CI_BUILDS_DIR/.gl-tools"


def _resources(container: Container) -> dict[str, tuple[str | None, str]]:
    return {
        "KUBERNETES_CPU_REQUEST": (container.cpu_request, f"{container.field}.cpuRequest"),
        "KUBERNETES_CPU_LIMIT": (container.cpu_limit, f"{container.field}.cpuLimit"),
        "KUBERNETES_MEMORY_REQUEST": (container.memory_request, f"{container.field}.memoryRequest"),
        "KUBERNETES_MEMORY_LIMIT": (container.memory_limit, f"{container.field}.memoryLimit"),
    }


def check_post_start(workspace: Workspace) -> list[Diagnostic]:
    return [
        Diagnostic(
            workspace.file,
            f"postStart command {command.name!r} runs in {command.component!r}; runway runs "
            f"postStart commands in the main container ({workspace.main.name!r}) only",
            field=f"events.postStart.{index}",
        )
        for index, command in enumerate(workspace.post_start)
        if command.component != workspace.main.name
    ]


def job(workspace: Workspace, options: JobOptions) -> dict[str, Any]:
    """`{"workload": job}`; ManifestError names the devfile field a runner cannot honour."""
    problems = check_post_start(workspace)
    problems += [
        Diagnostic(workspace.file, message.split(": ", 1)[1], field=message.split(": ", 1)[0])
        for message in runner.check_caps(options.fleet, _resources(workspace.main))
    ]
    if problems:
        raise ManifestError(problems)
    variables: dict[str, Any] = {
        name: {"value": value, "expand": False} for name, value in workspace.main.env.items()
    }
    variables.update(
        {
            "GL_WORKSPACE_NAME": options.workspace,
            "GL_TOOLS_DIR": TOOLS_DIR,
            "PROJECTS_ROOT": "$CI_BUILDS_DIR",
            "PROJECT_SOURCE": "$CI_PROJECT_DIR",
        }
    )
    variables.update(
        {
            name: {"value": value, "expand": False}
            for name, value in start.start_variables(
                workspace, kas_address=options.kas_address
            ).items()
        }
    )
    for variable, (value, _) in _resources(workspace.main).items():
        if value is not None:
            variables[variable] = value
    services: list[dict[str, Any]] = [
        {
            "name": options.tools_image,
            "alias": "gl-tools-injector",
            "variables": {"GL_TOOLS_DIR": TOOLS_DIR},
        }
    ]
    for container in workspace.others:
        service: dict[str, Any] = {"name": container.image, "alias": container.name}
        if container.env:
            service["variables"] = dict(container.env)
        if not container.override_command:
            if container.command:
                service["entrypoint"] = list(container.command)
            if container.args:
                service["command"] = list(container.args)
        services.append(service)
    image: dict[str, Any] = {"name": workspace.main.image}
    if workspace.main.override_command:
        image["entrypoint"] = [""]
    body: dict[str, Any] = {
        "image": image,
        "services": services,
        "variables": variables,
        "script": [start.CI_SCRIPT],
        "timeout": options.timeout,
        "interruptible": True,
        "tags": list(options.tags),
        "cache": {
            "key": f"workspace-{options.workspace}",
            "paths": ["."],
            "when": "always",
        },
    }
    if options.domain:
        body["environment"] = {
            "name": f"workspaces/{options.workspace}",
            "url": f"https://{start.EDITOR_PORT}-{options.workspace}.{options.domain}"
            "/?folder=$CI_PROJECT_DIR",
        }
    document = {"workload": body}
    errors = [
        f"{'.'.join(str(p) for p in path)}: {message}"
        for path, message in shipped_schemas.problems("gitlab-ci.schema.json", document)
    ]
    if errors:
        raise BuildError("the generated job does not fit GitLab's CI schema: " + "; ".join(errors))
    return document
