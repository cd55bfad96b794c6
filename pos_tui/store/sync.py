"""Sync: this laptop's signed visits into the shared store, and review decisions back.

Order matters for crash safety: the shared store is written first (batch, then index),
the laptop's ledger next, the status in the laptop's index last. The ledger is what is
true about what landed, and the status follows from it: killed anywhere, the next sync
finds the visits already there (same record, a no-op) or takes in the orphan batch, and
marks synced every signed visit whose revision the ledger has, whether or not this sync
sent it.

What the shared store holds of a visit is its signed record. A review decision received
from the shared store is recorded on the laptop as an event, which bumps the visit's
revision; that revision is not news to the shared store. So the ledger records it as
represented by the signed record already there, and it is neither pending nor sent again.
When it has to be sent after all (the ledger was lost, or a repair), what is sent is the
signed record, rebuilt byte for byte from the visit file (`signed_record`).

The evidence files a record names go with it, before it (`SharedStore.push`): only those the
shared store lacks, each checked against its hash. A visit one of whose files is missing or
replaced on this laptop is not sent: on the share its record would be altered, and the
supervisor would see a broken visit where the laptop has a problem to mend. It stays
pending, said in `SyncReport.refusals`, and the other visits go.

Decisions come back by what is new: the ledger remembers how far into the store's decision
log this laptop has read (`DecisionMark`: a sequence number and that decision's hash), each
sync reads only the decisions after it, checks that the chain goes on from the remembered
hash (a gap is said, and the decisions still count, as in review), and loads only the
visits those decisions are about. The mark is written after the decisions are applied, with
their ledger rows: killed before, the next sync reads them again and finds them applied.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_tui.domain.decisions import check_log, counted, has_gap, record_sha256
from pos_tui.domain.session import Session, Status
from pos_tui.store import schema
from pos_tui.store.checklist_copies import CHECKLISTS_DIR
from pos_tui.store.decision_log import DecisionMark
from pos_tui.store.evidence_files import EvidenceFiles
from pos_tui.store.keyring import trusted_keyring
from pos_tui.store.ledger import Landed, SyncLedger
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import Outgoing, PushReport, SharedStore
from pos_tui.store.targets import Target, open_shared

if TYPE_CHECKING:
    from pos_tui.store.pg.store import PgSharedStore
from pos_tui.store.shared_check import NamedFile, named_files
from pos_tui.store.storage import StoreError, remove_stray_temp_files
from pos_tui.store.summary import VisitSummary, finished, summarize

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total); stages: "reading" (visits), "files" (evidence files
copied), "bytes" (their bytes), "writing" (records)."""

LOCAL_EVENTS = frozenset({str(Status.REVIEWED), str(Status.SYNCED)})
"""Events that only record what became of a signed visit; they change no signed content."""


