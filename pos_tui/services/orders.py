"""Work orders for the screens and the command line: the technician's day, the supervisor's
list, assigning, importing and the annual inspections.

An order's state is worked out here each time from the visits that carry its number (the
laptop's own, or the shared store's with their review states) by `domain.orders`, never
kept: the state cannot disagree with the visits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_tui.domain.keyring import TECHNICIAN
from pos_tui.domain.orders import (
    APPROVED,
    INSPECTION,
    OVERDUE,
    STATE_ORDER,
    TO_DO,
    DueInspection,
    Order,
    due_inspections,
    inspection_order,
    order_state,
    visit_state,
)
from pos_tui.store import orders as order_store
from pos_tui.store.orders import ImportReport, OrderEntry
from pos_tui.store.storage import StoreError

if TYPE_CHECKING:
    from pos_tui.domain.review_filter import ReviewRow
    from pos_tui.services.review import ReviewServices
    from pos_tui.services.technician import Services
    from pos_tui.store.summary import VisitSummary


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One order as a list shows it: the entry, its state now, the visits that carry it."""

    entry: OrderEntry
    state: str
    visits: tuple[str, ...] = ()
    """The uuids of the visits that carry the order's number."""

    @property
    def order(self) -> Order:
        return self.entry.order

    @property
    def number(self) -> str:
        return self.entry.number

    @property
    def assignee(self) -> str:
        return self.entry.assignee


def lines(
    entries: Mapping[str, OrderEntry],
    visits: Mapping[str, list[tuple[str, str]]],
    today: date,
) -> list[OrderLine]:
    """Every order with its state, overdue first, then by appointment. `visits`: by order
    number, (uuid, what the visit says of its order: `visit_state`)."""
    found = []
    for number, entry in entries.items():
        mine = visits.get(number, [])
        state = order_state(
            entry.assignee,
            (said for _uuid, said in mine),
            entry.order.due,
            today,
            bool(entry.closed_at),
        )
        found.append(OrderLine(entry, state, tuple(uuid for uuid, _said in mine)))
    return sorted(found, key=_line_order)


def _line_order(line: OrderLine) -> tuple[int, str, str, str]:
    # An order without an appointment goes after those with one on the same state.
    return (
        STATE_ORDER.get(line.state, 9),
        line.order.appointment or "9999",
        line.order.due or "9999",
        line.number,
    )


