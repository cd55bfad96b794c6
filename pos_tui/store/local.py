"""The laptop's store: one small TinyDB file per visit, plus an index of them all.

Saving an answer rewrites only that visit's file (a few kB), so its cost does not grow
with the number of visits ever recorded. The index is derived data, written only when a
visit starts or changes state, and rebuilt from the visit files when they disagree.

Layout of the data folder:
    index.json                 TinyDB; table "visits": one summary row per visit
    visits/<uuid>.json         TinyDB; table "visit": the session, table "events": its log
    revisions/<uuid>/<sha256>.json  a signed revision an amendment corrects, byte for byte as
                               it was on disk, named by its content hash; written once, read-only
    checklists/<sha256>.yaml   the exact checklist files the visits ran, by content
    evidence/<2 hex>/<sha256>  the photos and files attached to visits, by content
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.evidence import is_sha256
from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.domain.session import Session, Status
from pos_tui.store import checklist_copies, schema
from pos_tui.store.checklist_copies import CHECKLISTS_DIR
from pos_tui.store.evidence_files import evidence_parts
from pos_tui.store.schema import (
    MAX_RECORD_BYTES,
    NAME,
    ShapeError,
    summary_row,
    table_rows,
    visit_document,
)
from pos_tui.store.storage import (
    TEMP_SUFFIX,
    AtomicJSONStorage,
    StoreDamaged,
    StoreError,
    StoreWriteFailed,
    backup_path,
    fsync_folder,
    read_json_document,
    remove_stray_temp_files,
    write_json_atomically,
)
from pos_tui.store.summary import VisitSummary, summarize
from pos_tui.store.writer_lock import WriterLock

INDEX_NAME = "index.json"
VISITS_DIR = "visits"
REVISIONS_DIR = "revisions"
"""Signed revisions that amendments correct. A folder of its own, not a name beside the
visit files: index reconciliation, damage scans and `recover` never see them, and no
pattern over `visits/` has to learn to skip them."""

OPEN_VISITS = 4


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
        for kept in self._amended():
            removed += remove_stray_temp_files(self.folder / REVISIONS_DIR / kept)
        self.report.removed_temp_files = len(removed) + self._remove_evidence_parts()
        self.report.reindexed, self.report.damaged = self._reconcile_index()

    def _remove_evidence_parts(self) -> int:
        """Parts (`.<sha256>.<pid>.part`) of files being kept when the app was killed. Only
        this process keeps files here (it holds the writer lock), so none is being written
        now, and no visit names the file: attaching comes after keeping. A copy's resumable
        `<sha256>.part` is left for the copy to carry on."""
        removed = 0
        for part in evidence_parts(self.folder):
            if not part.name.startswith("."):
                continue
            with contextlib.suppress(OSError):
                part.unlink()
                removed += 1
        return removed

    def _reconcile_index(self) -> tuple[int, tuple[StoreDamaged, ...]]:
        """Bring the index in line with the visit files after a crash between the two writes."""
        table = self.index.table("visits")
        # A row of the wrong shape is dropped and rebuilt from its visit file: the index is
        # derived data, and the visit files are what was recorded.
        good, bad = table_rows(self.index.storage.read(), "visits", summary_row)
        indexed = {row["uuid"]: row for row in good.values()}
        on_disk = {
            path.stem
            for path in (self.folder / VISITS_DIR).glob("*.json")
            if NAME.test(path.stem)  # anything else is not a file pos-tui wrote
        }
        to_check = (on_disk - indexed.keys()) | {
            uuid
            for uuid, row in indexed.items()
            if row.get("status") == Status.DRAFT and uuid in on_disk
        }
        # An amendment's first save turns a finished visit back into a draft: killed between
        # its visit file and the index, the row still says "signed". Amended visits are few,
        # and each has kept its corrected revision, so they are all read again.
        to_check |= set(self._amended()) & on_disk
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
        if rows or vanished or bad:
            visit = Query()
            with self._batch(self.index):
                if bad:
                    table.remove(doc_ids=[int(doc_id) for doc_id in bad])
                for row in rows:
                    table.upsert(row, visit.uuid == row["uuid"])
                if vanished:
                    table.remove(visit.uuid.one_of(sorted(vanished)))
            fixed = len(rows) + len(vanished) + len(bad)
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
            self._write_visit(session)
            self._index_row(session)

    def save(self, session: Session) -> None:
        """Write the visit durably, appending the events its file does not hold yet.

        A state change reaches the visit file and the index together or not at all: when
        the index cannot be written (a full disk), the visit file's previous generation is
        put back, so a failed sign-off never leaves a signed file behind a draft index.
        """
        with self._mutex:
            self._keep_corrected_revision(session)
            before = self._write_visit(session)
            if session.status is Status.DRAFT and before in (None, Status.DRAFT):
                return  # the index is not rewritten per answer: see _fresh_summary
            try:
                self._index_row(session)
            except StoreError:
                self._put_back_previous_visit(session.uuid)
                raise

    def _put_back_previous_visit(self, uuid: str) -> None:
        # A rename needs no free space, so this works on the very disk that just filled up.
        db = self._open_visits.pop(uuid, None)
        if db is not None:
            db.close()
        path = self.visit_path(uuid)
        with contextlib.suppress(FileNotFoundError):
            os.replace(backup_path(path), path)

    def _write_visit(self, session: Session) -> str | None:
        """Returns the status the file had before, None for a new visit."""
        if self.read_only:
            raise StoreError("The store was opened read-only.")
        db = self._visit_db(session.uuid)
        visit_table = db.table("visit")
        previous = visit_table.get(Query()._key == "visit")
        record = session.to_dict() | {"_key": "visit"}
        # Keys the record no longer has (its last photo detached: no "evidence") would
        # otherwise stay in the file, as an upsert only adds and replaces.
        gone = [] if previous is None else [key for key in previous if key not in record]
        with self._batch(db):
            visit_table.upsert(record, Query()._key == "visit")
            if gone:
                visit_table.update(_without(gone), Query()._key == "visit")
            events = db.table("events")
            held = len(events)
            events.insert_multiple(event.to_dict() for event in session.events[held:])
        return None if previous is None else str(previous.get("status"))

    # -- revisions an amendment corrects --------------------------------------------------

    def revision_path(self, uuid: str, content_sha256: str) -> Path:
        if not NAME.test(uuid) or not is_sha256(content_sha256):
            raise StoreError(f"There is no revision {content_sha256} of the visit {uuid}.")
        return self.folder / REVISIONS_DIR / uuid / f"{content_sha256}.json"

    def _keep_corrected_revision(self, session: Session) -> None:
        """Before an amendment's first save overwrites it, copy the signed revision it
        corrects, byte for byte as the visit file holds it, to a name of its own.

        Only a stat on later saves. Killed after the copy, the visit file is still that
        revision and the copy is whole or absent (`_write_once`): nothing is lost."""
        corrects = session.corrects
        if corrects is None:
            return
        target = self.revision_path(session.uuid, corrects.content_sha256)
        if target.exists():
            return
        if self.read_only:
            raise StoreError("The store was opened read-only.")
        raw = self.read_raw(session.uuid)
        found = self._session_of(self.visit_path(session.uuid), raw).content_hash()
        if found != corrects.content_sha256:
            raise StoreError(
                f"The visit {session.uuid} was not saved: it amends the signed revision"
                f" {corrects.content_sha256[:12]}…, but its file on this laptop holds"
                f" {found[:12]}…, and that revision is kept nowhere else. Nothing was changed."
            )
        _write_once(target, raw)

    def revisions(self, uuid: str) -> list[Session]:
        """The signed revisions amendments of this visit corrected, oldest first, each as
        it was on disk when its amendment began (the current revision is `load`'s)."""
        with self._mutex:
            kept = [self._session_of(path, raw) for path, raw in self.kept_revisions(uuid)]
        return sorted(kept, key=lambda old: 0 if old.corrects is None else old.corrects.number)

    def kept_revisions(self, uuid: str) -> list[tuple[Path, bytes]]:
        """The kept files of `revisions` and their bytes, for sync to carry unparsed."""
        folder = self.folder / REVISIONS_DIR / uuid
        if not NAME.test(uuid) or not folder.is_dir():
            return []
        return [
            (path, _read_kept(path))
            for path in sorted(folder.glob("*.json"))
            if is_sha256(path.stem)  # anything else is not a file pos-tui wrote
        ]

    def _session_of(self, path: Path, raw: bytes) -> Session:
        """The visit whose file's bytes are `raw`, checked like any visit file."""
        try:
            document = schema.tinydb_document(schema.parse_json(raw))
            visit, events = visit_document(document)
        except ShapeError as error:
            raise StoreDamaged(path, str(error)) from None
        checklists = [self.checklist_by_hash(ref["sha256"]) for ref in visit["checklists"]]
        return Session.from_dict(visit, checklists, events)

    def _amended(self) -> list[str]:
        """The visits with a kept revision, that is every visit ever amended."""
        folder = self.folder / REVISIONS_DIR
        if not folder.is_dir():
            return []
        return sorted(path.name for path in folder.iterdir() if NAME.test(path.name))

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
        # An id with a dot or a slash would name a file outside the store.
        if not NAME.test(uuid):
            raise StoreError(f"There is no visit {uuid} in {self.folder}.")
        path = self.visit_path(uuid)
        document = read_json_document(path)
        if document is None:
            raise StoreError(f"There is no visit {uuid} in {self.folder}.")
        try:
            visit, events = visit_document(document)
        except ShapeError as error:
            raise StoreDamaged(path, str(error)) from None
        if visit["uuid"] != uuid:
            raise StoreDamaged(path, f"it holds the visit {visit['uuid']}, not {uuid}")
        return visit, events

    def load(self, uuid: str) -> Session:
        with self._mutex:
            data, events = self._read_visit_file(uuid)
            checklists = [self.checklist_by_hash(ref["sha256"]) for ref in data["checklists"]]
            return Session.from_dict(data, checklists, events)

    def summaries(self, status: Iterable[str] | None = None) -> list[VisitSummary]:
        """Newest first."""
        wanted = set(status) if status else None
        found: list[VisitSummary] = []
        bad: dict[str, str] = {}
        with self._mutex:
            # The raw document, not table.all(): no Document objects to build.
            document = self.index.storage.read() or {}
            for doc_id, row in document.get("visits", {}).items():
                try:
                    summary = VisitSummary.from_row(row, f"row {doc_id} of 'visits'")
                except ShapeError as error:
                    bad[doc_id] = str(error)
                    continue
                if wanted is None or summary.status in wanted:
                    found.append(self._fresh_summary(summary))
            if bad:
                self._note_damaged_rows(bad)
        return sorted(found, key=lambda summary: summary.updated_at, reverse=True)

    def _note_damaged_rows(self, bad: dict[str, str]) -> None:
        """Bad index rows are left out of every list, and said once in `report.damaged`."""
        path = self.folder / INDEX_NAME
        known = {(error.path, error.reason) for error in self.report.damaged}
        new = [StoreDamaged(path, why) for why in bad.values() if (path, why) not in known]
        self.report.damaged += tuple(new)

    def _fresh_summary(self, indexed: VisitSummary) -> VisitSummary:
        # The index is not rewritten on every answer (that would make each answer cost
        # grow with the number of visits), so a draft's progress is read from its own file.
        if indexed.status == Status.DRAFT:
            with contextlib.suppress(StoreError):
                data, _events = self._read_visit_file(indexed.uuid)
                return summarize(data)
        return indexed

    def read_record(self, uuid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The visit as stored and its event log, without building a session."""
        with self._mutex:
            return self._read_visit_file(uuid)

    def read_raw(self, uuid: str) -> bytes:
        """The visit file's bytes, for sync to carry unparsed."""
        with self._mutex:
            path = self.visit_path(uuid)
            try:
                # No bigger than the shared store will read back.
                return read_regular_file(path, MAX_RECORD_BYTES, follow_links=False)
            except FileNotFoundError:
                raise StoreError(f"There is no visit {uuid} in {self.folder}.") from None
            except RefusedFile as refused:
                raise StoreDamaged(path, refused.reason) from None
            except OSError as error:
                raise StoreError(f"Cannot read {path}: {error.strerror or error}.") from None

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

    def drafts(self) -> list[VisitSummary]:
        return self.summaries([Status.DRAFT])


def _without(keys: list[str]) -> Callable[[MutableMapping[Any, Any]], None]:
    def remove(document: MutableMapping[Any, Any]) -> None:
        for key in keys:
            document.pop(key, None)

    return remove


def _write_once(target: Path, raw: bytes) -> None:
    """`raw` under `target`, durably, whole or not at all, and never over a file there:
    a link from a fsynced temporary file fails rather than replace anything."""
    folder = target.parent
    temp = folder / f".{target.name}.{os.getpid()}{TEMP_SUFFIX}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(temp, "wb") as file:
            file.write(raw)
            file.flush()
            os.fsync(file.fileno())
        # Read-only, like an evidence file: nothing of pos-tui ever writes it again.
        os.chmod(temp, 0o444)
        with contextlib.suppress(FileExistsError):
            os.link(temp, target)
        fsync_folder(folder)
        fsync_folder(folder.parent)
    except OSError as error:
        raise StoreWriteFailed(target, error) from error
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def _read_kept(path: Path) -> bytes:
    try:
        return read_regular_file(path, MAX_RECORD_BYTES, follow_links=False)
    except RefusedFile as refused:
        raise StoreDamaged(path, refused.reason) from None
    except OSError as error:
        raise StoreError(f"Cannot read {path}: {error.strerror or error}.") from None


def recover_file(path: Path) -> Path:
    """Needs the writer lock of the data folder the file belongs to, so no app is writing it."""
    if path.parent.parent.name == REVISIONS_DIR:
        raise StoreError(
            f"{path} is a kept signed revision: it is written once and never again, so it has"
            " no previous version. Its visit's file and index are what recover restores."
        )
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
