"""`PgSharedStore`: the shared store in PostgreSQL, with `SharedStore`'s public methods.

One transaction per push. It first locks the rows of `visit_heads` of the visits it
carries (created beforehand if new, in sorted order, so two pushes never deadlock), reads
only those visits' rows, lets `shared_plan.make_plan` decide exactly as for a folder, and
writes: new index rows and their records' bytes (`record_hash` is unique, so a record is
never stored twice), conflict and supersede flags, fresh bytes for damaged records on a
repair.
Pushes of other visits go on meanwhile; nothing locks the table. Evidence files go first,
outside the transaction (`evidence.py`). Review decisions are chained through the one row
of `decision_head`, locked for the transaction that appends.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.keyring import GENESIS, Keyring
from pos_tui.domain.signatures import Signer
from pos_tui.domain.stats import FailureStats, Rate, most_failed
from pos_tui.store import schema
from pos_tui.store.evidence_files import EvidenceFiles
from pos_tui.store.file_meter import FileProgress
from pos_tui.store.keyring import trusted_keyring
from pos_tui.store.pg import decisions as pg_decisions
from pos_tui.store.pg import keyring as pg_keyring
from pos_tui.store.pg import paging
from pos_tui.store.pg.checklists import PgChecklists
from pos_tui.store.pg.connect import connect
from pos_tui.store.pg.evidence import PgEvidenceFiles
from pos_tui.store.pg.migrations import check_usable, migrate
from pos_tui.store.pg.reading import reading, reading_rows, reason
from pos_tui.store.pg.sending import send_files
from pos_tui.store.shared import Outgoing, PushReport
from pos_tui.store.shared_plan import Candidate, Plan, make_plan
from pos_tui.store.storage import StoreError

RETRIES = 3
"""Tries of a transaction the server gave up on (a deadlock it broke, a lost race)."""

_OWN = ("id", "uuid", "revision", "record_hash", "conflict", "superseded", "synced_at", "host")
_LOCATION = ("batch", "offset", "length")
_INSERT_BODY = """
INSERT INTO visit_bodies (record_hash, record, summary) VALUES (%s, %s, %s)
ON CONFLICT (record_hash) DO NOTHING
"""
_INSERT_ROW = """
INSERT INTO visits (uuid, revision, record_hash, conflict, superseded, synced_at, host,
                    device_id, status, verdict, merchant_name, merchant_number, technician,
                    updated_at, failures)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (record_hash) DO NOTHING
"""


class PgWriteFailed(StoreError):
    def __init__(self, url: str, error: psycopg.Error) -> None:
        first = reason(error)
        super().__init__(
            f"Could not write to the PostgreSQL store {url}: {first}. Nothing was changed;"
            " try again.",
            f"无法写入 PostgreSQL 存储 {url}：{first}。未作任何改动，请重试。",
        )


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def body_values(row: dict[str, Any], line: bytes) -> tuple[Any, ...]:
    """One row of `visit_bodies`: the record's bytes and the summary (also for COPY)."""
    summary = {k: v for k, v in row.items() if k not in _OWN and k not in _LOCATION}
    return (row["record_hash"], line, json.dumps(summary, ensure_ascii=False))


def row_values(row: dict[str, Any]) -> tuple[Any, ...]:
    """One row of `visits` from a plan's row (also for COPY)."""

    def text(name: str) -> str:
        value = row.get(name, "")
        return value if isinstance(value, str) else ""

    failures = row.get("failures")
    return (
        row["uuid"],
        int(row["revision"]),
        row["record_hash"],
        bool(row.get("conflict")),
        bool(row.get("superseded")),
        text("synced_at"),
        text("host"),
        text("device_id"),
        text("status"),
        text("verdict"),
        text("merchant_name"),
        text("merchant_number"),
        text("technician"),
        text("updated_at"),
        failures if type(failures) is int else 0,
    )


def insert_rows(cur: psycopg.Cursor, rows: list[tuple[dict[str, Any], bytes]]) -> None:
    """Plan rows and their records, in the cursor's transaction: the body first, which the
    index row refers to; a record already there by hash is left as it is."""
    cur.executemany(_INSERT_BODY, [body_values(row, line) for row, line in rows])
    cur.executemany(_INSERT_ROW, [row_values(row) for row, _line in rows])


