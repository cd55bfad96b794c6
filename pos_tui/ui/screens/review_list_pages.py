"""The review list over a store that pages in its database (PostgreSQL).

The screen holds the pages it was given, `FETCH` rows at a time, the next one asked for as
the cursor nears the end of those. Each change of the filter or the order asks the
database again on the worker; a query still waiting there when the next key comes is
skipped (`ReviewServices.page`), and a page that comes back for anything but the latest
query is dropped, so the list shows the latest result. The count line's figures are the
database's, the count of what matches a job of its own after the page (so the table is
not held up by it); the integrity column, the photo warnings and the review states are worked
out for the rows shown, and the count line says so.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from pos_tui.services.review_pages import DATABASE_SORTS, FETCH, Page, PageQuery
from pos_tui.ui.i18n import Text

if TYPE_CHECKING:
    from textual.timer import Timer

    from pos_tui.domain.integrity import Integrity
    from pos_tui.domain.review_filter import Filter, ReviewRow

INTEGRITY_AFTER = 0.3
"""Seconds after the last page came in before its records are checked."""
COUNT_AFTER = 0.3
"""Seconds after the last first page came in before the rows it matches are counted."""

PAGE_CHECKING = Text(
    "正在核对所列 {n} 条的完整性 {done}/{n}", "integrity of the {n} shown: checking {done}"
)
PAGE_CHECKED = Text("已核对所列 {n} 条的完整性", "integrity checked for the {n} shown")
NOT_IN_DATABASE = Text(
    "此存储在数据库中筛选：完整性、照片警告和复查分组不能筛选，完整性只核对所列的访问。",
    "This store filters in its database: integrity, photo warnings and follow-up groups"
    " are not filters here; integrity is checked for the visits shown.",
)
SORT_NOT_IN_DATABASE = Text(
    "此存储在数据库中排序，不能按这一列排序。",
    "This store sorts in its database, which cannot sort by that column.",
)


class PagedList:
    """What `ReviewListScreen` does differently when `ReviewServices.paged`."""

    rows: list[ReviewRow]
    matches: list[ReviewRow]
    filter: Filter
    sort_by: str
    descending: bool
    loaded: bool
    _by_key: dict[str, ReviewRow]
    matched: int = 0
    """How many rows of the store match the filter: the database's count."""
    total: int | None = None
    """How many visits the store holds; None until first counted, after the first page."""
    _recount: bool = False
    """The next count counts the store's total again (a reload asked for it)."""
    _query: PageQuery | None = None
    """The latest query asked: a page for any other is dropped."""
    _fetching: bool = False
    _integrity_timer: Timer | None = None
    _count_timer: Timer | None = None
    _verdicts: dict[str, Integrity]
    """Each record's integrity verdict as checked, by row key, for every page that lists
    it again (a word typed and deleted): a record's bytes under its key never change."""
    _evidence_of: dict[str, frozenset[str]]
    counted: bool = False
    """`matched` is the database's count; else only the rows held so far, more to come."""
    _last_full: bool = False

    if TYPE_CHECKING:
        pos_app: Any
        lang: str

        def when_done(self, future: Any, done: Any, failed: Any = None) -> None: ...
        def notify(self, message: str, **options: Any) -> None: ...
        def call_after_refresh(self, callback: Any) -> bool: ...
        def list_shown(self) -> None: ...
        def _show(self, keep: str | None) -> None: ...
        def _show_more(self, count: int) -> None: ...
        def _check_integrity(self) -> None: ...
        def _show_count(self) -> None: ...
        def query_one(self, selector: Any, expect: Any = None) -> Any: ...

    def _ask_page(self, keep: str | None = None, offset: int = 0, fresh: bool = False) -> None:
        query = PageQuery(self.filter, self.sort_by, self.descending, offset, FETCH)
        self._query = query
        self._fetching = offset > 0
        self._recount = self._recount or fresh
        future = self.pos_app.review.page(query, fresh=fresh)
        self.when_done(future, partial(self._page_loaded, query, keep))

    def _page_loaded(self, query: PageQuery, keep: str | None, page: Page | None) -> None:
        if page is None or query != self._query:
            return  # a later query is on its way
        self._fetching = False
        screen: Any = self  # a Screen: the mixin's stubs leave out Textual's own calls
        first = not self.loaded
        if page.total is not None:
            self.total = page.total
        self._last_full = len(page.rows) == query.limit
        if query.offset == 0:
            self.rows = list(page.rows)
            self._by_key = {row.key: row for row in self.rows}
            self.counted = False
        else:
            known = {row.key for row in self.rows}
            new = [row for row in page.rows if row.key not in known]
            self.rows.extend(new)
            self._by_key.update((row.key, row) for row in new)
        self.matches = self.rows
        for row in page.rows:  # what earlier pages found out about the same records
            verdict = self._verdicts.get(row.key)
            if verdict is not None:
                row.checked(verdict)
            row.evidence = self._evidence_of.get(row.key, row.evidence)
        if page.matched is not None:
            self.matched, self.counted = page.matched, True
        if not self.counted or self.total is None or self._recount:
            # The table first; how many match comes after, from a count of its own once the
            # typing pauses: a count reads every matching row, and the next keystroke's page
            # would wait behind it on the worker.
            if not self.counted:
                self.matched = len(self.rows)
            if query.offset == 0:
                if self._count_timer is not None:
                    self._count_timer.stop()
                ask = partial(self._ask_count, query.filter)
                if first:  # once the list is drawn: it may be this process's first use
                    screen.call_after_refresh(ask)  # of the store, which opens it then
                else:
                    self._count_timer = screen.set_timer(COUNT_AFTER, ask)
        if query.offset == 0:
            self.loaded = True
            self._show(keep)
        else:
            self._show_more(len(page.rows))
        if first:
            screen.call_after_refresh(self._ask_technicians)
            self.list_shown()
        # When the typing pauses: each page checked while a word is typed would hold up
        # the next keystroke's page (a chunk in a child process is not stopped midway).
        if self._integrity_timer is not None:
            self._integrity_timer.stop()
        self._integrity_timer = screen.set_timer(INTEGRITY_AFTER, self._check_integrity)

    def _ask_count(self, chosen: Filter) -> None:
        if self._query is not None and chosen == self._query.filter:
            future = self.pos_app.review.count(chosen, fresh=self._recount)
            self._recount = False
            self.when_done(future, partial(self._counted, chosen))

    def _counted(self, chosen: Filter, counts: tuple[int, int] | None) -> None:
        if counts is None or self._query is None or chosen != self._query.filter:
            return  # a count for a later filter is on its way
        matched, self.total = counts
        self.matched, self.counted = max(matched, len(self.rows)), True
        self._show_more(0)  # its line says the count
        self._show_count()

    def _matched_text(self) -> str:
        return f"{self.matched:,}" + ("" if self.counted else "+")

    def _ask_technicians(self) -> None:
        self.when_done(self.pos_app.review.technicians(), self._technicians)

    def _technicians(self, names: list[str]) -> None:
        from pos_tui.ui.widgets.review_filters import ReviewFilters

        self.query_one(ReviewFilters).set_technicians(names)

    def _more_wanted(self) -> None:
        """The cursor is near the end of the rows held: the next page, if there is one."""
        more = len(self.rows) < self.matched or (not self.counted and self._last_full)
        if not self._fetching and self.loaded and more:
            self._ask_page(offset=len(self.rows))

    def _refused(self) -> None:
        self.notify(NOT_IN_DATABASE.get(self.lang), severity="warning", timeout=6)

    def _sortable(self, by: str) -> bool:
        if by in DATABASE_SORTS:
            return True
        self.notify(SORT_NOT_IN_DATABASE.get(self.lang), severity="warning", timeout=4)
        return False

    def _page_integrity_count(self, checked: int, checking: int, done: bool) -> str:
        words = PAGE_CHECKED if done else PAGE_CHECKING
        return words.get(self.lang).format(n=f"{checking:,}", done=f"{checked:,}")
