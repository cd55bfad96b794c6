"""The review decisions in the database: appended, chained, read from where one left off.

A decision names the hash of the one before it (`prev`, `domain/decisions.py`). The one row
of `decision_head` holds that hash; an append locks it for its own short transaction,
reads it, signs the decision after it, inserts it and moves the head on. So decisions are
chained in the order they commit, and since the seq is drawn while the head is held, a
reader asking for what came after the seq it last saw never misses one that commits late.
"""

from __future__ import annotations

import json
import uuid as uuid_module
from typing import Any

import psycopg
from psycopg import errors

from pos_tui.domain.decisions import decision_hash, signed_part
from pos_tui.domain.signatures import Signer, canonical, sign
from pos_tui.store import schema
from pos_tui.store.decision_log import DecisionMark, Reading
from pos_tui.store.keyring import now
from pos_tui.store.pg.reading import reason
from pos_tui.store.storage import StoreError

RETRIES = 3


def append(conn: psycopg.Connection, review: dict[str, Any], signer: Signer) -> dict[str, Any]:
    base = {"id": uuid_module.uuid4().hex, "at": now()} | review
    for tried in range(1, RETRIES + 1):
        decision = dict(base)
        try:
            with conn.transaction():
                head = conn.execute("SELECT hash FROM decision_head FOR UPDATE").fetchone()
                decision["prev"] = head[0] if head else ""
                decision["signature"] = sign(signer, canonical(signed_part(decision))).to_dict()
                digest = decision_hash(decision)
                found = conn.execute(
                    "INSERT INTO decisions (uuid, body, hash) VALUES (%s, %s, %s) RETURNING seq",
                    (
                        str(decision.get("uuid", "")),
                        json.dumps(decision, ensure_ascii=False),
                        digest,
                    ),
                ).fetchone()
                assert found is not None
                conn.execute("UPDATE decision_head SET seq = %s, hash = %s", (found[0], digest))
            return decision
        except (errors.DeadlockDetected, errors.SerializationFailure):
            if tried == RETRIES:
                raise
    raise AssertionError("unreachable")


class OutOfPlace(StoreError):
    """A decision brought from another store whose place in this log is taken."""


def import_verbatim(conn: psycopg.Connection, decision: dict[str, Any], after: str) -> int:
    """Add a decision of another store exactly as it is there (signature, `prev`, id and
    time untouched), as the one after the decision hashed `after` ('' for the first): the
    head is locked and must be `after`, else OutOfPlace and nothing is written. Its seq.

    `after` rather than the decision's own `prev`: a log copied with a decision missing
    (one taken out of the share) keeps its gap where it was, for the chain to show, rather
    than stopping the copy; and a head moved by anyone else since is refused either way."""
    with conn.transaction():
        head = conn.execute("SELECT seq, hash FROM decision_head FOR UPDATE").fetchone()
        found = str(head[1]) if head else ""
        if found != after:
            raise OutOfPlace(
                "The PostgreSQL store's decision log does not end where the copy left it"
                " (someone added a decision meanwhile): nothing more was copied into it."
            )
        digest = decision_hash(decision)
        row = conn.execute(
            "INSERT INTO decisions (uuid, body, hash) VALUES (%s, %s, %s) RETURNING seq",
            (str(decision.get("uuid", "")), json.dumps(decision, ensure_ascii=False), digest),
        ).fetchone()
        assert row is not None
        conn.execute("UPDATE decision_head SET seq = %s, hash = %s", (row[0], digest))
    return int(row[0])


def hash_at(conn: psycopg.Connection, seq: int) -> str:
    if seq <= 0:
        return ""
    found = conn.execute("SELECT hash FROM decisions WHERE seq = %s", (seq,)).fetchone()
    return str(found[0]) if found else ""


def after(
    conn: psycopg.Connection, seq: int
) -> tuple[list[tuple[int, dict[str, Any]]], tuple[StoreError, ...]]:
    """(seq, decision) of those after `seq`, and why each of the wrong shape was left out."""
    found = conn.execute(
        "SELECT seq, body FROM decisions WHERE seq > %s ORDER BY seq", (seq,)
    ).fetchall()
    return shaped(found)


def shaped(
    found: list[tuple[Any, ...]],
) -> tuple[list[tuple[int, dict[str, Any]]], tuple[StoreError, ...]]:
    """(seq, body) rows as decisions, and why each of the wrong shape was left out."""
    good: list[tuple[int, dict[str, Any]]] = []
    bad: list[StoreError] = []
    for at, body in found:
        try:
            good.append((int(at), schema.review_row(schema.parse_json(body.encode("utf-8")))))
        except schema.ShapeError as error:
            bad.append(StoreError(f"The decision {at} of the PostgreSQL store: {error}."))
    return good, tuple(bad)


class DecisionsUnread(StoreError):
    def __init__(self, error: psycopg.Error) -> None:
        first = reason(error)
        super().__init__(
            f"Could not read the review decisions of the PostgreSQL store: {first}. Nothing"
            " was lost: what was sent before this has landed; try again.",
            f"无法读取 PostgreSQL 存储的审核决定：{first}。没有丢失任何内容（此前发送的已保存），"
            "请重试。",
        )


class PgDecisionLog:
    """The database's decisions read as `store.decision_log.DecisionLog` reads a folder's:
    from a mark on, checking the decision the mark names is still there as it was."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.damaged: tuple[StoreError, ...] = ()

    def owns(self, error: object) -> bool:
        return any(error is mine for mine in self.damaged)

    def read_since(self, known: DecisionMark | None) -> Reading:
        try:
            return self._read_since(known)
        except psycopg.Error as error:
            # The server went away (a restart, a failover) after a push had committed: a
            # sentence, not the driver's traceback; the next sync reads them from the mark.
            raise DecisionsUnread(error) from None

    def _read_since(self, known: DecisionMark | None) -> Reading:
        lost = False
        if known is not None:
            if known.seq == 0 or hash_at(self.conn, known.seq) == known.hash:
                entries, self.damaged = after(self.conn, known.seq)
                return Reading(entries, known.hash, _mark_after(entries, known), whole=False)
            lost = True
        entries, self.damaged = after(self.conn, 0)
        start = DecisionMark(0, "", None)
        return Reading(entries, "", _mark_after(entries, start), whole=True, lost=lost)


def _mark_after(entries: list[tuple[int, dict[str, Any]]], known: DecisionMark) -> DecisionMark:
    if not entries:
        return known
    seq, last = entries[-1]
    return DecisionMark(seq, decision_hash(last), None)
