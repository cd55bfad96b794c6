"""`pos-tui shared init PATH` makes a shared store; `shared check PATH` checks one;
`shared migrate FROM TO` moves a share into PostgreSQL (or another folder)."""

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
from pos_tui.store.storage import StoreError, StoreWriteFailed


@click.group(name="shared")
def shared() -> None:
    """The shared store that laptops sync into."""


@shared.command(name="check")
@click.argument("path", type=STORE_TARGET)
@click.option(
    "--adopt",
    is_flag=True,
    help="First take into the index the records of batch files no index row names"
    " (a folder store only).",
)
@plain_errors
def check(path: Path | str, adopt: bool) -> None:
    """Check every record of the shared store at PATH (a folder, or a postgresql:// URL)
    against its record hash, and every evidence file a record names against its hash.

    Says what is missing or damaged and which laptop sent it; for a database, also a
    decision or keyring entry removed, moved or changed. Exit 1 when anything is.
    """
    if isinstance(path, str):
        if adopt:
            raise StoreError(
                "--adopt takes in batch files of a folder store; a PostgreSQL store has"
                " none. Nothing was changed."
            )
        _check_database(path)
        return
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


def _check_database(url: str) -> None:
    from pos_tui.store.pg.check import check_database
    from pos_tui.store.pg.store import PgSharedStore

    with PgSharedStore.open(url) as store:
        report = check_database(store)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@shared.command(name="migrate")
@click.argument("source", metavar="FROM", type=STORE_TARGET)
@click.argument("target", metavar="TO", type=STORE_TARGET)
@click.option(
    "--verify-only",
    is_flag=True,
    help="Copy nothing: only compare TO with FROM, as a migration ends.",
)
@plain_errors
def migrate_command(source: Path | str, target: Path | str, verify_only: bool) -> None:
    """Copy the shared folder FROM into TO, verbatim, then verify the copy.

    TO is a PostgreSQL database's URL (postgresql://user@host/db; the password in
    PGPASSWORD or ~/.pgpass, never in the URL) made with `pos-tui shared init --empty TO`,
    or another folder made the same way. Every version of every record is copied with its
    exact bytes and flags, with the checklist copies, the evidence files, the keyring and
    the review decisions in their order (they are signed and chained: never signed
    again). Run it again after a cut-off: it carries on and adds nothing twice. A TO
    holding another store's visits, keyring or decisions is refused. From PostgreSQL
    into a folder is not done by this version (the database has its own backups).

    Exit 1, naming what differs, when the copy is not the original.
    """
    from pos_tui.store.migrate import migrate, verify

    not_a_file(source, "FROM")
    not_a_file(target, "TO")
    if verify_only:
        found = verify(source, target)
    else:
        from pos_tui.cli.sync import _ProgressBars

        bars = _ProgressBars()
        try:
            done = migrate(source, target, bars)
        finally:
            bars.close()
        click.echo(
            f"Copied {done.records_added} record(s), {done.files_copied} evidence file(s)"
            f" ({_size(done.bytes_copied)}), {done.checklists_added} checklist copy(ies),"
            f" {done.keyring_added} keyring line(s) and {done.decisions_added} decision(s)"
            f" from {source} into {target}."
        )
        found = done.verification
    for line in [*found.source_problems, *found.differences]:
        click.echo(line)
    if found.differences:
        click.echo(
            f"{target} is not a copy of {source}: {len(found.differences)} difference(s)"
            " above. Run the migration again to carry on; what is copied stays."
        )
        sys.exit(1)
    click.echo(
        f"Verified: {target} holds the {found.records} record(s) of {source} with the same"
        f" flags, its {found.files} evidence file(s) hashing to their names, its"
        f" {found.checklists} checklist copy(ies), and the same {found.keyring} keyring"
        f" line(s) and {found.decisions} decision(s), in order."
    )
    if found.source_problems:
        click.echo(
            f"{source} itself has {len(found.source_problems)} problem(s) above, copied as"
            " they are: mend them there and migrate again, or with `pos-tui sync --repair"
            f" --to {target}` on the laptops they name."
        )
        sys.exit(1)


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count} bytes"


@shared.command(name="init")
@click.argument("path", type=STORE_TARGET)
@click.option("--name", "admin_name", default="", help="The administrator's name, for the keyring.")
@click.option(
    "--empty",
    is_flag=True,
    help="Make the store without a keyring, to be filled by `pos-tui shared migrate FROM"
    " PATH`, which brings FROM's keyring.",
)
@data_dir_option
@click.pass_context
@plain_errors
def init(
    ctx: click.Context, path: Path | str, admin_name: str, empty: bool, data_dir: Path | None
) -> None:
    """Make a new shared store at PATH, with this machine's key as its administrator.

    PATH is a new or empty folder, or a PostgreSQL database's URL
    (postgresql://user@host/db, the password in PGPASSWORD or ~/.pgpass): its tables are
    made, or brought up to this version's schema when an earlier version made them.
    Laptops then sync into it (`pos-tui sync --to PATH`) and supervisors review from it.
    The administrator's fingerprint printed here is what every laptop and reviewer will
    check the store against: write it down.
    """
    from pos_tui.services.identity import init_shared_store

    if empty:
        _init_empty(path)
        return
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


def _init_empty(path: Path | str) -> None:
    """The tables or the folder of a store, with no keyring: the migration brings the
    share's, whose administrator every laptop has pinned already."""
    if isinstance(path, str):
        from pos_tui.store.pg.store import PgSharedStore

        PgSharedStore.init(path).close()
    else:
        from pos_tui.store.shared import BATCHES_DIR

        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise StoreError(
                f"{path} is not an empty folder: a shared store is made in a new or empty one."
            )
        try:
            path.mkdir(exist_ok=True)
            (path / BATCHES_DIR).mkdir()
        except OSError as error:
            raise StoreWriteFailed(path, error) from None
    click.echo(
        f"Made the shared store {path} without a keyring: fill it with"
        f" `pos-tui shared migrate FROM {path}`."
    )
