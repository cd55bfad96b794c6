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
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from pos_tui.domain.checklist import Text
from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.store.schema import ShapeError, parse_json, tinydb_document

TEMP_SUFFIX = ".tmp"
BACKUP_SUFFIX = ".bak"
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
"""Any one store file: 10,000 visits make an index of about 6 MiB, a visit file a few kB."""


class StoreError(Exception):
    """A problem with the files of a store, said as a plain sentence for the user.

    `zh` is the same sentence in Chinese, for the screens (`text`); the command line and
    logs use the English (`str`). An error raised without one shows its English in both."""

    def __init__(self, message: str = "", zh: str = "") -> None:
        super().__init__(message)
        self.zh = zh

    @property
    def text(self) -> Text:
        english = str(self)
        return Text(self.zh or english, english)


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
        offer_zh = (
            f"有上一版本（{self.backup.name}）：运行 `pos-tui recover {path}`"
            "把损坏的文件移开并恢复。"
            if self.backup
            else "没有上一版本；文件未被改动。"
        )
        super().__init__(
            f"The store file {path} is damaged ({reason}).{offer}",
            f"存储文件 {path} 已损坏（{reason}）。{offer_zh}",
        )


class StoreWriteFailed(StoreError):
    def __init__(self, path: Path, error: OSError) -> None:
        self.path = path
        # EFBIG and EDQUOT are how quotas and file-size limits say the same thing.
        if error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            reason, reason_zh = "the disk is full", "磁盘已满"
        elif error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            reason, reason_zh = "the folder cannot be written to", "文件夹不可写"
        else:
            reason = reason_zh = error.strerror or str(error)
        super().__init__(
            f"Could not save {path}: {reason}. The previous version is intact.",
            f"无法保存 {path}：{reason_zh}。上一版本完好无损。",
        )


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + BACKUP_SUFFIX)


def read_json_document(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> dict[str, Any] | None:
    """The file's TinyDB document, None when there is no file, StoreDamaged when unreadable.

    Refused, as damage, before anything is parsed: a file that is not a regular file (a
    FIFO would block, a link to /dev/zero never end) or is over `limit` bytes.
    """
    value = read_json_file(path, limit)
    if value is None:
        return None
    try:
        return tinydb_document(value)
    except ShapeError as error:
        raise StoreDamaged(path, str(error)) from None


def read_json_file(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> Any:
    """The file's JSON value, None when there is no file; refused as `read_json_document`
    refuses, StoreDamaged when it is not JSON."""
    try:
        raw = read_regular_file(path, limit, follow_links=False)
    except FileNotFoundError:
        return None
    except RefusedFile as refused:
        raise StoreDamaged(path, refused.reason) from None
    except OSError as error:
        raise StoreError(f"Cannot read {path}: {error.strerror or error}.") from None
    try:
        return parse_json(raw)
    except ShapeError as error:
        raise StoreDamaged(path, str(error)) from None


def write_json_atomically(
    path: Path,
    data: Any,
    durable: bool = True,
    keep_backup: bool = True,
    temp_folder: Path | None = None,
) -> None:
    """`temp_folder`: where the temporary file is staged, on the same filesystem, when not
    beside `path`: a folder of thousands of files (the shared index) would otherwise have
    to be listed to find what a killed writer left."""
    _refuse_special(path)
    staging = temp_folder if temp_folder is not None else path.parent
    temp = staging / f".{path.name}.{os.getpid()}{TEMP_SUFFIX}"
    try:
        # dumps, not dump: json.dump streams through the pure-Python encoder, ten times slower.
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        with open(temp, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            if durable:
                os.fsync(file.fileno())
        if keep_backup and path.exists():
            link_backup(path, staging)
        os.replace(temp, path)
        if durable:
            fsync_folder(path.parent)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise StoreWriteFailed(path, error) from error
    except RefusedFile as refused:  # what is there to back up is not a file we wrote
        with contextlib.suppress(OSError):
            temp.unlink()
        raise StoreDamaged(path, refused.reason) from None


def _refuse_special(path: Path) -> None:
    """A device, FIFO or socket where a file is to be written is never replaced: renaming
    over it would, for root, turn /dev/null into a settings file for the whole machine."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise StoreWriteFailed(path, error) from None
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise StoreError(
            f"Could not save {path}: it is not a regular file (a device or a pipe), and it"
            " was left as it is. Give a file's path.",
            f"无法保存 {path}：它不是普通文件（是设备或管道），未作改动。请给出一个文件的路径。",
        )


def link_backup(path: Path, staging: Path | None = None) -> None:
    backup = backup_path(path)
    # A writer killed between linking the backup and replacing the file leaves the two as
    # names of one file: it is the backup already, and renaming a link onto another name
    # of the same file does nothing, which would leave the staged link behind.
    with contextlib.suppress(FileNotFoundError):
        if os.path.samefile(path, backup):
            return
    staged = (staging or path.parent) / f".{backup.name}.{os.getpid()}{TEMP_SUFFIX}"
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    try:
        os.link(path, staged)
    except OSError:
        # Filesystems without hard links (FAT sticks): a copy costs more but keeps the rule.
        staged.write_bytes(read_regular_file(path, MAX_DOCUMENT_BYTES, follow_links=False))
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
