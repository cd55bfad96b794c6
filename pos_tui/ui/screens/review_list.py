"""The supervisor's home: every synced visit, filtered and sorted, worst first.

One table (`ReviewTable`) holds a page of `PAGE` matching rows, and another page whenever the cursor
nears the end, so a keystroke in the filter never puts thousands of rows in the table;
filtering itself is a pass over rows sorted once per order (`pos_tui.domain.review_filter`).

The integrity column cannot come from the index: only the record can say whether it was
altered, and reading 10,000 of them takes far longer than the list may. So the list shows
at once with "checking" in that column, and a background pass (`ReviewServices.
check_integrity`, in worker processes) fills it in, rows on screen first, the count line
saying how far it has got; `i` then shows only the records that cannot be trusted. The
same pass brings each visit's photo warnings (the reused-photo check needs every visit),
which the filter bar's photo choice filters on as they arrive.

A store that pages in its database (PostgreSQL) is listed a page at a time instead, each
filter and order worked out by the database (`review_list_pages.py`).
"""

from __future__ import annotations

import gc
from dataclasses import replace
from functools import partial
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from pos_tui import startup_gc
from pos_tui.domain.integrity import ALTERED, Integrity
from pos_tui.domain.progress import Verdict
from pos_tui.domain.review_filter import (
    ATTENTION,
    INTEGRITY_PROBLEM,
    Filter,
    ReviewRow,
    filter_rows,
    sort_rows,
)
from pos_tui.services.review_pages import DATABASE_SORTS
from pos_tui.ui.i18n import BINDING_TEXT, Text, tr
from pos_tui.ui.screens import review_text as words
from pos_tui.ui.screens.base import PosScreen
from pos_tui.ui.screens.review_list_pages import PagedList
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.review_filters import ReviewFilters
from pos_tui.ui.widgets.review_table import Cell, ReviewTable
from pos_tui.ui.widgets.title_bar import TitleBar

PAGE = 100
"""Rows put in the table at a time: a keystroke re-fills one page, going down adds more."""
INTEGRITY = "integrity"
_INTEGRITY_AT = next(
    (i for i, (key, _) in enumerate(words.COLUMNS) if key == "merchant_number"),
    len(words.COLUMNS),
)
COLUMNS = list(words.COLUMNS)
COLUMNS.insert(_INTEGRITY_AT, (INTEGRITY, Text("完整性", "Integrity")))
"""The columns in order: integrity before the merchant number, the one off to the right."""
SORT_ORDER = [ATTENTION, *(key for key, _ in COLUMNS)]
DESCENDING_FIRST = {"date", "failures"}
"""Columns whose first click shows the biggest first; the others start from the smallest."""

BINDING_TEXT["review.integrity"] = Text("完整性问题", "Integrity")
CHECKING = Text("核对中", "checking")
# Short: the count line is one line, cut at 80 columns.
CHECKING_COUNT = Text("完整性核对中 {done}/{total}", "integrity: checking {done}/{total}")
UNTRUSTED_COUNT = Text("{n} 条不可信", "{n} untrusted")
ALL_INTACT = Text("全部可信", "all verified")
ONLY_UNTRUSTED = Text("只看不可信，按 I 取消", "untrusted only, I for all")
CHECK_STOPPED = Text("完整性核对未完成：{why}", "integrity check stopped: {why}")
PHOTO_WARNED = Text("{n} 条照片警告", "{n} with photo warnings")
BINDING_TEXT["review.follow_ups"] = Text("只看复查", "Follow-ups")
BINDING_TEXT["orders.open"] = Text("工单", "Work orders")
ONLY_FOLLOW_UPS = Text("只看有复查的访问，按 O 取消", "follow-up groups only, O for all")
FOLLOW_UP_MARK = "↳ "
"""Before a follow-up's merchant: it is listed right under the visit it follows up."""
AMENDED = Text("更正{n}", "amended {n}")


