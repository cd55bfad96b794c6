"""Reading a file that someone else may have put there, without hanging or filling memory.

Any file we read can be a FIFO (opening or reading it blocks forever), a link to
`/dev/zero` (reading it never ends), a directory named like a file, or simply huge. So a
file is opened without blocking, checked on the opened descriptor (not the path, which
could be swapped between a check and the open) to be a regular file, and read to at most
one byte past its limit. Pure standard library: the domain and the store both use it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

# Without O_NONBLOCK, opening a FIFO for reading waits for a writer that never comes.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CHUNK = 1024 * 1024


class RefusedFile(Exception):
    """A file we will not read; `reason` is a phrase such as "it is a FIFO, not a file"."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class FileTooLarge(RefusedFile):
    """`size` is None when the file grew past the limit while being read."""

    def __init__(self, path: Path, size: int | None, limit: int) -> None:
        said = "larger than" if size is None else f"{_size_text(size)}, over"
        super().__init__(path, f"it is {said} the limit of {_size_text(limit)}")
        self.size = size
        self.limit = limit


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size // (1024 * 1024)} MiB"
    return f"{size // 1024} KiB" if size >= 1024 else f"{size} bytes"


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(path: Path, limit: int, follow_links: bool = True) -> bytes:
    """The file's bytes; RefusedFile when it is not a regular file or is over `limit` bytes.

    `follow_links=False` for files we write ourselves and never make links of: a link
    there was put by someone else, to make us read (and perhaps copy onto a share)
    something else. OSError (FileNotFoundError, PermissionError…) passes through.
    """
    fd, size = _open_regular(path, follow_links)
    try:
        if size > limit:
            raise FileTooLarge(path, size, limit)
        # The size can change under us (a file still being written): read to the limit
        # and one byte more, never trusting st_size.
        data = _read_up_to(fd, limit + 1)
        if len(data) > limit:
            raise FileTooLarge(path, None, limit)
        return data
    finally:
        os.close(fd)


def read_slice(path: Path, offset: int, length: int, follow_links: bool = False) -> bytes:
    """`length` bytes from `offset` of a regular file, fewer when the file ends first."""
    fd, _size = _open_regular(path, follow_links)
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        return _read_up_to(fd, length)
    finally:
        os.close(fd)


def _open_regular(path: Path, follow_links: bool) -> tuple[int, int]:
    """An open descriptor on `path` and its size, checked on the descriptor itself."""
    flags = _OPEN_FLAGS
    if not follow_links:
        if not _NOFOLLOW and path.is_symlink():  # no O_NOFOLLOW (Windows): the best we can do
            raise RefusedFile(path, _LINK)
        flags |= _NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as error:
        # O_NOFOLLOW on a link fails with ELOOP (EMLINK on FreeBSD).
        if not follow_links and error.errno in (errno.ELOOP, errno.EMLINK):
            raise RefusedFile(path, _LINK) from None
        if error.errno == errno.ENXIO:  # a socket, or a FIFO on some systems
            raise RefusedFile(path, "it is not a regular file") from None
        raise
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise RefusedFile(path, f"it is {_kind(status.st_mode)}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, status.st_size


_LINK = "it is a symbolic link, which pos-tui never makes there"


def _read_up_to(fd: int, count: int) -> bytes:
    chunks: list[bytes] = []
    left = count
    while left > 0:
        chunk = os.read(fd, min(left, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
