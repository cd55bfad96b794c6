"""Filling a PostgreSQL store fast, by COPY, for benches and migrations of many records.

`copy_records` writes rows straight into `visits` in one COPY, without the plan a push
makes: it is for records known to be new and distinct (a fresh store, a bench's copies of
a record under new uuids). Conflicts and supersessions are not worked out; a record
already there by hash makes the COPY fail, and nothing is written then.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from psycopg.types.json import Jsonb

from pos_tui.store.pg.store import PgSharedStore, body_values, now, row_values

_BODY_COLUMNS = "record_hash, record, summary"
_BODY_TYPES = ["text", "bytea", "jsonb"]
_ROW_COLUMNS = (
    "uuid, revision, record_hash, conflict, superseded, synced_at, host, device_id,"
    " status, verdict, merchant_name, merchant_number, technician, updated_at, failures"
)
_ROW_TYPES = [
    "text", "int4", "text", "bool", "bool", "text", "text", "text",
    "text", "text", "text", "text", "text", "text", "int4",
]  # fmt: skip


def copy_records(
    store: PgSharedStore,
    records: Iterable[tuple[dict[str, Any], bytes]],
    host: str = "bulk",
) -> int:
    """(summary row, record line) pairs into the store in one transaction; how many.
    The bodies stream through; the index rows, small, are held until their own COPY."""
    synced_at = now()
    rows: list[tuple[Any, ...]] = []
    with store.conn.transaction(), store.conn.cursor() as cur:
        with cur.copy(f"COPY visit_bodies ({_BODY_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_BODY_TYPES)
            for row, line in records:
                full = dict(row) | {
                    "record_hash": hashlib.sha256(line).hexdigest(),
                    "conflict": False,
                    "superseded": False,
                    "synced_at": synced_at,
                    "host": host,
                }
                digest, record, summary = body_values(full, line)
                # The summary is JSON text already: COPY's jsonb dumper would otherwise
                # store it as one JSON string, and every row would read back as damaged.
                copy.write_row((digest, record, Jsonb(summary, dumps=_as_is)))
                rows.append(row_values(full))
        with cur.copy(f"COPY visits ({_ROW_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_ROW_TYPES)
            for values in rows:
                copy.write_row(values)
        cur.execute(
            "INSERT INTO visit_heads (uuid) SELECT DISTINCT uuid FROM visits"
            " ON CONFLICT (uuid) DO NOTHING"
        )
    store.conn.execute("ANALYZE visits")
    store.conn.execute("ANALYZE visit_bodies")
    return len(rows)


def _as_is(text: str) -> str:
    return text
