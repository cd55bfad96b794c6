"""The command line: `pos-tui` starts the app; subcommands validate, list, …"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pos_tui import __version__
from pos_tui.domain.loader import load_checklists
from pos_tui.locations import shipped_checklists_dir


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="pos-tui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """On-site acceptance of POS card terminals.

    With no command, starts the technician's app.
    """
    if ctx.invoked_subcommand is None:
        click.echo("The technician's app is not built yet; see `pos-tui --help`.")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check checklist files and folders (default: the shipped checklists).

    Prints a line per valid file and every problem of the others as
    path:line:column: message. Exits 1 when any file has a problem.
    """
    result = load_checklists(paths or (shipped_checklists_dir(),))
    for checklist in result.checklists:
        click.echo(
            f"ok  {checklist.source}: {checklist.id} version {checklist.version}, "
            f"{len(checklist.items)} items"
        )
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if result.problems:
        count = len(result.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found.", err=True)
        sys.exit(1)
