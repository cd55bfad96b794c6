"""Read-only access to a PostgreSQL store's visits, as `sources.SharedSource` gives a folder's.

Reports, exports and the review screens read a `VisitRecord` whatever the store: its
session rebuilt from the record's exact bytes, the decisions that count, the store's
keyring and its evidence files (`PgEvidenceFiles`, the same checks as a folder's).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pos_tui.domain.decisions import CheckedDecision, check_log, counted
from pos_tui.domain.session import Session
from pos_tui.store.pg.store import PgSharedStore
from pos_tui.store.sources import VisitRecord, group_by_visit
from pos_tui.store.storage import StoreError


class PgSource:
    def __init__(self, url: str, data_folder: Path | None = None, thorough: bool = True) -> None:
        """`data_folder`: this machine's, where the store's administrator key is pinned."""
        self.url = url
        self.store = PgSharedStore.open(url)
        self.files = self.store.files
        self.thorough = thorough
        self.keyring = self.store.trusted_keyring(data_folder)
        self._checked: list[CheckedDecision] | None = None

    def rows(self) -> list[dict[str, Any]]:
        """The current version of every visit, newest first (for one page: `store.page`)."""
        current = [row for row in self.store.rows() if not row.get("superseded")]
        return sorted(current, key=lambda row: str(row.get("updated_at", "")), reverse=True)

    def checked_decisions(self, fresh: bool = False) -> list[CheckedDecision]:
        if self._checked is None or fresh:
            self._checked = check_log(self.store.reviews(), self.keyring)
        return self._checked

    def decisions_by_visit(self) -> dict[str, list[dict[str, Any]]]:
        return group_by_visit(counted(self.checked_decisions()))

    def record(
        self, row: dict[str, Any], decisions: Mapping[str, list[dict[str, Any]]] | None = None
    ) -> VisitRecord:
        data = self.store.read_record(row)
        visit = data["visit"]
        checklists = [self.store.checklists.load(ref["sha256"]) for ref in visit["checklists"]]
        session = Session.from_dict(visit, checklists, data["events"])
        known = self.decisions_by_visit() if decisions is None else decisions
        checked = self._checked or []
        return VisitRecord(
            session,
            row,
            list(known.get(row["uuid"], [])),
            self.keyring,
            [c for c in checked if not c.counts and c.uuid == row["uuid"]],
            any("gap_before" in c.reasons for c in checked),
            # The same four calls as EvidenceFiles (quick_check, check, read, has).
            self.files,  # type: ignore[arg-type]
            self.thorough,
        )

    def records(
        self,
        rows: Iterable[dict[str, Any]],
        decisions: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> Iterator[tuple[dict[str, Any], VisitRecord | StoreError]]:
        """Many visits, each with its record or why it has none: one bad record is said
        beside the others rather than ending the pass."""
        for row in rows:
            try:
                found: VisitRecord | StoreError = self.record(row, decisions)
            except StoreError as error:
                found = error
            except (KeyError, TypeError, ValueError) as error:
                found = StoreError(f"The visit {row.get('uuid')} is unreadable ({error!r}).")
            yield row, found

    def revisions(self, uuid: str) -> list[VisitRecord | StoreError]:
        """Every revision the store holds of a visit, oldest first."""
        mine = sorted(
            self.store.rows_of(uuid),
            key=lambda row: (int(row.get("revision", 0)), str(row.get("synced_at", ""))),
        )
        return [found for _row, found in self.records(mine)]

    def close(self) -> None:
        self._checked = None
        self.store.close()
