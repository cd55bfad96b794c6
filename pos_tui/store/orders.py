"""Work orders in the shared folder, and each laptop's copy of its own.

    orders/all.json                 every order: what was imported (with its hash), its
                                    assignee now, whether it was closed
    orders/by-assignee/<key>.json   the same entries, one file per technician (<key>: the
                                    SHA-256 of the name), for a laptop to read its ~20
                                    orders without reading 10,000
    orders/events/<time>-<pid>.json one file per change (an import, an assignment, a close),
                                    never rewritten: the orders' history

Every write takes the shared store's lock, as syncs and decisions do, and writes each file
with `write_json_atomically`: a reader sees a whole file, old or new. `all.json` is the truth,
the assignee files are derived from it: before `all.json` is replaced, the names of the
assignees whose files will change are written to `assignees-pending.json`, so a write
killed between the files has the next write rewrite those from `all.json` (and
`rebuild_assignee_files` rewrites them all). Importing reads `all.json` once,
compares each row's hash with the one kept, and writes `all.json` and the files of the
assignees whose orders changed once each: re-importing the same file writes nothing.

The laptop's copy is `orders.json` in its data folder, replaced whole at each sync.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pos_tui.domain.orders import Order
from pos_tui.store.storage import (
    StoreDamaged,
    StoreError,
    fsync_folder,
    read_json_file,
    remove_stray_temp_files,
    write_json_atomically,
)

ORDERS_DIR = "orders"
ALL_NAME = "all.json"
BY_ASSIGNEE = "by-assignee"
EVENTS = "events"
PENDING = "assignees-pending.json"
LAPTOP_NAME = "orders.json"
MAX_ORDERS_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class OrderEntry:
    """An order as the store keeps it: as imported, and what was done with it since."""

    order: Order
    sha256: str
    assignee: str = ""
    imported_at: str = ""
    updated_at: str = ""
    closed_at: str = ""
    closed_reason: str = ""

    @property
    def number(self) -> str:
        return self.order.order_number

    def to_dict(self) -> dict[str, Any]:
        return {
            "order": self.order.to_dict(),
            "sha256": self.sha256,
            "assignee": self.assignee,
            "imported_at": self.imported_at,
            "updated_at": self.updated_at,
            "closed_at": self.closed_at,
            "closed_reason": self.closed_reason,
        }

    @classmethod
    def from_dict(cls, data: Any) -> OrderEntry:
        if not isinstance(data, dict) or not isinstance(data.get("order"), dict):
            raise ValueError("an order entry is not a mapping with its order")
        texts = ("sha256", "assignee", "imported_at", "updated_at", "closed_at", "closed_reason")
        values = {name: data.get(name, "") for name in texts}
        if not all(isinstance(value, str) for value in values.values()):
            raise ValueError("an order entry holds something other than text")
        return cls(Order.from_dict(data["order"]), **values)


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        return (
            f"{len(self.added)} new, {len(self.updated)} updated,"
            f" {len(self.unchanged)} unchanged order(s)."
        )


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def assignee_key(name: str) -> str:
    """The file name of a technician's orders: names are Chinese, have spaces, are anything."""
    return hashlib.sha256(name.strip().encode("utf-8")).hexdigest()[:32]


# -- reading -----------------------------------------------------------------------------


def _read(path: Path) -> Any:
    return read_json_file(path, MAX_ORDERS_BYTES)


def _entries(path: Path) -> dict[str, OrderEntry]:
    document = _read(path)
    if document is None:
        return {}
    orders = document.get("orders") if isinstance(document, dict) else None
    if not isinstance(orders, dict):
        raise StoreDamaged(path, "it holds no orders")
    found: dict[str, OrderEntry] = {}
    for number, data in orders.items():
        try:
            entry = OrderEntry.from_dict(data)
        except ValueError as error:
            raise StoreDamaged(path, f"the order {number}: {error}") from None
        if entry.number != number:
            raise StoreDamaged(path, f"the order filed as {number} is {entry.number}")
        found[number] = entry
    return found


def orders_folder(shared: Path) -> Path:
    return shared / ORDERS_DIR


