"""One visit in full, for the supervisor: details, every answer, the log, and the decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from pos_tui.domain.integrity import Integrity
from pos_tui.domain.review_filter import APPROVED, HAS_ISSUES, REJECTED, ReviewRow
from pos_tui.store.sources import VisitRecord
from pos_tui.ui.i18n import Text
from pos_tui.ui.screens import review_render as render
from pos_tui.ui.screens import review_text as words
from pos_tui.ui.screens.base import PosScreen
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.title_bar import TitleBar

TITLE = Text("审核：{merchant} | {terminal}", "Review: {merchant} | {terminal}")
DETAILS = Text("访问信息", "Visit")
FAILURES = Text("不通过项（{n}）", "Failed items ({n})")
ANSWERS = Text("全部检查结果", "All answers")
TIMELINE = Text("时间线", "Timeline")
SAVED = Text("已记录：{state}", "Recorded: {state}")


class ReviewDetailScreen(PosScreen[None]):
    CSS_PATH = "review.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="review.back"),
        Binding("a", "decide('approved')", "Approve", id="review.approve"),
        Binding("i", "decide('has_issues')", "Has issues", id="review.issues"),
        Binding("x", "decide('rejected')", "Reject", id="review.reject"),
        Binding("ctrl+r", "report", "Report", id="visit.report"),
    ]

    def __init__(self, row: ReviewRow, on_decided: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self.row = row
        self.on_decided = on_decided
        self.record: VisitRecord | None = None
        self.integrity: Integrity | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(id="detail-banner")
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-meta-title", classes="section-title")
            yield Static(id="detail-meta")
            yield Static(id="detail-failures-title", classes="section-title")
            yield Static(id="detail-failures")
            yield Static(id="detail-answers-title", classes="section-title")
            yield Static(id="detail-answers")
            yield Static(id="detail-timeline-title", classes="section-title")
            yield Static(id="detail-timeline")
        yield KeyBar()

    def on_mount(self) -> None:
        # LanguageMixin.on_mount runs too (Textual calls every class's handler).
        self.query_one("#detail-banner", Static).display = False
        self.query_one("#detail-body", VerticalScroll).focus()
        self._load()

    def _load(self) -> None:
        self.when_done(self.pos_app.review.record(self.row.row), self._loaded)

    def _loaded(self, record: VisitRecord) -> None:
        self.record = record
        self.integrity = render.integrity_of(record)
        # The list's row too, so its column agrees before the background pass reaches it.
        self.row.checked(self.integrity)
        self.apply_language(self.lang)

    @property
    def warnings(self) -> list[str]:
        return [] if self.integrity is None else list(self.integrity.warnings)

    def apply_language(self, lang: str) -> None:
        row = self.row
        self.title = TITLE.get(lang).format(
            merchant=row.merchant_name, terminal=row.terminal_number
        )
        self.query_one("#detail-meta-title", Static).update(DETAILS.get(lang))
        self.query_one("#detail-answers-title", Static).update(ANSWERS.get(lang))
        self.query_one("#detail-timeline-title", Static).update(TIMELINE.get(lang))
        if self.record is None:
            self.query_one("#detail-meta", Static).update(words.LOADING.get(lang))
            return
        banner = self.query_one("#detail-banner", Static)
        found = render.integrity_of(self.record) if self.integrity is None else self.integrity
        banner.update(render.banner(found, lang, self.record))
        alarm = not found.trusted or bool(self.record.forged) or self.record.log_has_gap
        banner.display = bool(found.warnings) or alarm
        banner.set_class(alarm, "-altered")
        self.query_one("#detail-meta", Static).update(
            render.meta(self.record, row.review_state, lang)
        )
        failed = render.failures(self.record.session, lang)
        for selector in ("#detail-failures-title", "#detail-failures"):
            self.query_one(selector, Static).display = failed is not None
        if failed is not None:
            n = len(self.record.session.failures())
            self.query_one("#detail-failures-title", Static).update(FAILURES.get(lang).format(n=n))
            self.query_one("#detail-failures", Static).update(failed)
        self.query_one("#detail-answers", Static).update(
            render.checklists(self.record.session, lang)
        )
        self.query_one("#detail-timeline", Static).update(render.timeline(self.record, lang))

    def action_back(self) -> None:
        self.dismiss()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "decide":
            return True if self.record is not None else None
        return True

    def action_report(self) -> None:
        """The visit's printable acceptance report, written off the UI thread."""
        if self.record is None:
            return
        self.when_done(
            self.pos_app.review.write_report(self.record, self.lang),
            lambda path: self.notify(
                words.REPORT_WRITTEN.get(self.lang).format(path=path), timeout=10
            ),
        )

    def action_decide(self, decision: str) -> None:
        from pos_tui.ui.screens.review_decision import ReviewDecisionScreen

        if decision not in (APPROVED, HAS_ISSUES, REJECTED) or self.record is None:
            return
        self.app.push_screen(ReviewDecisionScreen(self.row, decision, self.warnings), self._decided)

    def _decided(self, decision: dict[str, Any] | None) -> None:
        if decision is None:
            return
        self.row.review_state = decision["decision"]
        self.on_decided(decision)
        state = words.REVIEW_STATE_NAMES[decision["decision"]].get(self.lang)
        self.notify(SAVED.get(self.lang).format(state=state))
        self._load()
