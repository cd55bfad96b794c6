"""The supervisor's decision on one visit, with the comment the rules ask for.

Returns the decision as written to the shared store, or None when cancelled. The rules
(a comment for "has issues" and "reject") are checked by `ReviewServices.decide`, and a
refusal is shown here, inline, without closing the dialog.

Given the record, the dialog also lists the visit's items, so a decision can point the
technician at the ones to redo: for "has issues" and "reject" the failed ones are marked
already, since those are what a send-back is usually about.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from pos_tui.domain.review import needs_comment
from pos_tui.domain.review_filter import APPROVED, ReviewRow
from pos_tui.store.sources import VisitRecord
from pos_tui.ui.i18n import SAVING, Text
from pos_tui.ui.screens import review_render as render
from pos_tui.ui.screens import review_text as words
from pos_tui.ui.screens.base import PosModal, error_text
from pos_tui.ui.widgets.in_order_input import InOrderInput

COMMENT_REQUIRED = Text(
    "意见（必填，技术员同步时会看到）", "Comment (required; the technician sees it)"
)
COMMENT_OPTIONAL = Text("意见（可选）", "Comment (optional)")
HINT = Text("Enter 保存 | Esc 取消 | 审核人：{who}", "Enter saves | Esc cancels | Reviewer: {who}")
ITEMS_LABEL = Text(
    "指出的项目（Tab 切换到此处，空格勾选）：",
    "Items it names (Tab to move here, space to mark):",
)


class ReviewDecisionScreen(PosModal[dict[str, Any] | None]):
    CSS_PATH = "review.tcss"
    # Here, not in review.tcss: the list is as tall as the 24-line terminal leaves room for.
    DEFAULT_CSS = """
    ReviewDecisionScreen #decision-items {
        height: auto;
        max-height: 8;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="review.cancel"),
        Binding("ctrl+s", "save", "Save", id="review.save"),
    ]

    def __init__(
        self,
        row: ReviewRow,
        decision: str,
        warnings: list[str],
        record: VisitRecord | None = None,
    ) -> None:
        super().__init__()
        self.row = row
        self.decision = decision
        self.warnings = warnings
        self.record = record
        self.saving = False
        self._keys: list[tuple[str, str]] = []
        """The visit's items in the list's order: a Selection's value is its index here."""

    def compose(self) -> ComposeResult:
        with Vertical(id="decision-box", classes="dialog"):
            yield Static(id="decision-title", classes="dialog-title")
            yield Static(id="decision-visit")
            yield Static(id="decision-warning")
            yield Static(id="decision-label")
            yield InOrderInput(id="decision-comment", max_length=500)
            yield Static(id="decision-items-label")
            yield SelectionList[int](id="decision-items")
            yield Static(id="decision-error", classes="field-error")
            yield Static(id="decision-hint", classes="hint")

    def on_mount(self) -> None:
        shown = self.record is not None and bool(self.record.session.all_items())
        self.query_one("#decision-items-label").display = shown
        self.query_one("#decision-items").display = shown
        self.query_one("#decision-comment", Input).focus()

    def _fill_items(self, lang: str) -> None:
        if self.record is None:
            return
        session = self.record.session
        chosen = set(self.chosen_items) if self._keys else None
        if chosen is None:
            failed = {(c.id, i.id) for c, i, _a in session.failures()}
            chosen = failed if self.decision != APPROVED else set()
        items = self.query_one("#decision-items", SelectionList)
        items.clear_options()
        self._keys = [(c.id, i.id) for c, i in session.all_items()]
        items.add_options(
            Selection(f"{i.title.get(lang)} ({c.title.get(lang)})", n, (c.id, i.id) in chosen)
            for n, (c, i) in enumerate(session.all_items())
        )

    @property
    def chosen_items(self) -> list[tuple[str, str]]:
        """The items marked, in the visit's order."""
        if not self._keys:
            return []
        marked = set(self.query_one("#decision-items", SelectionList).selected)
        return [key for n, key in enumerate(self._keys) if n in marked]

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
        self.query_one("#decision-items-label", Static).update(ITEMS_LABEL.get(lang))
        self._fill_items(lang)

    @on(Input.Submitted, "#decision-comment")
    def action_save(self) -> None:
        if self.saving:
            return
        self.saving = True
        self.query_one("#decision-error", Static).update(SAVING.get(self.lang))
        comment = self.query_one("#decision-comment", Input).value
        future = self.pos_app.review.decide(
            self.row.uuid, self.decision, comment, self.chosen_items, self.row.key
        )
        self.when_done(future, self.dismiss, self._refused)

    def _refused(self, error: BaseException) -> None:
        self.saving = False
        self.query_one("#decision-error", Static).update(error_text(error, self.lang))
        self.query_one("#decision-comment", Input).focus()

    def action_cancel(self) -> None:
        if not self.saving:
            self.dismiss(None)