def all_orders(shared: Path) -> dict[str, OrderEntry]:
    """Every order of the shared store, by number; no lock: files are replaced whole."""
    return _entries(orders_folder(shared) / ALL_NAME)


def assignee_orders(shared: Path, name: str) -> dict[str, OrderEntry]:
    """One technician's orders, from their own file: a laptop's pull reads only this."""
    return _entries(orders_folder(shared) / BY_ASSIGNEE / f"{assignee_key(name)}.json")


def events(shared: Path, number: str | None = None) -> list[dict[str, Any]]:
    """The history of every order (or of one), oldest first."""
    folder = orders_folder(shared) / EVENTS
    found: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        document = _read(path)
        if not isinstance(document, dict) or not isinstance(document.get("events"), list):
            raise StoreDamaged(path, "it holds no events")
        for event in document["events"]:
            if isinstance(event, dict) and (number is None or event.get("order") == number):
                found.append({"at": document.get("at", ""), "by": document.get("by", "")} | event)
    return found


# -- writing -----------------------------------------------------------------------------


class _Writing:
    """One change of the orders, under the shared store's lock."""

    def __init__(self, shared: Path, by: str) -> None:
        self.shared = shared
        self.folder = orders_folder(shared)
        self.by = by
        self.at = now()
        self.entries: dict[str, OrderEntry] = {}
        self.before: dict[str, OrderEntry] = {}
        self.events: list[dict[str, Any]] = []

    def load(self) -> None:
        for sub in (self.folder, self.folder / BY_ASSIGNEE, self.folder / EVENTS):
            sub.mkdir(exist_ok=True)
            remove_stray_temp_files(sub)  # we hold the lock: their writers are gone
        self.entries = all_orders(self.shared)
        self.before = dict(self.entries)
        pending = self.folder / PENDING
        left = _read(pending)
        if isinstance(left, dict) and isinstance(left.get("assignees"), list):
            self.write_assignees(str(name) for name in left["assignees"])
        if left is not None:
            pending.unlink()

    def event(self, number: str, what: str, **detail: Any) -> None:
        self.events.append({"order": number, "what": what} | detail)

    def save(self) -> None:
        if not self.events:
            return
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
        events_path = self.folder / EVENTS / f"{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        # The events first: an event without its change is said, a change without it lost.
        write_json_atomically(
            events_path, {"at": self.at, "by": self.by, "events": self.events}, keep_backup=False
        )
        touched: set[str] = set()
        for number, entry in self.entries.items():
            old = self.before.get(number)
            if old != entry:
                touched.add(entry.assignee)
                if old is not None:
                    touched.add(old.assignee)
        # Which assignee files are about to be out of step, before all.json changes: a
        # write killed after all.json has them rewritten by the next (`load`).
        pending = self.folder / PENDING
        write_json_atomically(pending, {"assignees": sorted(touched)}, keep_backup=False)
        document = {"orders": {n: e.to_dict() for n, e in self.entries.items()}}
        write_json_atomically(self.folder / ALL_NAME, document)
        self.write_assignees(touched)
        pending.unlink()

    def write_assignees(self, names: Iterable[str]) -> None:
        wanted = {name for name in names if name}
        if not wanted:
            return
        mine: dict[str, dict[str, Any]] = {name: {} for name in wanted}
        for number, entry in self.entries.items():
            if entry.assignee in mine and not entry.closed_at:
                mine[entry.assignee][number] = entry.to_dict()
        # Not fsynced one by one: an import for 500 technicians would spend seconds in
        # fsync, and these files are derived from all.json, which is (rebuild_assignee_files).
        # Each still appears whole by its rename; the folder is fsynced once, at the end.
        for name, orders in mine.items():
            path = self.folder / BY_ASSIGNEE / f"{assignee_key(name)}.json"
            document = {"assignee": name, "orders": orders}
            write_json_atomically(path, document, durable=False, keep_backup=False)
        fsync_folder(self.folder / BY_ASSIGNEE)