@dataclass
class SyncReport:
    pushed: PushReport = field(default_factory=PushReport)
    reviews_applied: int = 0
    settled: int = 0
    """Signed visits an earlier, interrupted sync had landed, marked synced by this one."""
    forged_decisions: int = 0
    """Decisions in the store that no trusted reviewer signed: seen, never applied."""
    target: Target | None = None
    unsendable: list[tuple[str, str]] = field(default_factory=list)
    """(uuid, why) of visits whose record names evidence no store can keep."""
    decision_log_gap: bool = False
    """A decision was removed from, or moved in, the part of the store's log read now."""
    damaged_decisions: list[str] = field(default_factory=list)
    """Why each decision file read now was left out (unreadable, or not a decision)."""

    @property
    def refused(self) -> list[tuple[str, str]]:
        """(uuid, why) of every visit not sent because of its evidence: still pending."""
        return self.unsendable + self.pushed.refused

    def refusals(self) -> list[str]:
        """One sentence per visit not sent, saying what to mend."""
        return [
            f"Visit {uuid} was not sent: {why}. Sent as it is, its record would be altered;"
            " attach the file again (or detach it) on this laptop, then sync."
            for uuid, why in self.refused
        ]

    def sentence(self) -> str:
        pushed = self.pushed
        # An amended visit may send the revision it corrects with it: one visit, two records.
        visits = len(set(pushed.added))
        parts = [f"{visits} visit{'s' if visits != 1 else ''} synced"]
        if len(pushed.added) > visits:
            parts[0] += f" ({len(pushed.added)} revisions)"
        if pushed.files_copied:
            megabytes = pushed.bytes_copied / (1024 * 1024)
            parts.append(f"{pushed.files_copied} evidence file(s) copied ({megabytes:.1f} MB)")
        if self.refused:
            parts.append(f"{len(self.refused)} not sent: an evidence file is not whole")
        if pushed.unchanged:
            parts.append(f"{len(pushed.unchanged)} already there")
        if pushed.conflicts:
            parts.append(f"{len(pushed.conflicts)} kept as conflicts for the supervisor")
        if pushed.repointed:
            parts.append(f"{len(pushed.repointed)} missing or damaged record(s) sent again")
        if pushed.adopted:
            parts.append(f"{pushed.adopted} record(s) of an interrupted sync taken into the index")
        if pushed.removed_temp_files:
            parts.append(f"{pushed.removed_temp_files} leftover temporary file(s) removed")
        if self.settled:
            parts.append(f"{self.settled} visit(s) sent by an interrupted sync marked synced")
        if self.reviews_applied:
            parts.append(f"{self.reviews_applied} review decision(s) received")
        if self.forged_decisions:
            parts.append(
                f"{self.forged_decisions} decision(s) not signed by a trusted reviewer ignored"
            )
        if self.damaged_decisions:
            parts.append(f"{len(self.damaged_decisions)} unreadable decision file(s) left out")
        if self.decision_log_gap:
            parts.append(
                "the shared store's decision log has a gap (a decision was removed or moved);"
                " the others still count"
            )
        return ", ".join(parts) + f" ({self.target})."


@dataclass
class _Survey:
    pending: list[VisitSummary] = field(default_factory=list)
    caught_up: list[tuple[str, int, str]] = field(default_factory=list)
    """(uuid, revision, record hash) of revisions that only add review decisions to a
    signed record the ledger has: recorded in the ledger as landed, nothing sent."""
    settled: list[str] = field(default_factory=list)
    """Visits still "signed" in the index although the ledger has their revision."""


def _survey(local: LocalStore, target: Target, ledger: SyncLedger) -> _Survey:
    survey = _Survey()
    landed = ledger.landed(target)
    for summary in local.summaries():
        if not finished(summary.status):
            continue
        known = landed.get(summary.uuid)
        if known is not None and known.revision >= summary.revision:
            if summary.status == Status.SIGNED:
                survey.settled.append(summary.uuid)
            continue
        if known is not None and summary.status == Status.REVIEWED:
            # Only after a decision was applied and the sync was killed before recording
            # it: the one case that reads the visit file, and only once.
            signed = _signed_version(_raw_or_none(local, summary.uuid))
            if signed is not None and known.revision >= signed[0]:
                survey.caught_up.append((summary.uuid, summary.revision, known.record_hash))
                continue
        survey.pending.append(summary)
    return survey


def pending(local: LocalStore, target: Target) -> list[VisitSummary]:
    """Finished visits whose signed record has not reached `target` yet."""
    return _survey(local, target, SyncLedger(local.folder, read_only=local.read_only)).pending


def sync(
    local: LocalStore,
    target: Target,
    progress: Progress | None = None,
    create: bool = False,
    lock_timeout: float | None = None,
    repair: bool = False,
) -> SyncReport:
    """`repair`: send every finished visit, and have the shared store repoint the rows of
    any whose record there is missing or damaged (see `SharedStore.repair`)."""
    shared = open_shared(target, create=create)
    try:
        if lock_timeout is not None and isinstance(shared, SharedStore):
            shared.lock_timeout = lock_timeout
        return _sync(local, shared, target, progress, repair)
    finally:
        shared.close()


