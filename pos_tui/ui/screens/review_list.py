"""The supervisor's home: every synced visit, filtered and sorted, worst first.

One DataTable holds a page of `PAGE` matching rows, and another page whenever the cursor
nears the end, so a keystroke in the filter never puts thousands of rows in the table;
filtering itself is a pass over rows sorted once per order (`pos_tui.domain.review_filter`).
"""

from __future__ import annotations

import gc
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from pos_tui.domain.progress import Verdict
from pos_tui.domain.review_filter import (
    ATTENTION,
    Filter,
    ReviewRow,
    filter_rows,
    sort_rows,
)
from pos_tui.ui.i18n import tr
from pos_tui.ui.screens import review_text as words
from pos_tui.ui.screens.base import PosScreen
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.review_filters import ReviewFilters
from pos_tui.ui.widgets.review_table import Cell, ReviewTable
from pos_tui.ui.widgets.title_bar import TitleBar

PAGE = 100
"""Rows put in the table at a time: a keystroke re-fills one page, going down adds more."""
SORT_ORDER = [ATTENTION, *(key for key, _ in words.COLUMNS)]
DESCENDING_FIRST = {"date", "failures"}
"""Columns whose first click shows the biggest first; the others start from the smallest."""


class ReviewListScreen(PosScreen[None]):
    CSS_PATH = "review.tcss"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="review.filter", key_display="/"),
        Binding("s", "sort_next", "Sort", id="review.sort"),
        Binding("S", "sort_reverse", "Reverse", id="review.reverse", show=False),
        Binding("t", "statistics", "Statistics", id="review.stats"),
        Binding("c", "clear_filters", "Clear", id="review.clear"),
        Binding("f5", "reload", "Reload", id="review.reload", show=False),
        Binding("escape", "focus_table", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[ReviewRow] = []
        self.matches: list[ReviewRow] = []
        self.filter = Filter()
        self.sort_by = ATTENTION
        self.descending = False
        self.loaded = False
        self.shown = 0
        self._sorted: list[ReviewRow] | None = None
        self._by_key: dict[str, ReviewRow] = {}

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ReviewFilters(id="filters")
        yield Static(id="review-count", classes="subtle")
        yield ReviewTable(id="review-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="review-more", classes="notice")
        yield KeyBar()

    def on_mount(self) -> None:
        # LanguageMixin.on_mount runs too (Textual calls every class's handler).
        self.query_one("#review-more", Static).display = False
        self.query_one("#review-table", DataTable).focus()
        # After every mount handler, so the columns are there when the rows arrive.
        self.call_next(self.action_reload)

    def list_ready(self) -> None:
        """Called each time the list has shown freshly read visits; the bench hooks it."""

    # -- words -------------------------------------------------------------------------

    def apply_language(self, lang: str) -> None:
        self.title = words.LIST_TITLE.get(lang)
        review = self.pos_app.review
        self.sub_title = words.SUB_TITLE.get(lang).format(
            who=review.reviewer, folder=review.source.folder
        )
        self.query_one(ReviewFilters).apply_language(lang)
        table = self.query_one("#review-table", DataTable)
        table.clear(columns=True)
        for key, label in words.COLUMNS:
            table.add_column(label.get(lang), key=key)
        self._show(keep=None)

    # -- loading -----------------------------------------------------------------------

    def action_reload(self) -> None:
        self.query_one("#review-count", Static).update(words.LOADING.get(self.lang))
        self.when_done(self.pos_app.review.rows(), self._loaded)

    def _loaded(self, rows: list[ReviewRow]) -> None:
        self.rows = rows
        # Tens of thousands of long-lived objects (the rows) made each full garbage
        # collection take 200+ ms, now and then in the middle of a keystroke; frozen, the
        # collector skips them (measured at 10,000 visits: worst keystroke 280 -> 90 ms).
        # The rows hold no reference cycles, so replaced ones are still freed at once.
        gc.freeze()
        self._by_key = {row.key: row for row in rows}
        self._sorted = None
        self.loaded = True
        self.query_one(ReviewFilters).set_technicians(sorted({row.technician for row in rows}))
        self._refilter()
        self.list_ready()

    def decided(self, decision: dict[str, Any]) -> None:
        """A decision was written: the newest one sets the visit's state."""
        for row in self.rows:
            if row.uuid == decision["uuid"]:
                row.review_state = decision["decision"]
        self._sorted = None
        self._refilter(keep=self._cursor_key())

    # -- filtering and sorting ---------------------------------------------------------

    @on(ReviewFilters.Changed)
    def _filter_changed(self, event: ReviewFilters.Changed) -> None:
        self._refilter(chosen=event.filter)

    def _refilter(self, keep: str | None = None, chosen: Filter | None = None) -> None:
        self.filter = chosen if chosen is not None else self.filter
        if self._sorted is None:
            self._sorted = sort_rows(self.rows, self.sort_by, self.descending)
        self.matches = filter_rows(self._sorted, self.filter)
        self._show(keep)

    def sort(self, by: str, descending: bool | None = None) -> None:
        if descending is None:
            descending = by in DESCENDING_FIRST
        self.sort_by, self.descending = by, descending
        self._sorted = None
        self._refilter(keep=self._cursor_key())

    def action_sort_next(self) -> None:
        following = SORT_ORDER[(SORT_ORDER.index(self.sort_by) + 1) % len(SORT_ORDER)]
        self.sort(following)

    def action_sort_reverse(self) -> None:
        self.sort(self.sort_by, not self.descending)

    @on(DataTable.HeaderSelected, "#review-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        by = str(event.column_key.value)
        self.sort(by, not self.descending if by == self.sort_by else None)

    def action_clear_filters(self) -> None:
        self.query_one(ReviewFilters).clear()

    def action_focus_filter(self) -> None:
        self.query_one(ReviewFilters).focus_text()

    def action_focus_table(self) -> None:
        self.query_one("#review-table", DataTable).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_focus_table()

    # -- showing -----------------------------------------------------------------------

    def _cursor_key(self) -> str | None:
        table = self.query_one("#review-table", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _show(self, keep: str | None) -> None:
        """Put the first page of matches in the table (more pages as the cursor goes down)."""
        self.query_one("#review-table", DataTable).clear()
        self.shown = 0
        wanted = PAGE
        if keep is not None:
            at = next((i for i, row in enumerate(self.matches) if row.key == keep), None)
            wanted = PAGE if at is None else max(PAGE, at + PAGE // 2)
        self._show_more(wanted)
        table = self.query_one("#review-table", DataTable)
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._show_count()

    def _show_more(self, count: int) -> None:
        lang = self.lang
        table = self.query_one("#review-table", DataTable)
        if not table.columns:
            return  # apply_language adds them, then shows the rows
        for row in self.matches[self.shown : self.shown + count]:
            table.add_row(*self._cells(row, lang), key=row.key)
        self.shown = table.row_count
        more = self.query_one("#review-more", Static)
        if self.matches:
            line = words.MORE.get(lang).format(shown=self.shown, count=f"{len(self.matches):,}")
        else:
            line = words.NO_MATCH.get(lang)
        # One line that seldom changes: no new layout (half a keystroke's time) unless it
        # appears or goes.
        shown = self.shown < len(self.matches) or (self.loaded and not self.matches)
        more.update(line, layout=shown != more.display)
        more.display = shown

    @on(DataTable.RowHighlighted, "#review-table")
    def _near_the_end(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.shown - PAGE // 10 and self.shown < len(self.matches):
            self._show_more(PAGE)

    def _show_count(self) -> None:
        if not self.loaded:
            return
        lang = self.lang
        parts = [
            words.COUNT.get(lang).format(
                shown=f"{len(self.matches):,}", total=f"{len(self.rows):,}"
            )
        ]
        attention = sum(1 for row in self.matches if row.needs_attention)
        if attention:
            parts.append(words.ATTENTION_COUNT.get(lang).format(n=f"{attention:,}"))
        if self.sort_by == ATTENTION:
            column = words.ATTENTION_ORDER.get(lang)
        else:
            column = dict(words.COLUMNS)[self.sort_by].get(lang)
            column += words.DESCENDING.get(lang) if self.descending else ""
        parts.append(words.SORTED_BY.get(lang).format(column=column))
        self.query_one("#review-count", Static).update(" | ".join(parts), layout=False)

    @staticmethod
    def _cells(row: ReviewRow, lang: str) -> list[Cell]:
        failed = row.verdict == Verdict.FAIL
        verdict = tr(words.SHORT_VERDICTS.get(row.verdict), lang) or row.verdict
        review = tr(words.REVIEW_STATE_NAMES.get(row.review_state), lang) or row.review_state
        if row.conflict:
            review += f" | {words.CONFLICT.get(lang)}"
        return [
            Cell(row.day),
            Cell(row.merchant_name),
            Cell(row.terminal_number),
            Cell(row.technician),
            Cell(verdict, "bold red" if failed else ""),
            Cell(str(row.failures), "bold red" if row.failures else "", right=True),
            Cell(review, "bold yellow" if row.needs_attention else ""),
            Cell(row.merchant_number),
        ]

    # -- moving on ---------------------------------------------------------------------

    @on(DataTable.RowSelected, "#review-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        row = self._by_key.get(str(event.row_key.value))
        if row is not None:
            from pos_tui.ui.screens.review_detail import ReviewDetailScreen

            self.app.push_screen(ReviewDetailScreen(row, self.decided))

    def action_statistics(self) -> None:
        from pos_tui.ui.screens.review_stats import ReviewStatsScreen

        self.app.push_screen(ReviewStatsScreen(self.matches, len(self.rows)))
