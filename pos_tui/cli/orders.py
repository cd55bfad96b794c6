"""`pos-tui orders`: the bank's dispatch list into the shared store, assignments, the list,
and the merchants due their annual inspection."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from pos_tui.cli.common import (
    LANGUAGE_CHOICE,
    data_dir_option,
    fail,
    local_folder,
    plain_errors,
    shared_target,
)

store_option = click.option(
    "--store",
    type=click.Path(path_type=Path),
    help="The shared store's folder (default: settings, or POS_TUI_SHARED_STORE).",
)


def _shared(store: Path | None) -> Path:
    target = shared_target(store, "--store")
    if not isinstance(target, Path):
        fail(
            "work orders are kept in a shared store folder; a PostgreSQL store has none yet:"
            " give --store the folder the orders were imported into."
        )
    return target


def _who(ctx: click.Context, data_dir: Path | None, shared: Path) -> str:
    """Who changes the orders, for their history: the reviewer key's keyring name, if any."""
    from pos_tui.config import load_settings
    from pos_tui.store.keyring import trusted_keyring
    from pos_tui.store.keys import REVIEWER, load_key

    data_folder = local_folder(ctx, data_dir)
    key = load_key(data_folder, REVIEWER)
    name = trusted_keyring(shared, data_folder).name_of(key.fingerprint) if key else ""
    return name or load_settings().technician or "?"


def _technicians(ctx: click.Context, data_dir: Path | None, shared: Path) -> list[str]:
    from pos_tui.domain.keyring import TECHNICIAN
    from pos_tui.store.keyring import trusted_keyring

    ring = trusted_keyring(shared, local_folder(ctx, data_dir))
    return sorted({e.name for e in ring.trusted_with_role(TECHNICIAN) if e.name})


@click.group()
def orders() -> None:
    """Work orders: import the bank's dispatch list, assign, list, inspections."""


