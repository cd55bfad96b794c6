"""The review decisions of a shared folder: an append-only log, one file per decision.

    decisions/head.json                     {"seq": last sequence number, "hash": its hash}
    decisions/<seq // 1000:06d>/<seq:09d>.json   one decision, written once

Appending costs the same with 10 or 100,000 decisions: the new decision's `prev` is the
head's hash, its file is written whole (a temporary file, fsynced, then linked to its name:
a link never replaces a file, so no decision is ever overwritten) and the head is replaced
atomically, all under the shared store's lock. A reader asks for the decisions after a
sequence number it has seen and lists only the buckets from there on, so a laptop's sync
reads what is new, not everything ever decided.

The head is derived data. A writer killed between a decision's file and the head leaves the
head one behind; the next append, under the lock, steps forward over the files that exist
past it (a stat each) and hashes the last. A missing or unreadable head is rebuilt from the
last bucket. Readers never trust the head: they list the files.

Stores made by earlier versions kept every decision in `reviews.json` (TinyDB). That file is
read as the decisions before seq 1, reported with seq 0, and never written again: the first
decision of the log names the last one there as its `prev`, so the chain goes on.

Every file here may have been put there by anyone who can write the share. A decision file
that is a link, a FIFO, too big, not JSON or not shaped like a decision is left out and said
in `damaged` (a `StoreDamaged` each), like a bad row of the index; the decisions around it
still count, and the chain shows where one is missing.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import uuid as uuid_module
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pos_tui.domain.decisions import decision_hash, signed_part
from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.domain.signatures import Signer, canonical, sign
from pos_tui.store import schema
from pos_tui.store.shared_check import REVIEWS_NAME
from pos_tui.store.storage import (
    StoreDamaged,
    StoreError,
    StoreWriteFailed,
    fsync_folder,
    read_json_document,
    remove_stray_temp_files,
    write_json_atomically,
)

DECISIONS_DIR = "decisions"
HEAD_NAME = "head.json"
BUCKET_SIZE = 1000
MAX_DECISION_BYTES = 1024 * 1024
"""A decision is a few hundred bytes; a comment of a megabyte is not one a reviewer typed."""
MAX_HEAD_BYTES = 4096

_BUCKET = re.compile(r"\d{6,}")
_FILE = re.compile(r"(\d{9,})\.json")

_NOT_OURS = "it is a link or a file, not a folder of decisions pos-tui wrote"

Entry = tuple[int, dict[str, Any]]
"""(seq, decision): seq 0 for the decisions of an earlier version's `reviews.json`."""


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


@dataclass(frozen=True)
class DecisionMark:
    """How far a reader has read the log: where to go on from, and what to check there."""

    seq: int
    """The last decision file read (0: only those of the old `reviews.json`)."""
    hash: str
    """That decision's hash (`decisions.decision_hash`): the next one names it as `prev`."""
    legacy: tuple[int, int] | None
    """(size, mtime in ns) of `reviews.json` when it was read, None without one: an earlier
    version still writing there is seen by a stat."""


@dataclass(frozen=True)
class Reading:
    """What a reader that had read up to a mark reads now."""

    entries: list[Entry]
    """In log order: everything when `whole`, else only what came after the mark."""
    prev: str
    """The hash the first of `entries` should name as `prev`."""
    mark: DecisionMark
    """How far the log has been read with these."""
    whole: bool
    lost: bool = False
    """The decision the mark names is no longer there as it was: the log was cut there."""


def bucket_of(seq: int) -> int:
    return seq // BUCKET_SIZE


