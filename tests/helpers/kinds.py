"""A shared store of either kind for tests written once: a folder (Path) or a PostgreSQL
database (a `postgresql://` URL string), opened through the product's own `open_shared`.

The calls here are what a test asserts on (rows, records, files, the whole state a no-op
must leave as it was) and the faults each kind has of its own: for a folder its files are
edited, for a database its tables, as someone with write access to either could.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_tui.domain.signatures import Signer, canonical, sign
from pos_tui.store.targets import Target, open_shared

if TYPE_CHECKING:
    from pos_tui.store.pg.store import PgSharedStore
    from pos_tui.store.shared import SharedStore


def is_pg(target: Target) -> bool:
    return isinstance(target, str)


def init_empty(target: Target) -> None:
    """An empty store of that kind, without a keyring."""
    if is_pg(target):
        from pos_tui.store.pg.store import PgSharedStore

        PgSharedStore.init(str(target)).close()
    else:
        assert isinstance(target, Path)
        target.mkdir(parents=True, exist_ok=True)
        open_shared(target, create=True).close()


@contextlib.contextmanager
def opened(target: Target) -> Iterator[SharedStore | PgSharedStore]:
    store = open_shared(target)
    try:
        yield store
    finally:
        store.close()


def rows(target: Target) -> list[dict[str, Any]]:
    """Every synced version, superseded and conflicting ones too."""
    with opened(target) as store:
        return store.rows()


def read_record(target: Target, row: dict[str, Any]) -> dict[str, Any]:
    with opened(target) as store:
        return store.read_record(row)


def reviews(target: Target) -> list[dict[str, Any]]:
    with opened(target) as store:
        return store.reviews()


def sql(target: Target, query: str, *params: object) -> list[tuple[Any, ...]]:
    """A statement run in the database itself, past the store (a database store only)."""
    import psycopg

    assert is_pg(target), "only a database store has tables"
    with psycopg.connect(str(target), autocommit=True) as conn:
        cursor = conn.execute(query, params or None)
        return cursor.fetchall() if cursor.description else []


def state(target: Target) -> Any:
    """Everything a sync that has nothing to send must leave exactly as it was: for a
    folder its index files and batch files, for a database its tables' rows."""
    if is_pg(target):
        return {
            table: sql(target, f"SELECT * FROM {table} ORDER BY 1")
            for table in ("visits", "visit_bodies", "decisions", "keyring", "evidence_files")
        }
    assert isinstance(target, Path)
    return {
        str(path.relative_to(target)): path.read_bytes()
        for path in sorted(target.rglob("*"))
        if path.is_file() and path.name != ".lock"
    }


def stored_files(target: Target) -> set[str]:
    """The hashes of the evidence files the store holds whole."""
    if is_pg(target):
        return {sha for (sha,) in sql(target, "SELECT sha256 FROM evidence_files")}
    from pos_tui.store.evidence_files import EvidenceFiles

    return set(EvidenceFiles(Path(target)).stored())


def change_record_bytes(target: Target, row: dict[str, Any], old: str, new: str) -> None:
    """The record behind `row` edited where it lies, past the app: its hash no longer
    matches (a folder's batch file edited in place; a database's bytes updated)."""
    if is_pg(target):
        found = sql(target, "SELECT record_hash FROM visits WHERE id = %s", row["id"])
        [(record_hash,)] = found
        [(record,)] = sql(
            target, "SELECT record FROM visit_bodies WHERE record_hash = %s", record_hash
        )
        changed = bytes(record).replace(old.encode("utf-8"), new.encode("utf-8"))
        assert changed != bytes(record), f"{old!r} is not in the record"
        sql(
            target,
            "UPDATE visit_bodies SET record = %s WHERE record_hash = %s",
            changed,
            record_hash,
        )
        return
    assert isinstance(target, Path)
    batch = target / "batches" / row["batch"]
    data = batch.read_bytes()
    start, length = row["offset"], row["length"]
    line = data[start : start + length]
    changed = line.replace(old.encode("utf-8"), new.encode("utf-8"))
    assert changed != line and len(changed) == len(line), "give a same-length change"
    batch.chmod(0o644)
    batch.write_bytes(data[:start] + changed + data[start + length :])


def replace_keyring(target: Target, intruder: Signer, name: str = "管理员") -> None:
    """Someone with write access to the store starts its keyring again under their own
    key, keeping the store's id (so a machine that pinned the first administrator can
    tell): a folder's keyring.jsonl rewritten; a database's table emptied past its
    append-only trigger."""
    with opened(target) as store:
        from pos_tui.store.keyring import read_lines

        first = read_lines(store.keyring_place)[0]["entry"]
    entry = {"prev": "", "at": first["at"], "action": "genesis", "store_id": first["store_id"]}
    entry["name"] = name
    line = {"entry": entry, "signature": sign(intruder, canonical(entry)).to_dict()}
    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    if is_pg(target):
        sql(target, "ALTER TABLE keyring DISABLE TRIGGER keyring_append_only")
        sql(target, "DELETE FROM keyring")
        sql(target, "INSERT INTO keyring (line) VALUES (%s)", text)
        sql(target, "ALTER TABLE keyring ENABLE TRIGGER keyring_append_only")
        return
    from pos_tui.store.keyring import keyring_path

    keyring_path(Path(target)).write_text(text + "\n", "utf-8")