class PgSharedStore:
    def __init__(self, conn: psycopg.Connection, url: str) -> None:
        self.conn = conn
        self.url = url
        self.files = PgEvidenceFiles(conn, self)
        self.checklists = PgChecklists(conn)
        self.damaged: tuple[StoreError, ...] = ()
        """Rows and decisions of the last read that were of the wrong shape and left out."""
        self.decision_log = pg_decisions.PgDecisionLog(conn)

    @property
    def location(self) -> str:
        """The store as the user named it, for sentences and the sync ledger."""
        return self.url

    def __str__(self) -> str:
        return self.url

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """What the folder store's lock is to the keyring's writers: one administrator
        at a time reads the ring's head and appends after it (an advisory lock, which the
        append's own transaction takes again: they nest within one session)."""
        self.conn.execute("SELECT pg_advisory_lock(%s, 0)", (pg_keyring.KEYRING_LOCK,))
        try:
            yield
        finally:
            self.conn.execute("SELECT pg_advisory_unlock(%s, 0)", (pg_keyring.KEYRING_LOCK,))

    @property
    def keyring_place(self) -> PgSharedStore:
        """Where `store.keyring` finds this store's keyring: the store keeps it itself."""
        return self

    @reading
    def load_checklist(self, sha256: str) -> Checklist:
        return self.checklists.load(sha256)

    @reading
    def load_all_checklists(self) -> tuple[list[Checklist], list[StoreError]]:
        return self.checklists.load_all()

    @classmethod
    def open(cls, url: str) -> PgSharedStore:
        """A store initialised by this program's schema; refused with a sentence otherwise."""
        conn = connect(url)
        try:
            check_usable(conn, url)
        except BaseException:
            conn.close()
            raise
        return cls(conn, url)

    @classmethod
    def init(cls, url: str) -> PgSharedStore:
        """Create the schema, or bring an older one up to date (`shared init`)."""
        conn = connect(url)
        try:
            migrate(conn, url)
        except psycopg.Error as error:
            conn.close()
            raise PgWriteFailed(url, error) from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, url)

    def close(self) -> None:
        self.conn.close()

    def reconnect_if_lost(self) -> None:
        """A new connection in place of one the server or the network dropped (a review
        session outlives a restart of the server), for this store and its parts."""
        if not (self.conn.closed or self.conn.broken):
            return
        conn = connect(self.url)
        try:
            check_usable(conn, self.url)
        except BaseException:
            conn.close()
            raise
        self.conn.close()
        self.conn = self.files.conn = self.checklists.conn = self.decision_log.conn = conn

    def __enter__(self) -> PgSharedStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------

    @reading
    def rows(self) -> list[dict[str, Any]]:
        """Every synced version, in the order they arrived; superseded ones too."""
        found = self.conn.execute(
            f"SELECT {paging.ROW_COLUMNS} FROM {paging.ROWS_FROM} ORDER BY id"
        )
        return self._rows(found.fetchall())

    @reading_rows
    def iter_rows(self, chunk: int = 500) -> Iterator[dict[str, Any]]:
        """The rows of `rows`, in the order they arrived, through a server-side cursor:
        `chunk` rows in memory at a time, whatever the store holds (an export). The cursor
        lives in a read-only transaction of its own, which the records read meanwhile on
        this connection share; a bad row is said in `damaged` once its chunk is read."""
        bad: list[StoreError] = []
        self.damaged = ()
        with (
            self.conn.transaction(),
            self.conn.cursor(name="pos_tui_iter_rows") as cursor,
        ):
            cursor.execute(f"SELECT {paging.ROW_COLUMNS} FROM {paging.ROWS_FROM} ORDER BY id")
            while found := cursor.fetchmany(chunk):
                rows = self._rows(found)
                bad.extend(self.damaged)
                self.damaged = tuple(bad)
                yield from rows

    @reading
    def rows_of(self, uuid: str) -> list[dict[str, Any]]:
        """Every synced version of one visit, superseded and conflicting ones too."""
        found = self.conn.execute(
            f"SELECT {paging.ROW_COLUMNS} FROM {paging.ROWS_FROM} WHERE uuid = %s ORDER BY id",
            (uuid,),
        )
        return self._rows(found.fetchall())

    def _rows(self, found: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
        rows, bad = [], []
        for values in found:
            summary = values[-1]
            row = (summary if isinstance(summary, dict) else {}) | dict(
                zip(_OWN, values[:-1], strict=True)
            )
            try:
                schema.summary_row(row, f"the row {row['id']} of visits")
            except schema.ShapeError as error:
                bad.append(StoreError(f"In the PostgreSQL store {self.url}: {error}."))
                continue
            rows.append(row)
        self.damaged = tuple(bad)
        return rows

    @reading
    def read_record(self, row: dict[str, Any]) -> dict[str, Any]:
        at = row.get("id")
        if type(at) is not int:
            raise StoreError("That row names no record of the PostgreSQL store (it has no id).")
        found = self.conn.execute(
            f"SELECT record FROM {paging.ROWS_FROM} WHERE id = %s", (at,)
        ).fetchone()
        if found is None:
            raise StoreError(f"The record {at} is missing from the PostgreSQL store {self.url}.")
        try:
            document = schema.tinydb_document(schema.parse_json(bytes(found[0])))
            visit, events = schema.visit_document(document)
        except schema.ShapeError as error:
            raise StoreError(
                f"The record {at} of the PostgreSQL store is damaged: {error}."
            ) from None
        return {"visit": visit, "events": events}

    @reading
    def damaged_rows(self, uuids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Rows whose bytes no longer hash to their record hash (hashed by the server)."""
        query = (
            f"SELECT {paging.ROW_COLUMNS} FROM {paging.ROWS_FROM}"
            " WHERE encode(sha256(record), 'hex') <> record_hash"
        )
        if uuids is None:
            return self._rows(self.conn.execute(query + " ORDER BY id").fetchall())
        found = self.conn.execute(query + " AND uuid = ANY(%s) ORDER BY id", (sorted(set(uuids)),))
        return self._rows(found.fetchall())

    @reading
    def page(
        self,
        filters: paging.Filters | dict[str, Any] | None = None,
        sort: str = "-synced_at",
        offset: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        query, params = paging.page_query(paging.Filters.of(filters), sort, offset, limit)
        return self._rows(self.conn.execute(query, params).fetchall())

    @reading
    def count(self, filters: paging.Filters | dict[str, Any] | None = None) -> int:
        query, params = paging.count_query(paging.Filters.of(filters))
        found = self.conn.execute(query, params).fetchone()
        return int(found[0]) if found else 0

    @reading
    def stats(self, filters: paging.Filters | dict[str, Any] | None = None) -> dict[str, Any]:
        query, params = paging.stats_query(paging.Filters.of(filters))
        return paging.stats_of(self.conn.execute(query, params).fetchall())

    @reading
    def list_page(
        self,
        filters: paging.Filters | dict[str, Any] | None,
        sort: str = "attention",
        descending: bool = False,
        offset: int = 0,
        limit: int = 200,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of the review list (`paging.LIST_SORTS`), and how many rows match when
        the page says it (it is not full); None otherwise: ask `count`."""
        chosen = paging.Filters.of(filters)
        found: list[tuple[Any, ...]] = []
        for query, params in paging.list_queries(chosen, sort, descending, offset, limit):
            found = self.conn.execute(query, params).fetchall()
            if len(found) == limit:
                break
        matched = offset + len(found) if len(found) < limit else None
        return self._rows(found), matched

    @reading
    def decisions_of(self, uuids: Iterable[str]) -> list[dict[str, Any]]:
        """The decisions on these visits, in log order; one of the wrong shape left out."""
        found = self.conn.execute(paging.DECISIONS_OF, (sorted(set(uuids)),)).fetchall()
        good, _bad = pg_decisions.shaped(found)
        return [decision for _seq, decision in good]

    @reading
    def versions_of(self, uuids: Iterable[str]) -> dict[str, int]:
        """How many rows (revisions, conflicts) each of these visits has."""
        found = self.conn.execute(paging.VERSIONS_OF, (sorted(set(uuids)),)).fetchall()
        return {str(uuid): int(n) for uuid, n in found}

    @reading
    def technicians(self) -> list[str]:
        return [str(name) for (name,) in self.conn.execute(paging.TECHNICIANS).fetchall()]

    @reading
    def failure_stats(self, filters: paging.Filters | dict[str, Any] | None = None) -> FailureStats:
        """`domain.stats.failure_stats` of the matching rows, counted by the database."""
        counts = {
            name: self.conn.execute(query, params).fetchall()
            for name, (query, params) in paging.failure_queries(paging.Filters.of(filters)).items()
        }
        ran = {str(key): int(n) for key, n in counts["ran"]}
        items = [
            Rate(str(key), int(n), max(ran.get(str(key).partition("/")[0], 0), int(n)))
            for key, n in counts["items"]
        ]
        failed_areas = {str(key): int(n) for key, n in counts["areas"]}
        areas = [Rate(area, failed_areas.get(area, 0), total) for area, total in ran.items()]
        people = [Rate(str(k), int(f), int(n)) for k, n, f in counts["technicians"]]
        months = [Rate(str(k), int(f), int(n)) for k, n, f in counts["months"]]
        return FailureStats(
            visits=sum(rate.total for rate in people),
            items=most_failed(items),
            areas=most_failed(areas),
            technicians=most_failed(people),
            months=sorted(months, key=lambda rate: rate.key),
        )

    # -- writing visits ------------------------------------------------------------------

    def push(
        self,
        records: list[Outgoing],
        origin: dict[str, str],
        progress: Callable[[int, int], None] | None = None,
        checklists: Iterable[tuple[str, Path]] = (),
        evidence: EvidenceFiles | None = None,
        file_progress: FileProgress | None = None,
    ) -> PushReport:
        """Add visit records in one transaction; safe to repeat, never overwrites. The
        evidence files they name and the store lacks go first; a record one of whose files
        is not whole on the laptop is refused (`PushReport.refused`), the others go on."""
        self.reconnect_if_lost()
        return self._write(records, origin, progress, checklists, evidence, file_progress, False)

    def repair(
        self,
        records: list[Outgoing],
        origin: dict[str, str],
        progress: Callable[[int, int], None] | None = None,
        checklists: Iterable[tuple[str, Path]] = (),
        evidence: EvidenceFiles | None = None,
        file_progress: FileProgress | None = None,
    ) -> PushReport:
        """A push that also hashes the evidence already here (sending again any file that
        no longer hashes to its name) and gives back their bytes to rows of these visits
        whose record was changed in the database, when `records` holds them."""
        self.reconnect_if_lost()
        return self._write(records, origin, progress, checklists, evidence, file_progress, True)

    def _write(
        self,
        records: list[Outgoing],
        origin: dict[str, str],
        progress: Callable[[int, int], None] | None,
        checklists: Iterable[tuple[str, Path]],
        evidence: EvidenceFiles | None,
        file_progress: FileProgress | None,
        repair: bool,
    ) -> PushReport:
        report = PushReport()
        try:
            report.removed_temp_files = self.files.remove_stale_parts()
            writer = origin.get("device_id", "")
            records = send_files(
                self.files, records, evidence, file_progress, report, repair, writer
            )
            offered = list(checklists)
            lacking = self.checklists.missing(sha for sha, _path in offered)
            copies = PgChecklists.read_files((s, p) for s, p in offered if s in lacking)
            plan = self._retrying(lambda: self._apply(records, copies, repair))
        except psycopg.Error as error:
            raise PgWriteFailed(self.url, error) from None
        for outcome in ("added", "unchanged", "conflicts", "repointed"):
            setattr(report, outcome, getattr(plan, outcome))
        for done, _ in enumerate(plan.to_write, start=1):
            if progress is not None:
                progress(done, len(plan.to_write))
        return report

    def _retrying(self, attempt: Callable[[], Plan]) -> Plan:
        for tried in range(1, RETRIES + 1):
            try:
                return attempt()
            except (errors.DeadlockDetected, errors.SerializationFailure):
                if tried == RETRIES:
                    raise
        raise AssertionError("unreachable")

    def _make_heads(self, uuids: list[str]) -> None:
        """A head row per visit, committed at once, in order: a head row is no data, and
        made beforehand the write's transaction only locks rows that exist, always in the
        same order (`_lock_heads`)."""
        if uuids:
            self.conn.execute(
                "INSERT INTO visit_heads (uuid) SELECT u FROM unnest(%s::text[]) AS u"
                " ORDER BY u ON CONFLICT (uuid) DO NOTHING",
                (uuids,),
            )

    def _apply(
        self, records: list[Outgoing], copies: list[tuple[str, bytes]], repair: bool
    ) -> Plan:
        uuids = sorted({record.uuid for record in records})
        self._make_heads(uuids)
        with self.conn.transaction(), self.conn.cursor() as cur:
            _lock_heads(cur, uuids)
            existing = {
                int(at): {
                    "uuid": u,
                    "revision": r,
                    "record_hash": h,
                    "conflict": c,
                    "superseded": s,
                }
                for at, u, r, h, c, s in cur.execute(
                    "SELECT id, uuid, revision, record_hash, conflict, superseded FROM visits"
                    " WHERE uuid = ANY(%s)",
                    (uuids,),
                ).fetchall()
            }
            damaged: list[int] = []
            if repair and uuids:
                damaged = [
                    int(at)
                    for (at,) in cur.execute(
                        f"SELECT id FROM {paging.ROWS_FROM} WHERE uuid = ANY(%s)"
                        " AND encode(sha256(record), 'hex') <> record_hash",
                        (uuids,),
                    ).fetchall()
                ]
            candidates = [Candidate(dict(o.row), o.line, o.digest, placed=False) for o in records]
            plan = make_plan(candidates, existing, now(), socket.gethostname(), damaged)
            if plan.new_rows:
                insert_rows(cur, plan.new_rows)
            if plan.flag_conflict:
                cur.execute(
                    "UPDATE visits SET conflict = true WHERE id = ANY(%s)",
                    (sorted(plan.flag_conflict),),
                )
            if plan.supersede:
                cur.execute(
                    "UPDATE visits SET superseded = true WHERE id = ANY(%s)",
                    (sorted(plan.supersede),),
                )
            for digest, (_location, line) in plan.repoint.items():
                # Every row naming this hash names one body: mended once, in place.
                cur.execute(
                    "UPDATE visit_bodies SET record = %s WHERE record_hash = %s", (line, digest)
                )
            self.checklists.keep(copies, cur)
        return plan

    # -- taking in another store, verbatim (`store/migrate.py`) -----------------------------

    def import_rows(self, rows: list[tuple[dict[str, Any], bytes]]) -> int:
        """Index rows of another store and their records' bytes, as they are there: the
        flags, the time each was synced and the host it came from are kept, not worked out
        again, so the copy says what the original says. A record here already (by hash) is
        left as it is but takes the original's flags (a flag is only ever set); how many
        were new. One transaction, under the locks of these visits' heads, as a push."""
        if not rows:
            return 0
        uuids = sorted({str(row["uuid"]) for row, _line in rows})
        hashes = [str(row["record_hash"]) for row, _line in rows]
        try:
            self._make_heads(uuids)
            with self.conn.transaction(), self.conn.cursor() as cur:
                _lock_heads(cur, uuids)
                there = {
                    found
                    for (found,) in cur.execute(
                        "SELECT record_hash FROM visits WHERE record_hash = ANY(%s)", (hashes,)
                    ).fetchall()
                }
                insert_rows(cur, [(row, line) for row, line in rows])
                for flag in ("conflict", "superseded"):
                    flagged = [str(row["record_hash"]) for row, _line in rows if row.get(flag)]
                    if flagged:
                        cur.execute(
                            f"UPDATE visits SET {flag} = true"
                            f" WHERE record_hash = ANY(%s) AND NOT {flag}",
                            (flagged,),
                        )
        except psycopg.Error as error:
            raise PgWriteFailed(self.url, error) from None
        return len({h for h in hashes if h not in there})

    def import_keyring_lines(self, lines: list[str], after: int) -> None:
        """Keyring lines of another store, as written there (signed and chained, so never
        signed again), after the first `after` entries here; refused when the ring here has
        another length by then (an administrator appended meanwhile)."""
        try:
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (pg_keyring.KEYRING_LOCK,))
                found = self.conn.execute("SELECT count(*) FROM keyring").fetchone()
                if (int(found[0]) if found else 0) != after:
                    raise StoreError(
                        f"The keyring of {self.url} changed while it was being copied into:"
                        " nothing more was added to it."
                    )
                for line in lines:
                    self.conn.execute("INSERT INTO keyring (line) VALUES (%s)", (line,))
                if after == 0 and lines:
                    self._note_genesis(lines[0])
        except psycopg.Error as error:
            raise PgWriteFailed(self.url, error) from None

    def _note_genesis(self, line: str) -> None:
        # What `create_genesis` notes of a store it starts; the keyring stays the truth.
        try:
            entry = json.loads(line).get("entry") or {}
        except (ValueError, AttributeError):
            return
        if isinstance(entry, dict) and entry.get("action") == GENESIS:
            self.conn.execute(
                "INSERT INTO store_info (key, value) VALUES ('store_id', %s), ('name', %s)"
                " ON CONFLICT (key) DO NOTHING",
                (str(entry.get("store_id", "")), str(entry.get("name", ""))),
            )

    @reading
    def keyring_texts(self) -> list[str]:
        """The keyring's lines as stored, in order (for comparing with another store's)."""
        return [str(line) for (line,) in self.conn.execute("SELECT line FROM keyring ORDER BY seq")]

    def import_decision(self, decision: dict[str, Any], after: str) -> int:
        """Another store's decision, as it is there, after the one hashed `after`."""
        try:
            return pg_decisions.import_verbatim(self.conn, decision, after)
        except psycopg.Error as error:
            raise PgWriteFailed(self.url, error) from None

    # -- review decisions ----------------------------------------------------------------

    def add_review(self, review: dict[str, Any], signer: Signer) -> dict[str, Any]:
        """Append one review decision, signed after the one before it (`prev`)."""
        self.reconnect_if_lost()
        try:
            return pg_decisions.append(self.conn, review, signer)
        except psycopg.Error as error:
            raise PgWriteFailed(self.url, error) from None

    @reading
    def decision_hash_at(self, seq: int) -> str:
        """The hash of the decision at `seq` ('' for 0): the `prev` its successor names,
        for checking only the decisions after it (`check_log(..., prev=...)`)."""
        return pg_decisions.hash_at(self.conn, seq)

    def reviews(self) -> list[dict[str, Any]]:
        """Every review decision, in the order they were appended."""
        return [decision for _seq, decision in self.decisions_after(0)]

    @reading
    def decisions_after(self, seq: int) -> list[tuple[int, dict[str, Any]]]:
        """The decisions appended after `seq` (0: all), each with its own seq to ask from
        next time; one of the wrong shape is left out and said in `damaged`."""
        good, self.damaged = pg_decisions.after(self.conn, seq)
        return good

    # -- the keyring ---------------------------------------------------------------------

    @reading
    def keyring_entries(self) -> list[dict[str, Any]]:
        """`store.keyring.KeyringLog`: the one keyring code reads and pins this too."""
        return pg_keyring.read_lines(self.conn)

    def append_keyring_entry(self, line: dict[str, Any]) -> None:
        with self.conn.transaction():
            pg_keyring.insert_line(self.conn, line)

    def append_keyring(self, entry: dict[str, Any], signer: Signer) -> dict[str, Any]:
        return pg_keyring.append(self.conn, entry, signer)

    def create_genesis(self, admin: Signer, name: str, store_id: str = "") -> str:
        return pg_keyring.create_genesis(self.conn, admin, name, store_id)

    def trusted_keyring(self, data_folder: Path | None) -> Keyring:
        return trusted_keyring(self, data_folder)


def _lock_heads(cur: psycopg.Cursor[Any], uuids: list[str]) -> None:
    """Inside a write's transaction: these visits' head rows, locked in uuid order, so two
    writes of the same visit take turns and writes of other visits never wait."""
    cur.execute(
        "SELECT uuid FROM visit_heads WHERE uuid = ANY(%s) ORDER BY uuid FOR UPDATE",
        (uuids,),
    )
