"""PostgreSQL shared stores of many visits, built directly for the sync and export benches.

The same records as `_share_fill.fill_share` (a few dozen real ones written again under
new uuids), put in by COPY (`pos_tui/store/pg/bulk.py copy_records`) into a fresh database
of a throw-away server (`tests/pg_server.py`), with the checklist copies they name.
"""

from __future__ import annotations

import sys
import uuid as uuid_module
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _share_fill import Templates  # noqa: E402

from pos_tui.store.checklist_copies import CHECKLISTS_DIR  # noqa: E402
from tests.pg_server import PgServer  # noqa: E402

SPREAD = timedelta(minutes=5)
"""Between one copy's time in the list and the next's (`copies`)."""


def copies(templates: Templates, count: int) -> Iterator[tuple[dict[str, Any], bytes]]:
    """`count` records, each a template under a new uuid (row and bytes alike). Each row has
    a time of its own, `SPREAD` before the one before it, as a bank's visits are spread over
    the days: with the template's time, the copies of a record all sorted together, so a
    word of one merchant's was missing from the first thousands of rows of every order
    that sorts by time, as no real store's is."""
    newest = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    for n in range(count):
        row, line = templates[n % len(templates)]
        new = str(uuid_module.uuid4())
        when = (newest - n * SPREAD).isoformat(timespec="seconds")
        copy = dict(row) | {"uuid": new, "updated_at": when}
        yield copy, line.replace(row["uuid"].encode(), new.encode())


def fill_pg(server: PgServer, name: str, count: int, templates: Templates, scratch: Path) -> str:
    """A new database `name` holding `count` visits; its URL."""
    from pos_tui.store.pg.bulk import copy_records
    from pos_tui.store.pg.checklists import PgChecklists
    from pos_tui.store.pg.store import PgSharedStore

    server.drop_database(name)
    url = server.create_database(name)
    with PgSharedStore.init(url) as store:
        copy_records(store, copies(templates, count))
        folder = scratch / "templates-share" / CHECKLISTS_DIR
        files = [(path.stem, path) for path in sorted(folder.glob("*.yaml"))]
        store.checklists.keep(PgChecklists.read_files(files))
    import psycopg

    # Settled, as a bank's store is: the planner's statistics and the visibility map made
    # now, not by autovacuum on the other core in the middle of the timed runs.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return url
