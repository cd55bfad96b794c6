"""Asked once, on the first start: who is the technician?"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from pos_tui.ui.i18n import Text
from pos_tui.ui.screens.base import PosModal
from pos_tui.ui.widgets.in_order_input import InOrderInput

TITLE = Text("欢迎使用 pos-tui", "Welcome to pos-tui")
QUESTION = Text(
    "请输入您的姓名（技术员），它将记录在您的每次访问中。",
    "Your name, as the technician: it goes on every visit you record.",
)
PLACEHOLDER = Text("姓名", "Name")
CONFIRM = Text("输入后按 Enter 确认。", "Type it, then press Enter.")
REQUIRED = Text("请输入姓名", "Please type your name")


class FirstRunScreen(PosModal[str]):
    BINDINGS = [Binding("enter", "done", "Save", id="form.save", show=True)]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(id="first-run-title", classes="dialog-title")
            yield Static(id="first-run-question")
            yield InOrderInput(id="technician-name", max_length=40)
            yield Static(id="first-run-confirm", classes="hint")
            yield Static(id="first-run-error", classes="field-error")

    def apply_language(self, lang: str) -> None:
        self.query_one("#first-run-title", Static).update(TITLE.get(lang))
        self.query_one("#first-run-question", Static).update(QUESTION.get(lang))
        self.query_one("#first-run-confirm", Static).update(CONFIRM.get(lang))
        self.query_one("#technician-name", Input).placeholder = PLACEHOLDER.get(lang)

    @on(Input.Submitted)
    def action_done(self) -> None:
        name = self.query_one("#technician-name", Input).value.strip()
        if not name:
            self.query_one("#first-run-error", Static).update(REQUIRED.get(self.lang))
            return
        self.dismiss(name)
