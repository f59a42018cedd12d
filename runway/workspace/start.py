"""What starts a workspace, as GitLab 18.9 starts it, shared by both backends: clone the project,
start the tunnel agent (agentw, when the workspace is served through KAS), start the editor, run
the devfile's postStart commands.

Sources (GitLab EE `ee/lib/remote_development/workspace_operations/create/`, 18.9.0-pre):
`internal_poststart_command_start_vscode.sh` (the editor: `$GL_TOOLS_DIR/vscode-reh-web/bin/
gitlab-webide-server --host 0.0.0.0 --port $GL_VSCODE_PORT --log … --without-connection-token
--disable-workspace-trust`), `internal_poststart_command_start_agentw.sh` (`agentw --kas-address
$GL_GITLAB_AGENT_SERVER_ADDRESS --token-file $GL_AGENTW_TOKEN_FILE_PATH
--observability-listen-address :60031`), `internal_poststart_commands_inserter.rb` (the clone into
`/projects/<project path>`, `--depth 10`, success marker `.gl_project_cloning_successful`) and
`create_constants.rb` (ports 60001/60022, `GL_TOOLS_DIR=/projects/.gl-tools`).

Every fragment is fixed text reading only environment variables: a devfile's or a project's
strings reach it as variables (`GL_POST_START_n`, `GL_PROJECT_URL`), never spliced into it.
"""

from __future__ import annotations

from runway.workspace.devfile import Workspace

EDITOR_PORT = 60001
SSH_PORT = 60022
AGENTW_OBSERVABILITY = ":60031"
DATA_PATH = "/projects"
TOOLS_DIR = f"{DATA_PATH}/.gl-tools"
CLONE_MARKER = ".gl_project_cloning_successful"
TOOLS_IMAGE = "registry.gitlab.com/gitlab-org/gitlab-build-images:20250903132715-workspaces-tools"
"""GitLab's default `tools_injector_image` (18.9; GitLab pins it by digest as well)."""
AGENT_ADDRESS_VARIABLE = "GL_GITLAB_AGENT_SERVER_ADDRESS"
TOKEN_VARIABLE = "GL_AGENTW_TOKEN_FILE_PATH"
"""The path of the agentw token file: a file variable GitLab fills (CI) or a path into the
mounted `<workspace>-file` Secret (Kubernetes)."""

EDITOR = r"""if [ ! -x "$GL_TOOLS_DIR/vscode-reh-web/bin/gitlab-webide-server" ]; then
  echo "the editor is not in $GL_TOOLS_DIR (did the tools injector run?)" >&2; exit 1
fi
"$GL_TOOLS_DIR/vscode-reh-web/bin/gitlab-webide-server" --host 0.0.0.0 \
  --port "${GL_VSCODE_PORT:-60001}" --log "${GL_VSCODE_LOG_LEVEL:-info}" \
  --without-connection-token --disable-workspace-trust &
"""

AGENTW = r"""if [ -n "${GL_GITLAB_AGENT_SERVER_ADDRESS:-}" ]; then
  : "${GL_AGENTW_TOKEN_FILE_PATH:?the agentw token file (GL_AGENTW_TOKEN_FILE_PATH) is not set}"
  "$GL_TOOLS_DIR/agentw" --kas-address "$GL_GITLAB_AGENT_SERVER_ADDRESS" \
    --token-file "$GL_AGENTW_TOKEN_FILE_PATH" --observability-listen-address :60031 &
  echo $! > "${TMPDIR:-/tmp}/agentw.pid"
fi
"""

CLONE = r"""if [ -n "${GL_PROJECT_URL:-}" ] && [ ! -f "$PROJECTS_ROOT/.gl_project_cloning_successful" ]; then
  rm -rf "$PROJECT_SOURCE"
  git clone --depth 10 --branch "$GL_PROJECT_REF" "$GL_PROJECT_URL" "$PROJECT_SOURCE" \
    && touch "$PROJECTS_ROOT/.gl_project_cloning_successful"
fi
"""

POST_START = r"""index=1
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
"""

WAIT_FOR_TOOLS = r"""waited=0
until [ -x "$GL_TOOLS_DIR/vscode-reh-web/bin/gitlab-webide-server" ]; do
  waited=$((waited + 1))
  if [ "$waited" -gt 300 ]; then echo "workspace tools did not arrive in $GL_TOOLS_DIR" >&2; exit 1; fi
  sleep 1
done
"""

CI_SCRIPT = (
    "set -eu\n"
    + WAIT_FOR_TOOLS
    + AGENTW
    + EDITOR
    + POST_START
    + 'if [ -f "${TMPDIR:-/tmp}/agentw.pid" ]; then wait "$(cat "${TMPDIR:-/tmp}/agentw.pid")"; '
    + "else wait; fi\n"
)
"""The CI job's script: the runner has checked out the project already, so there is no clone."""

KUBERNETES_POSTSTART = (
    "set -u\n"
    + CLONE
    + AGENTW
    + EDITOR
    + "(\n"
    + POST_START
    + ') > "${TMPDIR:-/tmp}/poststart.log" 2>&1 &\n'
)
"""The main container's postStart hook: clone, agent and editor block (GitLab's internal blocking
commands); the devfile's own postStart commands run in the background (its non-blocking ones)."""

KEEP_ALIVE = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"
"""The main container's command while overrideCommand is true: stay up until stopped."""


def ports(workspace: Workspace) -> list[int]:
    """The editor, SSH and every endpoint."""
    found = [EDITOR_PORT, SSH_PORT]
    for container in (workspace.main, *workspace.others):
        found.extend(e.port for e in container.endpoints if e.port not in found)
    return found


def start_variables(workspace: Workspace, *, kas_address: str) -> dict[str, str]:
    """Variables the fragments read besides GL_TOOLS_DIR, PROJECTS_ROOT, PROJECT_SOURCE and the
    token file: the editor's settings, KAS, and the devfile's postStart commands."""
    found = {
        "GL_VSCODE_LOG_LEVEL": "info",
        "GL_VSCODE_PORT": str(EDITOR_PORT),
        "GL_SSH_PORT": str(SSH_PORT),
        "GL_VSCODE_ENABLE_MARKETPLACE": "false",
    }
    if kas_address:
        found[AGENT_ADDRESS_VARIABLE] = kas_address
    for index, command in enumerate(workspace.post_start, start=1):
        found[f"GL_POST_START_{index}"] = command.command_line
        if command.working_dir:
            found[f"GL_POST_START_{index}_DIR"] = command.working_dir
    return found
