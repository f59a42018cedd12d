"""What a reviewer reads of a plan: resources grouped by stack and component, counts per type,
the policies with their results, the secrets left to set, and the difference to an earlier plan.
Pure data; the CLI prints it (a tree, or JSON)."""

from __future__ import annotations

import collections
from typing import Any, Protocol

FORMAT = "runway.gitlab.com/stack-plan/v1"


class Planned(Protocol):
    @property
    def stack(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def component(self) -> str: ...

    def as_dict(self) -> dict[str, Any]: ...


def report(
    environment: str,
    resources: list[Planned],
    policies: list[str],
    violations: list[dict[str, str]],
    secrets_to_set: list[str],
) -> dict[str, Any]:
    """The plan as one JSON object (`runway stack plan --format json`)."""
    stacks: dict[str, dict[str, list[str]]] = {}
    for resource in resources:
        group = stacks.setdefault(resource.stack, {}).setdefault(
            resource.component or "(stack)", []
        )
        group.append(f"{resource.type} {resource.name}")
    return {
        "format": FORMAT,
        "environment": environment,
        "counts": dict(sorted(collections.Counter(r.type for r in resources).items())),
        "stacks": stacks,
        "resources": [r.as_dict() for r in resources],
        "policies": {
            "checked": policies,
            "passed": not violations,
            "violations": violations,
        },
        "secrets_to_set": secrets_to_set,
    }


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """What `new` adds, changes (inputs that differ, by key) and removes against `old`."""

    def keyed(plan: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {(r["stack"], r["type"], r["name"]): r for r in plan.get("resources") or []}

    before, after = keyed(old), keyed(new)
    changed = []
    for key in sorted(before.keys() & after.keys()):
        was, now = before[key]["inputs"], after[key]["inputs"]
        fields = sorted(k for k in was.keys() | now.keys() if was.get(k) != now.get(k))
        if fields:
            changed.append({"stack": key[0], "type": key[1], "name": key[2], "fields": fields})
    return {
        "added": [_ref(k) for k in sorted(after.keys() - before.keys())],
        "changed": changed,
        "removed": [_ref(k) for k in sorted(before.keys() - after.keys())],
    }


def _ref(key: tuple[str, str, str]) -> dict[str, Any]:
    return {"stack": key[0], "type": key[1], "name": key[2]}


def tree(document: dict[str, Any]) -> list[str]:
    """The plan as indented lines: stack, component, resources; then counts and policies."""
    lines = [f"environment {document['environment']}"]
    for stack, groups in document["stacks"].items():
        total = sum(len(items) for items in groups.values())
        lines.append(f"  stack {stack} ({total} resources)")
        for component, items in groups.items():
            lines.append(f"    {component}")
            lines.extend(f"      {item}" for item in items)
    lines.append("  counts")
    width = max((len(t) for t in document["counts"]), default=0)
    lines.extend(f"    {t.ljust(width)}  {n}" for t, n in document["counts"].items())
    policies = document["policies"]
    result = "all passed" if policies["passed"] else f"{len(policies['violations'])} violation(s)"
    lines.append(f"  policies: {len(policies['checked'])} checked, {result}")
    for secret in document["secrets_to_set"]:
        lines.append(
            f"  to set before pulumi up: pulumi config set --secret {secret.split(':', 1)[-1]}"
        )
    return lines
