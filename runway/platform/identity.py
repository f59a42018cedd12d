"""A Google service account per service, bound to its Kubernetes service account by Workload
Identity. Names come from the gitlab-managed release description, so chart and stack agree."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp


class IdentityComponent(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        releases: list[dict[str, Any]],
        project: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("runway:platform:Identity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.accounts: dict[str, gcp.serviceaccount.Account] = {}
        for release in releases:
            service = release["service"]
            account = gcp.serviceaccount.Account(
                f"{name}-{service}",
                account_id=release["gcp"]["serviceAccount"].split("@")[0],
                display_name=f"{service} (runway, {release['environment']})",
                project=project,
                opts=child,
            )
            gcp.serviceaccount.IAMMember(
                f"{name}-{service}-workload-identity",
                service_account_id=account.name,
                role="roles/iam.workloadIdentityUser",
                member=release["gcp"]["workloadIdentityMember"],
                opts=child,
            )
            self.accounts[service] = account
        self.register_outputs({"accounts": {s: a.email for s, a in self.accounts.items()}})
