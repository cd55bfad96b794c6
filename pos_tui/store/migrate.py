"""Moving a shared store out of its folder: into PostgreSQL (or another folder), verbatim,
then checked against the original (`pos-tui shared migrate FROM TO`).

Everything is copied as it is, never made again: each record's bytes as they lie in their
batch (so its record hash, which signatures and decisions name, stays the same), every
version of a visit with its flags (superseded, conflict), the time it was synced and the
host it came from, the checklist copies, the evidence files (streamed, each checked against
its name on the way), and the keyring's lines and the decisions in their order: both are
signed and chained, and signing them again would forge them.

Safe to run again: a migration cut off anywhere carries on where it stopped and adds nothing
twice. Records are taken in by record hash, files by name, and the keyring and the decision
log only after what the target holds of them already, which must be the start of the
source's. A target that holds anything else (another store's visits, a keyring that
`shared init` started) is refused before anything is written.

The source's lock is held from the records on, through the check: a laptop that syncs
meanwhile is told the share is busy and tries again later, so the copy and the original
are compared as they stand. The evidence files, most of the bytes, are copied before it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pos_tui.domain.decisions import decision_hash
from pos_tui.domain.evidence import is_sha256
from pos_tui.domain.safe_read import RefusedFile, read_slice
from pos_tui.store.checklist_copies import CHECKLISTS_DIR
from pos_tui.store.evidence_files import EvidenceFiles
from pos_tui.store.migrate_targets import FolderTarget, MigrationTarget, PgTarget, keyring_lines
from pos_tui.store.shared import SharedStore
from pos_tui.store.shared_check import BATCHES_DIR, record_hash
from pos_tui.store.shared_index import journal_names
from pos_tui.store.storage import StoreError
from pos_tui.store.targets import Target, open_shared

FileProgress = Callable[[str, int, int], None]
"""("files", done, total) as each evidence file lands, ("bytes", done, total) as it goes."""

ROWS_AT_ONCE = 500
"""Records taken in per transaction: a few megabytes held, whatever the store holds."""

FROM_DATABASE = (
    "Moving a PostgreSQL store into a folder (or another database) is not done by this"
    " version: the database replicates and is backed up by its server (pg_dump). Nothing"
    " was changed."
)


@dataclass
class Source:
    """The folder store being moved, read as it lies on disk."""

    store: SharedStore
    problems: list[str] = field(default_factory=list)
    """What of the source is damaged and cannot be copied as it should be."""

    @property
    def folder(self) -> Path:
        return self.store.folder

    @property
    def files(self) -> EvidenceFiles:
        return self.store.files

    def rows(self) -> list[dict[str, Any]]:
        rows = self.store.rows()
        self.problems.extend(
            f"In {self.folder}: {error} (that row cannot be copied)."
            for error in self.store.damaged
        )
        return rows

    def line(self, row: dict[str, Any]) -> bytes | None:
        """The record's bytes, as they lie in its batch; None (said in `problems`) when they
        are missing or no longer hash to the row's record hash: copied, they would be a
        record altered in the target too. `sync --repair` on its laptop mends the share."""
        path = self.folder / BATCHES_DIR / row["batch"]
        try:
            data = read_slice(path, row["offset"], row["length"])
        except (OSError, RefusedFile):
            data = b""
        if len(data) == row["length"] and record_hash(data) == row["record_hash"]:
            return data
        self.problems.append(
            f"The record of visit {row['uuid']} (revision {row['revision']}) in {self.folder}"
            " is missing or damaged, so it was not copied: run `pos-tui shared check"
            f" {self.folder}` and `pos-tui sync --repair` on the laptop it names."
        )
        return None

    def keyring_lines(self) -> list[str]:
        return keyring_lines(self.folder)

    def decisions(self) -> list[dict[str, Any]]:
        log = self.store.decision_log
        found = [decision for _seq, decision in log.all()]
        self.problems.extend(f"{error} (that decision cannot be copied)." for error in log.damaged)
        return found

    def checklists(self) -> list[tuple[str, Path]]:
        folder = self.folder / CHECKLISTS_DIR
        try:
            names = sorted(entry.name for entry in os.scandir(folder))
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            sha256 = name.removesuffix(".yaml")
            if name.endswith(".yaml") and is_sha256(sha256):
                found.append((sha256, folder / name))
        return found

    def evidence(self) -> list[tuple[str, int]]:
        """(sha256, size) of every evidence file the share keeps."""
        found = []
        for sha256 in self.files.stored():
            with contextlib.suppress(OSError):
                found.append((sha256, os.lstat(self.files.path(sha256)).st_size))
        return found


@dataclass
class Verification:
    records: int = 0
    files: int = 0
    checklists: int = 0
    keyring: int = 0
    decisions: int = 0
    differences: list[str] = field(default_factory=list)
    source_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.source_problems


@dataclass
class Migration:
    records_added: int = 0
    files_copied: int = 0
    bytes_copied: int = 0
    checklists_added: int = 0
    keyring_added: int = 0
    decisions_added: int = 0
    verification: Verification = field(default_factory=Verification)


def migrate(source: Target, target: Target, progress: FileProgress | None = None) -> Migration:
    """Copy the folder store `source` into `target` (a database's URL or a folder), then
    verify the copy. StoreError, before anything is written, when `target` is not empty
    of visits nor a copy of `source` begun before."""
    with _opened(source, target) as (src, dst):
        done = Migration()
        refuse_unless_a_start(src, dst)
        _copy_files(src, dst, progress, done)  # the bulk of it, before anyone waits on us
        with src.store.locked(), dst.locked():
            if journal_names(src.folder):
                raise StoreError(
                    f"A write to {src.folder} was cut off and is not finished: run `pos-tui"
                    f" shared check --adopt {src.folder}` (it finishes it), then migrate"
                    " again. Nothing more was copied."
                )
            refuse_unless_a_start(src, dst)
            done.checklists_added = dst.put_checklists(
                [(sha, path) for sha, path in src.checklists()]
            )
            _copy_files(src, dst, progress, done)  # those synced since the first pass
            done.records_added = _copy_records(src, dst)
            keyring = src.keyring_lines()
            there = len(dst.keyring_lines())
            dst.put_keyring(keyring[there:], there, src)
            done.keyring_added = len(keyring) - there
            decisions = src.decisions()
            there = len(dst.decisions())
            after = decision_hash(decisions[there - 1]) if there else ""
            dst.put_decisions(decisions[there:], after, src)
            done.decisions_added = len(decisions) - there
            done.verification = _verify(src, dst)
        return done


def verify(source: Target, target: Target) -> Verification:
    """The copy compared with the original, as `migrate` ends (also on its own)."""
    with _opened(source, target) as (src, dst):
        return _verify(src, dst)


@contextlib.contextmanager
def _opened(source: Target, target: Target) -> Iterator[tuple[Source, MigrationTarget]]:
    if isinstance(source, str):
        raise StoreError(FROM_DATABASE)
    if isinstance(target, Path) and _same_folder(source, target):
        raise StoreError(f"{source} and {target} are the same folder: nothing was copied.")
    src = Source(SharedStore.open(source))
    dst = _open_target(target)
    try:
        yield src, dst
    finally:
        dst.close()


def _same_folder(one: Path, other: Path) -> bool:
    try:
        return one.resolve() == other.resolve()
    except OSError:
        return False


def _open_target(target: Target) -> MigrationTarget:
    if isinstance(target, str):
        from pos_tui.store.pg.migrations import NotAStore

        try:
            store = open_shared(target)
        except NotAStore:
            raise StoreError(
                f"The database {target} holds no pos-tui store yet: run `pos-tui shared init"
                f" --empty {target}` (its tables, without a keyring: the share's comes with"
                " the migration), then migrate again. Nothing was copied."
            ) from None
        return PgTarget(store)  # type: ignore[arg-type]
    store = open_shared(target)
    return FolderTarget(store)  # type: ignore[arg-type]


def refuse_unless_a_start(src: Source, dst: MigrationTarget) -> None:
    """Refuse a target that holds what the source does not: only an empty store, or one
    this migration has begun to fill, is copied into."""
    mine = {row["record_hash"] for row in src.store.rows()}
    theirs = set(dst.record_flags())
    strange = theirs - mine
    if strange:
        raise StoreError(
            f"{dst.location} already holds {len(strange)} visit record(s) that {src.folder}"
            " does not: it is another store, or laptops have synced into it. A migration goes"
            " into an empty store, or one it began to fill. Nothing was copied."
        )
    keyring, found = src.keyring_lines(), dst.keyring_lines()
    if found != keyring[: len(found)]:
        raise StoreError(
            f"The keyring of {dst.location} is not the start of {src.folder}'s: it was"
            " started for another store (by `pos-tui shared init`?). A migration needs an"
            f" empty one: make the store again with `pos-tui shared init --empty"
            f" {dst.location}`. Nothing was copied."
        )
    decisions = [decision_hash(row) for _seq, row in src.store.decision_log.all()]
    there = [decision_hash(row) for row in dst.decisions()]
    if there != decisions[: len(there)]:
        raise StoreError(
            f"The decision log of {dst.location} is not the start of {src.folder}'s: it holds"
            " decisions of another store. Nothing was copied."
        )


def _copy_records(src: Source, dst: MigrationTarget) -> int:
    """Every row with its record's bytes, in the order the source synced them."""
    if isinstance(dst, FolderTarget):
        return dst.put_store_index(src)
    added = 0
    chunk: list[tuple[dict[str, Any], bytes]] = []
    for row in src.rows():
        line = src.line(row)
        if line is None:
            continue
        chunk.append((row, line))
        if len(chunk) >= ROWS_AT_ONCE:
            added += dst.put_records(chunk)
            chunk = []
    return added + dst.put_records(chunk)


def _copy_files(
    src: Source, dst: MigrationTarget, progress: FileProgress | None, done: Migration
) -> None:
    """The evidence files the target lacks, each checked against its name as it lands; one
    that does not hash to its name in the source is left (the check says so)."""
    wanted = src.evidence()
    lacking = dst.lacking_files(wanted)
    todo = [(sha, size) for sha, size in wanted if sha in lacking]
    meter = _Meter(progress, len(todo), sum(size for _sha, size in todo))
    for sha256, size in todo:
        try:
            dst.files.copy_from(src.files, sha256, size, meter.wrote, "migrate")
        except StoreError:
            if src.files.check(sha256, size) is None:
                raise  # the source's file is whole: the target is at fault (full, gone)
            meter.skipped(size)
            continue
        meter.landed(size)
    done.files_copied += meter.files
    done.bytes_copied += meter.written


class _Meter:
    def __init__(self, progress: FileProgress | None, files: int, total: int) -> None:
        self.progress, self.total_files, self.total = progress, files, total
        self.files = self.written = self._done = self._current = self._counted = 0
        if progress is not None and files:
            progress("files", 0, files)

    def wrote(self, count: int) -> None:
        self.written += count
        self._current += count
        if self.progress is not None:
            self.progress("bytes", min(self._done + self._current, self.total), self.total)

    def skipped(self, size: int) -> None:
        self._step(size)

    def landed(self, size: int) -> None:
        self.files += 1
        self._step(size)

    def _step(self, size: int) -> None:
        self._done += size
        self._current = 0
        self._counted += 1
        if self.progress is not None:
            self.progress("bytes", self._done, self.total)
            self.progress("files", self._counted, self.total_files)


def _verify(src: Source, dst: MigrationTarget) -> Verification:
    found = Verification()
    src.problems.clear()
    rows = src.rows()
    flags = {row["record_hash"]: (bool(row["conflict"]), bool(row["superseded"])) for row in rows}
    copied = dst.record_flags()
    damaged = dst.damaged_hashes()
    found.records = len(flags)
    for row in rows:
        digest, what = row["record_hash"], f"visit {row['uuid']} (revision {row['revision']})"
        if digest not in copied:
            if src.line(row) is not None:  # else damaged in the source, and said so
                found.differences.append(f"The record of {what} is not in {dst.location}.")
        elif copied[digest] != flags[digest]:
            found.differences.append(
                f"The record of {what} is flagged {_flags(copied[digest])} in {dst.location}"
                f" but {_flags(flags[digest])} in {src.folder}."
            )
        elif digest in damaged and src.line(row) is not None:  # else said of the source
            found.differences.append(
                f"The record of {what} in {dst.location} no longer hashes to its record hash:"
                " its bytes were changed there."
            )
    extra = set(copied) - set(flags)
    if extra:
        found.differences.append(
            f"{dst.location} holds {len(extra)} record(s) that {src.folder} does not."
        )
    _verify_files(src, dst, found)
    lacking = dst.lacking_checklists([sha for sha, _path in src.checklists()])
    found.checklists = len(src.checklists())
    if lacking:
        found.differences.append(
            f"{len(lacking)} checklist copy(ies) of {src.folder} are not in {dst.location}."
        )
    _verify_logs(src, dst, found)
    found.source_problems = list(dict.fromkeys(src.problems))
    return found


def _verify_files(src: Source, dst: MigrationTarget, found: Verification) -> None:
    for sha256, size in src.evidence():
        found.files += 1
        problem = dst.files.check(sha256, size)
        if problem is None:
            continue
        if src.files.check(sha256, size) is not None:
            src.problems.append(
                f"The evidence file {sha256[:12]}… of {src.folder} no longer hashes to its"
                " name there, so it was not copied: `pos-tui shared check` names the visits"
                " and laptops to repair it from."
            )
            continue
        found.differences.append(
            f"The evidence file {sha256[:12]}… is {problem} in {dst.location}"
            + (" (its bytes were changed there)." if problem != "missing" else ".")
        )


def _verify_logs(src: Source, dst: MigrationTarget, found: Verification) -> None:
    mine = [_line_hash(line) for line in src.keyring_lines()]
    theirs = [_line_hash(line) for line in dst.keyring_lines()]
    found.keyring = len(mine)
    if mine != theirs:
        found.differences.append(
            f"The keyring of {dst.location} differs from {src.folder}'s from entry"
            f" {_first_difference(mine, theirs)} on."
        )
    mine = [decision_hash(row) for row in src.decisions()]
    theirs = [decision_hash(row) for row in dst.decisions()]
    found.decisions = len(mine)
    if mine != theirs:
        found.differences.append(
            f"The decision log of {dst.location} differs from {src.folder}'s from decision"
            f" {_first_difference(mine, theirs)} on."
        )


def _line_hash(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def _first_difference(one: list[str], other: list[str]) -> int:
    for number, (a, b) in enumerate(zip(one, other, strict=False), start=1):
        if a != b:
            return number
    return min(len(one), len(other)) + 1


def _flags(pair: tuple[bool, bool]) -> str:
    words = [name for name, on in zip(("conflict", "superseded"), pair, strict=True) if on]
    return " and ".join(words) or "neither conflict nor superseded"