def _sync(
    local: LocalStore,
    shared: SharedStore | PgSharedStore,
    target: Target,
    progress: Progress | None,
    repair: bool,
) -> SyncReport:
    # First, before anything is sent: a store whose keyring was replaced is refused here.
    keyring = trusted_keyring(shared.keyring_place, local.folder)
    ledger = SyncLedger(local.folder)
    report = SyncReport(target=target)
    survey = _survey(local, target, ledger)
    todo = [s for s in local.summaries() if finished(s.status)] if repair else survey.pending
    outgoing: list[tuple[VisitSummary, Outgoing]] = []
    earlier: list[Outgoing] = []
    sent_before = {} if repair else ledger.record_hashes(target)
    for done, summary in enumerate(todo, start=1):
        try:
            before = _earlier(local, summary, sent_before.get(summary.uuid, set()))
            outgoing.append((summary, _outgoing(local, summary)))
            earlier += before
        except _Unsendable as why:
            report.unsendable.append((summary.uuid, str(why)))
        if progress is not None:
            progress("reading", done, len(todo))
    landed = list(survey.caught_up)
    if outgoing:
        records = earlier + [record for _summary, record in outgoing]
        write = shared.repair if repair else shared.push
        report.pushed = write(
            records,
            {"device_id": str(records[0].row.get("device_id", ""))},
            None if progress is None else lambda done, total: progress("writing", done, total),
            _checklist_files(local),
            EvidenceFiles(local.folder),
            progress,
        )
        refused = {uuid for uuid, _why in report.pushed.refused}
        landed += [(s.uuid, s.revision, o.digest) for s, o in outgoing if s.uuid not in refused]
        landed += [(o.uuid, o.row["revision"], o.digest) for o in earlier if o.uuid not in refused]
    ledger.add(target, landed)
    report.settled = len(survey.settled)
    local.mark_synced(report.pushed.landed + survey.settled)
    log = shared.decision_log
    incoming = log.read_since(ledger.decision_mark(target))
    checked = check_log([row for _seq, row in incoming.entries], keyring, incoming.prev)
    report.forged_decisions = sum(1 for c in checked if not c.counts)
    report.decision_log_gap = incoming.lost or has_gap(checked)
    report.damaged_decisions = [str(damage) for damage in log.damaged]
    applied = pull_reviews(local, counted(checked))
    report.reviews_applied = len(applied)
    _record_decisions(ledger, target, applied, incoming.mark)
    _remove_temp_files(local, [change.uuid for change in applied])
    return report


def _remove_temp_files(local: LocalStore, written: list[str]) -> None:
    """What this sync's writes may have left in the data folder: the few files of its top
    (the index, the journal, the ledger), and beside the visit files it wrote, a stat each.
    `visits/` is not listed: what a killed writer left there is removed when the store is
    opened for writing (its owner file names its pid). Safe now: this process holds the
    folder's writer lock, and the sync is the only write under way."""
    remove_stray_temp_files(local.folder)
    local.remove_temp_files(written)


class _Unsendable(Exception):
    """A visit whose record names evidence in a way no store keeps; says why."""


def _outgoing(local: LocalStore, summary: VisitSummary) -> Outgoing:
    raw = local.read_raw(summary.uuid)
    signed = _signed_version(raw) if summary.status == Status.REVIEWED else None
    sent = raw if signed is None else signed[1]
    # Most visits name no file, and parsing each costs more than sending it. Our own files
    # spell the key plainly; a hand-edit that hides it sends the record without its files,
    # which the share then shows as altered (a file missing), never as sound.
    files = _files_of(_named_in(sent)) if signed is not None or b'"evidence"' in sent else ()
    visit = _visit_of(sent) if signed is not None else None
    if visit is not None:
        # The row describes what is sent: the signed revision, not the reviewed one.
        return Outgoing(summarize(visit).to_row(), sent, files)
    return Outgoing(summary.to_row(), raw, files)


