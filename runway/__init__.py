"""runway: compile Runway manifests into hardened Helm charts and ship them beside GitLab."""

__version__ = "0.1.0"
