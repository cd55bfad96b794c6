"""Which checks fail most: failure rates per item, area, technician and month, as bars.

Computed from the list's index rows (no visit file is opened) over the visits the list's
filter matches, so a supervisor can narrow to a month or a technician first; a store that
pages in its database counts them there (`ReviewStatsScreen.counted`). The rates are
defined in `pos_tui.domain.stats`.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from pos_tui.domain.review_filter import Filter, ReviewRow
from pos_tui.domain.stats import FailureStats, Rate, failure_stats
from pos_tui.services.review import ChecklistNames
from pos_tui.ui.i18n import Text
from pos_tui.ui.screens.base import PosScreen
from pos_tui.ui.widgets.bar_chart import Bar, BarChart
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.title_bar import TitleBar

TOP_ITEMS = 15

TITLE = Text("审核：不通过率统计", "Review: failure rates")
SCOPE_ALL = Text("共 {n} 条访问。", "{n} visits.")
SCOPE_FILTERED = Text(
    "按列表的筛选条件：{n} 条访问（共 {total} 条）。",
    "The {n} visits the list's filter matches (of {total}).",
)
RULE = Text(
    "不通过率 = 有不通过的访问数 / 访问数；检查项和检查表按运行了该检查表的访问计算。",
    "Failure rate = visits that failed / visits; for items and areas, of the visits that "
    "ran that checklist.",
)
ITEMS = Text("不通过最多的检查项（前 {n} 项）", "Items that fail most (top {n})")
AREAS = Text("按检查表（领域）", "By area (checklist)")
TECHNICIANS = Text("按技术员", "By technician")
MONTHS = Text("按月份（完成时间）", "By month (finished)")
NO_FAILURES = Text("（没有不通过的检查项）", "(no item failed)")


class ReviewStatsScreen(PosScreen[None]):
    CSS_PATH = "review.tcss"
    BINDINGS = [Binding("escape", "back", "Back", id="review.back")]

    def __init__(self, rows: list[ReviewRow], total: int) -> None:
        super().__init__()
        self.visits = len(rows)
        self.total = total
        self.stats: FailureStats = failure_stats(row.row for row in rows)
        self.names = ChecklistNames()
        self.asked: Filter | None = None
        """The list's filter, for the database to count by (`counted`)."""

    @classmethod
    def counted(cls, chosen: Filter, visits: int, total: int) -> ReviewStatsScreen:
        """The rates of a store that counts in its database: the screen shows at once, and
        the figures when the database has counted them."""
        screen = cls([], total)
        screen.visits, screen.asked = visits, chosen
        return screen

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(id="stats-scope")
        with VerticalScroll(id="stats-body"):
            yield BarChart(id="chart-items")
            yield BarChart(id="chart-areas")
            yield BarChart(id="chart-technicians")
            yield BarChart(id="chart-months")
        yield KeyBar()

    def on_mount(self) -> None:
        # LanguageMixin.on_mount runs too (Textual calls every class's handler).
        self.query_one("#stats-body", VerticalScroll).focus()
        self.when_done(self.pos_app.review.checklist_names(), self._named)
        if self.asked is not None:
            self.when_done(self.pos_app.review.failure_stats(self.asked), self._counted)

    def _counted(self, stats: FailureStats) -> None:
        self.stats, self.visits = stats, stats.visits
        self.apply_language(self.lang)

    def _named(self, names: ChecklistNames) -> None:
        self.names = names
        self.apply_language(self.lang)

    def apply_language(self, lang: str) -> None:
        self.title = TITLE.get(lang)
        scope = (
            SCOPE_ALL.get(lang).format(n=f"{self.visits:,}")
            if self.visits == self.total
            else SCOPE_FILTERED.get(lang).format(n=f"{self.visits:,}", total=f"{self.total:,}")
        )
        self.query_one("#stats-scope", Static).update(f"{scope} {RULE.get(lang)}")
        names, stats = self.names, self.stats
        items = [self._bar(r, names.item(r.key, lang)) for r in stats.items[:TOP_ITEMS]]
        title = ITEMS.get(lang).format(n=TOP_ITEMS)
        if not items:
            title += " " + NO_FAILURES.get(lang)
        self.query_one("#chart-items", BarChart).show(title, items)
        self.query_one("#chart-areas", BarChart).show(
            AREAS.get(lang), [self._bar(r, names.checklist(r.key, lang)) for r in stats.areas]
        )
        self.query_one("#chart-technicians", BarChart).show(
            TECHNICIANS.get(lang), [self._bar(r, r.key) for r in stats.technicians]
        )
        self.query_one("#chart-months", BarChart).show(
            MONTHS.get(lang), [self._bar(r, r.key) for r in stats.months]
        )

    @staticmethod
    def _bar(rate: Rate, label: str) -> Bar:
        return Bar(label, rate.rate, f"{rate.rate:6.1%}  {rate.failed:,}/{rate.total:,}")

    def action_back(self) -> None:
        self.dismiss()
