"""The counter screen: go through the items, answer each with one key, every answer saved.

Answers are saved on the services' worker; the screen takes the visit as the save hands it
back and only then redraws the item, so what it shows is what is on disk. The cursor moves
on as soon as a key is pressed, so a technician never waits for the disk between items.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import OptionList, Static

if TYPE_CHECKING:
    from pos_tui.services.technician import Attached, DetailsChanged
    from pos_tui.ui.screens.summary import SummaryResult

from pos_tui.domain.session import Outcome, Session
from pos_tui.services.technician import Recorded, Undone
from pos_tui.ui.i18n import Text, amendment_banner
from pos_tui.ui.screens.base import PosScreen, error_text
from pos_tui.ui.screens.note import NoteResult, NoteScreen
from pos_tui.ui.widgets.item_detail import ItemDetail
from pos_tui.ui.widgets.item_list import ItemList, Key
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.visit_header import SaveState, VisitHeader

DOES_NOT_APPLY = Text("此项不适用于本终端，无需作答", "This item does not apply to this terminal")
NOTHING_TO_UNDO = Text("没有可撤销的操作", "Nothing to undo")
UNDONE = Text("已撤销：{title}", "Undone: {title}")
ALL_DONE = Text(
    "所有适用项都已作答：按 s 查看汇总", "Every item is answered: press s for the summary"
)
CHANGING = ("pass_item", "fail_item", "na_item", "undo", "details", "attach", "phone")


class RunnerScreen(PosScreen[None]):
    CSS_PATH = "runner.tcss"
    BINDINGS = [
        Binding("p", "pass_item", "Pass", id="item.pass"),
        Binding("f", "fail_item", "Fail", id="item.fail"),
        Binding("n", "na_item", "N/A", id="item.na"),
        Binding("u", "undo", "Undo", id="item.undo"),
        Binding("g", "next_open", "Next open", id="item.next_open", show=False),
        Binding("enter", "details", "Note/values", id="item.details"),
        Binding("a", "attach", "Attach", id="item.attach"),
        Binding("q", "phone", "Phone", id="item.phone"),
        Binding("j,down", "down", "Down", id="item.down", show=False),
        Binding("k,up", "up", "Up", id="item.up", show=False),
        Binding("s", "summary", "Summary", id="visit.summary"),
        Binding("i", "edit_details", "Details", id="visit.details_edit"),
        Binding("escape", "back", "Back", id="visit.back", show=False),
    ]

    def __init__(self, session: Session, start_at: Key | None = None) -> None:
        super().__init__()
        self.session = session
        """The visit as last saved; replaced, never changed, when a save comes back."""
        self._start_at = start_at
        self.pending: Counter[Key] = Counter()
        self.save_state = SaveState()

    def compose(self) -> ComposeResult:
        yield VisitHeader(id="runner-header")
        yield Static(id="runner-amendment", classes="notice", markup=False)
        with Horizontal(id="runner-body"):
            yield ItemList(id="runner-items")
            yield ItemDetail(id="runner-detail")
        yield KeyBar()

    @property
    def items(self) -> ItemList:
        return self.query_one("#runner-items", ItemList)

    @property
    def header(self) -> VisitHeader:
        return self.query_one("#runner-header", VisitHeader)

    @property
    def current_key(self) -> Key | None:
        """The (checklist id, item id) under the cursor; None on a checklist title."""
        return self.items.current_key

    def on_mount(self) -> None:
        super().on_mount()
        start = self._start_at or self.start_key()
        if start is not None:
            self.items.select_key(start)
        self.items.focus()
        self._show_current()
        self.set_interval(1.0, self._show_elapsed)

    def start_key(self) -> Key | None:
        """Where work stopped: the last item touched, or the next open one after it."""
        session, keys = self.session, self.items.item_keys()
        position = session.position
        if position in keys and position is not None:
            if session.answer(*position) is None:
                return position
            return self.next_open(after=position) or position
        return self.next_open() or (keys[0] if keys else None)

    # -- drawing --------------------------------------------------------------------

    def apply_language(self, lang: str) -> None:
        self.header.show_visit(self.session, lang)
        self._show_amendment(lang)
        self.items.show(self.session, lang, {k for k, n in self.pending.items() if n})
        self.header.show_save(self.save_state, lang)
        self._show_elapsed()
        self._show_current()

    def _show_amendment(self, lang: str) -> None:
        """An amendment says so over its items: which one, why, what it corrects."""
        banner = self.query_one("#runner-amendment", Static)
        correction = self.session.corrects
        banner.display = correction is not None
        banner.update("" if correction is None else amendment_banner(correction).get(lang))

    def _show_elapsed(self) -> None:
        self.header.show_elapsed(self.session, self.services.clock(), self.lang)

    def _show_current(self) -> None:
        key = self.items.current_key
        self.query_one("#runner-detail", ItemDetail).show(self.session, key, self.lang)
        self.header.show_progress(self.session, key[0] if key else None, self.lang)

    def _redraw(self, key: Key) -> None:
        self.items.refresh_item(self.session, key, self.lang, pending=self.pending[key] > 0)
        current = self.items.current_key
        if key == current:
            self.query_one("#runner-detail", ItemDetail).show(self.session, key, self.lang)
        self.header.show_progress(self.session, current[0] if current else None, self.lang)

    @on(OptionList.OptionHighlighted, "#runner-items")
    def _highlighted(self) -> None:
        self._show_current()
        self.refresh_bindings()  # a shows only on an item that takes evidence

    # -- moving ---------------------------------------------------------------------

    def next_open(self, after: Key | None = None, here: bool = False) -> Key | None:
        """The next applicable item with no answer and no save on its way, wrapping round;
        `here`: `after` itself when it is one."""
        session = self.session
        keys = self.items.item_keys()
        start = keys.index(after) + (0 if here else 1) if after in keys else 0
        for key in keys[start:] + keys[:start]:
            if (
                session.applies(session.item(*key))
                and session.answer(*key) is None
                and not self.pending[key]
            ):
                return key
        return None

    def jump_to(self, key: Key) -> None:
        """Put the cursor on an item."""
        self.items.select_key(key)
        self.items.focus()
        self._show_current()

    def _advance(self, after: Key) -> None:
        following = self.next_open(after=after)
        if following is None:
            self.notify(ALL_DONE.get(self.lang))
        elif self.items.current_key == after:
            self.items.select_key(following)

    def action_down(self) -> None:
        self.items.action_cursor_down()

    def action_up(self) -> None:
        self.items.action_cursor_up()

    def action_next_open(self) -> None:
        # The item under the cursor is the next open one when it is open itself.
        following = self.next_open(after=self.items.current_key, here=True)
        if following is None:
            self.notify(ALL_DONE.get(self.lang))
        else:
            self.items.select_key(following)

    # -- answering ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False hides the key: a signed visit shows no answer keys, and undo shows only when
        # there is something to take back, so every key on the bar does something.
        if action in CHANGING and not self.session.editable:
            return False
        if action == "attach":
            return self._takes_evidence() is not None
        if action == "edit_details":
            # Details are corrected during an amendment; a new visit's are typed in its form.
            return self.session.amending
        return not (action == "undo" and not self.session.can_undo)

    def _takes_evidence(self) -> Key | None:
        """The item under the cursor, when it asks for photos or files and applies."""
        key = self.items.current_key if self.is_mounted else None
        if key is None:
            return None
        item = self.session.item(*key)
        return key if item.evidence is not None and self.session.applies(item) else None

    def _answerable(self) -> Key | None:
        key = self.items.current_key
        if key is None:
            return None
        if not self.session.applies(self.session.item(*key)):
            self.notify(DOES_NOT_APPLY.get(self.lang), severity="warning")
            return None
        return key

    def action_pass_item(self) -> None:
        key = self._answerable()
        if key is None:
            return
        item = self.session.item(*key)
        answer = self.session.answer(*key)
        values = dict(answer.values) if answer else {}
        if any(f.required and not values.get(f.id) for f in item.fields):
            self._ask(key, Outcome.PASS)  # a pass needs its evidence
        else:
            self.record(key, Outcome.PASS, answer.note if answer else "", values)

    def action_fail_item(self) -> None:
        key = self._answerable()
        if key is not None:
            self._ask(key, Outcome.FAIL)

    def action_na_item(self) -> None:
        key = self._answerable()
        if key is None:
            return
        if self.session.item(*key).na_needs_reason:
            # The reason is asked for in the dialog, where an earlier answer's note (which may
            # explain something else) is shown to confirm or change, never taken silently.
            self._ask(key, Outcome.NA)
            return
        answer = self.session.answer(*key)
        note, values = (answer.note, dict(answer.values)) if answer else ("", {})
        self.record(key, Outcome.NA, note, values)

    def action_details(self) -> None:
        key = self._answerable()
        if key is not None:
            self._ask(key, None)

    def _ask(self, key: Key, outcome: Outcome | None) -> None:
        if not self.session.editable:
            return
        session = self.session
        screen = NoteScreen(session.item(*key), outcome, session.answer(*key), session.info)
        self.app.push_screen(screen, partial(self._noted, key))

    def _noted(self, key: Key, result: NoteResult | None) -> None:
        # Saved from the dialog, whatever the outcome: on to the next open item, as a pass
        # by one key does, so the technician's next key always means the same thing.
        if result is not None:
            self.record(key, result.outcome, result.note, result.values)

    def record(self, key: Key, outcome: Outcome, note: str, values: dict[str, str]) -> None:
        """Save an answer; the cursor moves on at once, the line changes once it is saved."""
        self.pending[key] += 1
        self._saving_started()
        self.items.refresh_item(self.session, key, self.lang, pending=True)
        future = self.services.record(self.session, key[0], key[1], outcome, note, values)
        self.when_done(future, partial(self._recorded, key), partial(self._not_recorded, key))
        self._advance(key)

    def _recorded(self, key: Key, recorded: Recorded) -> None:
        self.session = recorded.session
        self.pending[key] -= 1
        self._saving_finished(None)
        if self.is_attached:
            self._redraw(key)

    def _not_recorded(self, key: Key, error: BaseException) -> None:
        self.pending[key] -= 1
        self._saving_finished(error)
        if self.is_attached:
            self._redraw(key)
            self.items.select_key(key)
        self.notify(error_text(error, self.lang), severity="error", timeout=8)

    def action_undo(self) -> None:
        self._saving_started()
        self.when_done(self.services.undo(self.session), self._undone, self._undo_failed)

    def _undone(self, undone: Undone) -> None:
        self.session = undone.session
        key = undone.key
        self._saving_finished(None)
        if not self.is_attached:
            return
        if key is None:
            self.notify(NOTHING_TO_UNDO.get(self.lang))
            return
        self.items.select_key(key)
        self._redraw(key)
        title = self.session.item(*key).title.get(self.lang)
        self.notify(UNDONE.get(self.lang).format(title=title))

    def _undo_failed(self, error: BaseException) -> None:
        self._saving_finished(error)
        self.notify(error_text(error, self.lang), severity="error", timeout=8)

    def _saving_started(self) -> None:
        self.save_state.started()
        self.header.show_save(self.save_state, self.lang)

    def _saving_finished(self, error: BaseException | None) -> None:
        self.save_state.finished(error, self.services.clock())
        if self.is_attached:
            self.header.show_save(self.save_state, self.lang)
            self.refresh_bindings()

    # -- evidence -------------------------------------------------------------------

    def action_attach(self) -> None:
        from pos_tui.ui.screens.attach import AttachScreen

        key = self._takes_evidence()
        if key is None or not self.session.editable:
            return
        self.app.push_screen(AttachScreen(self.session, key, partial(self._evidence_changed, key)))

    def action_phone(self) -> None:
        """The phone as camera (on an item that takes photos) or as GPS (on any other)."""
        from pos_tui.ui.screens.phone_qr import PhoneScreen

        if not self.session.editable:
            return
        key = self._takes_evidence()
        self.app.push_screen(PhoneScreen(self.session, key, partial(self._phone_changed, key)))

    def _phone_changed(self, key: Key | None, session: Session) -> None:
        if key is not None:
            self._evidence_changed(key, session)
            return
        self.session = session  # the visit's position: shown in the header's details
        if self.is_attached:
            self.apply_language(self.lang)

    def _evidence_changed(self, key: Key, session: Session) -> None:
        """A save of the item's files came back (from the dialog, or a paste here)."""
        self.session = session
        if self.is_attached:
            self._redraw(key)
            self.refresh_bindings()

    def on_paste(self, event: events.Paste) -> None:
        """A terminal pastes a file dragged onto it as its path: attach it to the item
        under the cursor. Pasted text that is not paths of files is none of our business."""
        from pos_tui.services.intake import pasted_paths

        key = self._takes_evidence()
        if key is None or not self.session.editable:
            return
        paths = pasted_paths(event.text)
        # Dragged files arrive as whole paths; words pasted by mistake are not paths.
        if not paths or not all(path.is_absolute() for path in paths):
            return
        event.stop()
        self._saving_started()
        job = self.services.worker.submit(_existing, paths)
        self.when_done(job, partial(self._paste_checked, key), self._not_attached)

    def _paste_checked(self, key: Key, paths: list[Path]) -> None:
        if not paths:  # looked like paths, but none is a file here: ignored, as text is
            self._saving_finished(None)
            return
        future = self.services.attach(self.session, key[0], key[1], paths=paths, source="laptop")
        self.when_done(future, partial(self._pasted, key), self._not_attached)

    def _pasted(self, key: Key, attached: Attached) -> None:
        from pos_tui.ui.screens.attach_text import attached_text

        self._saving_finished(None)
        self._evidence_changed(key, attached.session)
        if attached.added or not attached.refused:
            self.notify(attached_text(attached.added).get(self.lang))
        for _name, text in attached.refused:
            self.notify(text.get(self.lang), severity="warning", timeout=8)

    def _not_attached(self, error: BaseException) -> None:
        self._saving_finished(error)
        self.notify(error_text(error, self.lang), severity="error", timeout=8)

    # -- elsewhere ------------------------------------------------------------------

    def action_summary(self) -> None:
        from pos_tui.ui.screens.summary import SummaryScreen

        self.app.push_screen(SummaryScreen(self.session), self._back_from_summary)

    def _back_from_summary(self, result: SummaryResult | None) -> None:
        if result is None:
            return
        if result.runner is not None and result.runner.uuid != self.session.uuid:
            # A follow-up visit is another visit: its own runner takes this one's place.
            self.app.switch_screen(RunnerScreen(result.runner))
            return
        # Signed there, perhaps: from now on this screen shows the visit read-only.
        self.session = result.session
        self.apply_language(self.lang)
        self.refresh_bindings()
        if result.jump_to is not None:
            self.jump_to(result.jump_to)

    def action_edit_details(self) -> None:
        from pos_tui.ui.screens.details_edit import DetailsEditScreen

        if self.session.amending:
            self.app.push_screen(DetailsEditScreen(self.session), self._details_changed)

    def _details_changed(self, changed: DetailsChanged | None) -> None:
        if changed is not None:
            self.session = changed.session
            if self.is_attached:
                # A corrected detail may be one an item's fields must equal (`expect`).
                self.apply_language(self.lang)
                self.refresh_bindings()

    def action_back(self) -> None:
        self.app.pop_screen()


def _existing(paths: list[Path]) -> list[Path]:
    """On the worker (a stat can hang on a share): all the pasted paths when any is a file
    here, so one that is not is named as refused; none when no path is a file."""
    return paths if any(path.is_file() for path in paths) else []
