"""The manifest stage: load YAML with positions, validate against the models, group a service's
files, and the JSON Schemas editors use."""
