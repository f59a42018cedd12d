"""Workspaces from devfiles: validation (`devfile.py`), the CI-runner backend (`ci_job.py`), the
Kubernetes backend (`kubernetes.py`), and the runner fleet they run on (`runner.py`)."""
