"""One writer per data folder, and a clear answer about who holds it.

The OS lock (see `os_lock`) dies with its process, so a killed app
never leaves the folder locked; the owner file beside it only says who held it last.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from datetime import datetime
from pathlib import Path

from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.store.os_lock import FileLock, LockTimeout
from pos_tui.store.schema import ShapeError, parse_json
from pos_tui.store.storage import StoreError

LOCK_NAME = ".writer.lock"
OWNER_NAME = ".writer.owner"


class StoreLocked(StoreError):
    def __init__(self, folder: Path, owner: dict[str, object] | None) -> None:
        self.folder = folder
        self.owner = owner
        if owner:
            who = (
                f"process {owner.get('pid')} ({owner.get('program')}) on {owner.get('host')},"
                f" since {owner.get('since')}"
            )
            who_zh = (
                f"{owner.get('host')} 上的进程 {owner.get('pid')}（{owner.get('program')}，"
                f"自 {owner.get('since')} 起）"
            )
        else:
            who, who_zh = "another process", "另一个进程"
        super().__init__(
            f"The data folder {folder} is in use by {who}. Close that pos-tui first;"
            " nothing was changed.",
            f"数据文件夹 {folder} 正被 {who_zh} 使用。请先关闭那个 pos-tui；未作任何改动。",
        )


class WriterLock:
    def __init__(self, folder: Path, timeout: float = 0) -> None:
        self.folder = folder
        self._lock = FileLock(folder / LOCK_NAME, timeout=timeout)

    def acquire(self) -> None:
        try:
            self._lock.acquire()
        except LockTimeout:
            raise StoreLocked(self.folder, read_owner(self.folder)) from None
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "program": " ".join(os.path.basename(arg) for arg in sys.argv[:2]) or "python",
            "since": datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        (self.folder / OWNER_NAME).write_text(json.dumps(owner), encoding="utf-8")

    def release(self) -> None:
        with contextlib.suppress(OSError):
            (self.folder / OWNER_NAME).unlink()
        self._lock.release()


OWNER_LIMIT = 4096
"""The owner file is a few dozen bytes; anything larger is not ours."""


def read_owner(folder: Path) -> dict[str, object] | None:
    """Who holds the lock, for the message; None when the file is missing or not ours (a
    FIFO or a huge file there must not hang or flood the "store is locked" message)."""
    try:
        data = parse_json(read_regular_file(folder / OWNER_NAME, OWNER_LIMIT, follow_links=False))
    except (OSError, RefusedFile, ShapeError):
        return None
    return data if isinstance(data, dict) else None
