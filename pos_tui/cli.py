"""The command line: `pos-tui` starts the technician's app; subcommands do the rest.

Every expected failure (bad checklist, locked or damaged store, full disk) ends with a
plain sentence on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

import click

from pos_tui import __version__
from pos_tui.domain.redact import CardDataError
from pos_tui.domain.session import Status, VisitError
from pos_tui.locations import data_dir, shipped_checklists_dir
from pos_tui.store.local import LocalStore, recover_file
from pos_tui.store.storage import StoreError

F = TypeVar("F", bound=Callable[..., Any])

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="POS_TUI_DATA_DIR",
    help="The local store's folder (default: the system's data folder for pos-tui).",
)


def fail(message: str) -> NoReturn:
    click.echo(f"pos-tui: {message}", err=True)
    sys.exit(1)


def plain_errors(command: F) -> F:
    """Turn the errors we expect into a sentence and exit code 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (StoreError, VisitError, CardDataError) as error:
            fail(str(error))

    return cast(F, wrapper)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="pos-tui")
@data_dir_option
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """On-site acceptance of POS card terminals.

    With no command, starts the technician's app on the local store.
    """
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


@main.command()
@data_dir_option
@click.option(
    "--checklists",
    "checklist_dir",
    type=click.Path(path_type=Path),
    envvar="POS_TUI_CHECKLISTS",
    help="Folder of checklists to run (default: the shipped ones).",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language of the UI.")
@click.pass_context
@plain_errors
def run(
    ctx: click.Context,
    data_dir: Path | None = None,
    checklist_dir: Path | None = None,
    lang: str | None = None,
) -> None:
    """Start the technician's app (the default when no command is given)."""
    from pos_tui.config import load_settings
    from pos_tui.services.technician import Services
    from pos_tui.ui.app import make_app

    folder = checklist_dir or shipped_checklists_dir()
    if not any(folder.glob("*.y*ml")):
        fail(f"there are no checklists in {folder}; see `pos-tui validate`.")
    settings = load_settings()
    store = LocalStore.open(_folder(ctx, data_dir))
    # Checklists load on the writer thread while the home screen comes up.
    services = Services.loading_checklists(store, folder, settings)
    try:
        make_app(services, lang).run()
    finally:
        services.close()
        store.close()


def _folder(ctx: click.Context, data_dir_value: Path | None) -> Path:
    return data_dir(data_dir_value or ctx.obj.get("data_dir"))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
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


@main.command(name="list")
@data_dir_option
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([str(s) for s in Status]),
    help="Only visits in this state; repeat for several.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@click.pass_context
@plain_errors
def list_visits(
    ctx: click.Context, data_dir: Path | None, statuses: tuple[str, ...], as_json: bool
) -> None:
    """List the visits in the local store, newest first."""
    folder = _folder(ctx, data_dir)
    if not folder.exists():
        fail(f"there is no local store at {folder} yet.")
    with LocalStore.open(folder, read_only=True) as store:
        summaries = store.summaries(statuses or None)
    if as_json:
        rows = [summary.to_row() for summary in summaries]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    from pos_tui.reports.console import visits_table

    visits_table(summaries)


@main.command()
@data_dir_option
@click.option(
    "--sessions", "count", type=click.IntRange(1, 1_000_000), default=50, show_default=True
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same visits.")
@click.pass_context
@plain_errors
def demo(ctx: click.Context, data_dir: Path | None, count: int, seed: int) -> None:
    """Fill a store with realistic signed visits, for trying the app and for benchmarks."""
    from pos_tui.demo import demo_sessions
    from pos_tui.domain.loader import load_checklists

    loaded = load_checklists([shipped_checklists_dir()])
    if loaded.problems:
        fail("the shipped checklists have problems; run `pos-tui validate`.")
    folder = _folder(ctx, data_dir)
    with (
        LocalStore.open(folder) as store,
        click.progressbar(length=count, label="Writing visits", file=sys.stderr) as bar,
    ):
        added = store.bulk_add(
            demo_sessions(loaded.checklists, count, seed=seed), progress=lambda _: bar.update(1)
        )
    click.echo(f"Added {added} signed visits to {folder}.")


@main.command(name="sync")
@data_dir_option
@click.option(
    "--to",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    help="The shared store's folder (default: settings, or POS_TUI_SHARED_STORE).",
)
@click.option("--status", "show_status", is_flag=True, help="List what is pending; sync nothing.")
@click.pass_context
@plain_errors
def sync_command(
    ctx: click.Context, data_dir: Path | None, target: Path | None, show_status: bool
) -> None:
    """Copy signed visits to the shared store and bring review decisions back."""
    from pos_tui.config import load_settings
    from pos_tui.store.sync import pending, sync

    target = target or load_settings().shared_store_path()
    if target is None:
        fail("no shared store given: use --to PATH, or set shared_store in the settings.")
    folder = _folder(ctx, data_dir)
    if not folder.exists():
        fail(f"there is no local store at {folder} yet.")
    if show_status:
        with LocalStore.open(folder, read_only=True) as store:
            waiting = pending(store, target)
        from pos_tui.reports.console import visits_table

        click.echo(f"{len(waiting)} visit(s) not yet synced to {target}:")
        visits_table(waiting)
        return
    with LocalStore.open(folder) as store:
        bars: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in bars:
                label = {"reading": "Reading visits", "writing": "Writing"}.get(stage, stage)
                bars[stage] = click.progressbar(length=total, label=label, file=sys.stderr)
                bars[stage].__enter__()
            bars[stage].update(1)
            if done == total:
                bars.pop(stage).__exit__(None, None, None)

        report = sync(store, target, progress, create=True)
    click.echo(f"Sync complete: {report.sentence()}")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@plain_errors
def recover(path: Path) -> None:
    """Set a damaged store file aside and restore its previous version (PATH.bak)."""
    aside = recover_file(path)
    click.echo(f"Restored {path} from its previous version; the damaged file is kept as {aside}.")


# Report, export and review commands live in their own modules; importing registers them.
from pos_tui import cli_reports, cli_review  # noqa: E402, F401
