"""Workloads stack: Flux, the GitLab agent and the services, on the infra stack's clusters."""

import pulumi

from runway.platform.programs import run_workloads

run_workloads(pulumi.Config())
