"""The technician's local store from the command line: `list`, `demo` and `recover`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pos_tui.cli.common import data_dir_option, fail, local_folder, plain_errors
from pos_tui.domain.session import Status
from pos_tui.locations import shipped_checklists_dir

if TYPE_CHECKING:
    from pos_tui.store.storage import StoreError


def say_damaged(damaged: Iterable[StoreError]) -> None:
    """One line on stderr for each damaged entry a listing left out: a list or an export
    that is silently short looks complete."""
    from pos_tui.store.storage import StoreDamaged

    for error in damaged:
        if isinstance(error, StoreDamaged):
            click.echo(
                f"pos-tui: skipped a damaged entry of {error.path}: {error.reason}", err=True
            )
        else:
            click.echo(f"pos-tui: skipped a damaged entry: {error}", err=True)


@click.command(name="list")
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
    from pos_tui.store.local import LocalStore

    folder = local_folder(ctx, data_dir)
    if not folder.exists():
        fail(f"there is no local store at {folder} yet.")
    with LocalStore.open(folder, read_only=True) as store:
        summaries = store.summaries(statuses or None)
        say_damaged(store.report.damaged)
    if as_json:
        rows = [summary.to_row() for summary in summaries]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    from pos_tui.reports.console import visits_table

    visits_table(summaries)


@click.command()
@data_dir_option
@click.option(
    "--sessions", "count", type=click.IntRange(1, 1_000_000), default=50, show_default=True
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same visits.")
@click.option(
    "--unsigned",
    is_flag=True,
    help="Sign off without the laptop's key, as visits from before keys were (for benchmarks).",
)
@click.pass_context
@plain_errors
def demo(ctx: click.Context, data_dir: Path | None, count: int, seed: int, unsigned: bool) -> None:
    """Fill a store with realistic signed visits, for trying the app and for benchmarks."""
    from pos_tui.demo import demo_sessions
    from pos_tui.domain.loader import load_checklists
    from pos_tui.store.keys import DEVICE, ensure_key
    from pos_tui.store.local import LocalStore

    loaded = load_checklists([shipped_checklists_dir()])
    if loaded.problems:
        fail("the shipped checklists have problems; run `pos-tui validate`.")
    folder = local_folder(ctx, data_dir)
    with (
        LocalStore.open(folder) as store,
        click.progressbar(length=count, label="Writing visits", file=sys.stderr) as bar,
    ):
        key = None if unsigned else ensure_key(folder, DEVICE)[0]
        visits = demo_sessions(loaded.checklists, count, seed=seed, signer=key)
        added = store.bulk_add(visits, progress=lambda _: bar.update(1))
    click.echo(f"Added {added} signed visits to {folder}.")


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@plain_errors
def recover(path: Path) -> None:
    """Set a damaged store file aside and restore its previous version (PATH.bak)."""
    from pos_tui.store.local import recover_file

    aside = recover_file(path)
    click.echo(f"Restored {path} from its previous version; the damaged file is kept as {aside}.")
