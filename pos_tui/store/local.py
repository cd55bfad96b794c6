"""The laptop's store: one small TinyDB file per visit, plus an index of them all.

Saving an answer rewrites only that visit's file (a few kB), so its cost does not grow
with the number of visits ever recorded. The index is derived data, written only when a
visit starts or changes state, and rebuilt from the visit files when they disagree.

Layout of the data folder:
    index.json                 TinyDB; table "visits": the rows start-up needs (local_index)
    archive/<YYYY-MM>.json     TinyDB; the rows of settled visits, by month of creation
    journal.json               the visits whose file and row may be out of step (local_journal)
    visits/<uuid>.json         TinyDB; table "visit": the session, table "events": its log
    revisions/<uuid>/<sha256>.json  a signed revision an amendment corrects, byte for byte as
                               it was on disk, named by its content hash; written once, read-only
    checklists/<sha256>.yaml   the exact checklist files the visits ran, by content
    evidence/<2 hex>/<sha256>  the photos and files attached to visits, by content
    evidence/.parts/           those being written (store/evidence_files.py)
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.storages import Storage

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.evidence import is_sha256
from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.domain.session import Session, Status
from pos_tui.store import checklist_copies, schema
from pos_tui.store.checklist_copies import CHECKLISTS_DIR
from pos_tui.store.evidence_files import EVIDENCE_DIR, PARTS_DIR, evidence_parts
from pos_tui.store.local_index import (
    ACTIVE_STATUSES,
    ARCHIVE_DIR,
    INDEX_NAME,
    LaptopIndex,
    month_of,
    needs_work,
)
from pos_tui.store.local_journal import Journal
from pos_tui.store.schema import MAX_RECORD_BYTES, NAME, ShapeError, visit_document
from pos_tui.store.storage import (
    TEMP_SUFFIX,
    AtomicJSONStorage,
    StoreDamaged,
    StoreError,
    StoreWriteFailed,
    backup_path,
    fsync_folder,
    link_backup,
    read_json_document,
    remove_stray_temp_files,
    write_json_atomically,
)
from pos_tui.store.summary import VisitSummary, summarize
from pos_tui.store.writer_lock import WriterLock, read_owner

__all__ = ["ARCHIVE_DIR", "INDEX_NAME", "LocalStore", "OpenReport", "recover_file"]

Progress = Callable[[int, int], None]
"""(rows done, rows in all) of a migration or a rescan, for the caller to show."""

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
    rescanned: str = ""
    """Why every visit file was listed (a migration of the old single index, a journal
    asking for it); empty on an ordinary start, which reads none but those in question."""


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
        self._journal = Journal(folder)
        self._laptop: LaptopIndex | None = None
        self._open_visits: dict[str, TinyDB] = {}
        self.report = OpenReport()

    # -- opening and closing ---------------------------------------------------------

    @classmethod
    def open(
        cls, folder: Path, read_only: bool = False, progress: Progress | None = None
    ) -> LocalStore:
        """`progress` hears of a long one-off job on opening: the migration of an old
        single index, or a rescan the journal asks for."""
        store = cls(folder, read_only)
        killed_pid: object = None
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
            # An owner file still there names a writer that was killed: its temporary
            # files are the only ones that can be left in visits/.
            killed_pid = (read_owner(folder) or {}).get("pid")
            store._writer_lock = WriterLock(folder)
            store._writer_lock.acquire()
        try:
            store._open_index()
            if not read_only:
                store._tidy_after_crash(killed_pid, progress)
        except BaseException:
            store.close()
            raise
        return store

    def _open_index(self) -> None:
        self._laptop = LaptopIndex(self.folder, self.read_only, self._journal)
        self._laptop.document()  # raises StoreDamaged naming index.json

    def close(self) -> None:
        with self._mutex:
            for db in self._open_visits.values():
                db.close()
            self._open_visits.clear()
            self._laptop = None
            if self._writer_lock is not None:
                self._writer_lock.release()
                self._writer_lock = None

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def laptop(self) -> LaptopIndex:
        if self._laptop is None:
            raise StoreError("The store was closed.")
        return self._laptop

    def _tidy_after_crash(self, killed_pid: object, progress: Progress | None) -> None:
        removed = remove_stray_temp_files(self.folder) + remove_stray_temp_files(
            self.folder / ARCHIVE_DIR
        )
        self._journal.load()
        if not self.laptop.current_layout():
            why = f"the index {INDEX_NAME} is of the single-file layout; it was split once"
        else:
            why = self._journal.rescan or ""
        if not why:
            questioned = set(self._journal.changing) | {
                row["uuid"]
                for row in self.laptop.active_rows()[0].values()
                if row["status"] == Status.DRAFT
            }
            removed += self._remove_killed_temp_files(questioned, killed_pid)
            self.report.reindexed, self.report.damaged, why = self._reconcile_questioned()
        if why:
            removed += remove_stray_temp_files(self.folder / VISITS_DIR)
            for kept in self._amended():
                removed += remove_stray_temp_files(self.folder / REVISIONS_DIR / kept)
            self.report.rescanned = why
            self.report.reindexed, self.report.damaged = self._rescan(progress)
        self.report.removed_temp_files = len(removed) + self._remove_evidence_parts()

    def _remove_killed_temp_files(self, uuids: set[str], pid: object) -> list[Path]:
        """A killed write leaves `.<name>.<pid>.tmp` (and its backup's staged link) beside
        the file. Only a visit being answered (a draft) or changing state (journaled) can
        have been written when the writer died, and the owner file names its pid: a stat
        per visit in question, not a listing of visits/."""
        removed: list[Path] = []
        for uuid in sorted(uuids):
            if type(pid) is int:
                name = self.visit_path(uuid).name
                for temp in (f".{name}.{pid}{TEMP_SUFFIX}", f".{name}.bak.{pid}{TEMP_SUFFIX}"):
                    path = self.folder / VISITS_DIR / temp
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed.append(path)
            if uuid in self._journal.changing:
                removed += remove_stray_temp_files(self.folder / REVISIONS_DIR / uuid)
        return removed

    def remove_temp_files(self, uuids: Iterable[str]) -> int:
        """The temporary files this process's writes of these visits can have left beside
        their files: a stat each, not a listing of visits/."""
        with self._mutex:
            self._writable()
            return len(self._remove_killed_temp_files(set(uuids), os.getpid()))

    def _remove_evidence_parts(self) -> int:
        """Parts (`.<sha256>.<pid>.part`) of files being kept when the app was killed. Only
        this process keeps files here (it holds the writer lock), so none is being written
        now, and no visit names the file: attaching comes after keeping. A copy's resumable
        `<sha256>.part` is left for the copy to carry on.

        One small folder is listed, `evidence/.parts/`, not the buckets of every photo kept.
        Those an earlier version left in the buckets are looked for once, on the first open
        by this version, which makes that folder."""
        evidence = self.folder / EVIDENCE_DIR
        earlier_layout = evidence.is_dir() and not (evidence / PARTS_DIR).is_dir()
        removed = 0
        for part in evidence_parts(self.folder, earlier_layout):
            if not part.name.startswith("."):
                continue
            with contextlib.suppress(OSError):
                part.unlink()
                removed += 1
        if earlier_layout:
            with contextlib.suppress(OSError):
                (evidence / PARTS_DIR).mkdir()
        return removed

    def _reconcile_questioned(self) -> tuple[int, tuple[StoreDamaged, ...], str]:
        """Bring the index in line with the visit files in question after a crash: those
        the journal names and the drafts (whose progress the index does not follow). The
        cost follows the work under way, not the number of visits stored.

        Returns what was mended, the damaged files, and why a full rescan is needed after
        all (a bad row whose visit cannot be told): empty when it is not."""
        good, bad = self.laptop.active_rows()
        visits = self.laptop.document().get("visits", {})
        questioned = dict(self._journal.changing)
        for doc_id in bad:
            uuid = visits[doc_id].get("uuid")
            if not NAME.test(uuid):
                return 0, (), f"a row of {INDEX_NAME} names no visit file ({bad[doc_id]})"
            questioned.setdefault(uuid, "")
        by_uuid = {row["uuid"]: row for row in good.values()}
        for uuid, row in by_uuid.items():
            if row["status"] == Status.DRAFT:
                questioned.setdefault(uuid, month_of(row["created_at"]))
            elif not self.visit_path(uuid).exists():
                questioned.setdefault(uuid, month_of(row["created_at"]))  # deleted by hand
        damaged: list[StoreDamaged] = []
        rows: list[dict[str, Any]] = []
        gone: dict[str, str] = {}
        fixed = 0
        for uuid, month in sorted(questioned.items()):
            try:
                data, _events = self._read_visit_file(uuid)
            except StoreDamaged as error:
                damaged.append(error)
                continue
            except StoreError:
                gone[uuid] = month
                continue
            indexed = by_uuid.get(uuid) or self.laptop.find(uuid, month_of(data["created_at"]))
            row = _settled_as(summarize(data).to_row(), indexed)
            fixed += row != indexed
            if row != indexed or uuid in self._journal.changing:
                rows.append(row)
        fixed += len(bad) + sum(1 for uuid in gone if uuid in by_uuid)
        if rows or gone or bad:
            self.laptop.place(rows, gone, look_in_archive=True)
        self._journal.end(list(questioned))
        return fixed, tuple(damaged), ""

    def _rescan(self, progress: Progress | None) -> tuple[int, tuple[StoreDamaged, ...]]:
        """Every visit file listed against every row: for a migration, a journal that asks
        for it, or `rescan()`. Reads only the visit files the rows cannot vouch for (the
        unindexed, drafts, amended visits), as a start did before the index was split."""
        bad_rows: list[str] = []
        indexed: dict[str, dict[str, Any]] = {}
        for row in self.laptop.all_rows(lambda _path, why: bad_rows.append(why)):
            indexed.setdefault(row["uuid"], row)
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
        to_check |= set(self._journal.changing) & on_disk
        damaged: list[StoreDamaged] = []
        fixed = len(bad_rows)
        for uuid in sorted(to_check):
            try:
                data, _events = self._read_visit_file(uuid)
            except StoreDamaged as error:
                damaged.append(error)
                continue
            row = _settled_as(summarize(data).to_row(), indexed.get(uuid))
            if indexed.get(uuid) != row:
                indexed[uuid] = row
                fixed += 1
        vanished = indexed.keys() - on_disk
        for uuid in vanished:
            del indexed[uuid]
        self.laptop.rebuild(list(indexed.values()), progress)
        self._journal.clear()
        return fixed + len(vanished), tuple(damaged)

    def rescan(self, progress: Progress | None = None) -> OpenReport:
        """List every visit file against the index, and rebuild it: after files were put
        back or deleted by hand, which no journal saw. Costs with the number of visits."""
        with self._mutex:
            if self.read_only:
                raise StoreError("The store was opened read-only.")
            self._journal.ask_rescan("asked for")
            report = OpenReport(rescanned="asked for")
            report.reindexed, report.damaged = self._rescan(progress)
            return report

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
            self._writable()
            self.keep_checklists(session.checklists)
            row = summarize(session.to_dict()).to_row()
            self._journal.begin({session.uuid: month_of(row["created_at"])})
            self._write_visit(session)
            self.laptop.place([row], new=True)
            self._journal.end([session.uuid])

    def save(self, session: Session) -> None:
        """Write the visit durably, appending the events its file does not hold yet.

        A state change reaches the visit file and the index together or not at all: when
        the index cannot be written (a full disk), the visit file's previous generation is
        put back, so a failed sign-off never leaves a signed file behind a draft index.
        The journal names the visit first, so a kill between the two is mended on the
        next start by reading this visit alone.
        """
        with self._mutex:
            self._writable()
            before = self._stored_status(session.uuid)
            if session.status is Status.DRAFT and before in (None, Status.DRAFT):
                # The index is not rewritten per answer: see _fresh_summary.
                self._keep_corrected_revision(session)
                self._write_visit(session)
                return
            self._journal.begin({session.uuid: month_of(session.to_dict()["created_at"])})
            self._keep_corrected_revision(session)
            self._write_visit(session)
            try:
                self._index_row(session)
            except StoreError:
                self._put_back_previous_visit(session.uuid)
                raise
            self._journal.end([session.uuid])

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("The store was opened read-only.")

    def _stored_status(self, uuid: str) -> str | None:
        previous = self._visit_db(uuid).table("visit").get(Query()._key == "visit")
        return None if previous is None else str(previous.get("status"))

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
        with self._batch(db):
            return _update_visit(db, session, session.to_dict())

    def save_many(self, sessions: Iterable[Session]) -> None:
        """`save` of many visits at a cost per visit of little more than its file: the
        decisions a sync brings back (2,000 on a laptop's first sync).

        The journal names them all in one write; each visit file is staged beside its name,
        the staged files are made durable together (`_make_durable`), renamed into place, and
        `visits/` fsynced once; then the index and the archive months are written once for
        all. Killed anywhere, the journal names every
        visit that may be out of step with its row, and the next start reads those alone;
        a name never points at bytes that are not on disk. When the index cannot be written,
        every visit file is put back to its previous generation, as `save` does."""
        batch = list({session.uuid: session for session in sessions}.values())
        if not batch:
            return
        with self._mutex:
            self._writable()
            # A session's record is built once: it is most of what a visit costs here.
            records = [session.to_dict() for session in batch]
            self._journal.begin(
                {record["uuid"]: month_of(record["created_at"]) for record in records}
            )
            for session in batch:
                self._keep_corrected_revision(session)
                db = self._open_visits.pop(session.uuid, None)
                if db is not None:
                    db.close()  # its cache would no longer be the file
            replaced = self._write_visits(batch, records)
            try:
                self.laptop.place([summarize(record).to_row() for record in records])
            except StoreError:
                for uuid in replaced:
                    self._put_back_previous_visit(uuid)
                raise
            self._journal.end([session.uuid for session in batch])

    def _write_visits(self, batch: list[Session], records: list[dict[str, Any]]) -> list[str]:
        """Every visit file of `batch` durably, each whole or as it was; the uuids written."""
        staged: list[tuple[str, Path, Path]] = []
        replaced: list[str] = []
        at = self.folder / VISITS_DIR
        try:
            for session, record in zip(batch, records, strict=True):
                at = self.visit_path(session.uuid)
                db = TinyDB(storage=_Staged, document=read_json_document(at))
                _update_visit(db, session, record)
                assert isinstance(db.storage, _Staged)
                staged.append((session.uuid, at, _stage(at, db.storage.written)))
            _make_durable([temp for _uuid, _path, temp in staged])
            for uuid, path, temp in staged:
                at = path
                _replace_keeping_backup(temp, path)
                replaced.append(uuid)
            at = self.folder / VISITS_DIR
            fsync_folder(at)
        except (OSError, RefusedFile) as error:
            for uuid in replaced:
                self._put_back_previous_visit(uuid)
            if isinstance(error, RefusedFile):  # what is there is not a file we wrote
                raise StoreDamaged(at, error.reason) from None
            raise StoreWriteFailed(at, error) from error
        finally:
            for _uuid, _at, temp in staged:
                with contextlib.suppress(OSError):
                    temp.unlink()
        return replaced

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
        """Add many finished visits at once (demo data, imports): one index build, one sync.

        Files are not fsynced one by one; `os.sync()` at the end makes them durable together,
        which is what makes 10,000 visits take seconds rather than minutes.
        """
        kept: set[str] = set()

        def files() -> Iterator[tuple[dict[str, Any], bytes]]:
            for session in sessions:
                new = [c for c in session.checklists if c.sha256 not in kept]
                self.keep_checklists(new)
                kept.update(c.sha256 for c in new)
                visit = session.to_dict() | {"_key": "visit"}
                document = {
                    "visit": {"1": visit},
                    "events": {str(i): e.to_dict() for i, e in enumerate(session.events, start=1)},
                }
                text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
                yield visit, text.encode("utf-8")

        return self.bulk_add_files(files(), progress)

    def bulk_add_files(
        self,
        files: Iterable[tuple[dict[str, Any], bytes]],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """`bulk_add` of visit files as written: each visit's record and its file's bytes,
        whose checklists the store keeps already (benches build 50,000 from a few)."""
        with self._mutex:
            if self.read_only:
                raise StoreError("The store was opened read-only.")
            # Killed part way, the next start lists visits/ to index what was written.
            self._journal.ask_rescan("visits were being added in bulk")
            rows = []
            for count, (visit, raw) in enumerate(files, start=1):
                uuid = visit["uuid"]
                if not NAME.test(uuid):
                    raise StoreError(f"{uuid!r} cannot be a visit's id.")
                _write_unsynced(self.visit_path(uuid), raw)
                rows.append(summarize(visit).to_row())
                if progress is not None:
                    progress(count)
            os.sync()
            known: dict[str, dict[str, Any]] = {}
            bad: list[str] = []
            for row in self.laptop.all_rows(lambda _path, why: bad.append(why)):
                known.setdefault(row["uuid"], row)
            if bad:
                # A bad row's visit is told by its file alone: list them all.
                self._rescan(None)
                return len(rows)
            for row in rows:
                known.setdefault(row["uuid"], row)
            self.laptop.rebuild(list(known.values()))
            self._journal.clear()
            return len(rows)

    def _index_row(self, session: Session) -> None:
        self.laptop.place([summarize(session.to_dict()).to_row()])

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
        """Newest first. Every visit, the archive included, unless only the statuses of
        visits under way are asked for (drafts, signed), which are always active."""
        wanted = set(status) if status else None
        with self._mutex:
            if wanted is not None and wanted <= ACTIVE_STATUSES:
                every = [VisitSummary.from_row(row) for row in self._active_rows()]
            else:
                every = list(self.laptop.all_summaries(self._note_damaged))
            found = [
                self._fresh_summary(summary)
                for summary in every
                if wanted is None or summary.status in wanted
            ]
        return sorted(found, key=lambda summary: summary.updated_at, reverse=True)

    def active(self, recent: int) -> list[VisitSummary]:
        """What the home screen lists, newest first, from index.json alone: every visit
        that needs the technician or the next sync, and at least the `recent` newest
        settled ones (synced, reviewed) besides. Discarded visits are left out."""
        with self._mutex:
            rows = [row for row in self._active_rows() if row["status"] != Status.DISCARDED]
            settled = sum(1 for row in rows if not needs_work(row))
            if settled < recent and self.laptop.archived_to():
                # Many settled visits were sent back at once: the archive has newer ones
                # than the active part holds. Rare, and right by reading everything.
                rows = [
                    row
                    for row in self.laptop.all_rows(self._note_damaged)
                    if row["status"] != Status.DISCARDED
                ]
            found = sorted(
                (self._fresh_summary(VisitSummary.from_row(row)) for row in rows),
                key=lambda summary: summary.updated_at,
                reverse=True,
            )
        shown, settled = [], 0
        for summary in found:
            if needs_work(summary.to_row()):
                shown.append(summary)
            elif settled < recent:
                settled += 1
                shown.append(summary)
        return shown

    def counts(self) -> dict[str, int]:
        """Visits by status, the archive's included, from index.json alone."""
        with self._mutex:
            return self.laptop.counts()

    def _active_rows(self) -> list[dict[str, Any]]:
        good, bad = self.laptop.active_rows()
        for why in bad.values():
            self._note_damaged(self.laptop.path, why)
        return list(good.values())

    def _note_damaged(self, path: Path, why: str) -> None:
        """Bad index rows are left out of every list, and said once in `report.damaged`."""
        if all((error.path, error.reason) != (path, why) for error in self.report.damaged):
            self.report.damaged += (StoreDamaged(path, why),)

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
        """One index write for a whole sync; the visit files keep what was signed. Signed
        visits are always in the active part, so the archive is written only when rows
        settle into it, once in a hundred visits."""
        wanted = set(uuids)
        if not wanted:
            return
        with self._mutex:
            if self.read_only:
                raise StoreError("The store was opened read-only.")
            self.laptop.mark_synced(wanted)

    def drafts(self) -> list[VisitSummary]:
        return self.summaries([Status.DRAFT])


def _settled_as(fresh: dict[str, Any], indexed: dict[str, Any] | None) -> dict[str, Any]:
    """The row a visit file gives, but "synced" where the index said so of this very
    revision: that lives in the index only (the file keeps what was signed)."""
    if (
        indexed is not None
        and fresh["status"] == Status.SIGNED
        and indexed.get("status") == Status.SYNCED
        and (indexed.get("revision"), indexed.get("content_sha256"))
        == (fresh["revision"], fresh["content_sha256"])
    ):
        return fresh | {"status": str(Status.SYNCED)}
    return fresh


def _update_visit(db: TinyDB, session: Session, visit: dict[str, Any]) -> str | None:
    """The session (`visit` is its record) into its visit file's tables, as TinyDB writes
    them (the visit's keys in the order first written, the new events appended):
    `sync.signed_record` rebuilds the signed bytes on that. The status the file had
    before, None for a new visit."""
    visit_table = db.table("visit")
    previous = visit_table.get(Query()._key == "visit")
    record = visit | {"_key": "visit"}
    # Keys the record no longer has (its last photo detached: no "evidence") would
    # otherwise stay in the file, as an upsert only adds and replaces.
    gone = [] if previous is None else [key for key in previous if key not in record]
    visit_table.upsert(record, Query()._key == "visit")
    if gone:
        visit_table.update(_without(gone), Query()._key == "visit")
    events = db.table("events")
    held = len(events)
    events.insert_multiple(event.to_dict() for event in session.events[held:])
    return None if previous is None else str(previous.get("status"))


class _Staged(Storage):
    """A visit file's document in memory, for `save_many` to write with the others."""

    def __init__(self, document: dict[str, Any] | None) -> None:
        self.document = document
        self.written: dict[str, Any] = document or {}

    def read(self) -> dict[str, Any] | None:
        return self.document

    def write(self, data: dict[str, Any]) -> None:
        self.document = self.written = data


def _stage(path: Path, document: dict[str, Any]) -> Path:
    """The bytes `write_json_atomically` would write, in its temporary file, not fsynced."""
    temp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        with open(temp, "w", encoding="utf-8") as file:
            file.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")))
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return temp


SYNC_ALL_FROM = 16
"""Files written together past which one `os.sync()` makes them durable rather than an
fsync each: on a busy disk 2,000 fsyncs took 11 s, one sync 1.6 s."""


def _make_durable(paths: list[Path]) -> None:
    # Linux's sync waits for the writes to land; elsewhere it may only start them.
    if len(paths) >= SYNC_ALL_FROM and sys.platform.startswith("linux"):
        os.sync()
        return
    for path in paths:
        fd = os.open(path, os.O_WRONLY)  # Windows fsyncs only what is open for writing
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _replace_keeping_backup(temp: Path, path: Path) -> None:
    """`temp` over `path`, the file there kept as `<path>.bak` as `write_json_atomically`
    keeps it; the caller fsyncs the folder."""
    if path.exists():
        link_backup(path)
    os.replace(temp, path)


def _without(keys: list[str]) -> Callable[[MutableMapping[Any, Any]], None]:
    def remove(document: MutableMapping[Any, Any]) -> None:
        for key in keys:
            document.pop(key, None)

    return remove


def _write_unsynced(path: Path, raw: bytes) -> None:
    """Whole or not at all, but not durable until the caller's `os.sync()`."""
    temp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        temp.write_bytes(raw)
        os.replace(temp, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise StoreWriteFailed(path, error) from error


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
    """Needs the writer lock of the data folder the file belongs to, so no app is writing it.

    An index file put back one generation may lack rows the visit files have: the journal
    asks the next start to list every visit file once. A visit file put back is named in
    the journal, for its row to be written again from it."""
    if path.parent.parent.name == REVISIONS_DIR:
        raise StoreError(
            f"{path} is a kept signed revision: it is written once and never again, so it has"
            " no previous version. Its visit's file and index are what recover restores."
        )
    in_subfolder = path.parent.name in (VISITS_DIR, ARCHIVE_DIR)
    folder = path.parent.parent if in_subfolder else path.parent
    lock = WriterLock(folder)
    lock.acquire()
    try:
        aside = _restore_backup(path)
        journal = Journal(folder)
        if path.parent.name == VISITS_DIR and NAME.test(path.stem):
            journal.load()
            journal.begin({path.stem: ""})
        elif path.parent.name == ARCHIVE_DIR or path.name == INDEX_NAME:
            journal.load()
            journal.ask_rescan(f"{path.name} was put back to its previous version")
        return aside
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