@orders.command(name="import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@store_option
@click.option("--lang", type=LANGUAGE_CHOICE, default="en", help="Language of the messages.")
@data_dir_option
@click.pass_context
@plain_errors
def import_command(
    ctx: click.Context, file: Path, store: Path | None, lang: str, data_dir: Path | None
) -> None:
    """Read FILE (CSV in UTF-8 or GB18030, or XLSX) into the shared store's orders.

    Every bad cell is said as FILE:ROW:COLUMN: message, and nothing is imported until
    there are none. The same file imported again changes nothing; a changed order is
    updated, and its history says what changed."""
    from pos_tui.services.orders import import_file, unknown_assignees
    from pos_tui.store.order_import import read_orders

    shared = _shared(store)
    found = read_orders(file)
    if found.problems:
        for line in found.said(str(file), lang):
            click.echo(line, err=True)
        fail(f"{len(found.problems)} problem(s) in {file}: nothing was imported.")
    report = import_file(shared, found.orders, _who(ctx, data_dir, shared), file.name)
    click.echo(f"Imported {file} ({found.encoding}): {report.sentence()}")
    strangers = unknown_assignees(found.orders, _technicians(ctx, data_dir, shared))
    if strangers:
        click.echo(
            "Not technicians the keyring trusts (their laptops cannot be sure to find these"
            f" orders): {', '.join(strangers)}",
            err=True,
        )


@orders.command(name="assign")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--to", "name", required=True, help="The technician's name, as in the keyring.")
@store_option
@data_dir_option
@click.pass_context
@plain_errors
def assign_command(
    ctx: click.Context,
    numbers: tuple[str, ...],
    name: str,
    store: Path | None,
    data_dir: Path | None,
) -> None:
    """Give the orders NUMBERS to a technician (--to "" takes them back)."""
    from pos_tui.store.orders import assign

    shared = _shared(store)
    known = _technicians(ctx, data_dir, shared)
    if name and name not in known:
        fail(
            f"{name} is not a technician the keyring trusts: choose one of"
            f" {', '.join(known) or '(none yet: keys trust ... --role technician)'}."
        )
    changed = assign(shared, numbers, name, _who(ctx, data_dir, shared))
    click.echo(f"{len(changed)} order(s) now with {name or 'nobody'}.")


@orders.command(name="close")
@click.argument("number")
@click.option("--reason", required=True, help="Why the order needs nothing more.")
@store_option
@data_dir_option
@click.pass_context
@plain_errors
def close_command(
    ctx: click.Context, number: str, reason: str, store: Path | None, data_dir: Path | None
) -> None:
    """Close an order the bank withdrew, with why."""
    from pos_tui.store.orders import close

    shared = _shared(store)
    if not reason.strip():
        fail("give the reason for closing with --reason.")
    done = close(shared, number, reason.strip(), _who(ctx, data_dir, shared))
    click.echo(f"Order {number} {'closed' if done else 'was closed already'}.")


@orders.command(name="list")
@store_option
@click.option("--state", "states", multiple=True, help="Only orders in this state (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@data_dir_option
@click.pass_context
@plain_errors
def list_command(
    ctx: click.Context,
    store: Path | None,
    states: tuple[str, ...],
    as_json: bool,
    data_dir: Path | None,
) -> None:
    """Every order with its state now, overdue first."""
    from pos_tui.domain.orders import STATES
    from pos_tui.services.orders import lines, review_state_rows
    from pos_tui.store.orders import all_orders

    unknown = set(states) - set(STATES)
    if unknown:
        fail(f"unknown state {sorted(unknown)[0]}: give one of {', '.join(STATES)}.")
    shared = _shared(store)
    visits: dict[str, list[tuple[str, str]]] = {}
    from pos_tui.domain.orders import visit_state

    for row in review_state_rows(shared, local_folder(ctx, data_dir)):
        if row.get("order_number"):
            decision = "" if row["review_state"] == "unreviewed" else row["review_state"]
            visits.setdefault(row["order_number"], []).append(
                (row["uuid"], visit_state("synced", decision))
            )
    for line in lines(all_orders(shared), visits, date.today()):
        if states and line.state not in states:
            continue
        if as_json:
            click.echo(
                json.dumps(
                    line.order.to_dict()
                    | {"state": line.state, "assignee": line.assignee, "visits": line.visits},
                    ensure_ascii=False,
                )
            )
        else:
            order = line.order
            click.echo(
                f"{order.order_number}\t{line.state}\t{line.assignee or '-'}\t"
                f"{order.appointment.replace('T', ' ') or '-'}\t{order.due or '-'}\t"
                f"{order.merchant_number}\t{order.merchant_name}"
            )


@orders.command(name="due-inspections")
@click.option("--older-than", default="365d", show_default=True, help="e.g. 365d, 52w, 12m, 1y.")
@click.option("--create", is_flag=True, help="Make an inspection order for each merchant listed.")
@click.option("--within", default="30d", show_default=True, help="Due date of created orders.")
@store_option
@data_dir_option
@click.pass_context
@plain_errors
def due_inspections_command(
    ctx: click.Context,
    older_than: str,
    create: bool,
    within: str,
    store: Path | None,
    data_dir: Path | None,
) -> None:
    """Merchants whose last approved visit is older than --older-than (or never approved)."""
    from pos_tui.domain.orders import parse_period
    from pos_tui.services.orders import inspections, review_state_rows

    try:
        period, due_in = parse_period(older_than), parse_period(within)
    except ValueError as error:
        fail(str(error) + ".")
    shared = _shared(store)
    rows = review_state_rows(shared, local_folder(ctx, data_dir))
    who = _who(ctx, data_dir, shared) if create else ""
    found = inspections(shared, rows, period, date.today(), create, due_in, who or "?")
    for due in found.due:
        click.echo(f"{due.merchant_number}\t{due.last_approved or 'never'}\t{due.merchant_name}")
    click.echo(f"{len(found.due)} merchant(s) due an inspection.", err=True)
    if create:
        click.echo(f"Created {len(found.created)} inspection order(s).", err=True)
    sys.stdout.flush()
