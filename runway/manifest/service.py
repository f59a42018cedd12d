"""What loading produces: services, each with its manifests per environment, and the result.

Kept apart from `loader.py` so that the stages that consume a `Service` (mapping, build,
offerings) import the data, not the loader.
"""

from __future__ import annotations

import dataclasses

from runway.errors import Diagnostic, Severity, UsageError
from runway.manifest import kubernetes, models

Manifest = models.RunwayService | models.RunwayServiceDev | kubernetes.RunwayKubernetesService


@dataclasses.dataclass(frozen=True, slots=True)
class Service:
    """One service as its directory describes it, for every environment it names."""

    name: str
    directory: str
    base: Manifest | None
    environments: dict[str, Manifest]
    env_vars: dict[str, dict[str, str]]
    deployments: dict[str, kubernetes.DeploymentBody]
    files: tuple[str, ...]

    @property
    def kind(self) -> str:
        manifest = self.base or next(iter(self.environments.values()))
        return manifest.kind

    def manifest(self, environment: str | None = None) -> Manifest:
        """The manifest in force for an environment: its own file if it has one, else the base."""
        if environment is not None and environment in self.environments:
            return self.environments[environment]
        if self.base is not None:
            return self.base
        known = ", ".join(sorted(self.environments)) or "none"
        raise UsageError(
            f"service {self.name!r} has no runway.yml; choose an environment with --env ({known})"
        )

    def summary(self) -> dict[str, object]:
        manifest = self.base or next(iter(self.environments.values()))
        return {
            "name": self.name,
            "kind": self.kind,
            "apiVersion": manifest.apiVersion,
            "directory": self.directory,
            "environments": sorted(set(self.environments) | set(self.env_vars)),
            "files": list(self.files),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class LoadResult:
    services: list[Service]
    diagnostics: list[Diagnostic]
    files: list[str]

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)
