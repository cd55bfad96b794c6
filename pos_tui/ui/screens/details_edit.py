"""Correcting a visit's details during an amendment: a mistyped merchant number, a serial.

Only details that do not decide which checks a visit has are offered (the job type and the
terminal's capabilities are fixed: another job is another visit). The domain checks the
values (`Session.change_details`); a refusal is shown here and the form stays open.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Static

from pos_tui.domain.session import Session
from pos_tui.services.technician import DetailsChanged
from pos_tui.ui.i18n import Text
from pos_tui.ui.screens.base import ENTER_MOVES_ON, PosModal, error_text, focused_input
from pos_tui.ui.screens.form_fields import field_row, show_message
from pos_tui.ui.screens.new_visit_text import INLINE, LABELS
from pos_tui.ui.widgets.in_order_input import InOrderInput

TITLE = Text("更正访问信息", "Correct the visit details")
HINT = Text(
    "每处改动都记入更正记录（原值和新值）。Ctrl+S 保存，Esc 取消。",
    "Each change is logged with its old and new value. Ctrl+S saves, Esc cancels.",
)
NOTHING_CHANGED = Text("没有改动", "Nothing changed")
SAVE = Text("保存", "Save")
CANCEL = Text("取消", "Cancel")

EDITABLE = (
    "merchant_name",
    "merchant_number",
    "terminal_number",
    "terminal_serial",
    "province",
    "city",
    "district",
    "street",
    "street_number",
    "merchant_contact",
)
"""The details a technician corrects at the counter, in the new-visit form's order."""


def detail_label(name: str) -> Text:
    return LABELS.get(name) or INLINE[name]


class DetailsEditScreen(PosModal[DetailsChanged | None]):
    """Returns the saved change (the visit and what changed), or None when cancelled or
    when nothing changed."""

    CSS_PATH = "forms.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save"),
        ENTER_MOVES_ON,
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self._busy = False
        self._refusal: BaseException | None = None

    def compose(self) -> ComposeResult:
        info = self.session.info.to_dict()
        with VerticalScroll(id="details-box", classes="dialog"):
            yield Static(id="details-title", classes="dialog-title")
            yield Static(id="details-hint", classes="hint")
            for name in EDITABLE:
                yield field_row(
                    f"details-{name}",
                    InOrderInput(str(info.get(name, "")), id=f"details-{name}", compact=True),
                )
            yield Static(id="details-message", markup=False)
            with Horizontal(id="details-buttons"):
                yield Button(id="details-cancel")
                yield Button(id="details-save", variant="primary")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(f"#details-{EDITABLE[0]}", Input).focus()

    def apply_language(self, lang: str) -> None:
        self.query_one("#details-title", Static).update(TITLE.get(lang))
        self.query_one("#details-hint", Static).update(HINT.get(lang))
        for name in EDITABLE:
            self.query_one(f"#details-{name}-label", Static).update(detail_label(name).get(lang))
            show_message(self.query_one(f"#details-{name}-message", Static), "")
        self.query_one("#details-save", Button).label = SAVE.get(lang)
        self.query_one("#details-cancel", Button).label = CANCEL.get(lang)
        self._show_refusal()

    def _show_refusal(self) -> None:
        said = "" if self._refusal is None else error_text(self._refusal, self.lang)
        show_message(self.query_one("#details-message", Static), said)

    def changes(self) -> dict[str, str]:
        """The details whose value differs from the visit's, as typed."""
        info = self.session.info.to_dict()
        typed = {name: self.query_one(f"#details-{name}", Input).value for name in EDITABLE}
        return {name: value for name, value in typed.items() if value != str(info.get(name, ""))}

    def action_next_field(self) -> None:
        focused_input(self)
        self.focus_next()

    @on(Button.Pressed, "#details-save")
    def action_save(self) -> None:
        if self._busy:
            return
        changes = self.changes()
        if not changes:
            self.notify(NOTHING_CHANGED.get(self.lang))
            self.dismiss(None)
            return
        self._busy = True
        future = self.services.change_details(self.session, changes)
        self.when_done(future, self._saved, self._refused)

    def _saved(self, changed: DetailsChanged) -> None:
        self._busy = False
        self.dismiss(changed)

    def _refused(self, error: BaseException) -> None:
        self._busy = False
        self._refusal = error
        if self.is_attached:
            self._show_refusal()

    @on(Button.Pressed, "#details-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
