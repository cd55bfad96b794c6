"""The keyring in the database: one signed line per row, appended, never rewritten.

The same entries as `keyring.jsonl` of a folder store (`store/keyring.py`), replayed by the
same `domain/keyring.py`; appends are serialized by an advisory lock held for the one
transaction that reads the ring's head and adds the line after it. The administrator a
machine pins is kept in its data folder, per store id, exactly as for a folder.
"""

from __future__ import annotations

import contextlib
import json
import uuid as uuid_module
from pathlib import Path
from typing import Any

import psycopg

from pos_tui.domain.keyring import GENESIS, Keyring, replay, signed_entry
from pos_tui.domain.signatures import Signer, canonical, sign
from pos_tui.store.keyring import now, pin_admin, pinned_admin
from pos_tui.store.schema import ShapeError, parse_json
from pos_tui.store.storage import StoreError

KEYRING_LOCK = 7103


class PgAdminChanged(StoreError):
    def __init__(self, url: str, ring_problem: str) -> None:
        super().__init__(
            f"The shared store {url} cannot be trusted: {ring_problem}. Nothing was read from"
            " it or sent to it; ask the store's administrator.",
            f"共享存储 {url} 不可信：{ring_problem}。未从中读取或向其发送任何内容；"
            "请联系存储的管理员。",
        )


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
        _insert(conn, line)
    return line


def create_genesis(conn: psycopg.Connection, admin: Signer, name: str, store_id: str = "") -> str:
    """The first entry of a new store's keyring; returns the store's id."""
    store_id = store_id or uuid_module.uuid4().hex[:16]
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (KEYRING_LOCK,))
        if conn.execute("SELECT 1 FROM keyring LIMIT 1").fetchone():
            raise StoreError("This database already has a keyring: it is a shared store already.")
        entry = {"action": GENESIS, "store_id": store_id, "name": name}
        _insert(conn, _signed_after(Keyring(), entry, admin))
        conn.execute(
            "INSERT INTO store_info (key, value) VALUES ('store_id', %s), ('name', %s)"
            " ON CONFLICT (key) DO NOTHING",
            (store_id, name),
        )
    return store_id


def _signed_after(ring: Keyring, entry: dict[str, Any], signer: Signer) -> dict[str, Any]:
    body = {"prev": ring.head, "at": now(), **entry}
    return signed_entry(body, sign(signer, canonical(body)))


def _insert(conn: psycopg.Connection, line: dict[str, Any]) -> None:
    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    conn.execute("INSERT INTO keyring (line) VALUES (%s)", (text,))


def trusted_keyring(conn: psycopg.Connection, url: str, data_folder: Path | None) -> Keyring:
    """The store's keyring, checked against the administrator this machine pinned (pinned
    now, on first sight); PgAdminChanged when the keyring was replaced."""
    lines = read_lines(conn)
    first = replay(lines[:1])
    if not first.admin:
        return replay(lines)
    pinned = pinned_admin(data_folder, first.store_id) if data_folder is not None else ""
    ring = replay(lines, pinned)
    if not ring.admin:
        raise PgAdminChanged(url, ring.problems[0] if ring.problems else "no genesis")
    if data_folder is not None and not pinned:
        with contextlib.suppress(StoreError):
            pin_admin(data_folder, ring.store_id, ring.admin)
    return ring
