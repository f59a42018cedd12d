"""What starts a workspace, the same on both backends: the tunnel agent first, then the editor,
then the devfile's postStart commands; the workspace lives as long as the agent.

The script is fixed text. Everything from the devfile reaches it as environment variables
(`GL_POST_START_n`, never spliced into the script), so a devfile's strings are data.
"""

from __future__ import annotations

from runway.workspace.devfile import Workspace

EDITOR_PORT = 60001
OBSERVABILITY_ADDRESS = "127.0.0.1:60003"
TOOLS_IMAGE = "registry.gitlab.com/gitlab-org/remote-development/gitlab-workspaces-tools:3.4.0"
TOOLS_SOURCE = "/workspace-tools"
TOKEN_VARIABLE = "GL_WORKSPACE_AGENT_TOKEN"
"""A file variable GitLab fills (CI) or a path into the mounted Secret (Kubernetes)."""

SCRIPT = r"""set -eu
: "${GL_WORKSPACE_AGENT_TOKEN:?the agent token file (GL_WORKSPACE_AGENT_TOKEN) is not set}"
mkdir -p "$PROJECTS_ROOT" "$PROJECT_SOURCE"
waited=0
until [ -f "$GL_TOOLS_DIR/.ready" ]; do
  waited=$((waited + 1))
  if [ "$waited" -gt 120 ]; then echo "workspace tools did not arrive in $GL_TOOLS_DIR" >&2; exit 1; fi
  sleep 1
done
"$GL_TOOLS_DIR/agentw" --kas-address "$GL_KAS_ADDRESS" --token-file "$GL_WORKSPACE_AGENT_TOKEN" \
  --observability-listen-address "$GL_AGENT_OBSERVABILITY" --expose-ports "$GL_WORKSPACE_PORTS" &
agent=$!
"$GL_TOOLS_DIR/editor/bin/gitlab-workspaces-editor" --host 0.0.0.0 --port "$GL_EDITOR_PORT" \
  --without-connection-token --default-folder "$PROJECT_SOURCE" &
index=1
while :; do
  eval "command_line=\${GL_POST_START_${index}:-}"
  eval "directory=\${GL_POST_START_${index}_DIR:-}"
  [ -n "$command_line" ] || break
  case "$directory" in
    '') directory=$PROJECT_SOURCE ;;
    '${PROJECT_SOURCE}'*) directory="$PROJECT_SOURCE${directory#'${PROJECT_SOURCE}'}" ;;
    '${PROJECTS_ROOT}'*) directory="$PROJECTS_ROOT${directory#'${PROJECTS_ROOT}'}" ;;
  esac
  (cd "$directory" && sh -c "$command_line") || echo "postStart command $index failed" >&2
  index=$((index + 1))
done
wait "$agent"
"""

INJECT = (
    f'mkdir -p "$GL_TOOLS_DIR" && cp -R {TOOLS_SOURCE}/. "$GL_TOOLS_DIR/" '
    '&& touch "$GL_TOOLS_DIR/.ready"'
)


def ports(workspace: Workspace) -> list[int]:
    """The editor and every endpoint: what the tunnel may expose."""
    found = [EDITOR_PORT]
    for container in (workspace.main, *workspace.others):
        found.extend(e.port for e in container.endpoints if e.port not in found)
    return found


def start_variables(workspace: Workspace, *, kas_address: str) -> dict[str, str]:
    """The variables SCRIPT reads (besides GL_TOOLS_DIR, PROJECTS_ROOT, PROJECT_SOURCE and the token)."""
    found = {
        "GL_KAS_ADDRESS": kas_address,
        "GL_EDITOR_PORT": str(EDITOR_PORT),
        "GL_AGENT_OBSERVABILITY": OBSERVABILITY_ADDRESS,
        "GL_WORKSPACE_PORTS": ",".join(str(p) for p in ports(workspace)),
    }
    for index, command in enumerate(workspace.post_start, start=1):
        found[f"GL_POST_START_{index}"] = command.command_line
        if command.working_dir:
            found[f"GL_POST_START_{index}_DIR"] = command.working_dir
    return found
