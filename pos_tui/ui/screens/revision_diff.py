"""What changed between two revisions of a visit, for the supervisor: answers, values,
evidence and details (`domain.revisions.differences`), item titles from the checklists, and
the reason of each amendment in between.

Opened from the review detail on its revisions, which are read already: choosing two others
with the selects redraws at once, nothing is read again.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Select, Static

from pos_tui.domain.revisions import differences
from pos_tui.store.sources import VisitRecord
from pos_tui.store.storage import StoreError
from pos_tui.ui.i18n import Text
from pos_tui.ui.screens import review_revisions as revisions_text
from pos_tui.ui.screens.base import PosScreen
from pos_tui.ui.screens.review_render import when
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.title_bar import TitleBar

TITLE = Text("版本对比：{merchant} | {terminal}", "Revisions compared: {merchant} | {terminal}")
FROM = Text("原版本", "From")
# Short: two of them side by side in 80 columns, on one line each.
OPTION = Text("第 {n} 版{amendment} {at}", "rev. {n}{amendment} {at}")
OPTION_AMENDMENT = Text("（更正{n}）", " (amend. {n})")
UNREADABLE = Text(
    "其中一个版本无法读取，不能对比。", "One of the two cannot be read, so they are not compared."
)
COUNT = Text(
    "{before}：第 {b} 版 → 第 {a} 版，{n} 处变更（Tab 选择其他版本，Esc 返回）",
    "{before} rev. {b} to rev. {a}: {n} change(s) (Tab to choose others, Esc goes back)",
)


class RevisionDiffScreen(PosScreen[None]):
    CSS_PATH = "review.tcss"
    DEFAULT_CSS = """
    RevisionDiffScreen #diff-choice {
        height: 3;
        margin: 0 1;
    }
    RevisionDiffScreen #diff-choice Select {
        width: 1fr;
        margin-right: 1;
    }
    RevisionDiffScreen #diff-count {
        height: 1;
        margin: 0 1;
    }
    RevisionDiffScreen #diff-body {
        height: 1fr;
        padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape", "back", "Back", id="review.back")]

    def __init__(
        self,
        revisions: Sequence[VisitRecord | StoreError],
        before: int,
        after: int,
        merchant: str = "",
        terminal: str = "",
    ) -> None:
        super().__init__()
        self.revisions = list(revisions)
        self.before, self.after = before, after
        self.merchant, self.terminal = merchant, terminal
        self.changes = 0
        """How many differences are shown; for tests and the count line."""

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Horizontal(id="diff-choice"):
            # Filled now: a Select that may not be blank refuses to be made without options.
            options = self._options(self.lang)
            yield Select[int](options, id="diff-from", allow_blank=False, value=self.before)
            yield Select[int](options, id="diff-to", allow_blank=False, value=self.after)
        yield Static(id="diff-count", classes="subtle")
        with VerticalScroll(id="diff-body"):
            yield Static(id="diff-table")
            yield Static(id="diff-reasons")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#diff-body", VerticalScroll).focus()

    def _options(self, lang: str) -> list[tuple[str, int]]:
        options = []
        for n, found in enumerate(self.revisions, 1):
            at, amendment = "", ""
            if isinstance(found, VisitRecord):
                signoff = found.session.signoff
                at = when(signoff.at)[5:16] if signoff is not None else ""
                if found.session.corrects is not None:
                    number = found.session.corrects.number
                    amendment = OPTION_AMENDMENT.get(lang).format(n=number)
            options.append((OPTION.get(lang).format(n=n, at=at, amendment=amendment), n - 1))
        return options

    def apply_language(self, lang: str) -> None:
        self.title = TITLE.get(lang).format(merchant=self.merchant, terminal=self.terminal)
        options = self._options(lang)
        for selector, value in (("#diff-from", self.before), ("#diff-to", self.after)):
            select = self.query_one(selector, Select)
            with select.prevent(Select.Changed):
                select.set_options(options)
                select.value = value
        self._draw(lang)

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        if not isinstance(event.value, int):
            return
        if event.select.id == "diff-from":
            self.before = event.value
        else:
            self.after = event.value
        self._draw(self.lang)

    def _draw(self, lang: str) -> None:
        before = self.revisions[self.before] if self.revisions else None
        after = self.revisions[self.after] if self.revisions else None
        table = self.query_one("#diff-table", Static)
        if not isinstance(before, VisitRecord) or not isinstance(after, VisitRecord):
            self.changes = 0
            table.update(UNREADABLE.get(lang))
            self.query_one("#diff-count", Static).update("")
            self.query_one("#diff-reasons", Static).update("")
            return
        found = differences(before.session, after.session)
        self.changes = len(found)
        table.update(revisions_text.diff(found, before.session, after.session, lang))
        said = COUNT.get(lang).format(
            before=FROM.get(lang), n=len(found), b=self.before + 1, a=self.after + 1
        )
        self.query_one("#diff-count", Static).update(said)
        self.query_one("#diff-reasons", Static).update(
            revisions_text.reasons(self.revisions, self.before, self.after, lang)
        )

    def action_back(self) -> None:
        self.dismiss()
