"""The answer to one item in full: outcome, note and the values the checklist asks for.

Checks everything the visit would refuse, field by field, before it closes, so the
technician fixes a typo here rather than reading an error after the save. The rules are the
domain's (`answer_checks`); this screen only asks them first and shows the answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from pos_tui.domain import answer_checks
from pos_tui.domain.checklist import FieldKind, Item
from pos_tui.domain.redact import CardDataError, guard_text
from pos_tui.domain.session import Answer, Outcome
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.ui.i18n import OUTCOME_NAMES, Text
from pos_tui.ui.screens.base import ENTER_MOVES_ON, PosModal, focused_input
from pos_tui.ui.widgets.field_input import (
    PlainRadioButton,
    field_value,
    field_widget,
    field_widget_id,
)
from pos_tui.ui.widgets.note_editor import NoteEditor

OUTCOME = Text("结果", "Outcome")
NOTE = Text("备注", "Note")
NOTE_PLACEHOLDER = Text("现场情况、处理方法", "What happened, what was done")
NOTE_REQUIRED = Text("不通过须填写说明", "A failed item needs a note")
REASON_REQUIRED = Text(
    "必做项或关键项判为不适用，须在备注中说明原因",
    "N/A on a required or critical item needs the reason here",
)
CANNOT_PASS = Text(
    "以上数据说明检查未通过，不能判为通过。按 Ctrl+F 判为不通过，并把差异写入备注。",
    "These values mean the check failed, so it cannot pass. Ctrl+F: fail it, with what "
    "differs written into the note.",
)
FAIL_WITH_IT = Text("判为不通过", "Fail it")
CHOOSE_OUTCOME = Text("请选择通过、不通过或不适用", "Choose pass, fail or n/a")
CHOOSE = Text("请选择", "Choose")
MASKED = Text(
    "卡号已屏蔽为 ****+后4位。请核对后再按 Ctrl+S 保存。",
    "Card numbers were masked to **** and the last 4 digits. Check, then Ctrl+S to save.",
)
HINT = Text(
    "备注中 Enter 换行  Tab 下一项  Ctrl+S 保存  Esc 取消",
    "Enter new line  Tab next  Ctrl+S save  Esc cancel",
)
SAVE = Text("保存", "Save")
CANCEL = Text("取消", "Cancel")
NOTE_ID = "note-note"
OUTCOME_ID = "note-outcome"


class NoteArea(NoteEditor):
    """The note: several lines, broken as Chinese is typeset, so a long one shows from its
    beginning (`widgets/note_editor.py`). `value` as an Input has it, for the checks that
    read and correct it."""


@dataclass(frozen=True, slots=True)
class NoteResult:
    """What the technician confirmed: the values hold only the fields they filled in."""

    outcome: Outcome
    note: str
    values: dict[str, str] = field(default_factory=dict)


def card_error_text(error: CardDataError) -> Text:
    return Text(error.message_zh, str(error))


class NoteScreen(PosModal[NoteResult | None]):
    CSS_PATH = "runner.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save"),
        Binding("ctrl+f", "fail_it", "Fail, noting what differs", id="form.fail_it"),
        ENTER_MOVES_ON,
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    def __init__(
        self,
        item: Item,
        outcome: Outcome | None = None,
        answer: Answer | None = None,
        info: VisitInfo | None = None,
    ) -> None:
        super().__init__()
        self.item = item
        self.preset = outcome or (answer.outcome if answer else None)
        self.answer = answer
        self.info = info or VisitInfo()
        """The visit's details: what fields start with (`prefill`) and must equal (`expect`)."""
        self.errors: dict[str, Text] = {}
        self.blocked: dict[str, Text] = {}
        """The fields whose values keep the item from passing, by field id."""
        self._masked_shown = False
        self._last4_ids = {field_widget_id(f.id) for f in item.fields if f.kind is FieldKind.LAST4}

    def compose(self) -> ComposeResult:
        # Known details are offered, never typed twice; an answer keeps what it recorded.
        values = (
            self.answer.values if self.answer else answer_checks.prefilled(self.item, self.info)
        )
        lang = self.lang
        with VerticalScroll(id="note-box", classes="dialog"):
            yield Static(id="note-title", classes="dialog-title", markup=False)
            with Horizontal(classes="note-row"):
                yield Static(id="note-outcome-label", classes="note-label")
                with RadioSet(id=OUTCOME_ID, compact=True):
                    for outcome in Outcome:
                        yield PlainRadioButton(
                            value=outcome is self.preset, id=f"outcome-{outcome}"
                        )
            yield Static(id=f"error-{OUTCOME_ID}", classes="note-error")
            with Horizontal(classes="note-row"):
                yield Static(id="note-note-label", classes="note-label")
                yield NoteArea(self.answer.note if self.answer else "", id=NOTE_ID)
            yield Static(id=f"error-{NOTE_ID}", classes="note-error")
            for item_field in self.item.fields:
                widget_id = field_widget_id(item_field.id)
                with Horizontal(classes="note-row"):
                    yield Static(id=f"label-{widget_id}", classes="note-label", markup=False)
                    yield field_widget(item_field, values.get(item_field.id, ""), CHOOSE.get(lang))
                yield Static(id=f"error-{widget_id}", classes="note-error")
            yield Static(id="note-warning", classes="field-warning")
            yield Static(id="note-cannot-pass", classes="field-warning")
            # On a line of its own: beside the buttons it was cut at 80 columns.
            yield Static(HINT.get(lang), id="note-hint", classes="hint")
            with Horizontal(id="note-buttons"):
                yield Static(id="note-buttons-space")
                yield Button(id="note-fail-it", variant="error", compact=True)
                yield Button(id="note-save", variant="primary", compact=True)
                yield Button(id="note-cancel", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self._show_blocked()
        self._first_focus().focus()

    def _first_focus(self) -> Widget:
        if self.preset is None:
            return self.query_one(f"#{OUTCOME_ID}")
        if self.preset is Outcome.PASS:
            values = self.answer.values if self.answer else {}
            for item_field in self.item.fields:
                if item_field.required and not values.get(item_field.id):
                    return self.query_one(f"#{field_widget_id(item_field.id)}")
        return self.query_one(f"#{NOTE_ID}")

    def apply_language(self, lang: str) -> None:
        self.query_one("#note-title", Static).update(self.item.title.get(lang))
        self.query_one("#note-outcome-label", Static).update(OUTCOME.get(lang))
        for outcome in Outcome:
            button = self.query_one(f"#outcome-{outcome}", RadioButton)
            button.label = OUTCOME_NAMES[outcome].get(lang)
        self.query_one("#note-note-label", Static).update(NOTE.get(lang))
        self.query_one(f"#{NOTE_ID}", NoteArea).placeholder = NOTE_PLACEHOLDER.get(lang)
        for item_field in self.item.fields:
            label = item_field.label.get(lang) + (" *" if item_field.required else "")
            self.query_one(f"#label-{field_widget_id(item_field.id)}", Static).update(label)
        self.query_one("#note-hint", Static).update(HINT.get(lang))
        self.query_one("#note-fail-it", Button).label = FAIL_WITH_IT.get(lang)
        self.query_one("#note-save", Button).label = SAVE.get(lang)
        self.query_one("#note-cancel", Button).label = CANCEL.get(lang)
        self.query_one("#note-cannot-pass", Static).update(CANNOT_PASS.get(lang))
        self._show_errors()

    # -- checking -------------------------------------------------------------------

    @property
    def outcome(self) -> Outcome | None:
        pressed = self.query_one(f"#{OUTCOME_ID}", RadioSet).pressed_button
        return None if pressed is None or pressed.id is None else Outcome(pressed.id[8:])

    def check(self, outcome: Outcome | None = None) -> NoteResult | None:
        """The result, or None after showing every problem next to its field; `outcome`
        instead of the one chosen on screen."""
        self.errors = {}
        masked = False
        outcome = outcome or self.outcome
        if outcome is None:
            self.errors[OUTCOME_ID] = CHOOSE_OUTCOME
        note_input = self.query_one(f"#{NOTE_ID}", NoteArea)
        note = self._guarded(NOTE_ID, note_input.value.strip(), guard_text)
        if note is not None and note != note_input.value.strip():
            note_input.value, masked = note, True
        if outcome is Outcome.FAIL and note == "":
            self.errors[NOTE_ID] = NOTE_REQUIRED
        if outcome is Outcome.NA and self.item.na_needs_reason and note == "":
            self.errors[NOTE_ID] = REASON_REQUIRED
        values = self._values(outcome)
        masked = masked or values is None
        self.blocked = answer_checks.pass_problems(self.item, values or {}, self.info)
        if outcome is Outcome.PASS:
            for field_id, blocked in self.blocked.items():
                self.errors.setdefault(field_widget_id(field_id), blocked)
        self._show_errors()
        self._show_blocked(outcome is Outcome.PASS)
        warning = self.query_one("#note-warning", Static)
        warning.update(MASKED.get(self.lang) if masked else "")
        warning.display = masked
        if self.errors or outcome is None or note is None:
            self._focus_first_error()
            return None
        if masked and not self._masked_shown:
            self._masked_shown = True  # let them see the masked text before it is saved
            return None
        return NoteResult(outcome, note, values or {})

    def _values(self, outcome: Outcome | None) -> dict[str, str] | None:
        """The values as they will be stored; None when one was masked on the way."""
        values: dict[str, str] = {}
        masked = False
        for item_field in self.item.fields:
            widget_id = field_widget_id(item_field.id)
            widget = self.query_one(f"#{widget_id}")
            raw = field_value(widget)
            value = self._guarded(widget_id, raw, partial(answer_checks.cleaned, item_field))
            if value is None:
                continue
            if value != raw and isinstance(widget, Input):
                widget.value, masked = value, True
            # Required values are the evidence of a pass; a fail or n/a may lack them.
            if outcome is Outcome.PASS or value:
                problem = answer_checks.problem(item_field, value)
            else:
                problem = None
            if problem is not None:
                self.errors[widget_id] = problem
            elif value:
                values[item_field.id] = value
        return None if masked else values

    def _guarded(self, widget_id: str, text: str, guard: Callable[[str], str]) -> str | None:
        try:
            return guard(text)
        except CardDataError as error:
            self.errors[widget_id] = card_error_text(error)
            return None

    def _show_blocked(self, shown: bool = False) -> None:
        """What keeps a pass from being possible, and the one key that fails it instead."""
        self.query_one("#note-cannot-pass", Static).display = shown and bool(self.blocked)
        self.query_one("#note-fail-it", Button).display = bool(self.blocked)

    def _show_errors(self) -> None:
        for error_line in self.query(".note-error").results(Static):
            widget_id = (error_line.id or "")[len("error-") :]
            text = self.errors.get(widget_id)
            error_line.update(text.get(self.lang) if text else "")
            error_line.display = text is not None

    def _focus_first_error(self) -> None:
        for widget_id in (OUTCOME_ID, NOTE_ID, *(field_widget_id(f.id) for f in self.item.fields)):
            if widget_id in self.errors:
                self.query_one(f"#{widget_id}").focus()
                return

    # -- keys -----------------------------------------------------------------------

    def action_save(self) -> None:
        result = self.check()
        if result is not None:
            self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_fail_it(self) -> None:
        """Fail the item, with what differs from a pass written into the note: one key for
        the usual end of a mismatch, and nothing of it typed by hand."""
        self.errors = {}
        values = self._values(Outcome.FAIL) or {}
        self.blocked = answer_checks.pass_problems(self.item, values, self.info)
        if not self.blocked:
            self._show_errors()
            return
        note_input = self.query_one(f"#{NOTE_ID}", NoteArea)
        note_input.value = answer_checks.fail_note(note_input.value, self.item, self.blocked)
        self.query_one(f"#outcome-{Outcome.FAIL}", RadioButton).value = True
        result = self.check(Outcome.FAIL)
        if result is not None:
            self.dismiss(result)

    @on(Button.Pressed, "#note-fail-it")
    def _fail_it_pressed(self) -> None:
        self.action_fail_it()

    @on(Input.Changed)
    def _keep_last_four(self, event: Input.Changed) -> None:
        """A last-4 field keeps the last four digits as they are typed, so a full card
        number typed or scanned into it never stays on screen, and its first digits never
        take the place of the last."""
        if event.input.id not in self._last4_ids:
            return
        kept = answer_checks.digits(event.value)[-4:]
        if kept != event.value:
            event.input.value = kept
            event.input.cursor_position = len(kept)

    @on(Button.Pressed, "#note-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#note-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_next_field(self) -> None:
        # Enter in the note is a new line (the editor's own); in a field it moves on.
        field = focused_input(self)
        inputs = list(self.query(Input))
        if inputs and field is inputs[-1]:
            self.action_save()
        else:
            self.focus_next()
