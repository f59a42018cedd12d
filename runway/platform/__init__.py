"""Pulumi components and programs that stand up GKE environments for satellite services.

The only package that imports Pulumi. Components create nothing at import time; programs
(`programs.py`) build an environment's infra or workloads stack from a `RunwayEnvironment`;
`plan.py` runs them under Pulumi's mock mode for `runway stack plan`; `policies.py` holds the
rules every environment must pass, as plain functions.
"""
