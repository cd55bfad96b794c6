"""Every key of the screen underneath, and the app's own, in the current language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from pos_tui.ui.i18n import Text
from pos_tui.ui.screens.base import LanguageMixin, PosModal

TITLE = Text("按键帮助", "Keys")
HINT = Text(
    "按 Esc 关闭。所有操作也可在命令面板（Ctrl+P）中找到。",
    "Esc closes this. Every action is also in the command palette (Ctrl+P).",
)
KEY = Text("按键", "Key")
ACTION = Text("操作", "Action")


class HelpScreen(PosModal[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", show=False)]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            yield Static(id="help-title", classes="dialog-title")
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Static(id="help-hint", classes="hint")

    def apply_language(self, lang: str) -> None:
        self.query_one("#help-title", Static).update(TITLE.get(lang))
        self.query_one("#help-hint", Static).update(HINT.get(lang))
        table = self.query_one("#help-keys", DataTable)
        table.clear(columns=True)
        table.add_columns(KEY.get(lang), ACTION.get(lang))
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        rows: list[tuple[str, str]] = []
        if isinstance(below, LanguageMixin):
            rows += [
                (binding.key_display or key, binding.description)
                for key, binding in below.key_bindings()
            ]
        for key, bindings in self.app._bindings.key_to_bindings.items():
            rows += [(b.key_display or key, b.description) for b in bindings if b.description]
        for key, description in rows:
            table.add_row(key, description)
