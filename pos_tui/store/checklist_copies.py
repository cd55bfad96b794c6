"""Exact copies of the checklist files visits ran, kept by content hash.

A visit names its checklists by sha256, so it can be shown and reported with the very
words the technician saw, long after the checklist files have moved on. Both the laptop's
store and the shared store keep such copies in a `checklists/` folder.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from pos_tui.domain.checklist import Checklist
from pos_tui.store.storage import StoreError, fsync_folder

CHECKLISTS_DIR = "checklists"


def copy_path(store_folder: Path, sha256: str) -> Path:
    return store_folder / CHECKLISTS_DIR / f"{sha256}.yaml"


def keep(store_folder: Path, checklists: Iterable[Checklist]) -> None:
    for checklist in checklists:
        if checklist.source is not None:
            keep_file(store_folder, checklist.sha256, checklist.source)


def keep_file(store_folder: Path, sha256: str, source: Path) -> None:
    target = copy_path(store_folder, sha256)
    if target.exists():
        return
    target.parent.mkdir(exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(source, "rb") as reader, open(temp, "wb") as writer:
        shutil.copyfileobj(reader, writer)
        writer.flush()
        os.fsync(writer.fileno())
    os.replace(temp, target)
    fsync_folder(target.parent)


@functools.lru_cache(maxsize=64)
def _parsed(path: Path, size: int, mtime_ns: int) -> Checklist:
    # Imported here: YAML is not needed to list visits, only to open one, and the app
    # starts faster without it.
    from pos_tui.domain.loader import ChecklistError, parse_bytes

    checklist, problems = parse_bytes(path.read_bytes(), str(path), source=path)
    if checklist is None:
        raise ChecklistError(problems)
    return checklist


def load(store_folder: Path, sha256: str) -> Checklist:
    """The checklist with this hash; parsed once per process, as files never change."""
    path = copy_path(store_folder, sha256)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise StoreError(
            f"The checklist {path.name} used by a visit is missing from {path.parent}."
        ) from None
    return _parsed(path, stat.st_size, stat.st_mtime_ns)
