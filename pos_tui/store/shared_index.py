"""The shared store's index: 4,096 small files by uuid prefix, and a journal that makes one
write across several of them all or nothing.

Every question a sync asks of the index (are these bytes here already? is this revision
here under other bytes? is there an earlier revision to mark superseded?) is about one
uuid, so a sync reads and rewrites only the shards of the uuids it sends: its cost is what
is new, not what is stored. Each shard is a TinyDB document ({"visits": {id: row}}) written
by `write_json_atomically`, so it is whole or its previous generation.

A write touching several shards (and a batch) first writes its journal, fsynced: the rows
it puts, by shard and id, the fields it sets and the rows it removes. Applying a journal
twice does what applying it once does (rows are put at the ids the journal names, never
appended), so a write killed anywhere is finished by the next writer under the lock, or
dropped when the batch it indexes never landed. The journal is written before the batch,
so a batch that no row names and no journal names was not left by a killed writer of this
layout: `shared check` finds those, a full pass by nature.

A store made before the shards has one `index.json`; readers read it beside the shards
(a row already in a shard is not read twice) and the first write under the lock moves its
rows into the shards, by a journal like any other write, then renames it `.migrated`.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid as uuid_module
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.store.schema import ShapeError, parse_json
from pos_tui.store.storage import (
    MAX_DOCUMENT_BYTES,
    StoreDamaged,
    StoreWriteFailed,
    fsync_folder,
    read_json_document,
    write_json_atomically,
)

INDEX_DIR = "index"
JOURNAL_DIR = "journal"
LEGACY_NAME = "index.json"
MIGRATED_SUFFIX = ".migrated"
TABLE = "visits"
OTHER = "other"
"""The shard of a row whose uuid does not start with three hex digits (a damaged row)."""
SET_ASIDE_SUFFIX = ".damaged"

PREFIX = 3
"""Hex digits of the uuid that name its shard: 4,096 shards keep one at about 25 rows with
100,000 visits, so a one-visit sync rewrites a few kilobytes whatever the store holds
(with 256, a shard of 390 rows made it 5.8 times slower at 100,000 than at 1,000)."""
_SHARD = re.compile(rf"(?:[0-9a-f]{{{PREFIX}}}|other)\.json")
_HEX = re.compile(rf"[0-9a-f]{{{PREFIX}}}")
_JOURNAL = re.compile(r"[0-9A-Za-z_-]{1,80}\.json")

stage_hook: Callable[[str], None] | None = None
"""Told "journal", "batch" and "shard" as a write reaches each: the crash tests kill their
child process there. None in the app."""


def _stage(name: str) -> None:
    if stage_hook is not None:
        stage_hook(name)


def shard_name(uuid: object) -> str:
    if isinstance(uuid, str) and _HEX.fullmatch(uuid[:PREFIX]):
        return uuid[:PREFIX]
    return OTHER


def index_dir(folder: Path) -> Path:
    return folder / INDEX_DIR


def journal_dir(folder: Path) -> Path:
    return folder / INDEX_DIR / JOURNAL_DIR


def shard_path(folder: Path, name: str) -> Path:
    return folder / INDEX_DIR / f"{name}.json"


def legacy_path(folder: Path) -> Path:
    return folder / LEGACY_NAME


def shard_names(folder: Path) -> list[str]:
    try:
        entries = os.listdir(index_dir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(name[:-5] for name in entries if _SHARD.fullmatch(name))


def journal_names(folder: Path) -> list[str]:
    try:
        entries = os.listdir(journal_dir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(name for name in entries if _JOURNAL.fullmatch(name))


def identity(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """Where a record lies and what it hashes to: two rows alike in this index one record."""
    return (row.get("batch"), row.get("offset"), row.get("length"), row.get("record_hash"))


def read_table(path: Path) -> dict[str, Any]:
    """The raw rows of one index file by id; StoreDamaged when the file is unreadable."""
    table = (read_json_document(path) or {}).get(TABLE) or {}
    if not isinstance(table, dict):
        raise StoreDamaged(path, f"its {TABLE!r} is not a table")
    return table


def every_table(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Each index file with its raw rows: the shards, then an unmigrated `index.json` with
    the rows no shard holds already (a migration killed half way moved some)."""
    found = [
        (shard_path(folder, name), read_table(shard_path(folder, name)))
        for name in shard_names(folder)
    ]
    legacy = legacy_path(folder)
    if legacy.exists() or legacy.is_symlink():
        seen = {
            identity(row) for _path, rows in found for row in rows.values() if isinstance(row, dict)
        }
        rows = {
            doc_id: row
            for doc_id, row in read_table(legacy).items()
            if not (isinstance(row, dict) and identity(row) in seen)
        }
        found.append((legacy, rows))
    return found


