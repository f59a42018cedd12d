"""The policies of runway/platform/policies.py as a Pulumi policy pack.

    pulumi preview --policy-pack ../policy-pack --policy-pack-config ../policy-pack/production.json

`production` (policy config, default false) turns on the production-only rules.
"""

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from runway.platform.policies import POLICIES, Policy


def _validate(policy: Policy) -> Any:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        production = bool((args.get_config() or {}).get("production", False))
        message = policy.check(args.resource_type, args.props, production)
        if message:
            report_violation(message, None)

    return validate


PolicyPack(
    name="runway-gke",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name=policy.name,
            description=policy.description,
            validate=_validate(policy),
            config_schema={"properties": {"production": {"type": "boolean"}}},
        )
        for policy in POLICIES
    ],
)
