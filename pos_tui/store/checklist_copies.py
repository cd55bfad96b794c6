"""Exact copies of the checklist files visits ran, kept by content hash.

A visit names its checklists by sha256, so it can be shown and reported with the very
words the technician saw, long after the checklist files have moved on. Both the laptop's
store and the shared store keep such copies in a `checklists/` folder.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.store.storage import StoreDamaged, StoreError, fsync_folder

CHECKLISTS_DIR = "checklists"


def copy_path(store_folder: Path, sha256: str) -> Path:
    return store_folder / CHECKLISTS_DIR / f"{sha256}.yaml"


def keep(store_folder: Path, checklists: Iterable[Checklist]) -> None:
    for checklist in checklists:
        if checklist.source is not None:
            # The technician's own checklist folder may link to files kept elsewhere.
            keep_file(store_folder, checklist.sha256, checklist.source, follow_links=True)


def keep_file(store_folder: Path, sha256: str, source: Path, follow_links: bool = False) -> None:
    """Copy `source` in as the copy named `sha256`, unless there is one already.

    Links are not followed by default: a copy in a store is never a link, and one put
    there would have sync carry some other file of this laptop onto the share.
    """
    target = copy_path(store_folder, sha256)
    if target.exists():
        return
    data = _read_copy(source, follow_links)
    target.parent.mkdir(exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(temp, "wb") as writer:
        writer.write(data)
        writer.flush()
        os.fsync(writer.fileno())
    os.replace(temp, target)
    fsync_folder(target.parent)


def _read_copy(path: Path, follow_links: bool = False) -> bytes:
    """The checklist file's bytes; a FIFO, a device or a huge file is damage, not a hang."""
    from pos_tui.domain.yaml_nodes import MAX_FILE_BYTES  # YAML only once a visit is opened

    try:
        return read_regular_file(path, MAX_FILE_BYTES, follow_links=follow_links)
    except RefusedFile as refused:
        raise StoreDamaged(path, refused.reason) from None


@functools.lru_cache(maxsize=64)
def _parsed(path: Path, size: int, mtime_ns: int) -> Checklist:
    # Imported here: YAML is not needed to list visits, only to open one, and the app
    # starts faster without it.
    from pos_tui.domain.loader import parse_bytes

    checklist, problems = parse_bytes(_read_copy(path), str(path), source=path)
    if checklist is None:
        # A copy is only ever written from a checklist that loaded: this one was changed.
        said = "not a valid checklist"
        if problems:
            first = problems[0]
            more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
            said += f": line {first.line}, column {first.column}: {first.message}{more}"
        raise StoreDamaged(path, said)
    return checklist


def load(store_folder: Path, sha256: str) -> Checklist:
    """The checklist with this hash; parsed once per process, as files never change."""
    path = copy_path(store_folder, sha256)
    try:
        # lstat: the cache key must not be what a link points at; _read_copy refuses links.
        stat = path.lstat()
        return _parsed(path, stat.st_size, stat.st_mtime_ns)
    except FileNotFoundError:
        raise StoreError(
            f"The checklist {path.name} used by a visit is missing from {path.parent}."
        ) from None
    except OSError as error:
        raise StoreError(f"Cannot read {path}: {error.strerror or error}.") from None


def load_all(store_folder: Path) -> tuple[list[Checklist], list[StoreError]]:
    """Every checklist copy kept in the store, and the problem of each one that would not load."""
    loaded: list[Checklist] = []
    problems: list[StoreError] = []
    for path in sorted((store_folder / CHECKLISTS_DIR).glob("*.yaml")):
        try:
            loaded.append(load(store_folder, path.stem))
        except StoreError as error:
            problems.append(error)
    return loaded, problems