def _earlier(local: LocalStore, summary: VisitSummary, sent: set[str]) -> list[Outgoing]:
    """The signed revisions an amended visit corrected that `sent` (the record hashes the
    ledger has) lacks, each as it was signed, to go before the amendment: the shared store
    keeps every revision, even one amended before it was ever synced. Read only for amended
    visits about to be sent, which are few."""
    if summary.amendment == 0:
        return []
    found = []
    for _path, raw in local.kept_revisions(summary.uuid):
        record = signed_record(raw)
        visit = _visit_of(record)
        if visit is None:
            continue  # a kept file this cannot take apart; `revisions` says it is damaged
        candidate = Outgoing(summarize(visit).to_row(), record, _files_of(_named_in(record)))
        if candidate.digest not in sent:
            found.append(candidate)
    return sorted(found, key=lambda candidate: int(candidate.row["revision"]))


def _visit_of(raw: bytes) -> dict[str, Any] | None:
    try:
        visit, _events = schema.visit_document(schema.tinydb_document(schema.parse_json(raw)))
    except schema.ShapeError:
        return None  # not a visit file this can take apart: sent as it is, like any other
    return visit


def _named_in(raw: bytes) -> dict[str, Any] | None:
    """The record as written, unchecked: what it names as evidence is judged by
    `named_files`, which says why a name is refused. The whole record's check would refuse
    a bad name too, but in no sentence a technician can act on, and the visit would go."""
    try:
        visits = list(schema.tinydb_document(schema.parse_json(raw)).get("visit", {}).values())
    except schema.ShapeError:
        return None
    return visits[0] if len(visits) == 1 and isinstance(visits[0], dict) else None


def _files_of(visit: dict[str, Any] | None) -> tuple[NamedFile, ...]:
    if visit is None:
        return ()
    try:
        return named_files(visit)
    except schema.ShapeError as error:
        raise _Unsendable(str(error)) from None


def _checklist_files(local: LocalStore) -> list[tuple[str, Path]]:
    """The shared store needs the checklists' words to show and report the visits."""
    return [(path.stem, path) for path in sorted((local.folder / CHECKLISTS_DIR).glob("*.yaml"))]


def _raw_or_none(local: LocalStore, uuid: str) -> bytes | None:
    try:
        return local.read_raw(uuid)
    except StoreError:
        return None  # pending then; sending it says what is wrong with the file


def signed_record(raw: bytes) -> bytes:
    """The visit file as it was when signed: `raw` without the review decisions recorded
    since, or `raw` itself when there are none."""
    signed = _signed_version(raw)
    return raw if signed is None else signed[1]


def _signed_version(raw: bytes | None) -> tuple[int, bytes] | None:
    """(revision, bytes) of the signed visit when events were recorded after signing,
    None when none were (or the file is not one this can take apart).

    Byte for byte what was sent when the visit was signed: the visit's document keeps its
    keys in the order first written (TinyDB updates in place), a decision changes only its
    status, review and revision and appends an event, and the text is written as
    `storage.write_json_atomically` writes it. A record hash that then matches the shared
    store's proves it; one that does not is never treated as the same record.
    """
    if raw is None:
        return None
    try:
        document = schema.tinydb_document(schema.parse_json(raw))
    except schema.ShapeError:
        return None
    visits = list(document.get("visit", {}).values())
    events = document.get("events", {})
    order = sorted(events, key=int)

    def what(doc_id: str) -> str:
        said = events[doc_id].get("what")
        return said if isinstance(said, str) else ""

    later = []
    while order and what(order[-1]) in LOCAL_EVENTS:
        later.append(order.pop())
    if not later or not order or what(order[-1]) != str(Status.SIGNED):
        return None
    if len(visits) != 1 or type(visits[0].get("revision")) is not int:
        return None
    visit = visits[0]
    for doc_id in later:
        del events[doc_id]
    visit.update(status=str(Status.SIGNED), review=None, revision=visit["revision"] - len(later))
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return visit["revision"], text.encode("utf-8")


@dataclass(frozen=True)
class Applied:
    """A decision recorded on a visit: its revision before and after."""

    uuid: str
    before: int
    after: int