class DecisionLog:
    def __init__(self, folder: Path, locked: Callable[[], AbstractContextManager[Any]]) -> None:
        """`folder`: the shared store's; `locked`: its lock, held by every writer there."""
        self.folder = folder
        self.root = folder / DECISIONS_DIR
        self.legacy_path = folder / REVIEWS_NAME
        self.head_path = self.root / HEAD_NAME
        self._locked = locked
        self.damaged: tuple[StoreDamaged, ...] = ()
        """The decision files of the last read that were left out, and why."""

    def path_of(self, seq: int) -> Path:
        return self.root / f"{bucket_of(seq):06d}" / f"{seq:09d}.json"

    def owns(self, path: Path) -> bool:
        """Whether a damage report is about this log (for the store's list of damage)."""
        return path == self.legacy_path or self.root in path.parents

    # -- reading -------------------------------------------------------------------------

    def all(self) -> list[Entry]:
        """Every decision, in log order: those of `reviews.json` first (seq 0), then the
        files. A `reviews.json` that cannot be read at all is refused as a whole
        (StoreDamaged), as before; one bad row of it, or one bad file, is left out."""
        legacy, bad = self._legacy()
        entries = [(0, row) for row in legacy]
        found = self._files_after(0)
        self.damaged = bad + found[1]
        return entries + found[0]

    def after(self, seq: int) -> list[Entry]:
        """The decisions with a sequence number above `seq`, in order; reads only the
        buckets from `seq`'s on."""
        entries, bad = self._files_after(seq)
        self.damaged = bad
        return entries

    def read_since(self, known: DecisionMark | None) -> Reading:
        """The decisions after `known`, or all of them: on a first read, when `reviews.json`
        has changed since (an earlier version wrote to it), or when the decision `known`
        names is gone or altered (`lost`). Reading only what is new costs what is new."""
        legacy = self.legacy_stamp()
        lost = False
        if known is not None and known.legacy == legacy:
            if known.seq == 0 or self._still_there(known):
                entries = self.after(known.seq)
                return Reading(entries, known.hash, _mark(entries, legacy, known), whole=False)
            lost = True
        entries = self.all()
        start = DecisionMark(0, "", legacy)
        return Reading(entries, "", _mark(entries, legacy, start), whole=True, lost=lost)

    def _still_there(self, known: DecisionMark) -> bool:
        found = self.read(known.seq)
        return found is not None and decision_hash(found) == known.hash

    def read(self, seq: int) -> dict[str, Any] | None:
        """Decision `seq` as it lies in its file; None when it is missing or unreadable."""
        try:
            return self._read(seq, self.path_of(seq))
        except (StoreDamaged, FileNotFoundError):
            return None

    def legacy_stamp(self) -> tuple[int, int] | None:
        """(size, mtime in ns) of `reviews.json`, None without one: a reader that saw it
        knows from a stat whether an earlier version has written to it since."""
        try:
            status = os.lstat(self.legacy_path)
        except OSError:
            return None
        return (status.st_size, status.st_mtime_ns)

    def _legacy(self) -> tuple[list[dict[str, Any]], tuple[StoreDamaged, ...]]:
        rows, bad = schema.table_rows(
            read_json_document(self.legacy_path), "reviews", schema.review_row
        )
        return list(rows.values()), tuple(StoreDamaged(self.legacy_path, w) for w in bad.values())

    def _files_after(self, seq: int) -> tuple[list[Entry], tuple[StoreDamaged, ...]]:
        entries: list[Entry] = []
        bad: list[StoreDamaged] = []
        for bucket, folder in self._buckets(bad):
            if bucket < bucket_of(seq + 1):
                continue
            for number, path in self._names(bucket, folder, bad):
                if number <= seq:
                    continue
                try:
                    entries.append((number, self._read(number, path)))
                except FileNotFoundError:
                    continue  # listed, then gone: the chain says so if it mattered
                except StoreDamaged as damage:
                    bad.append(damage)
        return entries, tuple(bad)

    def _buckets(self, bad: list[StoreDamaged]) -> list[tuple[int, Path]]:
        if self.root.is_symlink() or (self.root.exists() and not self.root.is_dir()):
            bad.append(StoreDamaged(self.root, _NOT_OURS))
            return []
        found = []
        for entry in _scan(self.root):
            if not _BUCKET.fullmatch(entry.name):
                continue
            path = Path(entry.path)
            if not entry.is_dir(follow_symlinks=False):
                bad.append(StoreDamaged(path, _NOT_OURS))
                continue
            found.append((int(entry.name), path))
        return sorted(found)

    @staticmethod
    def _names(bucket: int, folder: Path, bad: list[StoreDamaged]) -> list[tuple[int, Path]]:
        found = []
        for entry in _scan(folder):
            match = _FILE.fullmatch(entry.name)
            if match is None:
                continue  # temporary files, and what others leave: not decisions
            number = int(match.group(1))
            path = Path(entry.path)
            if bucket_of(number) != bucket or number == 0:
                bad.append(StoreDamaged(path, f"decision {number} does not belong in {folder}"))
                continue
            found.append((number, path))
        return sorted(found)

    @staticmethod
    def _read(seq: int, path: Path) -> dict[str, Any]:
        try:
            raw = read_regular_file(path, MAX_DECISION_BYTES, follow_links=False)
        except RefusedFile as refused:
            raise StoreDamaged(path, refused.reason) from None
        except FileNotFoundError:
            raise
        except OSError as error:
            raise StoreDamaged(path, error.strerror or str(error)) from None
        try:
            return schema.review_row(schema.parse_json(raw), f"decision {seq}")
        except schema.ShapeError as error:
            raise StoreDamaged(path, str(error)) from None

    # -- writing -------------------------------------------------------------------------

    def append(self, review: dict[str, Any], signer: Signer) -> dict[str, Any]:
        """Sign and append one decision after the last one (`prev`); returns it as stored."""
        decision = {
            "id": uuid_module.uuid4().hex,
            "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        } | review
        with self._locked():
            head = self._repaired_head()
            self._remove_temp_files(head.seq)
            seq, prev = head.seq + 1, head.hash
            while True:
                decision["prev"] = prev
                decision["signature"] = sign(signer, canonical(signed_part(decision))).to_dict()
                if self._write_once(seq, decision):
                    break
                # Someone put a file under the next name: never replace it; go past it, so
                # that the chain runs through what is there.
                prev = self._hash_of(seq)
                seq += 1
            self._write_head(Head(seq, decision_hash(decision)))
        return decision

    def _repaired_head(self) -> Head:
        """The last decision's seq and hash, from the head when it is right, otherwise from
        the files. Under the lock."""
        head = self._read_head()
        if head is None:
            last = self._last_by_listing()
            if last == 0:
                legacy, _bad = self._legacy()
                return Head(0, decision_hash(legacy[-1]) if legacy else "")
            return Head(last, self._hash_of(last))
        seq = head.seq
        # A writer killed after its file and before the head: the files past it are real.
        while os.path.lexists(self.path_of(seq + 1)):
            seq += 1
        return head if seq == head.seq else Head(seq, self._hash_of(seq))

    def _read_head(self) -> Head | None:
        try:
            raw = read_regular_file(self.head_path, MAX_HEAD_BYTES, follow_links=False)
            data = schema.parse_json(raw)
        except (OSError, RefusedFile, schema.ShapeError):
            return None  # rebuilt from the files: the head is derived data
        seq, digest = (data.get("seq"), data.get("hash")) if type(data) is dict else (None, None)
        if type(seq) is not int or seq < 0 or not isinstance(digest, str):
            return None
        return Head(seq, digest)

    def _last_by_listing(self) -> int:
        for bucket, folder in reversed(self._buckets([])):
            names = self._names(bucket, folder, [])
            if names:
                return names[-1][0]
        return 0

    def _hash_of(self, seq: int) -> str:
        """What the next decision names as `prev`; "" when that file cannot be read (the
        chain then shows a gap there, which is what it is)."""
        found = self.read(seq)
        return "" if found is None else decision_hash(found)

    def _write_once(self, seq: int, decision: dict[str, Any]) -> bool:
        """Whole or not at all, never over another file; False when the name is taken."""
        path = self.path_of(seq)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        for folder in (self.root, path.parent):
            if folder.is_symlink():
                # Writing through it would put the decision wherever it points.
                raise StoreDamaged(folder, _NOT_OURS)
        try:
            new_bucket = not path.parent.is_dir()
            path.parent.mkdir(parents=True, exist_ok=True)
            if new_bucket:
                fsync_folder(path.parent.parent)
            text = json.dumps(decision, ensure_ascii=False, separators=(",", ":"))
            with open(temp, "wb") as file:
                file.write(text.encode("utf-8"))
                file.flush()
                os.fsync(file.fileno())
            try:
                _publish(temp, path)
            except FileExistsError:
                return False
            finally:
                with contextlib.suppress(OSError):
                    temp.unlink()
            fsync_folder(path.parent)
        except OSError as error:
            with contextlib.suppress(OSError):
                temp.unlink()
            if error.errno == errno.EEXIST:
                return False
            raise StoreWriteFailed(path, error) from None
        return True

    def _write_head(self, head: Head) -> None:
        document = {"seq": head.seq, "hash": head.hash}
        write_json_atomically(self.head_path, document, keep_backup=False)

    def _remove_temp_files(self, seq: int) -> None:
        # Under the lock, so no writer is between its temporary file and its link. A killed
        # writer was writing the decision after the head's, in its bucket or the next one.
        for folder in {self.root, self.path_of(seq).parent, self.path_of(seq + 1).parent}:
            if folder.is_dir():
                remove_stray_temp_files(folder)


def _mark(
    entries: list[Entry], legacy: tuple[int, int] | None, known: DecisionMark
) -> DecisionMark:
    if not entries:
        return DecisionMark(known.seq, known.hash, legacy)
    seq, row = entries[-1]
    return DecisionMark(seq, decision_hash(row), legacy)


def _publish(temp: Path, path: Path) -> None:
    """`temp` under the name `path`, never over a file there (FileExistsError then)."""
    try:
        os.link(temp, path)
    except FileExistsError:
        raise
    except OSError as error:
        # Filesystems without hard links (FAT sticks): a rename, after looking. Under the
        # lock no other writer of ours names a decision, so only a stranger could race it.
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "taken", str(path)) from None
        os.rename(temp, path)


def _scan(folder: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            yield from list(entries)
    except FileNotFoundError:
        return
    except OSError as error:
        raise StoreError(f"Cannot read {folder}: {error.strerror or error}.") from None
