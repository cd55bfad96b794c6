"""`pos-tui run` (the technician's app, also what `pos-tui` alone starts) and `validate`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pos_tui.cli.common import LANGUAGE_CHOICE, data_dir_option, fail, local_folder, plain_errors
from pos_tui.locations import shipped_checklists_dir


@click.command()
@data_dir_option
@click.option(
    "--checklists",
    "checklist_dir",
    type=click.Path(path_type=Path),
    envvar="POS_TUI_CHECKLISTS",
    help="Folder of checklists to run (default: the shipped ones).",
)
@click.option("--lang", type=LANGUAGE_CHOICE, help="Language of the UI.")
@click.pass_context
@plain_errors
def run(
    ctx: click.Context,
    data_dir: Path | None = None,
    checklist_dir: Path | None = None,
    lang: str | None = None,
) -> None:
    """Start the technician's app (the default when no command is given)."""
    from pos_tui import startup_gc

    startup_gc.hold()  # until the first screen shows its data
    from pos_tui.config import load_settings
    from pos_tui.services.technician import Services
    from pos_tui.store.local import LocalStore
    from pos_tui.ui.app import make_app

    folder = checklist_dir or shipped_checklists_dir()
    if not any(folder.glob("*.y*ml")):
        fail(f"there are no checklists in {folder}; see `pos-tui validate`.")
    settings = load_settings()
    store = LocalStore.open(local_folder(ctx, data_dir), progress=_reindexing)
    # Checklists load on the writer thread while the home screen comes up.
    services = Services.loading_checklists(store, folder, settings)
    try:
        make_app(services, lang).run()
    finally:
        services.close()
        store.close()


def _reindexing(done: int, total: int) -> None:
    """Only a one-off job reports (an old index split, a rescan), before the app starts."""
    end = "\n" if done >= total else ""
    line = f"\r整理访问索引 / Reorganising the visit index: {done}/{total}"
    print(line, end=end, file=sys.stderr, flush=True)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@plain_errors
def validate(paths: tuple[Path, ...]) -> None:
    """Check checklist files and folders (default: the shipped checklists).

    Prints a line per valid file and every problem of the others as
    path:line:column: message. Exits 1 when any file has a problem.
    """
    from pos_tui.domain.loader import load_checklists

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
