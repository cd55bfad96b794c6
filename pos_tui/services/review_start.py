"""Opening the review side on a shared store, while the caller imports the screens.

A folder store is opened on a thread: its files are read while the screens' modules are
imported. A database store is opened by a child process, which also reads the list's
first page on another core (`first_page.py`); this process opens its own connection once
that page is shown. Either way a store that cannot be opened raises its StoreError here,
before any screen is shown.

This module imports nothing heavy at the top: the child must start before the imports.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pos_tui.store.targets import Target, is_database

if TYPE_CHECKING:
    from pos_tui.services.review import ReviewServices
    from pos_tui.store.sources import SharedSource


def start_review(
    target: Target, data_folder: Path, meanwhile: Callable[[], object] = lambda: None
) -> ReviewServices:
    """The review's services on the store at `target`, with this machine's reviewer key
    from `data_folder`; `meanwhile` runs while the store opens (the screens' imports)."""
    if is_database(target):
        return _database(str(target), data_folder, meanwhile)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="pos-tui-open") as opener:
        opening = opener.submit(_open_source, target, data_folder)
        from pos_tui.services.review import ReviewServices
        from pos_tui.store.keys import REVIEWER, load_key

        meanwhile()
        key = load_key(data_folder, REVIEWER)
        return ReviewServices(opening.result(), key)


def _database(url: str, data_folder: Path, meanwhile: Callable[[], object]) -> ReviewServices:
    from pos_tui.services.first_page import FirstPageReader

    reader = FirstPageReader(url, data_folder)
    try:
        from pos_tui.services.review import ReviewServices
        from pos_tui.store.keys import REVIEWER, load_key
        from pos_tui.store.sources import SharedSource

        meanwhile()
        key = load_key(data_folder, REVIEWER)
        names = reader.opened()
    except BaseException:
        reader.close()
        raise
    if names is None:  # the child could not tell: opened here, which says what is wrong
        return ReviewServices(SharedSource(url, data_folder), key)
    source = SharedSource(url, data_folder, later=True)
    return ReviewServices(source, key, first_page=reader, trusted_names=names)


def _open_source(target: Target, data_folder: Path) -> SharedSource:
    from pos_tui.store.sources import SharedSource

    return SharedSource(target, data_folder)
