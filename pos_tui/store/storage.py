"""Crash-safe TinyDB storage: every write is all or nothing, and durable when it returns.

Stock `JSONStorage` truncates and rewrites the file in place, so a kill mid-write leaves
half a file. Here a write goes to a temporary file in the same folder, is flushed and
fsynced, the previous generation is kept as `<name>.bak` (a hard link, so it costs no
copy), and the new file replaces the old with `os.replace`, which is atomic on POSIX and
Windows. The folder is fsynced too, so the rename itself survives a pulled plug.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

TEMP_SUFFIX = ".tmp"
BACKUP_SUFFIX = ".bak"


class StoreError(Exception):
    """A problem with the files of a store, said as a plain sentence for the user."""


class StoreDamaged(StoreError):
    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        self.backup = backup_path(path) if backup_path(path).exists() else None
        offer = (
            f" A previous version exists ({self.backup.name}): run `pos-tui recover {path}`"
            " to set the damaged file aside and restore it."
            if self.backup
            else " No previous version exists; the file has been left untouched."
        )
        super().__init__(f"The store file {path} is damaged ({reason}).{offer}")


class StoreWriteFailed(StoreError):
    def __init__(self, path: Path, error: OSError) -> None:
        self.path = path
        # EFBIG and EDQUOT are how quotas and file-size limits say the same thing.
        if error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            reason = "the disk is full"
        elif error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            reason = "the folder cannot be written to"
        else:
            reason = error.strerror or str(error)
        super().__init__(f"Could not save {path}: {reason}. The previous version is intact.")


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + BACKUP_SUFFIX)


def read_json_document(path: Path) -> dict[str, Any] | None:
    """The file's TinyDB document, None when there is no file, StoreDamaged when unreadable."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise StoreDamaged(path, "not UTF-8 text") from None
    if not text.strip():
        raise StoreDamaged(path, "the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise StoreDamaged(
            path, f"not valid JSON at line {error.lineno}, column {error.colno}"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(table, dict) for table in data.values()):
        raise StoreDamaged(path, "not a TinyDB store: expected tables of records")
    for table in data.values():
        if not all(isinstance(record, dict) for record in table.values()):
            raise StoreDamaged(path, "not a TinyDB store: a record is not a mapping")
    return data


def write_json_atomically(
    path: Path, data: Any, durable: bool = True, keep_backup: bool = True
) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        # dumps, not dump: json.dump streams through the pure-Python encoder, ten times slower.
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        with open(temp, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            if durable:
                os.fsync(file.fileno())
        if keep_backup and path.exists():
            _link_backup(path)
        os.replace(temp, path)
        if durable:
            fsync_folder(path.parent)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise StoreWriteFailed(path, error) from error


def _link_backup(path: Path) -> None:
    backup = backup_path(path)
    staged = path.with_name(f".{backup.name}.{os.getpid()}{TEMP_SUFFIX}")
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    try:
        os.link(path, staged)
    except OSError:
        # Filesystems without hard links (FAT sticks): a copy costs more but keeps the rule.
        staged.write_bytes(path.read_bytes())
    os.replace(staged, backup)


def fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stray_temp_files(folder: Path) -> list[Path]:
    """Temp files left by a writer that was killed mid-write; call only while holding the lock."""
    removed = []
    for temp in folder.glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
            removed.append(temp)
    return removed


class AtomicJSONStorage(Storage):
    """TinyDB storage on `write_json_atomically`, with batches that write once.

    Inside `with storage.batch():` several TinyDB operations become one durable write,
    so an answer and its event land together or not at all.
    """

    def __init__(
        self, path: str | Path, read_only: bool = False, durable: bool = True, cache: bool = False
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.durable = durable
        # Only the single writer may cache: nobody else changes the file under it.
        self._cache_enabled = cache and not read_only
        self._cached: dict[str, Any] | None = None
        self._pending: dict[str, Any] | None = None
        self._batch_depth = 0

    def read(self) -> dict[str, Any] | None:
        if self._pending is not None:
            return self._pending
        if self._cached is not None:
            return self._cached
        document = read_json_document(self.path)
        if self._cache_enabled:
            self._cached = document
        return document

    def write(self, data: dict[str, Any]) -> None:
        if self.read_only:
            raise StoreError(f"{self.path} was opened read-only")
        if self._batch_depth:
            self._pending = data
            return
        self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        # TinyDB changes the document it read in place before writing it, so whatever
        # happens the cache is stale until this write is known to be on disk.
        self._cached = None
        write_json_atomically(self.path, data, durable=self.durable)
        if self._cache_enabled:
            self._cached = data

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        self._batch_depth += 1
        try:
            yield
        except BaseException:
            self._batch_depth -= 1
            if not self._batch_depth:
                self._pending = None
                self._cached = None
            raise
        self._batch_depth -= 1
        if not self._batch_depth and self._pending is not None:
            pending, self._pending = self._pending, None
            self._write(pending)

    def close(self) -> None:
        self._pending = None
        self._cached = None
