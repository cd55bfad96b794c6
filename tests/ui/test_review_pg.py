"""The review list on a PostgreSQL store: pages, filters and counts from the database.

A real server (`pg_url`), filled as a bank fills it: `pos-tui demo` on a laptop, then
`pos-tui sync --to URL`, the laptop and the reviewer trusted by the administrator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import Input, Select

from pos_tui.domain.stats import failure_stats
from pos_tui.services.review_start import start_review
from pos_tui.store.pg.store import PgSharedStore
from pos_tui.ui.app import PosApp, make_app
from pos_tui.ui.screens.review_decision import ReviewDecisionScreen
from pos_tui.ui.screens.review_detail import ReviewDetailScreen
from pos_tui.ui.screens.review_list import PAGE, ReviewListScreen
from pos_tui.ui.screens.review_stats import ReviewStatsScreen
from pos_tui.ui.widgets.review_table import ReviewTable
from tests.helpers.bank import Bank, demo_bank
from tests.helpers.ui import settle
from tests.helpers.ui import static_text as text_of

VISITS = 300
REVIEWER = "李主管"


@pytest.fixture
def bank(pg_url: str, tmp_path: Path) -> Bank:
    return demo_bank(tmp_path, pg_url, VISITS, REVIEWER)


def stored_rows(url: str) -> list[dict[str, Any]]:
    with PgSharedStore.open(url) as store:
        return [row for row in store.rows() if not row["superseded"]]


@asynccontextmanager
async def review_app(bank: Bank) -> AsyncIterator[tuple[PosApp, Pilot[None]]]:
    # As `pos-tui review --store URL` opens it: the first page from a child process, this
    # process's own connection opened once that page is shown.
    services = start_review(bank.shared, bank.reviewer)
    assert services.first_page is not None and not services.source.is_open
    app = make_app(None, "en", review=services)
    async with app.run_test(size=(120, 36)) as pilot:
        await until_settled(app, pilot)
        assert isinstance(app.screen, ReviewListScreen) and app.screen.loaded
        yield app, pilot


def the_list(app: PosApp) -> ReviewListScreen:
    assert isinstance(app.screen, ReviewListScreen)
    return app.screen


def column(screen: ReviewListScreen, name: str) -> list[str]:
    table = screen.query_one("#review-table", ReviewTable)
    index = table.get_column_index(name)
    return [str(table.get_cell_at(Coordinate(i, index))) for i in range(table.row_count)]


async def until_settled(app: PosApp, pilot: Pilot[None]) -> None:
    # A page asked for as the cursor moves goes to the worker after the key is handled.
    await pilot.pause()
    await settle(app, pilot)
    screen = app.screen
    if isinstance(screen, ReviewListScreen):  # the count is asked once the typing pauses
        await until(pilot, lambda: screen.counted)
        await settle(app, pilot)


async def until(pilot: Pilot[None], done: Any, seconds: float = 60.0) -> None:
    """The integrity pass runs in another process: wait for it, without a fixed sleep."""
    for _ in range(int(seconds / 0.05)):
        if done():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


async def test_the_list_pages_filters_and_counts_in_the_database(bank: Bank) -> None:
    assert isinstance(bank.shared, str)
    rows = stored_rows(bank.shared)
    assert len(rows) == VISITS
    async with review_app(bank) as (app, pilot):
        screen = the_list(app)
        table = screen.query_one("#review-table", ReviewTable)
        # One page of the database's rows, the count of the whole store beside it.
        assert (screen.matched, screen.total) == (VISITS, VISITS)
        assert len(screen.rows) < VISITS and table.row_count == PAGE
        assert text_of(screen, "#review-count").startswith(f"{VISITS} of {VISITS} visits")
        failed = sum(1 for row in rows if row["failures"])
        fails = [int(n) for n in column(screen, "failures")]
        assert all(fails[: min(failed, PAGE)])  # failures first, as the folder's list
        while table.row_count < VISITS:
            held = table.row_count
            await pilot.press("end")
            await until_settled(app, pilot)
            assert table.row_count > held
        assert {row.uuid for row in screen.rows} == {row["uuid"] for row in rows}
        assert len(screen.rows) == VISITS  # no row twice across the pages

        # The merchant's name, then the verdict too: the counts are the database's.
        word = rows[0]["merchant_name"][:2]
        named = [r for r in rows if word.lower() in f"{r['merchant_name']} {r['uuid']}".lower()]
        screen.query_one("#filter-text", Input).focus()
        await pilot.press(*word)
        await until_settled(app, pilot)
        assert screen.matched == len(named) and 0 < len(named) < VISITS
        assert text_of(screen, "#review-count").startswith(f"{len(named)} of {VISITS} visits")
        assert {row.uuid for row in screen.rows} == {r["uuid"] for r in named}
        screen.query_one("#filter-verdict", Select).value = "fail"
        await until_settled(app, pilot)
        failing = [r for r in named if r["verdict"] == "fail"]
        assert screen.matched == len(failing) == len(screen.rows) == table.row_count
        assert all(row.verdict == "fail" for row in screen.rows)
        # The figures of what the list matches, counted by the database as from the rows.
        await pilot.press("escape", "t")
        await until_settled(app, pilot)
        stats = app.screen
        assert isinstance(stats, ReviewStatsScreen)
        assert stats.stats == failure_stats(failing)
        assert f"The {len(failing)} visits the list's filter matches (of {VISITS})" in text_of(
            stats, "#stats-scope"
        )
        await pilot.press("escape")
        await pilot.pause()
        # What the database cannot filter on is said, not applied to a page.
        await pilot.press("i")
        await pilot.pause()
        assert screen.matched == len(failing)
        assert "follow-up groups are not filters here" in " ".join(
            str(n.message) for n in app._notifications
        )
        # Checked for the rows held, and said so.
        await until(pilot, lambda: all(row.integrity is not None for row in screen.rows))
        await pilot.pause()
        assert f"integrity checked for the {len(failing)} shown" in text_of(screen, "#review-count")
        assert set(column(screen, "integrity")) == {"Verified"}

        # The server drops the list's connection: a reload says so in a sentence and the
        # list stays; the next one reconnects.
        store: Any = app.review.source.store
        [(pid,)] = store.conn.execute("SELECT pg_backend_pid()").fetchall()
        with PgSharedStore.open(bank.shared) as admin:
            admin.conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await pilot.press("f5")
        await until(
            pilot,
            lambda: any("Lost the connection" in str(n.message) for n in app._notifications),
        )
        assert app.screen is screen and app.is_running
        await pilot.press("f5")
        await until_settled(app, pilot)
        assert screen.matched == len(failing) == table.row_count


async def test_a_decision_made_in_the_detail_shows_in_the_list_and_after_a_reload(
    bank: Bank,
) -> None:
    assert isinstance(bank.shared, str)
    row = next(r for r in stored_rows(bank.shared) if not r["failures"])
    async with review_app(bank) as (app, pilot):
        screen = the_list(app)
        screen.query_one("#filter-text", Input).focus()
        await pilot.press(*row["uuid"][:8])
        await until_settled(app, pilot)
        assert [r.uuid for r in screen.rows] == [row["uuid"]]
        await pilot.press("enter", "enter")  # leave the filter for the table, then open
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewDetailScreen)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ReviewDecisionScreen)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewDetailScreen)
        with PgSharedStore.open(bank.shared) as store:
            [decision] = store.reviews()
        assert (decision["uuid"], decision["decision"]) == (row["uuid"], "approved")
        await pilot.press("escape")
        await pilot.pause()
        assert column(screen, "review") == ["Approved"]
        await pilot.press("f5")
        await until_settled(app, pilot)
        # Read again from the database, its signature checked for the page.
        assert column(screen, "review") == ["Approved"]
        assert screen.rows[0].review_state == "approved"


def test_a_search_in_the_first_order_finds_the_visits_needing_attention_by_their_index(
    bank: Bank,
) -> None:
    """The list's first order, searched: the visits that need attention, which come first,
    are found through their own index (the condition written as `paging.NEEDS_ATTENTION`,
    which the index's must match), then the first of the others."""
    from pos_tui.store.pg import paging

    assert isinstance(bank.shared, str)
    word = next(r["merchant_name"][:2] for r in stored_rows(bank.shared) if r["failures"])
    [(query, params), _every] = paging.list_queries(
        paging.Filters(text=word), "attention", False, 0, 50
    )
    with PgSharedStore.open(bank.shared) as store:
        store.conn.execute("ANALYZE visits")
        plan = store.conn.execute(b"EXPLAIN " + query.as_bytes(store.conn), params).fetchall()
    assert any("visits_search_attention" in line for (line,) in plan)
    assert any("visits_list_attention" in line for (line,) in plan)  # the others, in order


def searched(row: dict[str, Any]) -> str:
    """What the search box looks in (`paging._SEARCHED`), as the program sees it."""
    merchant = f"{row['merchant_name']} {row['merchant_number']}".lower()
    return f"{merchant} {row['technician'].lower()} {row['uuid']}"


@pytest.mark.parametrize("probe", [10, 4000])
def test_pages_in_order_whether_the_index_or_the_whole_table_answers(
    bank: Bank, probe: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`paging.list_queries`: a search first among the first `PROBE` rows of the order's
    index, then every row; both give the order the list's columns promise."""
    from pos_tui.store.pg import paging

    monkeypatch.setattr(paging, "PROBE", probe)
    assert isinstance(bank.shared, str)
    rows = stored_rows(bank.shared)
    keys = {
        "attention": lambda r: not (r["failures"] > 0 or r["conflict"]),
        "date": lambda r: r["updated_at"],
        "merchant": lambda r: r["merchant_name"],
        "failures": lambda r: r["failures"],
    }
    common = rows[0]["merchant_name"][:1]
    name = rows[2]["merchant_name"]
    # Words the index of grams narrows (pairs; one Chinese character) and ones it cannot
    # (one ASCII character), one whose pairs are all in a name but not in that order, and
    # words found in no row. A word of one gram (two characters, or one Chinese) is found
    # by the index alone, never read in the row: in both cases, and in capitals.
    scrambled = name[2:4] + name[:3] if len(name) >= 4 else name + "不在"
    pair = rows[3]["uuid"][9:11].upper()
    words = ["", common, rows[1]["uuid"][:6], name[1:3], "7", scrambled, "zz不存在", "不", pair]
    with PgSharedStore.open(bank.shared) as store:
        for sort, key in keys.items():
            for descending in (False, True):
                for word in words:
                    found = [r for r in rows if word.lower() in searched(r)]
                    newest = sorted(found, key=lambda r: (r["updated_at"], r["id"]), reverse=True)
                    if sort == "date":
                        expected = sorted(found, key=lambda r: (r["updated_at"], r["id"]))
                        expected = expected[::-1] if descending else expected
                    else:
                        expected = sorted(newest, key=key, reverse=descending)
                    paged: list[str] = []
                    for offset in range(0, VISITS + 50, 50):
                        page, matched = store.list_page(
                            {"text": word}, sort, descending, offset, 50
                        )
                        paged += [r["uuid"] for r in page]
                        if matched is not None:
                            assert matched == len(found)
                            break
                    assert paged == [r["uuid"] for r in expected], (sort, descending, word)
