"""`pos-tui shared check URL`: what `store/shared_check.py` checks of a folder, for a database.

Anyone with write access to the tables can change a row (a DBA, a tool, a stolen account),
so the check reads what the rows say against what they should be: each record's bytes
against its record hash (hashed by the server), the evidence files each sound record names
(there, and hashing to their names, also by the server), the decision log's chain (a
decision removed or moved leaves a gap before the next) and the keyring's replay (an entry
changed, removed or out of order). Each problem is one sentence naming the visit and the
laptop that can send it again (`pos-tui sync --repair --to URL`); nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pos_tui.domain.decisions import GAP_BEFORE, check_log
from pos_tui.domain.keyring import replay
from pos_tui.store import schema
from pos_tui.store.keyring import read_lines
from pos_tui.store.pg import paging
from pos_tui.store.pg.store import PgSharedStore
from pos_tui.store.shared_check import Damage, damage_lines, evidence_problem, named_files

FETCH = 200
"""Records read from the server at a time: a check of 100,000 holds a few megabytes."""


@dataclass
class PgCheckReport:
    url: str
    records: int = 0
    evidence_files: int = 0
    decisions: int = 0
    keyring_entries: int = 0
    damage: list[Damage] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    """Rows and decisions of the wrong shape, and problems of the chains, as sentences."""

    @property
    def ok(self) -> bool:
        return not self.damage and not self.unreadable

    def lines(self) -> list[str]:
        lines = [*self.unreadable, *damage_lines(self.damage, self.url)]
        if self.ok:
            lines.insert(
                0,
                f"The PostgreSQL store {self.url} is sound: {self.records} record(s) match"
                f" their record hashes, the {self.evidence_files} evidence file(s) they name"
                f" hash to their names, and the {self.decisions} decision(s) and"
                f" {self.keyring_entries} keyring line(s) follow their chains.",
            )
        else:
            wrong = len(self.damage) + len(self.unreadable)
            lines.insert(0, f"The PostgreSQL store {self.url} has {wrong} problem(s):")
        return lines


def check_database(store: PgSharedStore) -> PgCheckReport:
    report = PgCheckReport(store.url)
    rows = store.rows()
    report.unreadable.extend(str(error) for error in store.damaged)
    report.records = len(rows)
    damaged = store.damaged_rows()
    changed = {row["id"] for row in damaged}
    report.damage.extend(
        Damage(
            str(row["id"]),
            row,
            "its record in the database no longer hashes to its record hash: the bytes"
            " were changed",
        )
        for row in damaged
    )
    by_id = {row["id"]: row for row in rows}
    _check_evidence(store, by_id, changed, report)
    _check_chains(store, report)
    return report


def _check_evidence(
    store: PgSharedStore,
    rows: dict[int, dict[str, Any]],
    changed: set[int],
    report: PgCheckReport,
) -> None:
    """Each sound record's files, each file hashed once however many records name it."""
    seen: dict[tuple[str, int], str | None] = {}
    with store.conn.transaction(), store.conn.cursor(name="pos_tui_check") as cursor:
        cursor.itersize = FETCH
        cursor.execute(f"SELECT id, record FROM {paging.ROWS_FROM} ORDER BY id")
        for at, record in cursor:
            row = rows.get(int(at))
            if row is None or at in changed:
                continue
            try:
                document = schema.tinydb_document(schema.parse_json(bytes(record)))
                visit, _events = schema.visit_document(document)
            except schema.ShapeError:
                continue  # not a record that names anything; review says what it is
            try:
                named = named_files(visit)
            except schema.ShapeError as error:
                report.damage.append(
                    Damage(str(at), row, f"its record names no file a store keeps ({error})")
                )
                continue
            for file in named:
                key = (file.sha256, file.size)
                if key not in seen:
                    seen[key] = store.files.check(file.sha256, file.size)
                if seen[key] is not None:
                    report.damage.append(
                        Damage(str(at), row, evidence_problem(file, str(seen[key]), ""))
                    )
    report.evidence_files = len(seen)


def _check_chains(store: PgSharedStore, report: PgCheckReport) -> None:
    lines = read_lines(store)
    ring = replay(lines)
    report.keyring_entries = len(lines)
    report.unreadable.extend(f"In the keyring: {problem}." for problem in ring.problems)
    decisions = store.decisions_after(0)
    report.unreadable.extend(str(error) for error in store.damaged)
    report.decisions = len(decisions)
    checked = check_log([row for _seq, row in decisions], ring)
    for (seq, _row), found in zip(decisions, checked, strict=True):
        if GAP_BEFORE in found.reasons:
            report.unreadable.append(
                f"The decision {seq} (on visit {found.uuid}) does not follow the decision"
                " before it: one was removed or moved."
            )
