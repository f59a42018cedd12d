"""Package charts reproducibly and publish, promote and resolve them in registries.

A registry is labelled along two dimensions: the GitLab releases a chart is compatible with
(a Chart.yaml annotation, copied into every registry record) and the deployment stage a version
has reached (a per-stage location: OCI repository path, GitLab Helm channel or index directory).
"""
