"""The GCP project (created under a folder, or an existing one) and the APIs it needs."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from runway.manifest.environment import RunwayEnvironment


class ProjectComponent(pulumi.ComponentResource):
    project_id: pulumi.Output[str]

    def __init__(
        self, name: str, env: RunwayEnvironment, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("runway:platform:Project", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = env.spec.project
        dependencies: list[pulumi.Resource] = []
        if spec.create is not None:
            project = gcp.organizations.Project(
                name,
                project_id=spec.id,
                name=spec.id,
                folder_id=spec.create.folder_id,
                billing_account=spec.create.billing_account,
                auto_create_network=False,
                deletion_policy="PREVENT" if env.spec.production else "DELETE",
                labels=env.labels(),
                opts=child,
            )
            self.project_id = project.project_id
            dependencies.append(project)
        else:
            self.project_id = pulumi.Output.from_input(spec.id)
        self.services = [
            gcp.projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=self.project_id,
                service=api,
                disable_on_destroy=False,
                opts=pulumi.ResourceOptions(parent=self, depends_on=dependencies),
            )
            for api in spec.apis
        ]
        self.register_outputs({"projectId": self.project_id})