class ReviewListScreen(PagedList, PosScreen[None]):
    CSS_PATH = "review.tcss"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="review.filter", key_display="/"),
        Binding("s", "sort_next", "Sort", id="review.sort"),
        Binding("S", "sort_reverse", "Reverse", id="review.reverse", show=False),
        Binding("t", "statistics", "Statistics", id="review.stats"),
        Binding("c", "clear_filters", "Clear", id="review.clear"),
        Binding("i", "untrusted_only", "Integrity", id="review.integrity"),
        # Hidden: the key bar is full at 80 columns; F1 and the palette list it.
        Binding("o", "follow_ups_only", "Follow-ups", id="review.follow_ups", show=False),
        Binding("f5", "reload", "Reload", id="review.reload", show=False),
        Binding("w", "orders", "Orders", id="orders.open", show=False),
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
        self._pass = 0
        """Which integrity pass is current: results of an older one are dropped."""
        self.integrity_checked = 0
        self.integrity_done = False
        self._integrity_error = ""
        self._attention = self._untrusted = self._photo_warned = 0
        self._verdicts: dict[str, Integrity] = {}
        self._evidence_of: dict[str, frozenset[str]] = {}

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ReviewFilters(id="filters")
        yield Static(id="review-count", classes="subtle")
        yield ReviewTable(id="review-table")
        yield Static(id="review-more", classes="notice")
        yield KeyBar()

    @property
    def paged(self) -> bool:
        """The store pages in its database (`review_list_pages`)."""
        return bool(self.pos_app.review.paged)

    def on_mount(self) -> None:
        # LanguageMixin.on_mount runs too (Textual calls every class's handler).
        self.query_one("#review-more", Static).display = False
        if self.paged:
            self.query_one(ReviewFilters).database_only()
        self.query_one("#review-table", ReviewTable).focus()
        # After every mount handler, so the columns are there when the rows arrive.
        self.call_next(self.action_reload)

    def list_shown(self) -> None:
        """The list has shown freshly read visits: now the rest of the filter bar."""
        # What lives as long as the list (the app's modules and widgets; a folder store's
        # tens of thousands of rows) made each full garbage collection take 50-200+ ms,
        # now and then in the middle of a keystroke; frozen, the collector skips it
        # (measured at 10,000 visits on a folder: worst keystroke 280 -> 90 ms). The rows
        # hold no reference cycles, so replaced ones are still freed at once. The first
        # time, this also ends the start's hold on the collector.
        startup_gc.release()
        self.list_ready()
        self.call_after_refresh(self.query_one(ReviewFilters).show_choices)

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
        table = self.query_one("#review-table", ReviewTable)
        table.clear(columns=True)
        for key, label in COLUMNS:
            table.add_column(label.get(lang), key=key)
        self._show(keep=None)

    # -- loading -----------------------------------------------------------------------

    def action_reload(self) -> None:
        self.query_one("#review-count", Static).update(words.LOADING.get(self.lang))
        if self.paged:
            self._ask_page(keep=self._cursor_key(), fresh=self.loaded)
            return
        self.when_done(self.pos_app.review.rows(), self._loaded)

    def _loaded(self, rows: list[ReviewRow]) -> None:
        self.rows = rows
        self._by_key = {row.key: row for row in rows}
        self._sorted = None
        self.loaded = True
        self.query_one(ReviewFilters).set_technicians(sorted({row.technician for row in rows}))
        self._refilter()
        self.list_shown()
        # After the list is drawn: checking must not delay the list a supervisor waits for.
        self.call_after_refresh(self._check_integrity)

    def decided(self, decision: dict[str, Any], key: str | None = None) -> None:
        """A decision was written: the newest one sets the state of the record it names
        (`key`, the row decided on; without it every current row of the visit)."""
        for row in self.rows:
            if row.uuid == decision["uuid"] and key in (None, row.key):
                row.review_state = decision["decision"]
        if self.paged:  # the database's order does not depend on it
            self._show(keep=self._cursor_key())
            return
        self._sorted = None
        self._refilter(keep=self._cursor_key())

    # -- integrity ---------------------------------------------------------------------

    def _check_integrity(self) -> None:
        self._pass += 1
        self.integrity_checked, self.integrity_done, self._integrity_error = 0, False, ""
        self._untrusted = self._photo_warned = 0
        if self.paged:
            self._count_untrusted()
            self._count_photo_warnings()
            # Only the rows held: "integrity checked for the visits shown".
            unchecked = [row for row in self.rows if row.integrity is None]
            on_screen = sum(1 for row in self.matches[: self.shown] if row.integrity is None)
            ordered, first = unchecked, on_screen
            if not ordered:
                self._show_count()
                return
        else:
            ordered, first = self._integrity_order()
        self.when_done(
            self.pos_app.review.check_integrity(
                ordered,
                self.from_worker(partial(self._integrity_found, self._pass)),
                first,
                self.from_worker(partial(self._evidence_found, self._pass)),
            ),
            partial(self._integrity_finished, self._pass),
            partial(self._integrity_failed, self._pass),
        )

    def _integrity_order(self) -> tuple[list[ReviewRow], int]:
        """Every row, those on screen first."""
        shown = self.matches[: self.shown]
        on_screen = {id(row) for row in shown}
        return shown + [row for row in self.rows if id(row) not in on_screen], len(shown)

    def _integrity_found(self, which: int, verdicts: dict[str, Integrity]) -> None:
        if which != self._pass:
            return
        if self.paged:
            self._verdicts.update(verdicts)
        changed_order = False
        for key, verdict in verdicts.items():
            row = self._by_key.get(key)
            if row is not None:
                row.checked(verdict)
                changed_order = changed_order or verdict.problem
        self.integrity_checked += len(verdicts)
        if changed_order:
            self._count_attention()
            self._count_untrusted()
        if not self.paged and (
            self.filter.integrity is not None
            or self.sort_by == INTEGRITY
            or (changed_order and self.sort_by == ATTENTION)
        ):
            self._sorted = None
            self._refilter(keep=self._cursor_key())
        else:
            self._update_integrity_cells(verdicts)
            self._show_count()

    def _evidence_found(self, which: int, warnings: dict[str, frozenset[str]]) -> None:
        if which != self._pass:
            return
        if self.paged:
            self._evidence_of.update(warnings)
        for key, codes in warnings.items():
            row = self._by_key.get(key)
            if row is not None:
                row.evidence = codes
        self._count_photo_warnings()
        if self.filter.evidence is not None:
            self._refilter(keep=self._cursor_key())
        else:
            self._show_count()

    def _count_photo_warnings(self) -> None:
        self._photo_warned = sum(1 for row in self.rows if row.evidence)

    def _update_integrity_cells(self, keys: Any) -> None:
        table = self.query_one("#review-table", ReviewTable)
        if INTEGRITY not in table.columns:
            return
        for key in keys:
            row = self._by_key.get(key)
            if row is not None and key in table.rows:
                cell = self._integrity_cell(row, self.lang)
                table.update_cell(key, INTEGRITY, cell)
                if row.untrusted:  # now needs attention: its review cell says so
                    review = self._review_cell(row, self.lang)
                    table.update_cell(key, "review", review)

    def _integrity_finished(self, which: int, _checked: int) -> None:
        if which == self._pass:
            self.integrity_done = True
            gc.freeze()  # the verdicts now live as long as the rows (see _loaded)
            self._show_count()

    def _integrity_failed(self, which: int, error: BaseException) -> None:
        if which == self._pass:
            self._integrity_error = str(error).splitlines()[0] if str(error) else repr(error)
            self._show_count()

    def on_screen_resume(self) -> None:
        # Opening a visit checks it at once; its row may know more than the table shows.
        self._update_integrity_cells(row.key for row in self.matches[: self.shown])
        self._count_attention()
        self._count_untrusted()
        self._count_photo_warnings()
        if self.filter.evidence is not None:
            self._refilter(keep=self._cursor_key())
        self._show_count()

    def _count_attention(self) -> None:
        """Counted when rows or matches change, not each time the count line is drawn."""
        self._attention = sum(1 for row in self.matches if row.needs_attention)

    def _count_untrusted(self) -> None:
        self._untrusted = sum(1 for row in self.rows if row.untrusted)

    def action_orders(self) -> None:
        """The work orders (their own screen: ui/screens/orders.py)."""
        from pos_tui.ui.screens.orders import OrdersScreen

        self.app.push_screen(OrdersScreen())

    def action_follow_ups_only(self) -> None:
        if self.paged:
            self._refused()
            return
        chosen = replace(self.filter, follow_ups=not self.filter.follow_ups)
        self._refilter(keep=self._cursor_key(), chosen=chosen)

    def action_untrusted_only(self) -> None:
        if self.paged:
            self._refused()
            return
        wanted = None if self.filter.integrity is not None else INTEGRITY_PROBLEM
        self._refilter(keep=self._cursor_key(), chosen=replace(self.filter, integrity=wanted))

    # -- filtering and sorting ---------------------------------------------------------

    @on(ReviewFilters.Changed)
    def _filter_changed(self, event: ReviewFilters.Changed) -> None:
        # The filter bar knows nothing of integrity or follow-ups: keep what `i` and `o` chose.
        chosen = replace(
            event.filter, integrity=self.filter.integrity, follow_ups=self.filter.follow_ups
        )
        self._refilter(chosen=chosen)

    def _refilter(self, keep: str | None = None, chosen: Filter | None = None) -> None:
        self.filter = chosen if chosen is not None else self.filter
        if self.paged:
            self._ask_page(keep)
            return
        if self._sorted is None:
            self._sorted = sort_rows(self.rows, self.sort_by, self.descending)
        self.matches = filter_rows(self._sorted, self.filter)
        self._count_attention()
        self._show(keep)

    def sort(self, by: str, descending: bool | None = None) -> None:
        if self.paged and not self._sortable(by):
            return
        if descending is None:
            descending = by in DESCENDING_FIRST
        self.sort_by, self.descending = by, descending
        self._sorted = None
        self._refilter(keep=self._cursor_key())

    def action_sort_next(self) -> None:
        order = [by for by in SORT_ORDER if not self.paged or by in DATABASE_SORTS]
        following = order[(order.index(self.sort_by) + 1) % len(order)]
        self.sort(following)

    def action_sort_reverse(self) -> None:
        self.sort(self.sort_by, not self.descending)

    @on(ReviewTable.HeaderSelected, "#review-table")
    def _header_clicked(self, event: ReviewTable.HeaderSelected) -> None:
        by = event.column_key
        self.sort(by, not self.descending if by == self.sort_by else None)

    def action_clear_filters(self) -> None:
        self.filter = replace(self.filter, integrity=None, follow_ups=False)
        self.query_one(ReviewFilters).clear()

    def action_focus_filter(self) -> None:
        self.query_one(ReviewFilters).focus_text()

    def action_focus_table(self) -> None:
        self.query_one("#review-table", ReviewTable).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_focus_table()

    # -- showing -----------------------------------------------------------------------

    def _cursor_key(self) -> str | None:
        table = self.query_one("#review-table", ReviewTable)
        return table.cursor_key

    def _show(self, keep: str | None) -> None:
        """Put the first page of matches in the table (more pages as the cursor goes down)."""
        self.query_one("#review-table", ReviewTable).clear()
        self.shown = 0
        wanted = PAGE
        if keep is not None:
            at = next((i for i, row in enumerate(self.matches) if row.key == keep), None)
            wanted = PAGE if at is None else max(PAGE, at + PAGE // 2)
        self._show_more(wanted)
        table = self.query_one("#review-table", ReviewTable)
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._show_count()

    def _show_more(self, count: int) -> None:
        lang = self.lang
        table = self.query_one("#review-table", ReviewTable)
        if not table.columns:
            return  # apply_language adds them, then shows the rows
        rows = self.matches[self.shown : self.shown + count]
        table.add_rows((row.key, self._cells(row, lang)) for row in rows)
        self.shown = table.row_count
        more = self.query_one("#review-more", Static)
        count = self.matched if self.paged else len(self.matches)
        if self.matches:
            said = self._matched_text() if self.paged else f"{count:,}"
            line = words.MORE.get(lang).format(shown=self.shown, count=said)
        else:
            line = words.NO_MATCH.get(lang)
        # One line that seldom changes: no new layout (half a keystroke's time) unless it
        # appears or goes.
        shown = self.shown < count or (self.loaded and not self.matches)
        shown = shown or (self.paged and not self.counted and self._last_full)
        more.update(line, layout=shown != more.display)
        more.display = shown

    @on(ReviewTable.RowHighlighted, "#review-table")
    def _near_the_end(self, event: ReviewTable.RowHighlighted) -> None:
        if event.cursor_row >= self.shown - PAGE // 10 and self.shown < len(self.matches):
            self._show_more(PAGE)
        elif self.paged and event.cursor_row >= self.shown - PAGE // 10:
            self._more_wanted()

    def _show_count(self) -> None:
        if not self.loaded:
            return
        lang = self.lang
        matched, total = (
            (self.matched, self.total) if self.paged else (len(self.matches), len(self.rows))
        )
        said = self._matched_text() if self.paged else f"{matched:,}"
        # A database's total comes after its first page: "…" until then.
        shown_total = "…" if total is None else f"{total:,}"
        parts = [words.COUNT.get(lang).format(shown=said, total=shown_total)]
        # On a page, only its rows are known to need attention: no figure for the store.
        attention = 0 if self.paged else self._attention
        if attention:
            parts.append(words.ATTENTION_COUNT.get(lang).format(n=f"{attention:,}"))
        parts.append(self._integrity_count(lang))
        if self.sort_by == ATTENTION:
            column = words.ATTENTION_ORDER.get(lang)
        else:
            column = dict(COLUMNS)[self.sort_by].get(lang)
            column += words.DESCENDING.get(lang) if self.descending else ""
        parts.append(words.SORTED_BY.get(lang).format(column=column))
        self.query_one("#review-count", Static).update(" | ".join(parts), layout=False)

    def _integrity_count(self, lang: str) -> str:
        untrusted = self._untrusted
        if self._integrity_error:
            said = CHECK_STOPPED.get(lang).format(why=self._integrity_error)
        elif self.paged:
            checked = sum(1 for row in self.rows if row.integrity is not None)
            done = checked == len(self.rows)
            said = self._page_integrity_count(checked, len(self.rows), done)
        elif not self.integrity_done:
            said = CHECKING_COUNT.get(lang).format(
                done=f"{self.integrity_checked:,}", total=f"{len(self.rows):,}"
            )
        else:
            said = "" if untrusted else ALL_INTACT.get(lang)
        if untrusted:
            said += (" " if said else "") + UNTRUSTED_COUNT.get(lang).format(n=f"{untrusted:,}")
        if self._photo_warned:
            warned = PHOTO_WARNED.get(lang).format(n=f"{self._photo_warned:,}")
            said += (" " if said else "") + warned
        if self.filter.integrity is not None:
            said += f" ({ONLY_UNTRUSTED.get(lang)})"
        if self.filter.follow_ups:
            said += f" ({ONLY_FOLLOW_UPS.get(lang)})"
        return said

    @staticmethod
    def _integrity_cell(row: ReviewRow, lang: str) -> Cell:
        verdict = row.integrity
        if verdict is None:
            return Cell(CHECKING.get(lang), "dim")
        if verdict.trusted:
            return Cell(verdict.name(lang))
        return Cell(verdict.name(lang), "bold red" if verdict.state == ALTERED else "bold yellow")

    @staticmethod
    def _review_cell(row: ReviewRow, lang: str) -> Cell:
        review = tr(words.REVIEW_STATE_NAMES.get(row.review_state), lang) or row.review_state
        if row.amendment:
            # Unreviewed again after a send-back: the supervisor sees why it is back.
            review += f" | {AMENDED.get(lang).format(n=row.amendment)}"
        if row.conflict:
            review += f" | {words.CONFLICT.get(lang)}"
        return Cell(review, "bold yellow" if row.needs_attention else "")

    @classmethod
    def _cells(cls, row: ReviewRow, lang: str) -> list[Cell]:
        failed = row.verdict == Verdict.FAIL
        verdict = tr(words.SHORT_VERDICTS.get(row.verdict), lang) or row.verdict
        cells = [
            Cell(row.day),
            Cell(FOLLOW_UP_MARK + row.merchant_name if row.follow_up_of else row.merchant_name),
            Cell(row.terminal_number),
            Cell(row.technician),
            Cell(verdict, "bold red" if failed else ""),
            Cell(str(row.failures), "bold red" if row.failures else "", right=True),
            cls._review_cell(row, lang),
            Cell(row.merchant_number),
        ]
        cells.insert(_INTEGRITY_AT, cls._integrity_cell(row, lang))
        return cells

    # -- moving on ---------------------------------------------------------------------

    @on(ReviewTable.RowSelected, "#review-table")
    def _open(self, event: ReviewTable.RowSelected) -> None:
        row = self._by_key.get(event.row_key)
        if row is not None:
            from pos_tui.ui.screens.review_detail import ReviewDetailScreen

            self.app.push_screen(ReviewDetailScreen(row, self.decided, self.rows))

    def action_statistics(self) -> None:
        from pos_tui.ui.screens.review_stats import ReviewStatsScreen

        if self.paged:
            total = self.matched if self.total is None else self.total
            screen = ReviewStatsScreen.counted(self.filter, self.matched, total)
        else:
            screen = ReviewStatsScreen(self.matches, len(self.rows))
        self.app.push_screen(screen)
