"""Sync: this laptop's signed visits into the shared store, and review decisions back.

Order matters for crash safety: the shared store is written first (batch, then index),
the laptop's ledger last. A sync killed anywhere in between leaves the next sync to find
the visits already there (same record, so a no-op) and finish the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pos_tui.domain.session import Status
from pos_tui.store import checklist_copies
from pos_tui.store.checklist_copies import CHECKLISTS_DIR
from pos_tui.store.ledger import SyncLedger
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import Outgoing, PushReport, SharedStore, record_hash
from pos_tui.store.storage import StoreWriteFailed
from pos_tui.store.summary import VisitSummary

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total); stages: "reading", "writing", "reviews"."""


@dataclass
class SyncReport:
    pushed: PushReport = field(default_factory=PushReport)
    reviews_applied: int = 0
    target: Path | None = None

    def sentence(self) -> str:
        pushed = self.pushed
        parts = [f"{len(pushed.added)} visit{'s' if len(pushed.added) != 1 else ''} synced"]
        if pushed.unchanged:
            parts.append(f"{len(pushed.unchanged)} already there")
        if pushed.conflicts:
            parts.append(f"{len(pushed.conflicts)} kept as conflicts for the supervisor")
        if self.reviews_applied:
            parts.append(f"{self.reviews_applied} review decision(s) received")
        return ", ".join(parts) + f" ({self.target})."


def pending(local: LocalStore, target: Path) -> list[VisitSummary]:
    """Finished visits whose current revision has not reached `target` yet."""
    synced = SyncLedger(local.folder, read_only=local.read_only).synced(target)
    return [
        summary
        for summary in local.summaries()
        if summary.status != Status.DRAFT and synced.get(summary.uuid, -1) < summary.revision
    ]


def sync(
    local: LocalStore,
    target: Path,
    progress: Progress | None = None,
    create: bool = False,
    lock_timeout: float | None = None,
) -> SyncReport:
    shared = SharedStore.open(target, create=create)
    if lock_timeout is not None:
        shared.lock_timeout = lock_timeout
    report = SyncReport(target=target)
    todo = pending(local, target)
    outgoing = []
    for done, summary in enumerate(todo, start=1):
        outgoing.append(Outgoing(summary.to_row(), local.read_raw(summary.uuid)))
        if progress is not None:
            progress("reading", done, len(todo))
    if outgoing:
        _copy_checklists(local, shared)
        report.pushed = shared.push(
            outgoing,
            {"device_id": str(outgoing[0].row.get("device_id", ""))},
            None if progress is None else lambda done: progress("writing", done, len(outgoing)),
        )
        SyncLedger(local.folder).add(
            target,
            ((o.row["uuid"], int(o.row["revision"]), record_hash(o.raw)) for o in outgoing),
        )
        local.mark_synced(report.pushed.landed)
    decisions = report.pushed.reviews if outgoing else shared.reviews()
    report.reviews_applied = pull_reviews(local, decisions)
    return report


def _copy_checklists(local: LocalStore, shared: SharedStore) -> None:
    """The shared store needs the checklists' words to show and report the visits."""
    try:
        for path in sorted((local.folder / CHECKLISTS_DIR).glob("*.yaml")):
            checklist_copies.keep_file(shared.folder, path.stem, path)
    except OSError as error:
        raise StoreWriteFailed(shared.folder / CHECKLISTS_DIR, error) from None


def pull_reviews(local: LocalStore, decisions: list[dict[str, Any]]) -> int:
    mine = {summary.uuid for summary in local.summaries() if summary.status != Status.DRAFT}
    applied = 0
    for decision in sorted(decisions, key=lambda row: row.get("at", "")):
        if decision.get("uuid") in mine and apply_review(local, decision):
            applied += 1
    return applied


def apply_review(local: LocalStore, decision: dict[str, Any]) -> bool:
    """Record a supervisor's decision on one of this laptop's visits; False if known."""
    session = local.load(decision["uuid"])
    if any(e.detail.get("decision_id") == decision["id"] for e in session.events):
        return False
    session.mark(
        Status.REVIEWED,
        decision.get("reviewer", ""),
        {
            "decision_id": decision["id"],
            "decision": decision["decision"],
            "comment": decision.get("comment", ""),
            "at": decision.get("at", ""),
        },
    )
    local.save(session)
    return True
