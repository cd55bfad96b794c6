"""The supervisor's decision on one visit, with the comment the rules ask for.

Returns the decision as written to the shared store, or None when cancelled. The rules
(a comment for "has issues" and "reject") are checked by `ReviewServices.decide`, and a
refusal is shown here, inline, without closing the dialog.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from pos_tui.domain.review import needs_comment
from pos_tui.domain.review_filter import ReviewRow
from pos_tui.ui.i18n import SAVING, Text
from pos_tui.ui.screens import review_render as render
from pos_tui.ui.screens import review_text as words
from pos_tui.ui.screens.base import PosModal, error_text

COMMENT_REQUIRED = Text(
    "意见（必填，技术员同步时会看到）", "Comment (required; the technician sees it)"
)
COMMENT_OPTIONAL = Text("意见（可选）", "Comment (optional)")
HINT = Text("Enter 保存 | Esc 取消 | 审核人：{who}", "Enter saves | Esc cancels | Reviewer: {who}")


class ReviewDecisionScreen(PosModal[dict[str, Any] | None]):
    CSS_PATH = "review.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="review.cancel"),
        Binding("ctrl+s", "save", "Save", id="review.save"),
    ]

    def __init__(self, row: ReviewRow, decision: str, warnings: list[str]) -> None:
        super().__init__()
        self.row = row
        self.decision = decision
        self.warnings = warnings
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="decision-box", classes="dialog"):
            yield Static(id="decision-title", classes="dialog-title")
            yield Static(id="decision-visit")
            yield Static(id="decision-warning")
            yield Static(id="decision-label")
            yield Input(id="decision-comment", max_length=500)
            yield Static(id="decision-error", classes="field-error")
            yield Static(id="decision-hint", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#decision-comment", Input).focus()

    def apply_language(self, lang: str) -> None:
        row = self.row
        self.query_one("#decision-title", Static).update(
            words.DECISION_TITLES[self.decision].get(lang)
        )
        visit = f"{row.when} | {row.merchant_name} | {row.terminal_number} | {row.technician}"
        self.query_one("#decision-visit", Static).update(visit)
        warning = self.query_one("#decision-warning", Static)
        warning.update("\n".join(render.WARNING_TEXT[w].get(lang) for w in self.warnings))
        warning.display = bool(self.warnings)
        label = COMMENT_REQUIRED if needs_comment(self.decision) else COMMENT_OPTIONAL
        self.query_one("#decision-label", Static).update(label.get(lang))
        self.query_one("#decision-hint", Static).update(
            HINT.get(lang).format(who=self.pos_app.review.reviewer)
        )

    @on(Input.Submitted, "#decision-comment")
    def action_save(self) -> None:
        if self.saving:
            return
        self.saving = True
        self.query_one("#decision-error", Static).update(SAVING.get(self.lang))
        comment = self.query_one("#decision-comment", Input).value
        future = self.pos_app.review.decide(self.row.uuid, self.decision, comment)
        self.when_done(future, self.dismiss, self._refused)

    def _refused(self, error: BaseException) -> None:
        self.saving = False
        self.query_one("#decision-error", Static).update(error_text(error, self.lang))
        self.query_one("#decision-comment", Input).focus()

    def action_cancel(self) -> None:
        if not self.saving:
            self.dismiss(None)