@contextlib.contextmanager
def _changing(shared: Path, by: str) -> Any:
    # Imported here: the laptop's home reads its orders at start-up, and writes are rare.
    from pos_tui.store.shared import SharedStore

    store = SharedStore.open(shared)
    with store.locked():
        writing = _Writing(shared, by)
        writing.load()
        yield writing
        writing.save()


def import_orders(shared: Path, orders: Iterable[Order], by: str, source: str) -> ImportReport:
    """Add the new orders, update the changed ones (with an event naming each change) and
    leave the others alone. An assignee the file changes is taken; one the file says as
    before leaves the supervisor's assignment since then as it is."""
    report = ImportReport()
    with _changing(shared, by) as writing:
        for order in orders:
            digest = order.digest()
            old = writing.entries.get(order.order_number)
            if old is None:
                writing.entries[order.order_number] = OrderEntry(
                    order, digest, order.assignee, writing.at, writing.at
                )
                writing.event(order.order_number, "imported", source=source)
                report.added.append(order.order_number)
                continue
            if old.sha256 == digest:
                report.unchanged.append(order.order_number)
                continue
            changes = old.order.changes(order)
            assignee = order.assignee if "assignee" in changes else old.assignee
            writing.entries[order.order_number] = replace(
                old, order=order, sha256=digest, assignee=assignee, updated_at=writing.at
            )
            writing.event(
                order.order_number,
                "updated",
                source=source,
                changes={name: list(pair) for name, pair in changes.items()},
            )
            report.updated.append(order.order_number)
    return report


def assign(shared: Path, numbers: Iterable[str], assignee: str, by: str) -> list[str]:
    """Give the orders to `assignee` ("" to take them back); the numbers that changed."""
    changed: list[str] = []
    with _changing(shared, by) as writing:
        for number in numbers:
            old = writing.entries.get(number)
            if old is None:
                raise StoreError(f"There is no order {number} in {shared}.", f"没有工单 {number}。")
            if old.assignee == assignee:
                continue
            writing.entries[number] = replace(old, assignee=assignee, updated_at=writing.at)
            writing.event(number, "assigned", changes={"assignee": [old.assignee, assignee]})
            changed.append(number)
    return changed


def close(shared: Path, number: str, reason: str, by: str) -> bool:
    """Close an order the bank has withdrawn (or that needs nothing more), with why."""
    with _changing(shared, by) as writing:
        old = writing.entries.get(number)
        if old is None:
            raise StoreError(f"There is no order {number} in {shared}.", f"没有工单 {number}。")
        if old.closed_at:
            return False
        writing.entries[number] = replace(
            old, closed_at=writing.at, closed_reason=reason, updated_at=writing.at
        )
        writing.event(number, "closed", reason=reason)
    return True


def rebuild_assignee_files(shared: Path, by: str = "rebuild") -> int:
    """Every assignee's file written again from `all.json`; how many."""
    from pos_tui.store.shared import SharedStore

    with SharedStore.open(shared).locked():
        writing = _Writing(shared, by)
        writing.load()
        names = {entry.assignee for entry in writing.entries.values()}
        writing.write_assignees(names)
    return len(names)


# -- the laptop's copy -------------------------------------------------------------------


def pull(data_folder: Path, shared: Path, names: Iterable[str]) -> dict[str, OrderEntry]:
    """This laptop's orders from the shared store into `orders.json` of its data folder;
    the caller holds the data folder's writer lock (a sync does). Reads only the files of
    `names`, the technician's names."""
    found: dict[str, OrderEntry] = {}
    wanted = [name for name in dict.fromkeys(n.strip() for n in names) if name]
    for name in wanted:
        found.update(assignee_orders(shared, name))
    document = {
        "pulled_at": now(),
        "from": str(shared),
        "assignees": wanted,
        "orders": {n: e.to_dict() for n, e in found.items()},
    }
    path = data_folder / LAPTOP_NAME
    if laptop_orders(data_folder) != found or not path.exists():
        write_json_atomically(path, document)
    return found


def laptop_orders(data_folder: Path) -> Mapping[str, OrderEntry]:
    """The orders the last sync brought; none before the first."""
    return _entries(data_folder / LAPTOP_NAME)
