"""What `store/migrate.py` copies into: a PostgreSQL store, or another folder store.

Each is read the same way for the checks (record hashes and flags, damaged records, the
keyring's lines, the decisions, the files) and written in its own way: the database takes
rows, lines and decisions verbatim through `PgSharedStore`'s import calls; a folder takes
the source's files as they are (batches, index shards, decision files, keyring), which is
what verbatim means there. Nothing is ever written over a file of another content, except
the index shards, the decision head and the keyring, which only ever grow and are replaced
whole (a reader sees the old file or the new one).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pos_tui.domain.decisions import decision_hash
from pos_tui.store.checklist_copies import copy_path, keep_file
from pos_tui.store.keyring import keyring_path, raw_lines
from pos_tui.store.shared import SharedStore
from pos_tui.store.shared_check import BATCHES_DIR, verify_rows
from pos_tui.store.shared_index import legacy_path, shard_names, shard_path
from pos_tui.store.storage import StoreError, StoreWriteFailed, fsync_folder

if TYPE_CHECKING:
    from pos_tui.store.migrate import Source
    from pos_tui.store.pg.store import PgSharedStore


class MigrationTarget(Protocol):
    location: str
    files: Any

    def locked(self) -> contextlib.AbstractContextManager[Any]: ...
    def close(self) -> None: ...
    def record_flags(self) -> dict[str, tuple[bool, bool]]: ...
    def damaged_hashes(self) -> set[str]: ...
    def keyring_lines(self) -> list[str]: ...
    def decisions(self) -> list[dict[str, Any]]: ...
    def lacking_files(self, wanted: Iterable[tuple[str, int]]) -> set[str]: ...
    def lacking_checklists(self, sha256s: Iterable[str]) -> set[str]: ...
    def put_checklists(self, files: list[tuple[str, Path]]) -> int: ...
    def put_records(self, rows: list[tuple[dict[str, Any], bytes]]) -> int: ...
    def put_keyring(self, lines: list[str], after: int, src: Source) -> None: ...
    def put_decisions(self, decisions: list[dict[str, Any]], after: str, src: Source) -> None: ...


def keyring_lines(folder: Path) -> list[str]:
    """The lines of a folder's `keyring.jsonl` as written, in order, as `store.keyring`
    reads them."""
    return [line.decode("utf-8", "replace") for line in raw_lines(folder)]


def _flags(rows: list[dict[str, Any]]) -> dict[str, tuple[bool, bool]]:
    return {row["record_hash"]: (bool(row["conflict"]), bool(row["superseded"])) for row in rows}


class PgTarget:
    def __init__(self, store: PgSharedStore) -> None:
        self.store = store
        self.location = store.url
        self.files = store.files

    def locked(self) -> contextlib.AbstractContextManager[Any]:
        # Each import is a transaction of its own, under the lock a push would take.
        return contextlib.nullcontext()

    def close(self) -> None:
        self.store.close()

    def record_flags(self) -> dict[str, tuple[bool, bool]]:
        return _flags(self.store.rows())

    def damaged_hashes(self) -> set[str]:
        return {row["record_hash"] for row in self.store.damaged_rows()}

    def keyring_lines(self) -> list[str]:
        return self.store.keyring_texts()

    def decisions(self) -> list[dict[str, Any]]:
        return self.store.reviews()

    def lacking_files(self, wanted: Iterable[tuple[str, int]]) -> set[str]:
        return self.store.files.lacking(wanted)

    def lacking_checklists(self, sha256s: Iterable[str]) -> set[str]:
        return self.store.checklists.missing(sha256s)

    def put_checklists(self, files: list[tuple[str, Path]]) -> int:
        from pos_tui.store.pg.checklists import PgChecklists

        lacking = self.lacking_checklists(sha for sha, _path in files)
        copies = PgChecklists.read_files((sha, path) for sha, path in files if sha in lacking)
        self.store.checklists.keep(copies)
        return len(copies)

    def put_records(self, rows: list[tuple[dict[str, Any], bytes]]) -> int:
        return self.store.import_rows(rows)

    def put_keyring(self, lines: list[str], after: int, src: Source) -> None:
        if lines:
            self.store.import_keyring_lines(lines, after)

    def put_decisions(self, decisions: list[dict[str, Any]], after: str, src: Source) -> None:
        for decision in decisions:
            self.store.import_decision(decision, after)
            after = decision_hash(decision)


class FolderTarget:
    def __init__(self, store: SharedStore) -> None:
        self.store = store
        self.folder = store.folder
        self.location = str(store.folder)
        self.files = store.files

    def locked(self) -> contextlib.AbstractContextManager[Any]:
        return self.store.locked()

    def close(self) -> None:
        self.store.close()

    def record_flags(self) -> dict[str, tuple[bool, bool]]:
        return _flags(self.store.rows())

    def damaged_hashes(self) -> set[str]:
        rows = {str(n): row for n, row in enumerate(self.store.rows())}
        return {found.record_hash for found in verify_rows(self.folder / BATCHES_DIR, rows)}

    def keyring_lines(self) -> list[str]:
        return keyring_lines(self.folder)

    def decisions(self) -> list[dict[str, Any]]:
        return [row for _seq, row in self.store.decision_log.all()]

    def lacking_files(self, wanted: Iterable[tuple[str, int]]) -> set[str]:
        return {sha for sha, size in wanted if self.files.quick_check(sha, size) is not None}

    def lacking_checklists(self, sha256s: Iterable[str]) -> set[str]:
        return {sha for sha in sha256s if not copy_path(self.folder, sha).is_file()}

    def put_checklists(self, files: list[tuple[str, Path]]) -> int:
        lacking = self.lacking_checklists(sha for sha, _path in files)
        try:
            for sha256, path in files:
                if sha256 in lacking:
                    keep_file(self.folder, sha256, path)
        except OSError as error:
            raise StoreWriteFailed(self.folder, error) from None
        return len(lacking)

    def put_records(self, rows: list[tuple[dict[str, Any], bytes]]) -> int:
        raise AssertionError("a folder takes the index whole: put_store_index")

    def put_store_index(self, src: Source) -> int:
        """The batches the source's rows name, then its index, each file as it is: the
        batches first, so that no row here ever names a batch that is not."""
        before = set(self.record_flags())
        rows = src.rows()
        for row in rows:
            src.line(row)  # said, when damaged; copied as it is either way
        for name in sorted({row["batch"] for row in rows}):
            found = src.folder / BATCHES_DIR / name
            if found.is_file():
                copy_once(found, self.folder / BATCHES_DIR / name)
        if legacy_path(src.folder).is_file():
            copy_replacing(legacy_path(src.folder), legacy_path(self.folder))
        for shard in shard_names(src.folder):
            copy_replacing(shard_path(src.folder, shard), shard_path(self.folder, shard))
        return len({row["record_hash"] for row in rows} - before)

    def put_keyring(self, lines: list[str], after: int, src: Source) -> None:
        if lines:
            whole = [*self.keyring_lines(), *lines]
            write_replacing(keyring_path(self.folder), "".join(f"{line}\n" for line in whole))

    def put_decisions(self, decisions: list[dict[str, Any]], after: str, src: Source) -> None:
        mine, theirs = src.store.decision_log, self.store.decision_log
        if mine.legacy_path.is_file():
            copy_once(mine.legacy_path, theirs.legacy_path)
        for seq, _row in mine.all():
            if seq > 0:
                copy_once(mine.path_of(seq), theirs.path_of(seq))
        if mine.head_path.is_file():
            copy_replacing(mine.head_path, theirs.head_path)


def copy_once(source: Path, target: Path) -> None:
    """`source` under `target`'s name, whole, unless it is there already with these very
    bytes; never over a file of other bytes (StoreError: it is another store's)."""
    if os.path.lexists(target):
        if _digest(target) == _digest(source):
            return
        raise StoreError(
            f"{target} is there already with other bytes than {source}: the target is"
            " another store. Nothing was written over it."
        )
    temp = _staged(source, target)
    try:
        os.link(temp, target)
        fsync_folder(target.parent)
    except FileExistsError:
        raise StoreError(f"{target} appeared while it was being copied.") from None
    except OSError as error:
        raise StoreWriteFailed(target, error) from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def copy_replacing(source: Path, target: Path) -> None:
    """`source` as `target`, replacing it whole (one rename)."""
    temp = _staged(source, target)
    try:
        os.replace(temp, target)
        fsync_folder(target.parent)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise StoreWriteFailed(target, error) from None


def write_replacing(target: Path, text: str) -> None:
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as file:
            file.write(text.encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
        fsync_folder(target.parent)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise StoreWriteFailed(target, error) from None


def _staged(source: Path, target: Path) -> Path:
    """A fsynced copy of `source` beside `target`, named as a temporary file the next
    writer there removes, should this one be killed."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _plain(source) as reader, open(temp, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1024 * 1024)
            writer.flush()
            os.fsync(writer.fileno())
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise StoreWriteFailed(target, error) from None
    return temp


@contextlib.contextmanager
def _plain(path: Path) -> Iterator[Any]:
    """A regular file of the source, never through a link, never a FIFO."""
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StoreError(f"{path} is not a regular file: it was not copied.")
    with os.fdopen(fd, "rb") as file:
        yield file


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with _plain(path) as file:
        for chunk in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()
