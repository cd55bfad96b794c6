"""Read-only access to finished visits, from the laptop's store or from the shared one.

Reports, exports and the review screens read visits through `open_source(path)` and never
care which kind of store the folder holds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pos_tui.domain.decisions import (
    CheckedDecision,
    check_log,
    counted,
    names_record,
    record_sha256,
)
from pos_tui.domain.integrity import Integrity, integrity
from pos_tui.domain.keyring import Keyring
from pos_tui.domain.session import Session
from pos_tui.store.decision_log import DecisionMark
from pos_tui.store.evidence_files import EvidenceFiles, EvidenceReader
from pos_tui.store.keyring import trusted_keyring
from pos_tui.store.local import VISITS_DIR, LocalStore
from pos_tui.store.shared import BATCHES_DIR
from pos_tui.store.storage import StoreDamaged, StoreError
from pos_tui.store.targets import Target, open_shared

if TYPE_CHECKING:
    from pos_tui.store.pg.store import PgSharedStore
    from pos_tui.store.shared import SharedStore


@dataclass
class VisitRecord:
    session: Session
    row: dict[str, Any]
    decisions: list[dict[str, Any]] = field(default_factory=list)
    """The decisions that count: signed by a trusted reviewer, named as the keyring names
    them. The laptop's own store has its own log of what it applied."""
    keyring: Keyring | None = None
    """The shared store's keyring; None for the laptop's own store."""
    forged: list[CheckedDecision] = field(default_factory=list)
    """Decisions on this visit that do not count, with why: shown, never applied."""
    log_has_gap: bool = False
    """The store's decision log has a decision removed or moved somewhere."""
    files: EvidenceReader | None = None
    """The store's evidence files, which the record names by hash."""
    thorough: bool = True
    """Hash every evidence file (a record shown or reported); False for a pass over the
    whole store, which checks that each file is there with its size."""

    @cached_property
    def file_problems(self) -> dict[str, str]:
        """What is wrong with the files the record names, by hash."""
        if self.files is None:
            return {}
        check = self.files.check if self.thorough else self.files.quick_check
        found: dict[str, str] = {}
        for _key, ref in self.session.all_evidence():
            problem = check(ref.sha256, ref.size)
            if problem is not None:
                found[ref.sha256] = problem
        return found

    @cached_property
    def integrity(self) -> Integrity:
        """The one rule's verdict on this record (`domain.integrity`)."""
        return integrity(self.session, self.row, self.keyring, self.file_problems)

    @property
    def latest_decision(self) -> dict[str, Any] | None:
        # str(): a laptop's decisions come from its event log, whose details are free-form.
        return max(self.decisions, key=lambda d: str(d.get("at", "")), default=None)

    @cached_property
    def record_sha256(self) -> str:
        """What a decision on exactly this record names (`domain.decisions.record_sha256`)."""
        return record_sha256(self.session)

    @property
    def own_decisions(self) -> list[dict[str, Any]]:
        """The decisions on exactly this record: those on an earlier revision of the visit
        belong to that revision's history, not to this one's review state."""
        return [d for d in self.decisions if names_record(d, self.record_sha256)]

    @property
    def latest_own_decision(self) -> dict[str, Any] | None:
        return max(self.own_decisions, key=lambda d: str(d.get("at", "")), default=None)


class VisitSource(Protocol):
    @property
    def folder(self) -> Path | str:
        """Where the store is: a folder, or a database's URL."""

    def rows(self) -> list[dict[str, Any]]:
        """One row per visit (its current version), newest first."""

    def record(self, row: dict[str, Any]) -> VisitRecord: ...

    def close(self) -> None: ...


def find_row(source: VisitSource, prefix: str) -> dict[str, Any]:
    """The visit whose uuid starts with `prefix`; a plain error when none or several do."""
    prefix = prefix.strip().lower()
    if not prefix:
        raise StoreError("Give the visit's id, or the first few characters of it.")
    matches = [row for row in source.rows() if row["uuid"].startswith(prefix)]
    if not matches:
        raise StoreError(f"No visit in {source.folder} has an id starting with {prefix}.")
    if len({row["uuid"] for row in matches}) > 1:
        shown = ", ".join(sorted(row["uuid"][:12] for row in matches)[:5])
        raise StoreError(
            f"{len(matches)} visits have ids starting with {prefix} ({shown}…): give more of it."
        )
    return matches[0]


