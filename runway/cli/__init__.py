"""The `runway` command line: it adapts arguments, calls one core function, prints the result.

One module per command group; each imports its stage's modules inside the commands, so that
`runway --help` and `runway --version` start in tens of milliseconds (pydantic, the Helm engine
and Pulumi load only for the commands that need them).
"""

from __future__ import annotations

import click

from runway import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runway")
def main() -> None:
    """Validate Runway manifests, compile them into hardened Helm charts, and ship them."""


@main.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script, as helm, flux and pulumi do.

    \b
    bash: source <(runway completion bash)
    zsh:  runway completion zsh > "${fpath[1]}/_runway"
    fish: runway completion fish > ~/.config/fish/completions/runway.fish
    """
    from click.shell_completion import get_completion_class

    found = get_completion_class(shell)
    if found is None:
        raise click.UsageError(f"no completion for {shell}")
    click.echo(found(main, {}, "runway", "_RUNWAY_COMPLETE").source())


from runway.cli import charts, offerings, publishing, stacks, workspaces  # noqa: E402

__all__ = ["charts", "main", "offerings", "publishing", "stacks", "workspaces"]
