"""Progress of the evidence files a write sends, for whichever kind of shared store."""

from __future__ import annotations

from collections.abc import Callable

FileProgress = Callable[[str, int, int], None]
"""Called with ("files", done, total) as each evidence file lands and ("bytes", done, total)
as its bytes are written: totals of what this write copies."""


class FileMeter:
    """Counts for the progress callback: files landed, and bytes of the files done so far
    plus those being written (a file carried on from its part jumps to its size)."""

    def __init__(self, progress: FileProgress | None, total_files: int, total_bytes: int) -> None:
        self.progress = progress
        self.total_files = total_files
        self.total_bytes = total_bytes
        self.files = 0
        self.written = 0
        self._done_bytes = 0
        self._current = 0
        if progress is not None and total_files:
            progress("files", 0, total_files)

    def wrote(self, count: int) -> None:
        self.written += count
        self._current += count
        if self.progress is not None:
            self.progress("bytes", self._done_bytes + self._current, self.total_bytes)

    def landed(self, size: int) -> None:
        self.files += 1
        self._done_bytes += size
        self._current = 0
        if self.progress is not None:
            self.progress("bytes", self._done_bytes, self.total_bytes)
            self.progress("files", self.files, self.total_files)
