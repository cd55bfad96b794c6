"""`pos-tui shared init PATH` makes a shared store; `shared check PATH` checks one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pos_tui.cli.common import (
    STORE_TARGET,
    data_dir_option,
    local_folder,
    not_a_file,
    plain_errors,
)


@click.group(name="shared")
def shared() -> None:
    """The shared store that laptops sync into."""


@shared.command(name="check")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--adopt",
    is_flag=True,
    help="First take into the index the records of batch files no index row names.",
)
@plain_errors
def check(path: Path, adopt: bool) -> None:
    """Check every record of the shared store at PATH against its index, and every
    evidence file a record names against its hash.

    Says what is missing or damaged and which laptop sent it; exit 1 when anything is.
    """
    from pos_tui.store.shared import SharedStore
    from pos_tui.store.shared_check import check_store

    not_a_file(path, "PATH")
    store = SharedStore.open(path)  # a missing share is said as such, not as full of damage
    if adopt:
        taken = store.adopt()
        click.echo(
            f"Took {taken.adopted} record(s) of batch files in no index row into the index;"
            f" removed {taken.removed_orphans} batch file(s) already indexed elsewhere"
            f" and {taken.removed_temp_files} temporary file(s)."
        )
    report = check_store(path)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@shared.command(name="init")
@click.argument("path", type=STORE_TARGET)
@click.option("--name", "admin_name", default="", help="The administrator's name, for the keyring.")
@data_dir_option
@click.pass_context
@plain_errors
def init(ctx: click.Context, path: Path | str, admin_name: str, data_dir: Path | None) -> None:
    """Make a new shared store at PATH, with this machine's key as its administrator.

    PATH is a new or empty folder, or a PostgreSQL database's URL
    (postgresql://user@host/db, the password in PGPASSWORD or ~/.pgpass): its tables are
    made, or brought up to this version's schema when an earlier version made them.
    Laptops then sync into it (`pos-tui sync --to PATH`) and supervisors review from it.
    The administrator's fingerprint printed here is what every laptop and reviewer will
    check the store against: write it down.
    """
    from pos_tui.services.identity import init_shared_store

    made = init_shared_store(path, local_folder(ctx, data_dir), admin_name)
    if made.existed:
        click.echo(
            f"The shared store {made.folder} (id {made.store_id}) is up to this version's"
            " schema; its keyring was there already."
        )
        click.echo(f"Administrator key: {made.admin_fingerprint}")
        return
    click.echo(f"Made the shared store {made.folder} (id {made.store_id}).")
    click.echo(f"Administrator key: {made.admin_fingerprint}")
    click.echo(
        "Next: each laptop syncs once, then trust it with"
        " `pos-tui keys trust FINGERPRINT --role technician --name NAME --store PATH`."
    )
