"""What a write into the shared store adds, flags and repoints, worked out without a file.

The shared store (`shared.py`) reads the index, hands this the rows it holds and the records
it may take, and writes what comes back, once, under its lock.

Nothing is ever overwritten: a record whose bytes are indexed already (same record hash) is
a no-op; a different record under a uuid and revision already there is added beside it and
both are flagged as a conflict; a later revision marks the earlier ones superseded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Candidate:
    """A record the index may take: one being sent, or one found in an orphan batch
    (`placed`: its row already says where it lies)."""

    row: dict[str, Any]
    line: bytes
    digest: str
    placed: bool


@dataclass
class Plan:
    new_rows: list[tuple[dict[str, Any], bytes]] = field(default_factory=list)
    """Rows for records to write into a new batch, which fills in where each lies."""
    placed: list[dict[str, Any]] = field(default_factory=list)
    flag_conflict: set[int] = field(default_factory=set)
    supersede: set[int] = field(default_factory=set)
    repoint: dict[str, tuple[dict[str, Any], bytes]] = field(default_factory=dict)
    """By record hash: where the fresh copy goes (filled in by the batch write) and its bytes."""
    repoint_rows: dict[str, list[int]] = field(default_factory=dict)
    taken_batches: set[str] = field(default_factory=set)
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    repointed: list[str] = field(default_factory=list)

    @property
    def to_write(self) -> list[tuple[dict[str, Any], bytes]]:
        """What goes into the new batch: new records, then fresh copies of damaged ones."""
        return [*self.new_rows, *self.repoint.values()]


def make_plan(
    candidates: Iterable[Candidate],
    existing: dict[int, dict[str, Any]],
    synced_at: str,
    host: str,
    damaged: Iterable[int] = (),
) -> Plan:
    """`existing`: the index's rows of the right shape, by doc id. `damaged`: those whose
    record is missing or not as indexed; a candidate with the same bytes is written again
    and those rows point at it."""
    plan = Plan()
    broken_ids = set(damaged)
    # Entries are (doc id, row): None for a row this plan adds, flagged on the row itself.
    by_version: dict[tuple[str, int], list[tuple[int | None, dict[str, Any]]]] = {}
    by_uuid: dict[str, list[tuple[int | None, dict[str, Any]]]] = {}

    def remember(doc_id: int | None, row: dict[str, Any]) -> None:
        by_version.setdefault((row["uuid"], row["revision"]), []).append((doc_id, row))
        by_uuid.setdefault(row["uuid"], []).append((doc_id, row))

    def flag(doc_id: int | None, row: dict[str, Any], name: str, ids: set[int]) -> None:
        if doc_id is None:
            row[name] = True
        else:
            ids.add(doc_id)

    for known, row in existing.items():
        remember(known, row)
    for candidate in candidates:
        uuid, revision = candidate.row["uuid"], int(candidate.row["revision"])
        same_version = by_version.get((uuid, revision), [])
        same_bytes = [
            doc_id
            for doc_id, row in by_uuid.get(uuid, [])
            if row["record_hash"] == candidate.digest
        ]
        broken = [d for d in same_bytes if d is not None and d in broken_ids]
        if broken and not candidate.placed and candidate.digest not in plan.repoint:
            plan.repoint[candidate.digest] = ({}, candidate.line)
            plan.repoint_rows[candidate.digest] = broken
            plan.repointed.append(uuid)
            continue
        if any(d not in broken_ids for d in same_bytes) or candidate.digest in plan.repoint:
            if not candidate.placed:
                plan.unchanged.append(uuid)
            continue
        conflict = bool(same_version)
        for doc_id, row in same_version:
            flag(doc_id, row, "conflict", plan.flag_conflict)
        if not candidate.placed:
            (plan.conflicts if conflict else plan.added).append(uuid)
        earlier = by_uuid.get(uuid, [])
        for doc_id, row in earlier:
            if row["revision"] < revision and not row.get("superseded"):
                flag(doc_id, row, "superseded", plan.supersede)
        latest = max((row["revision"] for _, row in earlier), default=0)
        new = dict(candidate.row) | {
            "record_hash": candidate.digest,
            "conflict": conflict,
            "superseded": revision < latest,
        }
        if candidate.placed:
            plan.placed.append(new)
            plan.taken_batches.add(new["batch"])
        else:
            new |= {"synced_at": synced_at, "host": host}
            plan.new_rows.append((new, candidate.line))
        remember(None, new)
    return plan
