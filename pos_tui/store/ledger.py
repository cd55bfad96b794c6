"""What this laptop has synced where: the answer to "what is still pending?".

A row says that a revision of a visit is represented in a shared store by the record with
that record hash. Usually that is the record of the revision itself; for a revision that
only records a review decision received from the shared store, it is the signed record
already there (see `sync.py`): such a revision is not news to the shared store.

Beside those rows, table "decisions" holds one row per shared store: how far into its
decision log this laptop has read (the last sequence number and that decision's hash), so
that each sync reads only the decisions after it and checks that the chain goes on from
there. It is written in the same write as the rows of the decisions it brought back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from pos_tui.store.decision_log import DecisionMark
from pos_tui.store.schema import ledger_row, table_rows
from pos_tui.store.storage import AtomicJSONStorage, read_json_document

LEDGER_NAME = "sync-ledger.json"
DECISIONS_TABLE = "decisions"


def target_key(target: Path | str) -> str:
    """A folder by its resolved path (the same share mounted by two names is one); a
    database by its URL as given, which never carries a password."""
    if isinstance(target, str):
        return target.strip()
    return str(target.expanduser().resolve())


@dataclass(frozen=True)
class Landed:
    """The highest revision of a visit known to be in a target, and its record's hash."""

    revision: int
    record_hash: str


class SyncLedger:
    """One row per visit version that reached a shared store; written once per sync."""

    def __init__(self, data_folder: Path, read_only: bool = False) -> None:
        self.path = data_folder / LEDGER_NAME
        self.read_only = read_only
        self.skipped: list[str] = []
        """Why each unreadable row of the last read was left out."""

    def _db(self) -> TinyDB:
        return TinyDB(self.path, storage=AtomicJSONStorage, read_only=self.read_only)

    def synced(self, target: Path | str) -> dict[str, int]:
        """The highest revision of each visit synced to `target`."""
        return {uuid: landed.revision for uuid, landed in self.landed(target).items()}

    def landed(self, target: Path | str) -> dict[str, Landed]:
        key = target_key(target)
        found: dict[str, Landed] = {}
        for row in self._rows():
            if row["target"] != key:
                continue
            known = found.get(row["uuid"])
            if known is None or row["revision"] >= known.revision:
                # Older ledgers have rows without a hash: "" matches no record.
                found[row["uuid"]] = Landed(row["revision"], row.get("record_hash", ""))
        return found

    def record_hashes(self, target: Path | str) -> dict[str, set[str]]:
        """Every record hash of each visit that reached `target`, earlier revisions too."""
        key = target_key(target)
        found: dict[str, set[str]] = {}
        for row in self._rows():
            if row["target"] == key and row.get("record_hash"):
                found.setdefault(row["uuid"], set()).add(row["record_hash"])
        return found

    def decision_mark(self, target: Path | str) -> DecisionMark | None:
        """None when this laptop has not read `target`'s decisions yet (or the row is not
        one this wrote: then everything is read again, which applying makes harmless)."""
        key = target_key(target)
        table = (read_json_document(self.path) or {}).get(DECISIONS_TABLE) or {}
        for row in table.values():
            if row.get("target") == key:
                return _mark_of(row)
        return None

    def history(self) -> list[dict[str, object]]:
        return [dict(row) for row in self._rows()]

    def _rows(self) -> list[dict[str, Any]]:
        # A bad row is left out rather than failing the sync: its visit only looks pending,
        # and sending it again finds the same record already there, a no-op.
        rows, bad = table_rows(read_json_document(self.path), "synced", ledger_row)
        self.skipped = list(bad.values())
        return list(rows.values())

    def add(
        self,
        target: Path | str,
        versions: Iterable[tuple[str, int, str]],
        mark: DecisionMark | None = None,
    ) -> None:
        """The versions that landed, and how far the decisions were read: one write."""
        key = target_key(target)
        at = datetime.now().astimezone().isoformat(timespec="seconds")
        rows = [
            {"uuid": uuid, "revision": revision, "record_hash": digest, "target": key, "at": at}
            for uuid, revision, digest in versions
        ]
        if not rows and (mark is None or mark == self.decision_mark(target)):
            return
        db = self._db()
        try:
            storage = db.storage
            assert isinstance(storage, AtomicJSONStorage)
            with storage.batch():
                db.table("synced").insert_multiple(rows)
                if mark is not None:
                    row = {"target": key, "seq": mark.seq, "hash": mark.hash}
                    row["legacy"] = None if mark.legacy is None else list(mark.legacy)
                    db.table(DECISIONS_TABLE).upsert(row, Query().target == key)
        finally:
            db.close()


def _mark_of(row: Any) -> DecisionMark | None:
    seq, digest, legacy = row.get("seq"), row.get("hash"), row.get("legacy")
    if type(seq) is not int or seq < 0 or not isinstance(digest, str):
        return None
    if legacy is not None:
        if not (
            isinstance(legacy, list) and len(legacy) == 2 and all(type(v) is int for v in legacy)
        ):
            return None
        legacy = (legacy[0], legacy[1])
    return DecisionMark(seq, digest, legacy)
