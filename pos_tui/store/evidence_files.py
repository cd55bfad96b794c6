"""Evidence files kept by content: `evidence/<first two hex>/<sha256>`, written once.

The laptop's store and the shared one keep their files the same way, so a file's name is
its hash and a record names it by that hash: nothing can swap a photo without the record
saying so (`check`). A file appears under its name only whole: it is written to a part in
`evidence/.parts/`, hashed, then renamed into its bucket. On a share a part left by a killed
sync is carried on from where it stopped (`copy_from`), so a photo is not sent twice over a
slow line.

The parts are in one folder of their own, not beside the files: whoever looks for parts
left behind (the laptop's store on opening, a sync under the share's lock) lists that one
small folder, not the 256 buckets of every photo ever kept.

A hash from a record is checked before it becomes a path: a record is data from outside.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from pos_tui.domain.evidence import is_sha256
from pos_tui.domain.media import MAX_EVIDENCE_BYTES
from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.store.storage import StoreError, fsync_folder

EVIDENCE_DIR = "evidence"
PARTS_DIR = ".parts"
"""Under EVIDENCE_DIR: `.<sha256>.<pid>.part` of a file being kept, `<sha256>[.<writer>].part`
of a copy from another store. A dot first: no bucket is named so (`stored` never sees it)."""
PART_SUFFIX = ".part"
_CHUNK = 1024 * 1024

_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

MISSING = "missing"
REPLACED = "replaced"


class EvidenceReader(Protocol):
    """What readers of a store's evidence use, whichever kind keeps the files: a folder's
    `EvidenceFiles`, or a database's `pg.evidence.PgEvidenceFiles`."""

    def check(self, sha256: str, size: int | None = None) -> str | None:
        """None when the file is there and hashes to its name, else what is wrong."""

    def quick_check(self, sha256: str, size: int | None) -> str | None:
        """As `check`, by its size alone: for passes over a whole store."""

    def read(self, sha256: str) -> bytes:
        """The file's bytes, verified against its name."""


