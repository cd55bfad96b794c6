"""The laptop's store: one small TinyDB file per visit, plus an index of them all.

Saving an answer rewrites only that visit's file (a few kB), so its cost does not grow
with the number of visits ever recorded. The index is derived data, written only when a
visit starts or changes state, and rebuilt from the visit files when they disagree.

Layout of the data folder:
    index.json                 TinyDB; table "visits": one summary row per visit
    visits/<uuid>.json         TinyDB; table "visit": the session, table "events": its log
    checklists/<sha256>.yaml   the exact checklist files the visits ran, by content
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from tinydb import Query, TinyDB

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Answer, Outcome, Session, Status
from pos_tui.store import checklist_copies
from pos_tui.store.checklist_copies import CHECKLISTS_DIR
from pos_tui.store.storage import (
    AtomicJSONStorage,
    StoreDamaged,
    StoreError,
    backup_path,
    read_json_document,
    remove_stray_temp_files,
    write_json_atomically,
)
from pos_tui.store.summary import VisitSummary, summarize
from pos_tui.store.writer_lock import WriterLock

INDEX_NAME = "index.json"
VISITS_DIR = "visits"

OPEN_VISITS = 4

T = TypeVar("T")


@dataclass
class OpenReport:
    """What opening the store found and mended, for the UI or CLI to mention."""

    removed_temp_files: int = 0
    reindexed: int = 0
    damaged: tuple[StoreDamaged, ...] = ()


class LocalStore:
    """Open with `LocalStore.open(folder)` for writing or `read_only=True` for reading.

    Every public method is safe to call from any thread: a lock makes this object the
    single writer of its folder, and the folder lock makes this process the only one.
    """

    def __init__(self, folder: Path, read_only: bool) -> None:
        self.folder = folder
        self.read_only = read_only
        self._mutex = threading.RLock()
        self._writer_lock: WriterLock | None = None
        self._index: TinyDB | None = None
        self._open_visits: dict[str, TinyDB] = {}
        self.report = OpenReport()

    # -- opening and closing ---------------------------------------------------------

    @classmethod
    def open(cls, folder: Path, read_only: bool = False) -> LocalStore:
        store = cls(folder, read_only)
        if read_only:
            if not folder.is_dir():
                raise StoreError(f"There is no pos-tui data folder at {folder}.")
        else:
            try:
                (folder / VISITS_DIR).mkdir(parents=True, exist_ok=True)
                (folder / CHECKLISTS_DIR).mkdir(exist_ok=True)
            except OSError as error:
                raise StoreError(
                    f"Cannot create the data folder {folder}: {error.strerror}."
                ) from None
            store._writer_lock = WriterLock(folder)
            store._writer_lock.acquire()
        try:
            store._open_index()
            if not read_only:
                store._tidy_after_crash()
        except BaseException:
            store.close()
            raise
        return store

    def _open_index(self) -> None:
        path = self.folder / INDEX_NAME
        read_json_document(path)  # raises StoreDamaged before TinyDB can paper over it
        self._index = TinyDB(
            path, storage=AtomicJSONStorage, read_only=self.read_only, cache=not self.read_only
        )

    def close(self) -> None:
        with self._mutex:
            for db in self._open_visits.values():
                db.close()
            self._open_visits.clear()
            if self._index is not None:
                self._index.close()
                self._index = None
            if self._writer_lock is not None:
                self._writer_lock.release()
                self._writer_lock = None

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def index(self) -> TinyDB:
        if self._index is None:
            raise StoreError("The store is closed.")
        return self._index

    def _tidy_after_crash(self) -> None:
        removed = remove_stray_temp_files(self.folder) + remove_stray_temp_files(
            self.folder / VISITS_DIR
        )
        self.report.removed_temp_files = len(removed)
        self.report.reindexed, self.report.damaged = self._reconcile_index()

    def _reconcile_index(self) -> tuple[int, tuple[StoreDamaged, ...]]:
        """Bring the index in line with the visit files after a crash between the two writes."""
        table = self.index.table("visits")
        indexed = {row["uuid"]: row for row in table.all()}
        on_disk = {path.stem for path in (self.folder / VISITS_DIR).glob("*.json")}
        to_check = (on_disk - indexed.keys()) | {
            uuid
            for uuid, row in indexed.items()
            if row.get("status") == Status.DRAFT and uuid in on_disk
        }
        damaged: list[StoreDamaged] = []
        fixed = 0
        rows = []
        for uuid in sorted(to_check):
            try:
                data, _events = self._read_visit_file(uuid)
            except StoreDamaged as error:
                damaged.append(error)
                continue
            summary = summarize(data)
            if indexed.get(uuid) != summary.to_row():
                rows.append(summary.to_row())
        vanished = indexed.keys() - on_disk
        if rows or vanished:
            visit = Query()
            with self._batch(self.index):
                for row in rows:
                    table.upsert(row, visit.uuid == row["uuid"])
                if vanished:
                    table.remove(visit.uuid.one_of(sorted(vanished)))
            fixed = len(rows) + len(vanished)
        return fixed, tuple(damaged)

    # -- checklists --------------------------------------------------------------------

    def keep_checklists(self, checklists: Iterable[Checklist]) -> None:
        """Copy each checklist file by content, so a visit can be reopened after they change."""
        checklist_copies.keep(self.folder, checklists)

    def checklist_by_hash(self, sha256: str) -> Checklist:
        return checklist_copies.load(self.folder, sha256)

    # -- visits ----------------------------------------------------------------------

    def visit_path(self, uuid: str) -> Path:
        return self.folder / VISITS_DIR / f"{uuid}.json"

    def create(self, session: Session) -> None:
        with self._mutex:
            self.keep_checklists(session.checklists)
            self._write_visit(session, new_events=session.events)
            self._index_row(session)

    def save(self, session: Session, new_events: int = 1) -> None:
        """Write the visit durably; the last `new_events` events are appended to its log."""
        with self._mutex:
            self._write_visit(session, session.events[len(session.events) - new_events :])
            if session.status is not Status.DRAFT:
                self._index_row(session)

    def record(
        self,
        session: Session,
        checklist_id: str,
        item_id: str,
        outcome: Outcome | str,
        note: str = "",
        values: dict[str, str] | None = None,
    ) -> Answer:
        """Record an answer and return it only once it is on disk."""
        return self._apply(
            session, lambda: session.record(checklist_id, item_id, outcome, note, values)
        )

    def undo(self, session: Session) -> tuple[str, str] | None:
        return self._apply(session, session.undo)

    def sign(self, session: Session, technician: str, merchant_representative: str) -> None:
        self._apply(session, lambda: session.sign(technician, merchant_representative))

    def _apply(self, session: Session, change: Callable[[], T]) -> T:
        """Make a change and save it; when the save fails the session is put back as it was,
        so what the screen shows never runs ahead of what is on disk."""
        with self._mutex:
            snapshot = session.to_dict()
            events_before = len(session.events)
            result = change()
            added = len(session.events) - events_before
            if added:
                try:
                    self.save(session, new_events=added)
                except StoreError:
                    kept = [event.to_dict() for event in session.events[:events_before]]
                    restored = Session.from_dict(snapshot, session.checklists, kept, session.clock)
                    vars(session).update(vars(restored))
                    raise
            return result

    def _write_visit(self, session: Session, new_events: Iterable[Any]) -> None:
        if self.read_only:
            raise StoreError("The store was opened read-only.")
        db = self._visit_db(session.uuid)
        with self._batch(db):
            db.table("visit").upsert(session.to_dict() | {"_key": "visit"}, Query()._key == "visit")
            events = db.table("events")
            for event in new_events:
                events.insert(event.to_dict())

    def _visit_db(self, uuid: str) -> TinyDB:
        """An open handle on the visit's file, kept so an answer need not re-read it."""
        db = self._open_visits.pop(uuid, None)
        if db is None:
            db = TinyDB(self.visit_path(uuid), storage=AtomicJSONStorage, cache=True)
            if len(self._open_visits) >= OPEN_VISITS:
                oldest = next(iter(self._open_visits))
                self._open_visits.pop(oldest).close()
        self._open_visits[uuid] = db
        return db

    def bulk_add(
        self, sessions: Iterable[Session], progress: Callable[[int], None] | None = None
    ) -> int:
        """Add many finished visits at once (demo data, imports): one index write, one sync.

        Files are not fsynced one by one; `os.sync()` at the end makes them durable together,
        which is what makes 10,000 visits take seconds rather than minutes.
        """
        with self._mutex:
            if self.read_only:
                raise StoreError("The store was opened read-only.")
            rows = []
            kept: set[str] = set()
            for count, session in enumerate(sessions, start=1):
                new = [c for c in session.checklists if c.sha256 not in kept]
                self.keep_checklists(new)
                kept.update(c.sha256 for c in new)
                document = {
                    "visit": {"1": session.to_dict() | {"_key": "visit"}},
                    "events": {str(i): e.to_dict() for i, e in enumerate(session.events, start=1)},
                }
                write_json_atomically(
                    self.visit_path(session.uuid), document, durable=False, keep_backup=False
                )
                rows.append(summarize(document["visit"]["1"]).to_row())
                if progress is not None:
                    progress(count)
            table = self.index.table("visits")
            with self._batch(self.index):
                known = {row["uuid"] for row in table.all()}
                table.insert_multiple(row for row in rows if row["uuid"] not in known)
            os.sync()
            return len(rows)

    def _index_row(self, session: Session) -> None:
        row = summarize(session.to_dict()).to_row()
        with self._batch(self.index):
            self.index.table("visits").upsert(row, Query().uuid == session.uuid)

    @staticmethod
    @contextlib.contextmanager
    def _batch(db: TinyDB) -> Iterator[None]:
        storage = db.storage
        assert isinstance(storage, AtomicJSONStorage)
        with storage.batch():
            yield

    def _read_visit_file(self, uuid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        path = self.visit_path(uuid)
        document = read_json_document(path)
        if document is None:
            raise StoreError(f"There is no visit {uuid} in {self.folder}.")
        visits = list(document.get("visit", {}).values())
        if len(visits) != 1 or "uuid" not in visits[0]:
            raise StoreDamaged(path, "the visit record is missing")
        events = sorted(document.get("events", {}).items(), key=lambda pair: int(pair[0]))
        return visits[0], [event for _, event in events]

    def load(self, uuid: str) -> Session:
        with self._mutex:
            data, events = self._read_visit_file(uuid)
            checklists = [self.checklist_by_hash(ref["sha256"]) for ref in data["checklists"]]
            return Session.from_dict(data, checklists, events)

    def summaries(self, status: Iterable[str] | None = None) -> list[VisitSummary]:
        """Newest first."""
        wanted = set(status) if status else None
        with self._mutex:
            rows = self.index.table("visits").all()
            found = [
                self._fresh_summary(row)
                for row in rows
                if wanted is None or row["status"] in wanted
            ]
        return sorted(found, key=lambda summary: summary.updated_at, reverse=True)

    def _fresh_summary(self, row: dict[str, Any]) -> VisitSummary:
        # The index is not rewritten on every answer (that would make each answer cost
        # grow with the number of visits), so a draft's progress is read from its own file.
        if row.get("status") == Status.DRAFT:
            with contextlib.suppress(StoreError):
                data, _events = self._read_visit_file(row["uuid"])
                return summarize(data)
        return VisitSummary.from_row(row)

    def read_record(self, uuid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The visit as stored and its event log, without building a session."""
        with self._mutex:
            return self._read_visit_file(uuid)

    def read_raw(self, uuid: str) -> bytes:
        """The visit file's bytes, for sync to carry unparsed."""
        with self._mutex:
            try:
                return self.visit_path(uuid).read_bytes()
            except FileNotFoundError:
                raise StoreError(f"There is no visit {uuid} in {self.folder}.") from None

    def mark_synced(self, uuids: Iterable[str]) -> None:
        """One index write for a whole sync; the visit files keep what was signed."""
        wanted = set(uuids)
        if not wanted:
            return
        with self._mutex, self._batch(self.index):
            table = self.index.table("visits")
            visit = Query()
            table.update(
                {"status": str(Status.SYNCED)},
                (visit.uuid.one_of(sorted(wanted))) & (visit.status == str(Status.SIGNED)),
            )

    def apply_review(self, uuid: str, decision: dict[str, Any]) -> bool:
        """Record a supervisor's decision on one of this laptop's visits; False if known."""
        with self._mutex:
            session = self.load(uuid)
            if any(e.detail.get("decision_id") == decision["id"] for e in session.events):
                return False
            session.mark(
                Status.REVIEWED,
                decision.get("reviewer", ""),
                {
                    "decision_id": decision["id"],
                    "decision": decision["decision"],
                    "comment": decision.get("comment", ""),
                    "at": decision.get("at", ""),
                },
            )
            self.save(session)
            return True

    def drafts(self) -> list[VisitSummary]:
        return self.summaries([Status.DRAFT])

    # -- recovery ----------------------------------------------------------------------

    def recover(self, path: Path) -> Path:
        """Set a damaged file aside and put its last good generation back; returns where it went."""
        return recover_file(path)


def recover_file(path: Path) -> Path:
    """Needs the writer lock of the data folder the file belongs to, so no app is writing it."""
    folder = path.parent.parent if path.parent.name == VISITS_DIR else path.parent
    lock = WriterLock(folder)
    lock.acquire()
    try:
        return _restore_backup(path)
    finally:
        lock.release()


def _restore_backup(path: Path) -> Path:
    backup = backup_path(path)
    if not backup.exists():
        raise StoreError(f"There is no previous version of {path} to recover from.")
    read_json_document(backup)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    if path.exists():
        os.replace(path, aside)
    write_json_atomically(path, read_json_document(backup), keep_backup=False)
    return aside
