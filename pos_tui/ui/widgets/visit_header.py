"""The runner's two top lines: which visit, how long it has taken, whether it is saved,
and how far it has got."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from pos_tui.domain.session import Session
from pos_tui.ui.i18n import READ_ONLY, SAVING, Text
from pos_tui.ui.screens.base import error_text
from pos_tui.ui.widgets.progress import CellSafeProgressBar

SAVED = Text("已保存 {at}", "Saved {at}")
SAVED_EARLIER = Text("已保存", "Saved")
NOT_SAVED = Text("未保存：{reason}", "Not saved: {reason}")
ELAPSED = Text("用时 {time}", "Time {time}")
OVERALL = Text("总进度", "Overall")
SIGNED = Text("已签署", "signed")


def elapsed_text(start: str, end: datetime) -> str:
    """H:MM:SS from the ISO time `start` to `end`; never negative."""
    begun = datetime.fromisoformat(start)
    if (begun.tzinfo is None) != (end.tzinfo is None):
        end = end.replace(tzinfo=begun.tzinfo)
    seconds = max(0, int((end - begun).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}"


class SaveState:
    """Saves on their way, and when the last one landed or why it did not."""

    def __init__(self) -> None:
        self.saving = 0
        self.saved_at: datetime | None = None
        self.error: BaseException | None = None

    def started(self) -> None:
        self.saving += 1

    def finished(self, error: BaseException | None, now: datetime) -> None:
        self.saving -= 1
        self.error = error
        if error is None:
            self.saved_at = now

    def text(self, lang: str) -> str:
        if self.saving:
            return SAVING.get(lang)
        if self.error is not None:
            return NOT_SAVED.get(lang).format(reason=error_text(self.error, lang))
        if self.saved_at is not None:
            return SAVED.get(lang).format(at=self.saved_at.strftime("%H:%M:%S"))
        return SAVED_EARLIER.get(lang)

    @property
    def failed(self) -> bool:
        return self.error is not None and not self.saving


class VisitHeader(Vertical):
    def compose(self) -> ComposeResult:
        with Horizontal(id="runner-top"):
            yield Static(id="runner-visit", markup=False)
            yield Static(id="runner-elapsed", markup=False)
            yield Static(id="runner-save", markup=False)
        with Horizontal(id="runner-progress"):
            yield Static(id="runner-overall-label")
            yield CellSafeProgressBar(id="runner-overall", show_eta=False)
            yield Static(id="runner-overall-count")
            yield Static(id="runner-current", markup=False)

    def show_visit(self, session: Session, lang: str) -> None:
        visit = f"{session.info.merchant_name}  {session.info.terminal_number}"
        if not session.editable:
            visit += f"  [{READ_ONLY.get(lang)}: {SIGNED.get(lang)}]"
        self._set("runner-visit", visit)
        self._set("runner-overall-label", OVERALL.get(lang))

    def show_elapsed(self, session: Session, now: datetime, lang: str) -> None:
        end = datetime.fromisoformat(session.signoff.at) if session.signoff else now
        self._set(
            "runner-elapsed", ELAPSED.get(lang).format(time=elapsed_text(session.created_at, end))
        )

    def show_save(self, state: SaveState, lang: str) -> None:
        self._set("runner-save", state.text(lang))
        self.query_one("#runner-save").set_class(state.failed, "-error")

    def show_progress(self, session: Session, checklist_id: str | None, lang: str) -> None:
        progress = session.progress()
        bar = self.query_one("#runner-overall", CellSafeProgressBar)
        if progress.applicable:
            bar.update(total=progress.applicable, progress=progress.answered)
        else:
            bar.update(total=1, progress=1)
        self._set("runner-overall-count", str(progress))
        current = ""
        if checklist_id is not None:
            title = session.checklist(checklist_id).title.get(lang)
            current = f"{title} {session.progress(checklist_id)}"
        self._set("runner-current", current)

    def _set(self, widget_id: str, text: str) -> None:
        self.query_one(f"#{widget_id}", Static).update(text)