class EvidenceFiles:
    def __init__(self, store_folder: Path) -> None:
        self.folder = store_folder / EVIDENCE_DIR

    def path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise StoreError(f"'{sha256[:80]}' is not the SHA-256 of a file.")
        return self.folder / sha256[:2] / sha256

    def has(self, sha256: str, size: int | None = None) -> bool:
        """The file is there (with `size` bytes, when given): cheap, no hashing."""
        return self.quick_check(sha256, size) is None

    def quick_check(self, sha256: str, size: int | None) -> str | None:
        """MISSING, REPLACED (the wrong size, or not a plain file), or None: a stat only,
        for passes over thousands of records; `check` reads and hashes."""
        try:
            status = os.lstat(self.path(sha256))
        except (FileNotFoundError, NotADirectoryError, StoreError):
            return MISSING
        if not _is_plain(status.st_mode) or (size is not None and status.st_size != size):
            return REPLACED
        return None

    def check(self, sha256: str, size: int | None = None) -> str | None:
        """None when the file is there and hashes to its name; else MISSING or REPLACED."""
        quick = self.quick_check(sha256, size)
        if quick is not None:
            return quick
        try:
            actual = _hash_file(self.path(sha256))
        except (OSError, RefusedFile):
            return MISSING
        return None if actual == sha256 else REPLACED

    def read(self, sha256: str) -> bytes:
        """The file's bytes, checked against its name; StoreError when it is not whole."""
        path = self.path(sha256)
        try:
            data = read_regular_file(path, MAX_EVIDENCE_BYTES, follow_links=False)
        except FileNotFoundError:
            raise StoreError(f"The evidence file {sha256[:12]}… is missing.") from None
        except (OSError, RefusedFile) as error:
            raise StoreError(f"Cannot read the evidence file {sha256[:12]}…: {error}.") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StoreError(f"The evidence file {sha256[:12]}… has been replaced.")
        return data

    def keep(self, data: bytes) -> str:
        """Keep `data`; its SHA-256. Keeping what is already kept costs a stat."""
        sha256 = hashlib.sha256(data).hexdigest()
        if self.check(sha256, len(data)) is None:
            return sha256
        final = self.path(sha256)
        part = self._fresh_part(final)
        try:
            with open(part, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            self._publish(part, final)
        except OSError as error:
            with contextlib.suppress(OSError):
                part.unlink()
            raise StoreError(f"Cannot keep the evidence file: {error.strerror or error}.") from None
        return sha256

    def copy_from(
        self,
        source: EvidenceFiles,
        sha256: str,
        size: int,
        progress: Callable[[int], None] | None = None,
        writer: str = "",
    ) -> bool:
        """Copy one file from another store, carrying on a `.part` a killed copy left;
        False when it was here already. StoreError when the source's file is not whole
        (nothing is published then).

        `writer` names the copier (a laptop's device id) in its part's name, so that two
        laptops sending the same photo at once, without a lock, never write one part."""
        if self.check(sha256, size) is None:
            return False
        final = self.path(sha256)
        part = self.copy_part(sha256, writer)
        for attempt in range(2):
            part.parent.mkdir(parents=True, exist_ok=True)
            done = _resumable_size(part, size) if attempt == 0 else _restart(part)
            try:
                with open(source.path(sha256), "rb") as reader, open(part, "ab") as out:
                    reader.seek(done)
                    for chunk in iter(lambda: reader.read(_CHUNK), b""):
                        out.write(chunk)
                        done += len(chunk)
                        if done > size:
                            break
                        if progress is not None:
                            progress(len(chunk))
                    out.flush()
                    os.fsync(out.fileno())
            except FileNotFoundError:
                raise StoreError(f"The evidence file {sha256[:12]}… is missing here.") from None
            except OSError as error:
                raise StoreError(
                    f"Cannot copy the evidence file {sha256[:12]}…: {error.strerror or error}."
                ) from None
            if done == size and _hash_file(part) == sha256:
                try:
                    self._publish(part, final)
                except FileNotFoundError:
                    # Another copier published the same file and its clean-up took this
                    # part as done: the file is there, which is all that was wanted.
                    if self.check(sha256, size) is None:
                        return True
                    raise StoreError(f"The copy of {sha256[:12]}… vanished.") from None
                return True
            # A part written by someone else, or the tail lost in a power cut: start over once.
        with contextlib.suppress(OSError):
            part.unlink()
        raise StoreError(f"The evidence file {sha256[:12]}… does not match its hash.")

    def copy_part(self, sha256: str, writer: str = "") -> Path:
        """Where `copy_from` by `writer` writes the file before it is whole."""
        tag = _TAG_UNSAFE.sub("", writer)[:40]
        name = f"{self.path(sha256).name}.{tag}" if tag else sha256
        return self.folder / PARTS_DIR / f"{name}{PART_SUFFIX}"

    def _fresh_part(self, final: Path) -> Path:
        parts = self.folder / PARTS_DIR
        parts.mkdir(parents=True, exist_ok=True)
        return parts / f".{final.name}.{os.getpid()}{PART_SUFFIX}"

    @staticmethod
    def _publish(part: Path, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(part, 0o444)  # kept, never changed: a slip of a tool shows as an error
        os.replace(part, final)
        fsync_folder(final.parent)

    def stored(self) -> Iterator[str]:
        """Every published file's hash (not the parts)."""
        if not self.folder.is_dir():
            return
        for bucket in sorted(self.folder.iterdir()):
            if bucket.is_dir():
                for path in sorted(bucket.iterdir()):
                    if is_sha256(path.name):
                        yield path.name


def evidence_parts(store_folder: Path, earlier_layout: bool = False) -> list[Path]:
    """Every part in `evidence/.parts/`: `.<sha256>.<pid>.part` of a kept file being
    written, `<sha256>[.<writer>].part` of a copy from another store, carried on by the
    next one. One folder of the parts under way, whatever the store holds.

    `earlier_layout`: also those an earlier version left beside the files in the buckets,
    for the passes that read the whole store anyway (a full rescan, `shared check --adopt`)."""
    folder = store_folder / EVIDENCE_DIR
    found = _parts_in(folder / PARTS_DIR)
    if earlier_layout:
        try:
            buckets = [e for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)]
        except (FileNotFoundError, NotADirectoryError):
            buckets = []
        for bucket in sorted(buckets, key=lambda entry: entry.name):
            if bucket.name != PARTS_DIR:
                found += _parts_in(Path(bucket.path))
    return found


def part_target(part: Path) -> Path:
    """The file a part is to become, whichever layout left it: a part is named by the hash
    of that file first (`<sha256>[.<writer>].part`, `.<sha256>.<pid>.part`)."""
    sha256 = part.name.lstrip(".").split(".")[0]
    if part.parent.name == PARTS_DIR:
        return part.parent.parent / sha256[:2] / sha256
    return part.parent / sha256  # an earlier version's, beside the files


def _parts_in(folder: Path) -> list[Path]:
    """The parts in `folder`; none through a link: what is found here may be removed."""
    try:
        if folder.is_symlink():
            return []
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if e.name.endswith(PART_SUFFIX))
    except OSError:
        return []


def _is_plain(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _resumable_size(part: Path, size: int) -> int:
    try:
        status = os.lstat(part)
    except FileNotFoundError:
        return 0
    if _is_plain(status.st_mode) and status.st_size <= size:
        return status.st_size
    return _restart(part)


def _restart(part: Path) -> int:
    with contextlib.suppress(FileNotFoundError):
        part.unlink()
    return 0


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RefusedFile(path, "it is not a regular file")
        while chunk := os.read(fd, _CHUNK):
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()


__all__ = [
    "EVIDENCE_DIR",
    "MISSING",
    "PARTS_DIR",
    "REPLACED",
    "EvidenceFiles",
    "evidence_parts",
    "part_target",
]
