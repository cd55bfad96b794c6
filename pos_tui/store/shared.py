"""The shared store that laptops sync into and supervisors review from.

Layout of the shared folder (a network share or a USB stick):
    index/<3 hex>.json   TinyDB: table "visits", one row per synced version of a visit
                         (uuid + revision), with what the review list needs; the row lives
                         in the shard of its uuid's first three hex digits (`shared_index.py`)
    index/journal/       the journal of a write under way: what it puts into the shards
    index.json           the single index of a store made before the shards: read beside
                         them, moved into them by the first write (then `.migrated`)
    reviews.json         TinyDB: table "reviews", one row per review decision; apart from
                         the index so a decision rewrites a small file, not 10,000 rows
    batches/<name>.jsonl one immutable file per sync, one visit record per line
    evidence/<2 hex>/<sha256>  the photos and files the records name, by content
    .shared.lock         held only while a sync or a decision is being written

A sync reads and rewrites only the shards of the uuids it sends: every question its plan
asks (same bytes? same revision under other bytes? an earlier revision?) is about one
uuid. So its cost under the lock is what it sends, not what the store holds. It writes
its journal (fsynced), its batch (fsynced), then each shard it touches, then drops the
journal. Index rows point at their record by batch name, byte offset and length, so
opening one visit reads a few kilobytes, never a whole batch. Nothing is ever overwritten:
a different record under a uuid and revision already present is kept beside it and both
are flagged as a conflict; a later revision marks the earlier ones superseded.

The evidence files a record names are copied in before the batch that holds the record
(and before the lock: they are named by content and appear whole by one rename), so an
index row never names a record whose files are not all there; only the files the
store lacks are sent, and a copy cut off is carried on by the next sync from its `.part`.

Every write starts by tidying, under the lock: temporary files are removed (their writers
held the lock, so they are gone) and the journal a killed writer left is finished, or
dropped when its batch never landed; all of that costs what the killed write would have.
A batch in no row and no journal (the index set back by hand, a copy put there) is found
by `shared check`, which reads everything anyway, and taken in by `adopt`. `repair` also
repoints index rows whose record is missing or damaged at a fresh copy sent by the laptop
that has it; `shared_check.py` finds them.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.safe_read import RefusedFile, read_slice
from pos_tui.domain.signatures import Signer
from pos_tui.store import checklist_copies, schema
from pos_tui.store.checklist_copies import CHECKLISTS_DIR
from pos_tui.store.decision_log import DecisionLog
from pos_tui.store.evidence_files import EvidenceFiles, evidence_parts, part_target
from pos_tui.store.file_meter import FileMeter, FileProgress
from pos_tui.store.os_lock import FileLock, LockTimeout
from pos_tui.store.shared_check import (
    BATCHES_DIR,
    INDEX_NAME,
    REVIEWS_NAME,
    BatchRecord,
    NamedFile,
    bad_row_damage,
    evidence_problem,
    lock_temp_folders,
    orphan_batches,
    read_batch_records,
    record_hash,
    temp_folders,
    verify_rows,
)
from pos_tui.store.shared_index import (
    TABLE,
    Change,
    Ids,
    Loaded,
    commit,
    every_table,
    index_dir,
    journal_dir,
    legacy_path,
    migration,
    read_table,
    recover,
    shard_name,
    shard_names,
    shard_path,
)
from pos_tui.store.shared_plan import Candidate, Plan, make_plan
from pos_tui.store.storage import (
    StoreDamaged,
    StoreError,
    StoreWriteFailed,
    fsync_folder,
    remove_stray_temp_files,
)

LOCK_NAME = ".shared.lock"
LOCK_TIMEOUT_S = 120.0
"""Each writer holds the lock for its own small write (tens of milliseconds on a local
disk, a few hundred on a slow share); 30 laptops syncing at the same moment queue for a few
seconds. Two minutes is far beyond that queue, and still says "busy" to a laptop whose
share has hung (bench/sync_crowd.py measures the queue)."""

KEPT_SHARDS = 16


class SharedBusy(StoreError):
    def __init__(self, folder: Path, waited: float) -> None:
        super().__init__(
            f"The shared store at {folder} has been busy for {waited:.0f} seconds (another"
            " laptop is syncing or a supervisor is saving). Nothing was changed; try again.",
            f"共享存储 {folder} 已忙了 {waited:.0f} 秒（其他笔记本正在同步或主管正在保存）。"
            "未作任何改动，请稍后再试。",
        )


class SharedMissing(StoreError):
    def __init__(self, folder: Path) -> None:
        super().__init__(
            f"The shared store folder {folder} is not there: is the share connected or the"
            " stick plugged in? Nothing was changed.",
            f"找不到共享存储文件夹 {folder}：共享盘是否已连接，U 盘是否已插好？未作任何改动。",
        )


def record_from_document(document: dict[str, Any]) -> dict[str, Any]:
    """A visit file's TinyDB document as {"visit": ..., "events": [...]}; ShapeError when it
    is not one."""
    visit, events = schema.visit_document(schema.tinydb_document(document))
    return {"visit": visit, "events": events}


@dataclass(frozen=True)
class Outgoing:
    """One visit on its way: its index row and the visit file's bytes, sent as they are.

    Sending the bytes unparsed is what keeps a sync of 1,000 visits cheap; the laptop
    wrote them atomically, and the summary row comes from the laptop's index.
    """

    row: dict[str, Any]
    raw: bytes
    files: tuple[NamedFile, ...] = ()
    """The evidence files the record names, which must be in the store before it is."""

    @property
    def uuid(self) -> str:
        return str(self.row.get("uuid", ""))

    @property
    def line(self) -> bytes:
        """The bytes as they go into a batch, one record a line. A newline can only be
        whitespace between JSON tokens, so a space keeps the record the same."""
        return self.raw.replace(b"\n", b" ")

    @property
    def digest(self) -> str:
        """The record hash: of the bytes as they lie in the batch, so a check can verify it."""
        return record_hash(self.line)


@dataclass
class PushReport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    repointed: list[str] = field(default_factory=list)
    """Visits whose index rows pointed at a missing or damaged record, now at a fresh copy."""
    batch: str | None = None
    adopted: int = 0
    """Rows a killed write had journalled, put into the index by this one; for `adopt`, also
    the records of batches no row named."""
    removed_orphans: int = 0
    removed_temp_files: int = 0
    replaced_rows: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    """(uuid, why) of visits not sent: an evidence file they name is not whole here."""
    files_copied: int = 0
    bytes_copied: int = 0
    """Bytes written by this sync: a copy carried on from its `.part` counts only the rest."""

    @property
    def landed(self) -> list[str]:
        """Every uuid now safely in the shared store, whatever the outcome."""
        return self.added + self.unchanged + self.conflicts + self.repointed


class SharedStore:
    def __init__(self, folder: Path, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self.folder = folder
        self.lock_timeout = lock_timeout
        self.damaged: tuple[StoreDamaged, ...] = ()
        """Index rows and decisions of the last read that were unreadable and left out."""

    @classmethod
    def open(
        cls, folder: Path, create: bool = False, lock_timeout: float = LOCK_TIMEOUT_S
    ) -> SharedStore:
        # Only inside a folder that exists: creating a missing mount point's folder would
        # put the "shared" store on the laptop's own disk without anyone noticing.
        if create and folder.is_dir():
            try:
                (folder / BATCHES_DIR).mkdir(exist_ok=True)
            except OSError as error:
                raise StoreWriteFailed(folder, error) from None
        if not (folder / BATCHES_DIR).is_dir():
            raise SharedMissing(folder)
        return cls(folder, lock_timeout)

    def close(self) -> None:
        """Nothing is held open between calls (a database store closes its connection)."""

    @property
    def location(self) -> str:
        """The store as the user named it, for sentences and the sync ledger."""
        return str(self.folder)

    def __str__(self) -> str:
        return str(self.folder)

    @property
    def files(self) -> EvidenceFiles:
        """The photos and files the records name, by content."""
        return EvidenceFiles(self.folder)

    @property
    def keyring_place(self) -> Path:
        """Where `store.keyring` finds this store's keyring: its file in the folder."""
        return self.folder

    def load_checklist(self, sha256: str) -> Checklist:
        return checklist_copies.load(self.folder, sha256)

    def load_all_checklists(self) -> tuple[list[Checklist], list[StoreError]]:
        return checklist_copies.load_all(self.folder)

    @property
    def index_path(self) -> Path:
        """The single index file of a store made before the shards (read until migrated)."""
        return self.folder / INDEX_NAME

    def shard_path(self, uuid: str) -> Path:
        """The index file that holds the rows of this visit."""
        return shard_path(self.folder, shard_name(uuid))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        # Opening the lock file would create it: check first, or a pulled stick would get a new,
        # empty "shared store" made on the laptop's own disk where it was mounted.
        if not (self.folder / BATCHES_DIR).is_dir():
            raise SharedMissing(self.folder)
        lock = FileLock(self.folder / LOCK_NAME, timeout=self.lock_timeout)
        try:
            lock.acquire()
        except LockTimeout:
            raise SharedBusy(self.folder, self.lock_timeout) from None
        except OSError as error:
            raise StoreWriteFailed(self.folder / LOCK_NAME, error) from None
        try:
            yield
        finally:
            lock.release()

    # -- reading -------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """Every synced version, as indexed, oldest sync first; no lock needed, replaces
        are atomic. A full read: every shard (and an old single index not yet migrated).

        A row of the wrong shape is left out, and said in `damaged`, so that one bad row
        written to the share does not hide every other visit."""
        index = index_dir(self.folder)
        damaged = [
            error
            for error in self.damaged
            if error.path != self.index_path and error.path.parent != index
        ]
        found: list[dict[str, Any]] = []
        for path, table in every_table(self.folder):
            good, bad = schema.table_rows({TABLE: table}, TABLE, schema.shared_row)
            damaged.extend(StoreDamaged(path, why) for why in bad.values())
            found.extend(good.values())
        self.damaged = tuple(damaged)
        found.sort(key=lambda row: (row.get("synced_at", ""), row["batch"], row["offset"]))
        return found

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        """The rows of `rows`, one index shard at a time: a pass over the whole store (an
        export) holds one shard's rows, not the index's. In the shards' order (by uuid
        prefix), oldest sync first within a shard; a bad row is said in `damaged` as
        `rows` says it, once its shard is read.

        A store with an unmigrated single index is read whole, as `rows` reads it: its rows
        are told from the shards' copies of them only with every shard read."""
        legacy = legacy_path(self.folder)
        if legacy.exists() or legacy.is_symlink():
            yield from self.rows()
            return
        index = index_dir(self.folder)
        damaged = [
            error
            for error in self.damaged
            if error.path != self.index_path and error.path.parent != index
        ]
        self.damaged = tuple(damaged)
        for name in shard_names(self.folder):
            path = shard_path(self.folder, name)
            good, bad = schema.table_rows({TABLE: read_table(path)}, TABLE, schema.shared_row)
            damaged.extend(StoreDamaged(path, why) for why in bad.values())
            self.damaged = tuple(damaged)
            yield from sorted(
                good.values(),
                key=lambda row: (row.get("synced_at", ""), row["batch"], row["offset"]),
            )

    def rows_of(self, uuid: str) -> list[dict[str, Any]]:
        """Every synced version of one visit, superseded and conflicting ones too: read
        from its shard alone once the store has no unmigrated single index."""
        if legacy_path(self.folder).exists():
            return [row for row in self.rows() if row.get("uuid") == uuid]
        path = shard_path(self.folder, shard_name(uuid))
        good, _bad = schema.table_rows({TABLE: read_table(path)}, TABLE, schema.shared_row)
        mine = [row for row in good.values() if row["uuid"] == uuid]
        return sorted(mine, key=lambda row: (row.get("synced_at", ""), row["batch"], row["offset"]))

    @property
    def reviews_path(self) -> Path:
        """Where earlier versions kept every decision: read as the log's start, never written."""
        return self.folder / REVIEWS_NAME

    @property
    def decision_log(self) -> DecisionLog:
        """The review decisions, one file each (`store/decision_log.py`)."""
        return DecisionLog(self.folder, self.locked)

    def reviews(self) -> list[dict[str, Any]]:
        """Every review decision, in log order; one that is unreadable or of the wrong shape
        is left out and said in `damaged`, like an index row."""
        log = self.decision_log
        rows = [row for _seq, row in log.all()]
        self.damaged = tuple(e for e in self.damaged if not log.owns(e.path)) + log.damaged
        return rows

    def read_record(self, row: dict[str, Any]) -> dict[str, Any]:
        try:
            # Checked again: the row may come from a caller, and its batch names a file.
            schema.record_location(row)
        except schema.ShapeError as error:
            uuid = row.get("uuid") if isinstance(row, dict) else None
            raise StoreDamaged(
                self.shard_path(uuid if isinstance(uuid, str) else ""), str(error)
            ) from None
        path = self.folder / BATCHES_DIR / row["batch"]
        where = f"the record at byte {row['offset']}"
        try:
            data = read_slice(path, row["offset"], row["length"])
        except FileNotFoundError:
            raise StoreError(f"The record file {path} is missing from the shared store.") from None
        except RefusedFile as refused:
            raise StoreDamaged(path, refused.reason) from None
        except OSError as error:
            raise StoreError(f"Cannot read {path}: {error.strerror or error}.") from None
        if len(data) < row["length"]:
            raise StoreDamaged(path, f"{where} is cut short")
        try:
            return record_from_document(schema.parse_json(data))
        except schema.ShapeError as error:
            raise StoreDamaged(path, f"{where}: {error}") from None

    # -- writing -------------------------------------------------------------------------

    def push(
        self,
        records: list[Outgoing],
        origin: dict[str, str],
        progress: Callable[[int, int], None] | None = None,
        checklists: Iterable[tuple[str, Path]] = (),
        evidence: EvidenceFiles | None = None,
        file_progress: FileProgress | None = None,
    ) -> PushReport:
        """Add visit records; safe to repeat, never overwrites, one index write in all.

        `checklists` are the (sha256, file) copies the records may need, written under the
        lock like everything else, so that while it is held every temporary file is stale.
        `evidence`: the sending store's files, of which those the records name and this
        store lacks are copied first; a record one of whose files is not whole there is
        refused (`PushReport.refused`), the others go on.
        """
        sending = _Sending(records, evidence, file_progress)
        return self._write(sending, origin, progress, checklists, repair=False)

    def repair(
        self,
        records: list[Outgoing],
        origin: dict[str, str],
        progress: Callable[[int, int], None] | None = None,
        checklists: Iterable[tuple[str, Path]] = (),
        evidence: EvidenceFiles | None = None,
        file_progress: FileProgress | None = None,
    ) -> PushReport:
        """A push that also verifies the index rows of these records' visits, and points
        each row whose record is missing or damaged at a fresh copy, when `records` holds
        the same bytes (same record hash). A new batch; no batch is ever overwritten.
        Evidence files already here are hashed, not only looked at, and sent again when
        they no longer hash to their names."""
        sending = _Sending(records, evidence, file_progress, thorough=True)
        return self._write(sending, origin, progress, checklists, repair=True)

    def _write(
        self,
        sending: _Sending,
        origin: dict[str, str],
        progress: Callable[[int, int], None] | None,
        checklists: Iterable[tuple[str, Path]],
        repair: bool,
    ) -> PushReport:
        report = PushReport()
        # Before the lock: photos are most of what a sync sends, and a laptop uploading a
        # day of them must not keep the others waiting. Files are named by their content
        # and published whole by one rename, so copying them needs no lock; each laptop
        # writes a part of its own (named by its device id) and carries it on next time.
        records = sending.copy_into(EvidenceFiles(self.folder), report, origin.get("device_id", ""))
        with self.locked():
            report.removed_temp_files = self._remove_temp_files()
            report.adopted = self._settle_index()
            self._copy_checklists(checklists)
            # Only the shards of the uuids sent, one at a time: every question of the plan
            # is about one uuid, so the memory it needs is one shard's, not the index's.
            change = Change()
            plans: list[Plan] = []
            replaced: list[int] = []
            by_shard = _by_shard(records)
            # A few shards are kept to be changed in place; more are read again one by one
            # when written, so that a sync of 1,000 visits holds one shard, not the index.
            kept: dict[str, dict[str, Any]] = {}
            for shard, mine in by_shard.items():
                loaded = Loaded.read(self.folder, [shard])
                if len(by_shard) <= KEPT_SHARDS:
                    kept |= loaded.tables
                uuids = {record.uuid for record in mine}
                plan, bad_rows = self._plan(loaded.document(uuids), mine, {}, repair)
                _add_change(change, loaded, plan, bad_rows)
                plans.append(plan)
                replaced += bad_rows
            to_write = [entry for plan in plans for entry in plan.to_write]
            name = self._batch_name(origin) if to_write else None
            write_batch = None
            if name is not None:
                _locate(to_write, name)
                change.batch = name

                def write_batch() -> None:
                    self._write_batch(name, to_write)
                    for done, _ in enumerate(to_write, start=1):
                        if progress is not None:
                            progress(done, len(to_write))

            commit(self.folder, change, write_batch, kept)
            report.batch = name
            order = {record.uuid: n for n, record in reversed(list(enumerate(records)))}
            for outcome in ("added", "unchanged", "conflicts", "repointed"):
                found = [uuid for plan in plans for uuid in getattr(plan, outcome)]
                setattr(report, outcome, sorted(found, key=lambda uuid: order.get(uuid, 0)))
            report.replaced_rows = len(replaced)
            # Again at the end: when a killed write had left a shard and its .bak as two
            # links of one file, renaming the next .bak link over it does nothing (POSIX
            # rename between two links of one file), and that staged link stays behind.
            self._remove_temp_files()
        return report

    def adopt(self) -> PushReport:
        """Take into the index the records of every batch no row names, and remove the
        batches all of whose records are indexed elsewhere: a full pass, for `shared check
        --adopt`. Such a batch is not left by a killed sync (its journal says what it
        wrote) but by an index set back to a previous generation, or a copy put there."""
        report = PushReport()
        with self.locked():
            report.removed_temp_files = self._remove_temp_files(everywhere=True)
            report.adopted = self._settle_index()
            loaded = Loaded.read(self.folder, shard_names(self.folder))
            document = loaded.document()
            orphans = self._orphans(document)
            plan, _replaced = self._plan(document, [], orphans, repair=False)
            change = Change()
            _add_change(change, loaded, plan, [])
            commit(self.folder, change)
            report.adopted += len(plan.placed)
            report.removed_orphans = self._remove_redundant(
                name
                for name, (found, complete) in orphans.items()
                if found and complete and name not in plan.taken_batches
            )
            self._remove_temp_files()
        return report

    def _settle_index(self) -> int:
        """Under the lock, before anything else is read: the journal of a killed writer
        finished (or dropped), and an old single index moved into the shards. The rows put
        back, for the report."""
        done = recover(self.folder, self.folder / BATCHES_DIR)
        moved = migration(self.folder)
        if moved:
            commit(self.folder, moved)
        return done.rows

    def _orphans(self, document: dict[str, Any]) -> dict[str, tuple[list[BatchRecord], bool]]:
        # Their records are taken in rather than deleted: the index may have been set back
        # to its previous generation, and then no laptop would ever send them again.
        batches = self.folder / BATCHES_DIR
        names = orphan_batches(batches, document)
        return {name: read_batch_records(batches, name) for name in names}

    def _plan(
        self,
        document: dict[str, Any],
        records: list[Outgoing],
        orphans: dict[str, tuple[list[BatchRecord], bool]],
        repair: bool,
    ) -> tuple[Plan, list[int]]:
        """The plan, and the rows of the wrong shape a repair replaces."""
        # Rows of the wrong shape play no part in the plan (they stay in the index,
        # untouched): one bad row must not stop every laptop's sync.
        good, bad = schema.table_rows(document, "visits", schema.shared_row)
        candidates = [
            Candidate(record.row, record.line, record.digest, placed=True)
            for found, _complete in orphans.values()
            for record in found
        ] + [Candidate(dict(o.row), o.line, o.digest, placed=False) for o in records]
        damaged: list[int] = []
        replaced: list[int] = []
        if repair:
            mine = {o.row["uuid"] for o in records}
            hashes = {o.digest for o in records}
            ours = {doc_id: row for doc_id, row in good.items() if row["uuid"] in mine}
            damaged = [int(found.doc_id) for found in verify_rows(self.folder / BATCHES_DIR, ours)]
            # A row of the wrong shape is only replaced when it names one of these records
            # by hash: then nothing it pointed at is lost.
            replaced = [
                int(found.doc_id)
                for found in bad_row_damage(document, bad)
                if found.uuid in mine and found.record_hash in hashes
            ]
        plan = make_plan(
            candidates,
            {int(doc_id): row for doc_id, row in good.items()},
            datetime.now().astimezone().isoformat(timespec="seconds"),
            socket.gethostname(),
            damaged,
        )
        return plan, replaced

    def _remove_temp_files(self, everywhere: bool = False) -> int:
        # Only while holding the lock: every writer of the shared store holds it while its
        # temporary file exists, so none found now belongs to a write under way. Not in
        # batches/ but `everywhere`: listing one file per sync ever made is not a small
        # write, and this version stages its batches in the journal folder.
        removed = 0
        for place in temp_folders(self.folder) if everywhere else lock_temp_folders(self.folder):
            if place.is_dir():
                removed += len(remove_stray_temp_files(place))
        return removed + _remove_stale_parts(self.folder, everywhere)

    def _copy_checklists(self, checklists: Iterable[tuple[str, Path]]) -> None:
        try:
            for sha256, path in checklists:
                checklist_copies.keep_file(self.folder, sha256, path)
        except OSError as error:
            raise StoreWriteFailed(self.folder / CHECKLISTS_DIR, error) from None

    def _remove_redundant(self, names: Iterable[str]) -> int:
        # Every record of these is indexed elsewhere with the same hash: nothing is lost.
        removed = 0
        for name in names:
            with contextlib.suppress(OSError):
                (self.folder / BATCHES_DIR / name).unlink()
                removed += 1
        return removed

    def add_review(self, review: dict[str, Any], signer: Signer) -> dict[str, Any]:
        """Append one review decision, signed by the reviewer's key after the decision
        before it (`prev`), so that one taken out or moved later shows; the laptops pick it
        up on their next sync. Costs the same however many decisions the store holds."""
        return self.decision_log.append(review, signer)

    @staticmethod
    def _batch_name(origin: dict[str, str]) -> str:
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        device = origin.get("device_id", "laptop")[:12]
        return f"{stamp}-{device}-{uuid_module.uuid4().hex[:8]}.jsonl"

    def _write_batch(self, name: str, lines: list[tuple[dict[str, Any], bytes]]) -> None:
        path = self.folder / BATCHES_DIR / name
        # Staged in the journal folder, which the tidy-up under the lock lists, then moved
        # in by one rename: batches/ holds only whole batches.
        temp = journal_dir(self.folder) / f".{name}.{os.getpid()}.tmp"
        try:
            with open(temp, "wb") as file:
                for _row, line in lines:
                    file.write(line + b"\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
            fsync_folder(path.parent)
        except OSError as error:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise StoreWriteFailed(path, error) from None


def _locate(lines: list[tuple[dict[str, Any], bytes]], name: str) -> None:
    """Where each record will lie in the batch: known before it is written, so the journal
    written before the batch can name it."""
    offset = 0
    for row, line in lines:
        row.update(batch=name, offset=offset, length=len(line))
        offset += len(line) + 1


def _by_shard(records: list[Outgoing]) -> dict[str, list[Outgoing]]:
    found: dict[str, list[Outgoing]] = {}
    for record in records:
        found.setdefault(shard_name(record.uuid), []).append(record)
    return dict(sorted(found.items()))


def _add_change(change: Change, loaded: Loaded, plan: Plan, replaced: list[int]) -> None:
    """The plan as puts and updates by shard and id, so that a journal can be applied twice.
    The rows and locations are the plan's own objects: `_locate` fills them in later."""
    ids = Ids(loaded.tables)
    for row in [*plan.placed, *(row for row, _ in plan.new_rows)]:
        shard = shard_name(row["uuid"])
        change.put.append((shard, ids.new(shard), row))
    for flag, keys in (("conflict", plan.flag_conflict), ("superseded", plan.supersede)):
        for key in sorted(keys):
            change.update.append((*loaded.where[key], {flag: True}))
    for digest, (location, _line) in plan.repoint.items():
        for key in plan.repoint_rows[digest]:
            change.update.append((*loaded.where[key], location))
    change.remove.extend(loaded.where[key] for key in replaced)


PART_KEPT_DAYS = 30
"""A copy's `.part` not carried on for this long is given up: its laptop has either sent
the file since (then the file it was to become is there) or is gone, and would start over
if it came."""


def _remove_stale_parts(folder: Path, everywhere: bool = False) -> int:
    """Under the lock. A `.<sha256>.<pid>.part` is a file being kept by one process, never
    carried on: left, it is stale. A copy's `<sha256>.<writer>.part` is kept for the next
    sync, unless the file it was to become is there or nobody has touched it for a month.
    The parts are in `evidence/.parts/`, one folder however many photos the share holds;
    `everywhere`, also those an earlier version left in the buckets."""
    removed = 0
    cutoff = datetime.now().timestamp() - PART_KEPT_DAYS * 86400
    for part in evidence_parts(folder, earlier_layout=everywhere):
        if part.name.startswith(".") or _settled(part, cutoff):
            with contextlib.suppress(OSError):
                part.unlink()
                removed += 1
    return removed


def _settled(part: Path, cutoff: float) -> bool:
    try:
        return part_target(part).exists() or part.lstat().st_mtime < cutoff
    except OSError:
        return False


class _Sending:
    """The records of one write and the evidence files they need, copied in first."""

    def __init__(
        self,
        records: list[Outgoing],
        source: EvidenceFiles | None,
        progress: FileProgress | None,
        thorough: bool = False,
    ) -> None:
        self.records = records
        self.source = source
        self.progress = progress
        self.thorough = thorough

    def copy_into(
        self, target: EvidenceFiles, report: PushReport, writer: str = ""
    ) -> list[Outgoing]:
        """The records whose files are all in `target` now; the others go to `refused`."""
        if self.source is None:
            return self.records
        lacking = self._lacking(target)
        failed: dict[str, str] = {}
        meter = FileMeter(self.progress, len(lacking), sum(f.size for f in lacking))
        for file in lacking:
            why = self._copy(target, file, meter, writer)
            if why is not None:
                failed[file.sha256] = why
        report.files_copied, report.bytes_copied = meter.files, meter.written
        kept = []
        for record in self.records:
            whys = [failed[f.sha256] for f in record.files if f.sha256 in failed]
            if whys:
                report.refused.append((record.uuid, "; ".join(whys)))
            else:
                kept.append(record)
        return kept

    def _lacking(self, target: EvidenceFiles) -> list[NamedFile]:
        # A stat per file in a plain sync: hashing every photo of the share again on each
        # sync would cost more than sending them. A repair hashes (`shared check` found it).
        check = target.check if self.thorough else target.quick_check
        wanted: dict[str, NamedFile] = {}
        for record in self.records:
            for file in record.files:
                if file.sha256 not in wanted and check(file.sha256, file.size) is not None:
                    wanted[file.sha256] = file
        return list(wanted.values())

    def _copy(
        self, target: EvidenceFiles, file: NamedFile, meter: FileMeter, writer: str
    ) -> str | None:
        """Why the file cannot be sent, or None once it is in `target`."""
        assert self.source is not None
        try:
            target.copy_from(self.source, file.sha256, file.size, meter.wrote, writer)
        except StoreError:
            # The copy checks the bytes it wrote: say which side is at fault. When the
            # laptop's own file is whole, the share is (full, or gone): the sync stops.
            problem = self.source.check(file.sha256, file.size)
            if problem is None:
                raise
            return evidence_problem(file, problem, " on this laptop")
        except OSError as error:
            raise StoreWriteFailed(target.path(file.sha256), error) from None
        meter.landed(file.size)
        return None
