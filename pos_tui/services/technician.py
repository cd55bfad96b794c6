"""What the screens may ask of the rest of pos_tui; every disk access goes through the writer.

Screens never touch the store directly: they call these methods, get a `Future`, and hand
it to `LanguageScreen.when_done`, which brings the result back to the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_tui.config import Settings, save_settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Answer, Outcome, Session, local_now
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import LocalStore
from pos_tui.store.summary import VisitSummary
from pos_tui.store.writer import BackgroundWriter

if TYPE_CHECKING:
    from pos_tui.domain.loader import Problem
    from pos_tui.store.sync import SyncReport


@dataclass
class Services:
    store: LocalStore
    checklists: list[Checklist]
    settings: Settings
    settings_path: Path | None = None
    checklist_problems: list[Problem] = field(default_factory=list)
    clock: Callable[[], datetime] = local_now
    writer: BackgroundWriter = field(default_factory=BackgroundWriter)

    _checklist_folder: Path | None = None
    _checklists_lock: threading.Lock = field(default_factory=threading.Lock)

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

        return self.writer.submit(problems)

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
        return self.writer.submit(save_settings, self.settings, self.settings_path)

    def start_visit(
        self, info: VisitInfo, checklists: list[Checklist], language: str = ""
    ) -> Future[Session]:
        if language and not info.language:
            info = replace(info, language=language)

        def start() -> Session:
            session = Session.start(info, checklists, clock=self.clock)
            self.store.create(session)
            return session

        return self.writer.submit(start)

    def record(
        self,
        session: Session,
        checklist_id: str,
        item_id: str,
        outcome: Outcome,
        note: str = "",
        values: dict[str, str] | None = None,
    ) -> Future[Answer]:
        return self.writer.submit(
            self.store.record, session, checklist_id, item_id, outcome, note, values
        )

    def undo(self, session: Session) -> Future[tuple[str, str] | None]:
        return self.writer.submit(self.store.undo, session)

    def sign(self, session: Session, technician: str, representative: str) -> Future[None]:
        return self.writer.submit(self.store.sign, session, technician, representative)

    def write_report(self, session: Session, lang: str) -> Future[Path]:
        """An HTML acceptance report in the data folder's reports/, for printing or mailing."""

        def write() -> Path:
            from pos_tui.reports.report import default_name, record_of, write_report

            folder = self.store.folder / "reports"
            folder.mkdir(exist_ok=True)
            path = folder / default_name(session, "html")
            write_report(record_of(session), path, "html", session.info.language or lang)
            return path

        return self.writer.submit(write)

    def sync(
        self, target: Path, progress: Callable[[str, int, int], None] | None = None
    ) -> Future[SyncReport]:
        """Signed visits to the shared store, review decisions back; on the writer thread."""

        def run() -> SyncReport:
            from pos_tui.store.sync import sync

            return sync(self.store, target, progress, create=True)

        return self.writer.submit(run)

    def load(self, uuid: str) -> Future[Session]:
        def load() -> Session:
            session = self.store.load(uuid)
            session.clock = self.clock
            return session

        return self.writer.submit(load)

    def summaries(self) -> Future[list[VisitSummary]]:
        return self.writer.submit(self.store.summaries)

    def close(self) -> None:
        self.writer.close()
