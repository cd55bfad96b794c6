"""Every key of the screen underneath, and the app's own, in the current language."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Static

from pos_tui.ui.i18n import Text
from pos_tui.ui.screens.base import PosModal, screen_keys
from pos_tui.ui.widgets.wrapped_text import WrappedText

TITLE = Text("按键帮助", "Keys")
HINT = Text(
    "按 Esc 关闭。所有操作也可在命令面板（Ctrl+P）中找到。",
    "Esc closes this. Every action is also in the command palette (Ctrl+P).",
)
KEY = Text("按键", "Key")
ACTION = Text("操作", "Action")


class HelpScreen(PosModal[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", show=False)]

    def __init__(self, explained: Screen[Any]) -> None:
        super().__init__()
        self.explained = explained
        """The screen whose keys are listed: the one the help was opened from."""

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            yield Static(id="help-title", classes="dialog-title")
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield WrappedText(id="help-hint", classes="hint")

    def apply_language(self, lang: str) -> None:
        self.query_one("#help-title", Static).update(TITLE.get(lang))
        self.query_one("#help-hint", WrappedText).set_text(HINT.get(lang))
        table = self.query_one("#help-keys", DataTable)
        table.clear(columns=True)
        table.add_columns(KEY.get(lang), ACTION.get(lang))
        for shown, words, _binding, _enabled in screen_keys(self.explained, lang):
            table.add_row(shown, words)
