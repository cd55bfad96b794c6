"""Which kind of shared store a `--to` / `--store` argument or the settings name.

A shared store is a folder (a network share, a stick) or a PostgreSQL database, named by a
`postgresql://` URL. Both kinds offer the same calls (`shared.SharedStore`,
`pg.store.PgSharedStore`): push and repair, rows and records, the decision log, the
keyring, checklists and evidence files. This is the one place that tells them apart; the
PostgreSQL driver is imported only when a URL is given, so the technician's app never pays
for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pos_tui.store.pg import is_pg_url

if TYPE_CHECKING:
    from pos_tui.store.pg.store import PgSharedStore
    from pos_tui.store.shared import SharedStore

Target = Path | str
"""A shared store's folder, or the URL of a PostgreSQL one."""


def target_of(text: str | Path) -> Target:
    """The target a user typed: a URL stays as typed, anything else is a folder."""
    if isinstance(text, Path):
        return text
    return text.strip() if is_pg_url(text.strip()) else Path(text).expanduser()


def is_database(target: Target) -> bool:
    return isinstance(target, str)


def open_shared(target: Target, create: bool = False) -> SharedStore | PgSharedStore:
    """The store at `target`; `create`: make the folder store's layout in an existing
    folder (a database store is made by `pos-tui shared init URL` only)."""
    if isinstance(target, str):
        from pos_tui.store.pg.store import PgSharedStore

        return PgSharedStore.open(target)
    from pos_tui.store.shared import SharedStore

    return SharedStore.open(target, create=create)