def merged_document(folder: Path) -> dict[str, Any]:
    """The whole index as one TinyDB document, ids made unique as `<shard>/<id>`: for the
    full passes (`shared check`, adoption), which read everything anyway."""
    merged: dict[str, Any] = {}
    for path, rows in every_table(folder):
        prefix = path.stem if path.parent.name == INDEX_DIR else path.name
        for doc_id, row in rows.items():
            merged[f"{prefix}/{doc_id}"] = row
    return {TABLE: merged}


def _uuid_of(row: Mapping[str, Any]) -> str | None:
    uuid = row.get("uuid")
    return uuid if isinstance(uuid, str) else None


@dataclass
class Loaded:
    """Shards read for one write, their rows under plain ids unique across them all (what
    the plan works on), and where each id lives."""

    folder: Path
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    where: dict[int, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path, names: Iterable[str]) -> Loaded:
        loaded = cls(folder)
        for name in sorted(set(names)):
            table = read_table(shard_path(folder, name))
            loaded.tables[name] = table
            for doc_id in table:
                loaded.where[len(loaded.where) + 1] = (name, doc_id)
        return loaded

    def document(self, uuids: Collection[str] | None = None) -> dict[str, Any]:
        """The loaded rows as one TinyDB document under the plain ids; only those of
        `uuids` when given: the plan asks nothing of the others, and checking the shape of
        a whole shard's rows would be most of a one-visit sync."""
        rows: dict[str, Any] = {}
        for key, (shard, doc_id) in self.where.items():
            row = self.tables[shard][doc_id]
            if uuids is None or (isinstance(row, dict) and _uuid_of(row) in uuids):
                rows[str(key)] = row
        return {TABLE: rows}


@dataclass
class Change:
    """One write to the index, as its journal holds it."""

    batch: str | None = None
    put: list[tuple[str, str, Any]] = field(default_factory=list)
    """(shard, id, row): the row at that id, whatever was there (a damaged row moved by a
    migration is moved as it is)."""
    update: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    remove: list[tuple[str, str]] = field(default_factory=list)
    migrate: bool = False
    """Rename an old single `index.json` aside once the rows are in."""

    def __bool__(self) -> bool:
        return bool(self.put or self.update or self.remove or self.migrate)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "put": [list(entry) for entry in self.put],
            "update": [list(entry) for entry in self.update],
            "remove": [list(entry) for entry in self.remove],
            "migrate": self.migrate,
        }

    @classmethod
    def from_json(cls, data: Any) -> Change:
        if not isinstance(data, dict):
            raise ShapeError("not a journal")
        batch = data.get("batch")
        if batch is not None and not isinstance(batch, str):
            raise ShapeError("its batch is not a name")
        change = cls(batch, migrate=data.get("migrate") is True)
        for key, size in (("put", 3), ("update", 3), ("remove", 2)):
            entries = data.get(key, [])
            if not isinstance(entries, list):
                raise ShapeError(f"its {key!r} is not a list")
            for entry in entries:
                if not (
                    isinstance(entry, list)
                    and len(entry) == size
                    and _SHARD.fullmatch(f"{entry[0]}.json")
                    and isinstance(entry[1], str)
                    and (key != "update" or isinstance(entry[2], dict))
                ):
                    raise ShapeError(f"an entry of its {key!r} is not one")
                getattr(change, key).append(tuple(entry))
        return change

    def shards(self) -> list[str]:
        return sorted(
            {entry[0] for group in (self.put, self.update, self.remove) for entry in group}
        )


class Ids:
    """New ids for rows put into shards: after every id a shard holds, never one reused."""

    def __init__(self, tables: Mapping[str, Mapping[str, Any]]) -> None:
        self.tables = tables
        self._next: dict[str, int] = {}

    def new(self, shard: str) -> str:
        if shard not in self._next:
            self._next[shard] = max(
                (int(doc_id) for doc_id in self.tables.get(shard, {}) if doc_id.isdigit()),
                default=0,
            )
        self._next[shard] += 1
        return str(self._next[shard])


def commit(
    folder: Path,
    change: Change,
    write_batch: Callable[[], None] | None = None,
    tables: Mapping[str, dict[str, Any]] | None = None,
) -> None:
    """Journal, batch, shards, in that order; then the journal goes. Killed anywhere, the
    next writer's `recover` finishes it or (no batch landed) drops it. `tables`: shards
    as this writer read them under the lock, changed in place rather than read again."""
    if not change and write_batch is None:
        return
    journal = journal_dir(folder)
    try:
        journal.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreWriteFailed(journal, error) from None
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    path = journal / f"{stamp}-{uuid_module.uuid4().hex}.json"
    write_json_atomically(path, change.to_json(), keep_backup=False)
    _stage("journal")
    if write_batch is not None:
        try:
            write_batch()
        except BaseException:
            # The batch did not land (its write removes its own temporary file): nothing of
            # this journal is in the index, and the next writer would drop it anyway.
            with contextlib.suppress(OSError):
                path.unlink()
            raise
    _stage("batch")
    apply(folder, change, tables)
    _drop(path)