SAVED_TOGETHER = 500
"""Visits given decisions saved by one `LocalStore.save_many`: the laptop's index is
written four times for 2,000 rather than 2,000 times, and no more than these sessions are
held at once."""


def pull_reviews(local: LocalStore, decisions: list[dict[str, Any]]) -> list[Applied]:
    """Apply `decisions` (those that count) to this laptop's visits: each visit a decision
    is about is loaded once, whatever the number of its decisions; no other is. They are
    saved together (`save_many`), so what each costs is its own visit file; the caller
    writes the ledger's decision mark only once this has returned."""
    # Not an amendment under way: a decision names a signed record, and a draft has none.
    mine = {summary.uuid: summary for summary in local.summaries() if finished(summary.status)}
    by_visit: dict[str, list[dict[str, Any]]] = {}
    for decision in sorted(decisions, key=lambda row: str(row.get("at", ""))):
        if decision.get("uuid") in mine:
            by_visit.setdefault(decision["uuid"], []).append(decision)
    applied: list[Applied] = []
    changed: list[Session] = []
    for uuid, found in by_visit.items():
        done = _apply(local, uuid, found, mine[uuid].revision)
        if done is None:
            continue
        changed.append(done[0])
        applied.append(done[1])
        if len(changed) >= SAVED_TOGETHER:
            local.save_many(changed)
            changed.clear()
    local.save_many(changed)
    return applied


def _record_decisions(
    ledger: SyncLedger, target: Target, applied: list[Applied], mark: DecisionMark
) -> None:
    """A revision that only adds a decision is landed when the one before it was; written
    with how far the log was read, in one write."""
    landed = ledger.landed(target) if applied else {}
    rows = []
    for change in applied:
        known = landed.get(change.uuid)
        if known is not None and known.revision >= change.before:
            rows.append((change.uuid, change.after, known.record_hash))
            landed[change.uuid] = Landed(change.after, known.record_hash)
    ledger.add(target, rows, mark)


def apply_review(local: LocalStore, decision: dict[str, Any]) -> Applied | None:
    """Record a supervisor's decision on one of this laptop's visits; None if known, or if
    it was made on another record than the one this laptop signed.

    `decision` is one that counts (`domain.decisions.counted`): signed by a trusted
    reviewer, with the reviewer's name as the keyring gives it."""
    done = _apply(local, str(decision["uuid"]), [decision], None)
    if done is None:
        return None
    local.save(done[0])
    return done[1]


def _apply(
    local: LocalStore, uuid: str, decisions: list[dict[str, Any]], indexed: int | None
) -> tuple[Session, Applied] | None:
    """The decisions on one visit, in order, each unless known or about another record;
    `indexed`: the revision the laptop's index has for it. The session to save, unsaved."""
    session = local.load(uuid)
    known = {e.detail.get("decision_id") for e in session.events}
    record = record_sha256(session)
    before = session.revision
    for decision in decisions:
        if decision["id"] in known or decision.get("record_sha256") != record:
            continue
        known.add(decision["id"])
        detail: dict[str, Any] = {
            "decision_id": decision["id"],
            "decision": decision["decision"],
            "comment": decision.get("comment", ""),
            "at": decision.get("at", ""),
        }
        items = _named_items(decision.get("items"))
        if items:
            # The items the comment is about, for the laptop to show beside it.
            detail["items"] = items
        session.mark(Status.REVIEWED, decision.get("reviewer", ""), detail)
    if session.revision != before:
        return session, Applied(session.uuid, before, session.revision)
    if indexed is not None and indexed < session.revision:
        # The file has decisions the index does not (a write between the two was cut
        # short): saved again, so the index and the ledger catch up.
        return session, Applied(session.uuid, indexed, session.revision)
    return None


def _named_items(items: object) -> list[list[str]]:
    """A decision's `[[checklist_id, item_id], ...]`; only well-formed pairs, since the
    decision comes from the shared store (its signature covers them, not their shape)."""
    if not isinstance(items, list):
        return []
    return [
        [pair[0], pair[1]]
        for pair in items
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
    ]
