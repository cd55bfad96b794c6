"""What the technician's screens may ask of the rest of pos_tui.

Every disk access runs on one background worker (`Background`), and every method returns a
`Future` the screen awaits. Changes to a visit follow one path: the domain runs the command
on a copy of the visit (`Session.changed`), the store writes that copy, and only then is it
handed to the screen. The session a screen is drawing is never changed under it, and a
save that fails leaves nothing to roll back: the copy is simply dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pos_tui.config import Settings, save_settings
from pos_tui.domain.checklist import Checklist, Text
from pos_tui.domain.evidence import EvidenceError, EvidenceRef
from pos_tui.domain.session import Answer, Outcome, Session, VisitError, local_now
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.services.background import Background
from pos_tui.store.local import LocalStore
from pos_tui.store.local_index import SENT_BACK as LOCAL_SENT_BACK
from pos_tui.store.storage import StoreError
from pos_tui.store.summary import VisitSummary

if TYPE_CHECKING:
    from pos_tui.domain.loader import Problem
    from pos_tui.store.keys import KeyFile
    from pos_tui.store.sync import SyncReport

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Recorded:
    session: Session
    answer: Answer


@dataclass(frozen=True, slots=True)
class Undone:
    session: Session
    key: tuple[str, str] | None
    """The item whose answer was taken back; None when there was nothing to undo."""


@dataclass(frozen=True, slots=True)
class Attached:
    session: Session
    added: tuple[EvidenceRef, ...]
    """The files newly on the item (one already there is not attached twice)."""
    refused: tuple[tuple[str, Text], ...] = ()
    """Each file not taken in, by name, with why."""


@dataclass(frozen=True, slots=True)
class DetailsChanged:
    session: Session
    changes: dict[str, tuple[str, str]]
    """Each detail that changed, with its old and new value; empty when none did."""


@dataclass(frozen=True, slots=True)
class HomeVisits:
    """What the home screen lists, read on the worker in one go."""

    summaries: list[VisitSummary]
    amendment_reasons: dict[str, str] = field(default_factory=dict)
    """Why each amendment under way was begun, by uuid (the index row does not say)."""
    item_titles: dict[str, Text] = field(default_factory=dict)
    """The title of each "checklist/item" a sent-back decision names, where known."""
    counts: dict[str, int] = field(default_factory=dict)
    """Every visit stored, by status, the archive's included (without reading it)."""


SENT_BACK = LOCAL_SENT_BACK
"""Decisions that return a visit to the technician for work."""
HOME_RECENT = 60
"""Settled visits home is given besides those under way: at least the home screen's
RECENT_LIMIT. From the laptop index's active part alone, whatever the store's size."""