def apply(folder: Path, change: Change, tables: Mapping[str, dict[str, Any]] | None = None) -> None:
    """Put the change into its shards; doing it again changes nothing more."""
    shards = change.shards()
    if shards:
        try:
            journal_dir(folder).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreWriteFailed(index_dir(folder), error) from None
    for name in shards:
        path = shard_path(folder, name)
        table = tables[name] if tables is not None and name in tables else read_table(path)
        for shard, doc_id in change.remove:
            if shard == name:
                table.pop(doc_id, None)
        for shard, doc_id, row in change.put:
            if shard == name:
                table[doc_id] = row
        for shard, doc_id, fields in change.update:
            if shard == name and isinstance(table.get(doc_id), dict):
                table[doc_id] = table[doc_id] | fields
        # Not durable one by one: each shard's file and folder would be two fsyncs, and a
        # sync of 1,000 visits touches every shard. All are fsynced below, before the
        # journal that would redo them goes.
        # Staged in the journal's folder, which a writer lists under the lock for what a
        # killed one left: index/ holds 8,000 files at 100,000 visits.
        write_json_atomically(path, {TABLE: table}, durable=False, temp_folder=journal_dir(folder))
        _stage("shard")
    if shards:
        _fsync_files([shard_path(folder, name) for name in shards])
        fsync_folder(index_dir(folder))
    legacy = legacy_path(folder)
    if change.migrate and (legacy.exists() or legacy.is_symlink()):
        try:
            os.replace(legacy, legacy.with_name(LEGACY_NAME + MIGRATED_SUFFIX))
            fsync_folder(folder)
        except OSError as error:
            raise StoreWriteFailed(legacy, error) from None


def _fsync_files(paths: list[Path]) -> None:
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as error:
            raise StoreWriteFailed(path, error) from None


def _drop(path: Path) -> None:
    # No fsync of the folder: a deletion lost to a power cut brings back a journal whose
    # every row is in, and applying it again changes nothing.
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as error:
        raise StoreWriteFailed(path, error) from None


@dataclass
class Recovered:
    rows: int = 0
    """Rows put by the journals of killed writers."""
    dropped: int = 0
    """Journals whose batch never landed: nothing of them was ever in the index."""
    set_aside: list[Path] = field(default_factory=list)


def recover(folder: Path, batches: Path) -> Recovered:
    """Under the lock: finish or drop each journal left by a killed writer. A journal no
    writer of ours could have written is renamed aside, not applied; the batch it named
    is then in no row, and `shared check` says so."""
    done = Recovered()
    for name in journal_names(folder):
        path = journal_dir(folder) / name
        try:
            change = Change.from_json(
                parse_json(read_regular_file(path, MAX_DOCUMENT_BYTES, follow_links=False))
            )
        except FileNotFoundError:
            continue
        except (OSError, RefusedFile, ShapeError):
            aside = path.with_name(path.name + SET_ASIDE_SUFFIX)
            with contextlib.suppress(OSError):
                os.replace(path, aside)
                done.set_aside.append(aside)
            continue
        if change.batch is not None and not (batches / change.batch).is_file():
            done.dropped += 1
        else:
            apply(folder, change)
            done.rows += len(change.put)
        _drop(path)
    return done


def migration(folder: Path) -> Change:
    """The change that moves an old single `index.json` into shards; empty when there is
    none. Ids are new in each shard; rows a killed migration moved already stay once."""
    legacy = legacy_path(folder)
    if not (legacy.exists() or legacy.is_symlink()):
        return Change()
    rows = read_table(legacy)
    by_shard: dict[str, list[Any]] = {}
    for row in rows.values():
        by_shard.setdefault(
            shard_name(row.get("uuid") if isinstance(row, dict) else None), []
        ).append(row)
    loaded = Loaded.read(folder, by_shard)
    ids = Ids(loaded.tables)
    change = Change(migrate=True)
    for shard, members in by_shard.items():
        seen = {identity(r) for r in loaded.tables[shard].values() if isinstance(r, dict)}
        for row in members:
            if isinstance(row, dict) and identity(row) in seen:
                continue
            # A row of the wrong shape moves as it is: it stays damage, said by `shared
            # check` and replaced by a repair, as it was in the single file.
            change.put.append((shard, ids.new(shard), row))
    return change
