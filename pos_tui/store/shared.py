"""The shared store that laptops sync into and supervisors review from.

Layout of the shared folder (a network share or a USB stick):
    index.json           TinyDB: table "visits", one row per synced version of a visit
                         (uuid + revision), with what the review list needs
    reviews.json         TinyDB: table "reviews", one row per review decision; apart from
                         the index so a decision rewrites a small file, not 10,000 rows
    batches/<name>.jsonl one immutable file per sync, one visit record per line
    .shared.lock         held only while a sync or a decision is being written

A sync writes its batch file once (fsynced), then rewrites the index once: the cost is one
index rewrite per sync, not one per visit. Index rows point at their record by batch name,
byte offset and length, so opening one visit reads a few kilobytes, never a whole batch.
Nothing is ever overwritten: a different record under a uuid and revision already present
is kept beside it and both are flagged as a conflict; a later revision marks the earlier
ones superseded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from pos_tui.domain.safe_read import RefusedFile, read_slice
from pos_tui.store import schema
from pos_tui.store.os_lock import FileLock, LockTimeout
from pos_tui.store.storage import (
    AtomicJSONStorage,
    StoreDamaged,
    StoreError,
    StoreWriteFailed,
    fsync_folder,
    read_json_document,
)

INDEX_NAME = "index.json"
REVIEWS_NAME = "reviews.json"
BATCHES_DIR = "batches"
LOCK_NAME = ".shared.lock"
LOCK_TIMEOUT_S = 30.0


class SharedBusy(StoreError):
    def __init__(self, folder: Path, waited: float) -> None:
        super().__init__(
            f"The shared store at {folder} has been busy for {waited:.0f} seconds (another"
            " laptop is syncing or a supervisor is saving). Nothing was changed; try again."
        )


class SharedMissing(StoreError):
    def __init__(self, folder: Path) -> None:
        super().__init__(
            f"The shared store folder {folder} is not there: is the share connected or the"
            " stick plugged in? Nothing was changed."
        )


def record_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


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


@dataclass
class PushReport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    superseded: int = 0
    batch: str | None = None
    reviews: list[dict[str, Any]] = field(default_factory=list)

    @property
    def landed(self) -> list[str]:
        """Every uuid now safely in the shared store, whatever the outcome."""
        return self.added + self.unchanged + self.conflicts


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

    @property
    def index_path(self) -> Path:
        return self.folder / INDEX_NAME

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
        """Every synced version, as indexed; no lock needed, replaces are atomic.

        A row of the wrong shape is left out, and said in `damaged`, so that one bad row
        written to the share does not hide every other visit."""
        return self._table(self.index_path, "visits", schema.shared_row)

    @property
    def reviews_path(self) -> Path:
        return self.folder / REVIEWS_NAME

    def reviews(self) -> list[dict[str, Any]]:
        """Every review decision; one of the wrong shape is left out, like an index row."""
        return self._table(self.reviews_path, "reviews", schema.review_row)

    def _table(
        self, path: Path, table: str, checker: Callable[[Any, str], dict[str, Any]]
    ) -> list[dict[str, Any]]:
        rows, bad = schema.table_rows(read_json_document(path), table, checker)
        others = tuple(error for error in self.damaged if error.path != path)
        self.damaged = others + tuple(StoreDamaged(path, why) for why in bad.values())
        return list(rows.values())

    def read_record(self, row: dict[str, Any]) -> dict[str, Any]:
        try:
            # Checked again: the row may come from a caller, and its batch names a file.
            schema.record_location(row)
        except schema.ShapeError as error:
            raise StoreDamaged(self.index_path, str(error)) from None
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
        progress: Callable[[int], None] | None = None,
    ) -> PushReport:
        """Add visit records; safe to repeat, never overwrites, one index write in all."""
        report = PushReport()
        with self.locked():
            # Cached: while the lock is held nobody else writes the index, so it is parsed
            # once per sync, the biggest single cost of a sync.
            db = TinyDB(self.index_path, storage=AtomicJSONStorage, cache=True)
            try:
                table = db.table("visits")
                # The raw document, not table.all(): building 10,000 Document objects
                # costs more than the rest of the plan.
                document = db.storage.read() or {}
                # Rows of the wrong shape play no part in the plan (they stay in the
                # index, untouched): one bad row must not stop every laptop's sync.
                good, _bad = schema.table_rows(document, "visits", schema.shared_row)
                existing = {int(k): row for k, row in good.items()}
                report.reviews = self.reviews()
                plan = _plan(records, existing, report)
                if not plan.new_rows:
                    return report
                report.batch = self._write_batch(plan.new_rows, origin)
                for done, _ in enumerate(plan.new_rows, start=1):
                    if progress is not None:
                        progress(done)
                storage = db.storage
                assert isinstance(storage, AtomicJSONStorage)
                with storage.batch():
                    table.insert_multiple(row for row, _ in plan.new_rows)
                    if plan.flag_conflict:
                        table.update({"conflict": True}, doc_ids=sorted(plan.flag_conflict))
                    if plan.supersede:
                        table.update({"superseded": True}, doc_ids=sorted(plan.supersede))
                report.superseded = len(plan.supersede)
            finally:
                db.close()
        return report

    def add_review(self, review: dict[str, Any]) -> dict[str, Any]:
        """Append one review decision; the laptops pick it up on their next sync."""
        decision = {
            "id": uuid_module.uuid4().hex,
            "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        } | review
        with self.locked():
            db = TinyDB(self.reviews_path, storage=AtomicJSONStorage)
            try:
                db.table("reviews").insert(decision)
            finally:
                db.close()
        return decision

    def _write_batch(
        self, new_rows: list[tuple[dict[str, Any], bytes]], origin: dict[str, str]
    ) -> str:
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        name = (
            f"{stamp}-{origin.get('device_id', 'laptop')[:12]}-{uuid_module.uuid4().hex[:8]}.jsonl"
        )
        path = self.folder / BATCHES_DIR / name
        temp = path.with_name(f".{name}.{os.getpid()}.tmp")
        offset = 0
        try:
            with open(temp, "wb") as file:
                for row, line in new_rows:
                    row.update(batch=name, offset=offset, length=len(line))
                    file.write(line + b"\n")
                    offset += len(line) + 1
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
            fsync_folder(path.parent)
        except OSError as error:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise StoreWriteFailed(path, error) from None
        return name


@dataclass
class _Plan:
    new_rows: list[tuple[dict[str, Any], bytes]] = field(default_factory=list)
    flag_conflict: set[int] = field(default_factory=set)
    supersede: set[int] = field(default_factory=set)


def _plan(
    records: Iterable[Outgoing], existing: dict[int, dict[str, Any]], report: PushReport
) -> _Plan:
    plan = _Plan()
    by_version: dict[tuple[str, int], list[int]] = {}
    by_uuid: dict[str, list[int]] = {}
    for doc_id, row in existing.items():
        by_version.setdefault((row["uuid"], row["revision"]), []).append(doc_id)
        by_uuid.setdefault(row["uuid"], []).append(doc_id)
    pending_hashes: set[str] = set()
    synced_at = datetime.now().astimezone().isoformat(timespec="seconds")
    for outgoing in records:
        uuid, revision = outgoing.row["uuid"], int(outgoing.row["revision"])
        digest = record_hash(outgoing.raw)
        same_version = by_version.get((uuid, revision), [])
        if digest in pending_hashes or any(
            existing[d]["record_hash"] == digest for d in same_version
        ):
            report.unchanged.append(uuid)
            continue
        conflict = bool(same_version)
        if conflict:
            plan.flag_conflict.update(same_version)
            report.conflicts.append(uuid)
        else:
            report.added.append(uuid)
        earlier = by_uuid.get(uuid, [])
        plan.supersede.update(
            doc_id
            for doc_id in earlier
            if existing[doc_id]["revision"] < revision and not existing[doc_id].get("superseded")
        )
        latest = max((existing[doc_id]["revision"] for doc_id in earlier), default=0)
        row = dict(outgoing.row) | {
            "record_hash": digest,
            "conflict": conflict,
            "superseded": revision < latest,
            "synced_at": synced_at,
            "host": socket.gethostname(),
        }
        plan.new_rows.append((row, outgoing.raw.replace(b"\n", b" ")))
        pending_hashes.add(digest)
    return plan