@dataclass
class Services:
    store: LocalStore
    checklists: list[Checklist]
    settings: Settings
    settings_path: Path | None = None
    checklist_problems: list[Problem] = field(default_factory=list)
    clock: Callable[[], datetime] = local_now
    worker: Background = field(default_factory=Background)

    _checklist_folder: Path | None = None
    _checklists_lock: threading.Lock = field(default_factory=threading.Lock)
    _device_key: KeyFile | None = None
    _saved: dict[str, Session] = field(default_factory=dict)
    """The latest saved state of each visit changed in this run; touched on the worker only.
    Commands build on it rather than on the screen's copy, which may be a save behind."""

    @classmethod
    def loading_checklists(
        cls, store: LocalStore, folder: Path, settings: Settings, **options: Any
    ) -> Services:
        """Services whose checklists are read when first needed, off the start-up path.

        The home screen asks for them (`checklist_problems_found`) once it is showing, so
        they are usually ready before the technician opens the new-visit form.
        """
        services = cls(store, [], settings, **options)
        services._checklist_folder = folder
        return services

    def checklist_problems_found(self) -> Future[list[Problem]]:
        """The problems of the checklist files, once they are loaded."""

        def problems() -> list[Problem]:
            self.ready_checklists()
            return list(self.checklist_problems)

        return self.worker.submit(problems)

    def ready_checklists(self) -> list[Checklist]:
        """The checklists, loading them now if nobody has yet."""
        with self._checklists_lock:
            if self._checklist_folder is not None:
                from pos_tui.domain.loader import load_checklists

                loaded = load_checklists([self._checklist_folder])
                self.checklists = loaded.checklists
                self.checklist_problems = loaded.problems
                self._checklist_folder = None
        return self.checklists

    def update_settings(self, **changes: str) -> Future[None]:
        self.settings = self.settings.with_changes(**changes)
        return self.worker.submit(save_settings, self.settings, self.settings_path)

    # -- visits ----------------------------------------------------------------------

    def start_visit(
        self, info: VisitInfo, checklists: list[Checklist], language: str = ""
    ) -> Future[Session]:
        if language and not info.language:
            info = replace(info, language=language)

        def start() -> Session:
            session = Session.start(info, checklists, clock=self.clock)
            self.store.create(session)
            self._saved[session.uuid] = session
            return session

        return self.worker.submit(start)

    def record(
        self,
        session: Session,
        checklist_id: str,
        item_id: str,
        outcome: Outcome,
        note: str = "",
        values: dict[str, str] | None = None,
    ) -> Future[Recorded]:
        def command(draft: Session) -> Answer:
            return draft.record(checklist_id, item_id, outcome, note, values)

        return self._change(session, command, Recorded)

    def undo(self, session: Session) -> Future[Undone]:
        return self._change(session, Session.undo, Undone)

    def sign(self, session: Session, technician: str, representative: str) -> Future[Session]:
        def command(draft: Session) -> object:
            return draft.sign(technician, representative, signer=self.device_key())

        return self._change(session, command, lambda signed, _signoff: signed)

    def attach(
        self,
        session: Session,
        checklist_id: str,
        item_id: str,
        paths: Sequence[Path] = (),
        uploads: Sequence[tuple[str, bytes]] = (),
        source: str = "laptop",
    ) -> Future[Attached]:
        """Take files in (paths on this laptop, or uploaded bytes with their names) and
        attach those that pass to the item, in one save. A refused file is reported and
        the others are attached all the same."""
        refused: list[tuple[str, Text]] = []

        def command(draft: Session) -> tuple[EvidenceRef, ...]:
            from pos_tui.services.intake import take_in_bytes, take_in_file
            from pos_tui.store.evidence_files import EvidenceFiles

            files = EvidenceFiles(self.store.folder)
            refs: list[EvidenceRef] = []
            for path in paths:
                try:
                    refs.append(take_in_file(files, path, source, self.clock))
                except EvidenceError as error:
                    refused.append((path.name, error.text))
            for name, data in uploads:
                try:
                    refs.append(take_in_bytes(files, data, name, source, self.clock))
                except EvidenceError as error:
                    refused.append((name, error.text))
            # One by one: a PDF on a photo item, or the file past the item's limit, is
            # refused by itself, and the others are attached all the same.
            added: list[EvidenceRef] = []
            for ref in refs:
                try:
                    added += draft.attach(checklist_id, item_id, [ref])
                except VisitError as error:
                    refused.append((ref.name, error.text))
            return tuple(added)

        return self._change(
            session, command, lambda after, added: Attached(after, added, tuple(refused))
        )

    def record_position(
        self,
        session: Session,
        latitude: float,
        longitude: float,
        accuracy_m: float,
        at: str,
        source: str,
    ) -> Future[tuple[Session, bool]]:
        """The visit's position, as a phone measured it; recorded only when it has none yet
        (the visit and whether this one was recorded)."""
        who = self.settings.technician or session.info.technician

        def command(draft: Session) -> bool:
            return draft.record_position(who, latitude, longitude, accuracy_m, at, source)

        return self._change(session, command, lambda after, done: (after, done))

    def detach(
        self, session: Session, checklist_id: str, item_id: str, sha256: str
    ) -> Future[Session]:
        def command(draft: Session) -> EvidenceRef:
            return draft.detach(checklist_id, item_id, sha256)

        return self._change(session, command, lambda after, _ref: after)

    # -- corrections -----------------------------------------------------------------

    @property
    def _who(self) -> str:
        return self.settings.technician

    def discard(self, session: Session, reason: str) -> Future[Session]:
        """Give up a draft with its reason; the domain refuses a signed visit, and an
        empty reason, with its sentence."""

        def command(draft: Session) -> None:
            draft.discard(self._who or draft.info.technician, reason)

        return self._change(session, command, lambda after, _none: after)

    def amend(self, session: Session, reason: str) -> Future[Session]:
        """Reopen a signed visit as its next revision, with why; the signed one stays."""

        def command(draft: Session) -> object:
            return draft.amend(self._who or draft.info.technician, reason)

        return self._change(session, command, lambda after, _correction: after)

    def change_details(self, session: Session, changes: dict[str, str]) -> Future[DetailsChanged]:
        def command(draft: Session) -> dict[str, tuple[str, str]]:
            return draft.change_details(self._who or draft.info.technician, changes)

        return self._change(session, command, DetailsChanged)

    def start_follow_up(
        self, session: Session, named: Sequence[tuple[str, str]] = ()
    ) -> Future[Session]:
        """A new visit re-running the failed items of `session` (and those `named`), by
        whoever runs this laptop now."""
        original = session.copy()
        technician, device_id = self.settings.technician, self.settings.device_id

        def start() -> Session:
            follow_up = Session.start_follow_up(
                original, technician or original.info.technician, device_id, named, self.clock
            )
            self.store.create(follow_up)
            self._saved[follow_up.uuid] = follow_up
            return follow_up

        return self.worker.submit(start)

    def home_visits(self) -> Future[HomeVisits]:
        def read() -> HomeVisits:
            summaries = self.store.active(HOME_RECENT)
            reasons: dict[str, str] = {}
            for summary in summaries:
                if summary.status == "draft" and summary.amendment:
                    # Only the few amendments under way are opened, for their reason.
                    try:
                        corrects = self.store.load(summary.uuid).corrects
                    except (StoreError, KeyError):
                        continue
                    if corrects is not None:
                        reasons[summary.uuid] = corrects.reason
            named = {
                code
                for summary in summaries
                if summary.review_decision in SENT_BACK
                for code in summary.review_items
            }
            counts = self.store.counts()
            return HomeVisits(summaries, reasons, self._item_titles(named), counts)

        return self.worker.submit(read)

    def _item_titles(self, codes: set[str]) -> dict[str, Text]:
        if not codes:
            return {}
        by_id = {checklist.id: checklist for checklist in self.ready_checklists()}
        titles: dict[str, Text] = {}
        for code in codes:
            checklist_id, _slash, item_id = code.partition("/")
            checklist = by_id.get(checklist_id)
            if checklist is None:
                continue
            try:
                titles[code] = checklist.item(item_id).title
            except KeyError:
                continue
        return titles

    def _change(
        self,
        session: Session,
        command: Callable[[Session], Any],
        outcome: Callable[[Session, Any], T],
    ) -> Future[T]:
        # The screen's session is copied here, on the UI thread, in case this run has not
        # saved this visit before; the worker prefers its own later state.
        fallback = session.copy()

        def change() -> T:
            base = self._saved.get(fallback.uuid, fallback)
            done = base.changed(command)
            self.store.save(done.session)
            self._saved[fallback.uuid] = done.session
            return outcome(done.session, done.result)

        return self.worker.submit(change)

    def device_key(self) -> KeyFile:
        """This laptop's signing key, made on first use; on the worker (cryptography is
        imported here, not at start-up)."""
        if self._device_key is None:
            from pos_tui.store.keys import DEVICE, ensure_key

            self._device_key, _made = ensure_key(self.store.folder, DEVICE)
        return self._device_key

    def prepare_keys(self) -> Future[str]:
        """Make the laptop's key now, while the technician looks at the home screen; its
        fingerprint, to show."""
        return self.worker.submit(lambda: self.device_key().fingerprint)

    def load(self, uuid: str) -> Future[Session]:
        def load() -> Session:
            session = self.store.load(uuid)
            session.clock = self.clock
            self._saved[uuid] = session
            return session

        return self.worker.submit(load)

    def summaries(self) -> Future[list[VisitSummary]]:
        return self.worker.submit(self.store.summaries)

    def write_report(self, session: Session, lang: str) -> Future[Path]:
        """An HTML acceptance report in the data folder's reports/, for printing or mailing."""

        def write() -> Path:
            from pos_tui.reports.report import default_name, record_of, write_report

            folder = self.store.folder / "reports"
            folder.mkdir(exist_ok=True)
            path = folder / default_name(session, "html")
            from pos_tui.store.evidence_files import EvidenceFiles

            record = record_of(session, EvidenceFiles(self.store.folder))
            write_report(record, path, "html", session.info.language or lang)
            return path

        return self.worker.submit(write)

    def sync(
        self, target: Path | str, progress: Callable[[str, int, int], None] | None = None
    ) -> Future[SyncReport]:
        """Signed visits to the shared store, review decisions back; on the worker."""

        def run() -> SyncReport:
            from pos_tui.services.identity import register_laptop
            from pos_tui.store.sync import sync

            report = sync(self.store, target, progress)
            settings = self.settings
            register_laptop(target, self.store.folder, settings.technician, settings.device_id)
            # Sync changes finished visits on disk (decisions arrive): read them afresh.
            self._saved = {u: s for u, s in self._saved.items() if s.editable}
            return report

        return self.worker.submit(run)

    def close(self) -> None:
        """Every save already asked for lands before this returns."""
        self.worker.close()
