"""What the review screens may ask of the shared store; disk work runs on the worker thread.

Reading never takes the shared store's lock (its index is replaced atomically), so a
supervisor reviewing never holds up a technician's sync; only `decide` takes the lock, for
as long as appending one decision takes.

The decisions known so far are kept here, touched only on the worker thread: `rows()`
refreshes them from the index, `decide()` adds each new one, and `record()` hands them out
without parsing the whole index again.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pos_tui.domain.checklist import Text
from pos_tui.domain.review import decision_request
from pos_tui.domain.review_filter import ReviewRow, review_rows, review_states
from pos_tui.locations import reports_dir
from pos_tui.services.background import Background
from pos_tui.store import checklist_copies
from pos_tui.store.sources import SharedSource, VisitRecord, group_by_visit


@dataclass(frozen=True, slots=True)
class ChecklistNames:
    """Titles of the checklists and items seen in the store, for labels; ids otherwise."""

    checklists: dict[str, Text] = field(default_factory=dict)
    items: dict[str, Text] = field(default_factory=dict)
    """By "checklist_id/item_id"."""

    def checklist(self, checklist_id: str, lang: str) -> str:
        title = self.checklists.get(checklist_id)
        return title.get(lang) if title is not None else checklist_id

    def item(self, key: str, lang: str) -> str:
        title = self.items.get(key)
        return title.get(lang) if title is not None else key


def _failed_future(error: BaseException) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_exception(error)
    return future


@dataclass
class ReviewServices:
    source: SharedSource
    reviewer: str
    worker: Background = field(default_factory=lambda: Background("pos-tui-review"))
    reports_dir: Path | None = None
    """Where reports are written; None: `locations.reports_dir()`."""
    _decisions: dict[str, list[dict[str, Any]]] = field(default_factory=dict, init=False)
    _prefetched: Future[list[ReviewRow]] | None = field(default=None, init=False)

    def rows(self) -> Future[list[ReviewRow]]:
        """Every visit's current version, with its review state; read afresh each call,
        except that the first call takes what `prefetch` started."""
        if self._prefetched is not None:
            future, self._prefetched = self._prefetched, None
            return future
        return self.worker.submit(self._rows)

    def prefetch(self) -> None:
        """Start reading the list now, while the app is still starting up."""
        if self._prefetched is None:
            self._prefetched = self.worker.submit(self._rows)

    def _rows(self) -> list[ReviewRow]:
        rows = [row for row in self.source.store.rows() if not row.get("superseded")]
        decisions = self.source.store.reviews()
        self._decisions = group_by_visit(decisions)
        return review_rows(rows, review_states(decisions))

    def record(self, row: Mapping[str, Any]) -> Future[VisitRecord]:
        """The whole visit behind a list row, with its review decisions."""
        return self.worker.submit(self._record, dict(row))

    def _record(self, row: dict[str, Any]) -> VisitRecord:
        # With the decisions held here: the source's own cache is read once and never sees a
        # decision made since. A damaged record or checklist copy is a StoreDamaged from the
        # store, with the file it is in.
        return self.source.record(row, self._decisions)

    def decide(self, uuid: str, decision: str, comment: str = "") -> Future[dict[str, Any]]:
        """Append one decision to the shared store's log; the rules are checked at once."""
        try:
            request = decision_request(uuid, decision, comment, self.reviewer)
        except ValueError as error:  # VisitError and CardDataError both
            return _failed_future(error)
        return self.worker.submit(self._decide, request.to_dict())

    def _decide(self, review: dict[str, Any]) -> dict[str, Any]:
        decision = self.source.store.add_review(review)
        self._decisions.setdefault(decision["uuid"], []).append(decision)
        return decision

    def checklist_names(self) -> Future[ChecklistNames]:
        return self.worker.submit(self._checklist_names)

    def _checklist_names(self) -> ChecklistNames:
        names = ChecklistNames()
        # A damaged copy only costs its labels: the ids still show.
        found, _damaged = checklist_copies.load_all(self.source.folder)
        # Newest version last, so its words win.
        for checklist in sorted(found, key=lambda c: _version_key(c.version)):
            names.checklists[checklist.id] = checklist.title
            for item in checklist.items:
                names.items[f"{checklist.id}/{item.id}"] = item.title
        return names

    def write_report(self, record: VisitRecord, lang: str) -> Future[Path]:
        """An HTML acceptance report in the reports folder (see `locations.reports_dir`)."""

        def write() -> Path:
            from pos_tui.reports.report import default_name, write_report

            folder = self.reports_dir or reports_dir()
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / default_name(record.session, "html")
            return write_report(record, path, "html", record.session.info.language or lang)

        return self.worker.submit(write)

    def close(self) -> None:
        self.worker.close()
        self.source.close()


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(part), "") if part.isdigit() else (0, part) for part in version.split("."))
