"""Infra stack: project, network, clusters, identities, edge. All logic is in runway.platform."""

import pulumi

from runway.platform.programs import run_infra

run_infra(pulumi.Config())