def laptop_visits(summaries: Iterable[VisitSummary]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for summary in summaries:
        said = visit_state(summary.status, summary.review_decision)
        if summary.order_number and said:
            found.setdefault(summary.order_number, []).append((summary.uuid, said))
    return found


def shared_visits(rows: Iterable[ReviewRow]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        number = str(row.row.get("order_number", ""))
        if number:
            decision = "" if row.review_state == "unreviewed" else row.review_state
            found.setdefault(number, []).append((row.uuid, visit_state("synced", decision)))
    return found


def todays(found: Iterable[OrderLine], today: date) -> list[OrderLine]:
    """What the technician's home shows: the orders still to do that are overdue, booked
    for today or before, or not booked at all."""
    day = today.isoformat()
    return [
        line
        for line in found
        if line.state in TO_DO
        and (
            line.state == OVERDUE or not line.order.appointment or line.order.appointment_day <= day
        )
    ]


# -- the laptop --------------------------------------------------------------------------


def laptop_names(data_folder: Path, shared: Path, technician: str) -> list[str]:
    """The names this laptop's orders are assigned under: the keyring's name for its key
    (what the supervisor picks from), and the name the technician gave the app."""
    names = []
    try:
        from pos_tui.store.keyring import trusted_keyring
        from pos_tui.store.keys import DEVICE, load_key

        key = load_key(data_folder, DEVICE)
        if key is not None:
            names.append(trusted_keyring(shared, data_folder).name_of(key.fingerprint))
    except StoreError:
        pass  # a replaced keyring is said by sync itself; the typed name still finds orders
    names.append(technician)
    return [name for name in dict.fromkeys(n.strip() for n in names) if name]


def pull_for_laptop(data_folder: Path, shared: Path | str, technician: str) -> int:
    """After a sync, on the thread that holds the data folder: this laptop's orders (none
    from a PostgreSQL store, which keeps no orders yet)."""
    if not isinstance(shared, Path):
        return 0
    names = laptop_names(data_folder, shared, technician)
    return len(order_store.pull(data_folder, shared, names))


def pull_orders(services: Services, target: Path | str) -> Future[int]:
    """The technician's app: pull this laptop's orders, on its worker, after its sync."""
    folder = services.store.folder
    return services.worker.submit(pull_for_laptop, folder, target, services.settings.technician)


def technician_day(services: Services) -> Future[list[OrderLine]]:
    """The home screen's orders: today's and overdue, with their states from this laptop's
    own visits (decisions arrive with them at sync)."""
    folder = services.store.folder

    def read() -> list[OrderLine]:
        entries = order_store.laptop_orders(folder)
        if not entries:
            return []
        today = services.clock().date()
        return todays(lines(entries, laptop_visits(services.store.summaries()), today), today)

    return services.worker.submit(read)


# -- the supervisor ----------------------------------------------------------------------


@dataclass
class OrderReview:
    """The supervisor's orders, beside the review list; work runs on the review worker."""

    review: ReviewServices
    today: date = field(default_factory=date.today)

    @property
    def folder(self) -> Path:
        folder = self.review.source.folder
        if not isinstance(folder, Path):
            raise StoreError(
                "Work orders are kept in a shared store folder; this PostgreSQL store has none.",
                "工单保存在共享存储文件夹中；此 PostgreSQL 存储没有工单。",
            )
        return folder

    def technicians(self) -> list[str]:
        """The names the keyring trusts as technicians: whom an order may be given to."""
        ring = self.review.source.keyring
        return sorted({entry.name for entry in ring.trusted_with_role(TECHNICIAN) if entry.name})

    def lines(self, rows: Sequence[ReviewRow]) -> Future[list[OrderLine]]:
        """Every order with its state from the review list's `rows` (read by `rows()`)."""
        by_order = shared_visits(rows)
        return self.review.worker.submit(
            lambda: lines(order_store.all_orders(self.folder), by_order, self.today)
        )

    def assign(self, numbers: Sequence[str], name: str) -> Future[list[str]]:
        known = self.technicians()
        if name and name not in known:
            future: Future[list[str]] = Future()
            future.set_exception(
                StoreError(
                    f"{name} is not a technician the store's keyring trusts.",
                    f"{name} 不是共享存储密钥环信任的技术员。",
                )
            )
            return future
        by = self.review.reviewer or "?"
        return self.review.worker.submit(order_store.assign, self.folder, list(numbers), name, by)


def technician_day_of(found: Iterable[OrderLine], name: str, day: date) -> list[OrderLine]:
    """One technician's orders for a day, by appointment, and the overdue ones first."""
    wanted = day.isoformat()
    mine = [
        line
        for line in found
        if line.assignee == name and (line.state == OVERDUE or line.order.appointment_day == wanted)
    ]
    return sorted(mine, key=lambda line: (line.state != OVERDUE, line.order.appointment))


# -- the command line --------------------------------------------------------------------


def import_file(shared: Path, orders: Sequence[Order], by: str, source: str) -> ImportReport:
    return order_store.import_orders(shared, orders, by, source)


def unknown_assignees(orders: Iterable[Order], technicians: Iterable[str]) -> list[str]:
    known = set(technicians)
    return sorted({o.assignee for o in orders if o.assignee and o.assignee not in known})


@dataclass(frozen=True, slots=True)
class Inspections:
    due: list[DueInspection]
    created: list[str] = field(default_factory=list)


def inspections(
    shared: Path,
    rows: Iterable[Mapping[str, Any]],
    older_than: timedelta,
    today: date,
    create: bool = False,
    within: timedelta = timedelta(days=30),
    by: str = "due-inspections",
) -> Inspections:
    """Merchants due their annual inspection; with `create`, an inspection order for each.
    A merchant with an inspection order still to do is not due again."""
    entries = order_store.all_orders(shared)
    rows = list(rows)
    approved_numbers = {
        str(row.get("order_number", "")) for row in rows if row.get("review_state") == APPROVED
    }
    # An inspection order whose visit was approved is done: the merchant may be due again.
    still_open = [
        entry.order.merchant_number
        for entry in entries.values()
        if entry.order.kind == INSPECTION
        and not entry.closed_at
        and entry.number not in approved_numbers
    ]
    due = due_inspections(rows, older_than, today, still_open)
    if not create or not due:
        return Inspections(due)
    made = [inspection_order(item, today, within) for item in due]
    report = order_store.import_orders(shared, made, by, "due-inspections")
    return Inspections(due, report.added)


def review_state_rows(shared: Path, data_folder: Path | None) -> list[dict[str, Any]]:
    """The shared store's current visits with their review states, for the inspections."""
    from pos_tui.domain.decisions import counted
    from pos_tui.domain.review_filter import review_states
    from pos_tui.store.sources import SharedSource

    source = SharedSource(shared, data_folder)
    try:
        rows = source.rows()
        states = review_states(counted(source.checked_decisions()))
    finally:
        source.close()
    return [row | {"review_state": states.get(row["uuid"], "unreviewed")} for row in rows]