def _newest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: row.get("updated_at", ""), reverse=True)


class LocalSource:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.store = LocalStore.open(folder, read_only=True)

    def rows(self) -> list[dict[str, Any]]:
        return [summary.to_row() for summary in self.store.summaries()]

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        """As `SharedSource.iter_rows`: the laptop's index is in memory already."""
        return iter(self.rows())

    @property
    def damaged(self) -> tuple[StoreDamaged, ...]:
        """What `rows` had to leave out, to be said beside what it lists."""
        return self.store.report.damaged

    def record(self, row: dict[str, Any]) -> VisitRecord:
        session = self.store.load(row["uuid"])
        decisions = [
            {"uuid": session.uuid, "reviewer": event.who} | event.detail
            for event in session.events
            if event.what == "reviewed"
        ]
        return VisitRecord(session, row, decisions, files=EvidenceFiles(self.folder))

    def close(self) -> None:
        self.store.close()


class SharedSource:
    """The visits of a shared store of either kind: a folder or a PostgreSQL database
    (`store/targets.py`); what is read, and how it is checked, is the same."""

    def __init__(
        self,
        target: Target,
        data_folder: Path | None = None,
        thorough: bool = True,
        *,
        later: bool = False,
    ) -> None:
        """`data_folder`: this machine's, where the store's administrator key is pinned;
        None to read without pinning (a child process of a reader that pinned it).
        `thorough`: hash each evidence file of a record (see `VisitRecord.thorough`).
        `later`: opened on first use, not now (on the review's worker thread, once the
        list's first page, read by a child process, is shown: `services/first_page.py`)."""
        self.folder = target
        """Where the store is: its folder, or its URL."""
        self.thorough = thorough
        self._data_folder = data_folder
        self._opened: _Opened | None = None
        self._opening = threading.Lock()
        self._checked: list[CheckedDecision] | None = None
        self._read_to: DecisionMark | None = None
        self._decision_damage: tuple[StoreError, ...] = ()
        if not later:
            self._open()

    def _open(self) -> _Opened:
        with self._opening:
            if self._opened is None:
                store = open_shared(self.folder)
                try:
                    ring = trusted_keyring(store.keyring_place, self._data_folder)
                    self._opened = _Opened(store, store.files, ring)
                except BaseException:
                    store.close()
                    raise
            return self._opened

    @property
    def is_open(self) -> bool:
        return self._opened is not None

    @property
    def store(self) -> SharedStore | PgSharedStore:
        return (self._opened or self._open()).store

    @property
    def files(self) -> EvidenceReader:
        return (self._opened or self._open()).files

    @property
    def keyring(self) -> Keyring:
        return (self._opened or self._open()).keyring

    def rows(self) -> list[dict[str, Any]]:
        return _newest_first([row for row in self.store.rows() if not row.get("superseded")])

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        """The rows of `rows`, in the store's own order (a folder's shard by shard, a
        database's as they arrived), never all in memory at once: for passes over the whole
        store, such as an export, whose memory must not grow with it."""
        return (row for row in self.store.iter_rows() if not row.get("superseded"))

    @property
    def damaged(self) -> tuple[StoreError, ...]:
        """What `rows` had to leave out, to be said beside what it lists."""
        return self.store.damaged

    def checked_decisions(self, fresh: bool = False) -> list[CheckedDecision]:
        """Every decision of the store's log, each with what can be believed of it.

        `fresh` reads again, but only the decisions appended since the last read, when the
        log still goes on from the last one read (each costs a signature check, and a list
        refreshed at 50,000 decisions would check them all again); otherwise everything. A
        decision removed from the middle meanwhile shows from the next source opened."""
        if self._checked is None or fresh:
            log = self.store.decision_log
            reading = log.read_since(None if self._checked is None else self._read_to)
            rows = [row for _seq, row in reading.entries]
            new = check_log(rows, self.keyring, reading.prev)
            if reading.whole or self._checked is None:
                self._checked, self._decision_damage = new, log.damaged
            else:
                self._checked = self._checked + new
                said = set(self._decision_damage)
                self._decision_damage += tuple(d for d in log.damaged if d not in said)
            self._read_to = reading.mark
            others = tuple(e for e in self.store.damaged if not _owned(log, e))
            self.store.damaged = others + self._decision_damage
        return self._checked

    def decisions_by_visit(self) -> dict[str, list[dict[str, Any]]]:
        return group_by_visit(counted(self.checked_decisions()))

    def record(
        self,
        row: dict[str, Any],
        decisions: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> VisitRecord:
        """The visit behind an index row; `decisions`: by visit, when the caller has fresher."""
        data = self.store.read_record(row)
        visit = data["visit"]
        checklists = [self.store.load_checklist(ref["sha256"]) for ref in visit["checklists"]]
        session = Session.from_dict(visit, checklists, data["events"])
        known = self.decisions_by_visit() if decisions is None else decisions
        checked = self._checked or []
        forged = [c for c in checked if not c.counts and c.uuid == row["uuid"]]
        return VisitRecord(
            session,
            row,
            list(known.get(row["uuid"], [])),
            self.keyring,
            forged,
            any("gap_before" in c.reasons for c in checked),
            self.files,
            self.thorough,
        )

    def record_sha256_of(self, row: dict[str, Any]) -> str:
        """What the record behind an index row is signed as; "" when it cannot be read (no
        decision names it then, and its detail says why)."""
        try:
            return self.record(row, {}).record_sha256
        except (StoreError, KeyError, TypeError, ValueError):
            return ""

    def revisions(
        self,
        uuid: str,
        rows: Iterable[dict[str, Any]] | None = None,
        decisions: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> list[VisitRecord | StoreError]:
        """Every revision of a visit the store holds, oldest first, superseded ones included,
        each read and checked on its own (or why it cannot be read): the amendments and the
        records they correct. `rows`: the index's rows when the caller has them (every
        row, superseded too)."""
        every = self.store.rows_of(uuid) if rows is None else rows
        mine = sorted(
            (row for row in every if row.get("uuid") == uuid),
            key=lambda row: (_count(row.get("revision")), str(row.get("synced_at", ""))),
        )
        return [found for _row, found in self.records(mine, decisions)]

    def records(
        self,
        rows: Iterable[dict[str, Any]],
        decisions: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> Iterator[tuple[dict[str, Any], VisitRecord | StoreError]]:
        """Many visits, in the order given, each paired with its record or why it has none.

        For passes over the whole store: one unreadable record is reported beside the others
        rather than ending the pass. Give the rows sorted by `file_position` and each batch
        file is read front to back.
        """
        for row in rows:
            try:
                found: VisitRecord | StoreError = self.record(row, decisions)
            except StoreError as error:
                found = error
            except (KeyError, TypeError, ValueError) as error:
                # The store checks the shape of what it reads; this is the backstop.
                found = StoreError(
                    f"The visit {row.get('uuid')} of {self.folder} is unreadable ({error!r})."
                )
            yield row, found

    def close(self) -> None:
        self._checked = None
        if self._opened is not None:
            self._opened.store.close()


@dataclass(frozen=True, slots=True)
class _Opened:
    store: SharedStore | PgSharedStore
    files: EvidenceReader
    keyring: Keyring


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0


def file_position(row: Mapping[str, Any]) -> tuple[str, int]:
    """Where a row's record lies in the shared store, to sort rows for `records` by."""
    offset = row.get("offset")
    return str(row.get("batch", "")), offset if isinstance(offset, int) else -1


def group_by_visit(decisions: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for decision in decisions:
        grouped.setdefault(decision["uuid"], []).append(decision)
    return grouped


def open_source(folder: Target) -> LocalSource | SharedSource:
    if isinstance(folder, str) or (folder / BATCHES_DIR).is_dir():
        return SharedSource(folder)
    if (folder / VISITS_DIR).is_dir():
        return LocalSource(folder)
    raise StoreError(f"{folder} holds neither a pos-tui data folder nor a shared store.")


def _owned(log: Any, error: StoreError) -> bool:
    """Whether a damage report is the decision log's (said apart from the index's)."""
    return bool(log.owns(getattr(error, "path", error)))
