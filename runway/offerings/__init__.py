"""Offerings: who runs a service, and what each needs from one chart.

- self-managed: the customer installs the published chart (value profiles, `runway images`);
- managed-self-hosted: a GitLab instance turns it up on the customer's cluster through the agent
  and Flux (`flux.py`);
- gitlab-managed: GitLab runs it on its own GKE environments (`gke.py`), described as data the
  Pulumi stacks consume.
"""

from __future__ import annotations

import enum


class Offering(enum.StrEnum):
    SELF_MANAGED = "self-managed"
    MANAGED_SELF_HOSTED = "managed-self-hosted"
    GITLAB_MANAGED = "gitlab-managed"
