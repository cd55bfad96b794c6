"""Asking why: the reason a draft is discarded or a signed visit is amended.

The dialog does not judge the reason itself. It hands it to `submit` (a services call) and
closes only when that succeeds; a refusal (an empty reason, a signed visit that cannot be
discarded) is the domain's sentence, shown here, so the rule stays in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Static

from pos_tui.ui.i18n import Text
from pos_tui.ui.screens.base import PosModal, error_text
from pos_tui.ui.screens.form_fields import show_message
from pos_tui.ui.widgets.in_order_input import InOrderInput

T = TypeVar("T")

REASON = Text("原因", "Reason")
CONFIRM = Text("确定", "Confirm")
CANCEL = Text("取消", "Cancel")


class ReasonScreen(PosModal[T | None]):
    """Returns what `submit(reason)` produced, or None when cancelled."""

    CSS_PATH = "forms.tcss"
    BINDINGS = [
        Binding("ctrl+s", "confirm", "Confirm", id="form.save"),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    def __init__(self, title: Text, prompt: Text, submit: Callable[[str], Future[T]]) -> None:
        super().__init__()
        self.heading = title
        self.prompt = prompt
        self.submit = submit
        self._busy = False
        self._refusal: BaseException | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="reason-box", classes="dialog"):
            yield Static(id="reason-title", classes="dialog-title", markup=False)
            yield Static(id="reason-prompt", markup=False)
            yield InOrderInput(id="reason-input", max_length=200)
            yield Static(id="reason-message", classes="field-message", markup=False)
            with Horizontal(id="reason-buttons"):
                yield Button(id="reason-cancel")
                yield Button(id="reason-confirm", variant="primary")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#reason-input", Input).focus()

    def apply_language(self, lang: str) -> None:
        self.query_one("#reason-title", Static).update(self.heading.get(lang))
        self.query_one("#reason-prompt", Static).update(self.prompt.get(lang))
        self.query_one("#reason-input", Input).placeholder = REASON.get(lang)
        self.query_one("#reason-confirm", Button).label = CONFIRM.get(lang)
        self.query_one("#reason-cancel", Button).label = CANCEL.get(lang)
        self._show_refusal()

    def _show_refusal(self) -> None:
        # Said again in the other language after a switch: the error keeps both.
        said = "" if self._refusal is None else error_text(self._refusal, self.lang)
        show_message(self.query_one("#reason-message", Static), said)

    @on(Input.Submitted, "#reason-input")
    @on(Button.Pressed, "#reason-confirm")
    def action_confirm(self) -> None:
        if self._busy:  # one request at a time: Enter twice must not discard twice
            return
        self._busy = True
        reason = self.query_one("#reason-input", Input).value
        self.when_done(self.submit(reason), self._done, self._refused)

    def _done(self, result: T) -> None:
        self._busy = False
        self.dismiss(result)

    def _refused(self, error: BaseException) -> None:
        self._busy = False
        self._refusal = error
        if self.is_attached:
            self._show_refusal()
            self.query_one("#reason-input", Input).focus()

    @on(Button.Pressed, "#reason-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
