"""The keyring in the database: one signed line per row, appended, never rewritten.

The same entries as `keyring.jsonl` of a folder store (`store/keyring.py`), replayed by the
same `domain/keyring.py` and checked against the administrator a machine pinned by the same
`store/keyring.trusted_keyring` (the store is a `KeyringLog`); appends are serialized by an
advisory lock held for the one transaction that reads the ring's head and adds the line
after it.
"""

from __future__ import annotations

import json
import uuid as uuid_module
from typing import Any

import psycopg

from pos_tui.domain.keyring import GENESIS, Keyring, replay, signed_entry
from pos_tui.domain.signatures import Signer, canonical, sign
from pos_tui.store.keyring import now
from pos_tui.store.schema import ShapeError, parse_json
from pos_tui.store.storage import StoreError

KEYRING_LOCK = 7103


def read_lines(conn: psycopg.Connection) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for (line,) in conn.execute("SELECT line FROM keyring ORDER BY seq"):
        try:
            value = parse_json(line.encode("utf-8"))
        except ShapeError:
            value = None
        # As a damaged line of keyring.jsonl: replay lists it as "not an entry".
        entries.append(value if isinstance(value, dict) else {"entry": None})
    return entries


def append(conn: psycopg.Connection, entry: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """Sign `entry` after the ring's head, read in the same locked transaction, and add it."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (KEYRING_LOCK,))
        line = _signed_after(replay(read_lines(conn)), entry, signer)
        insert_line(conn, line)
    return line


def create_genesis(conn: psycopg.Connection, admin: Signer, name: str, store_id: str = "") -> str:
    """The first entry of a new store's keyring; returns the store's id."""
    store_id = store_id or uuid_module.uuid4().hex[:16]
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (KEYRING_LOCK,))
        if conn.execute("SELECT 1 FROM keyring LIMIT 1").fetchone():
            raise StoreError("This database already has a keyring: it is a shared store already.")
        entry = {"action": GENESIS, "store_id": store_id, "name": name}
        insert_line(conn, _signed_after(Keyring(), entry, admin))
        conn.execute(
            "INSERT INTO store_info (key, value) VALUES ('store_id', %s), ('name', %s)"
            " ON CONFLICT (key) DO NOTHING",
            (store_id, name),
        )
    return store_id


def _signed_after(ring: Keyring, entry: dict[str, Any], signer: Signer) -> dict[str, Any]:
    body = {"prev": ring.head, "at": now(), **entry}
    return signed_entry(body, sign(signer, canonical(body)))


def insert_line(conn: psycopg.Connection, line: dict[str, Any]) -> None:
    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    conn.execute("INSERT INTO keyring (line) VALUES (%s)", (text,))
