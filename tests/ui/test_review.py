"""The supervisor's side, driven by keys on the real app over a shared store made by the CLI.

The store is made once per module with `pos-tui demo` and `pos-tui sync`; tests that write
decisions or edit records work on their own copy of it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import shutil
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from rich.text import Text as RichText
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from pos_tui import startup_gc
from pos_tui.cli import main
from pos_tui.domain.stats import failure_stats
from pos_tui.services.review import ReviewServices
from pos_tui.store.keys import REVIEWER as REVIEWER_KEY
from pos_tui.store.keys import load_key
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import SharedStore
from pos_tui.store.sources import SharedSource
from pos_tui.store.sync import sync
from pos_tui.ui.app import PosApp, make_app
from pos_tui.ui.screens.review_decision import ReviewDecisionScreen
from pos_tui.ui.screens.review_detail import ReviewDetailScreen
from pos_tui.ui.screens.review_list import PAGE, ReviewListScreen
from pos_tui.ui.screens.review_stats import ReviewStatsScreen
from pos_tui.ui.widgets.bar_chart import Bar, BarChart, chart
from pos_tui.ui.widgets.review_table import ReviewTable
from tests.helpers.bank import demo_bank
from tests.helpers.commands import pos_tui
from tests.helpers.ui import settle
from tests.helpers.ui import static_text as text_of

VISITS = 300
REVIEWER = "李主管"


MACHINES: dict[str, Path] = {}
"""The reviewer's machine of the module's bank: its data folder holds the reviewer key."""


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bank = demo_bank(tmp_path_factory.mktemp("review"), None, VISITS, REVIEWER)
    MACHINES["reviewer"] = bank.reviewer
    assert isinstance(bank.shared, Path)
    return bank.shared


@pytest.fixture
def shared(made: Path, tmp_path: Path) -> Path:
    """A copy of the module's store, for a test that writes to it."""
    return Path(shutil.copytree(made, tmp_path / "shared"))


@asynccontextmanager
async def review_app(folder: Path, lang: str = "en") -> AsyncIterator[tuple[PosApp, Pilot[None]]]:
    reviewer = MACHINES["reviewer"]
    source = SharedSource(folder, reviewer)
    app = make_app(None, lang, review=ReviewServices(source, load_key(reviewer, REVIEWER_KEY)))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewListScreen) and app.screen.loaded
        yield app, pilot


def the_list(app: PosApp) -> ReviewListScreen:
    screen = app.screen
    assert isinstance(screen, ReviewListScreen)
    return screen


def table_column(screen: ReviewListScreen, column: str) -> list[str]:
    table = screen.query_one("#review-table", ReviewTable)
    index = table.get_column_index(column)
    return [str(table.get_cell_at(Coordinate(i, index))) for i in range(table.row_count)]


async def type_filter(pilot: Pilot[None], screen: ReviewListScreen, text: str) -> None:
    screen.query_one("#filter-text", Input).focus()
    await pilot.press(*text)
    await pilot.pause()


async def open_visit(app: PosApp, pilot: Pilot[None], terminal: str) -> ReviewDetailScreen:
    await type_filter(pilot, the_list(app), terminal)
    await pilot.press("enter", "enter")  # leave the filter for the table, then open
    await settle(app, pilot)
    assert isinstance(app.screen, ReviewDetailScreen)
    return app.screen


# -- the list ------------------------------------------------------------------------


async def test_the_collector_held_while_the_review_starts_runs_again_once_the_list_shows(
    made: Path,
) -> None:
    startup_gc.hold()  # as `pos-tui review` does
    try:
        assert not gc.isenabled()
        async with review_app(made):
            assert gc.isenabled()
    finally:
        gc.enable()


async def test_the_list_shows_unreviewed_failures_first_one_page_at_a_time(made: Path) -> None:
    rows = SharedStore(made).rows()
    failed = sum(1 for row in rows if row["failures"])
    async with review_app(made) as (app, pilot):
        screen = the_list(app)
        table = screen.query_one("#review-table", ReviewTable)
        assert len(screen.rows) == VISITS and table.row_count == PAGE
        assert text_of(screen, "#review-count").startswith(f"{VISITS} of {VISITS} visits")
        assert f"{failed} unreviewed with failures" in text_of(screen, "#review-count")
        fails = [int(v) for v in table_column(screen, "failures")]
        assert all(fails[:failed]) and not any(fails[failed:])
        assert "move down for more" in text_of(screen, "#review-more")
        await pilot.press("end")
        await pilot.pause()
        assert table.row_count > PAGE  # going down brings the next page


async def test_filter_by_a_chinese_fragment_of_the_merchant(made: Path) -> None:
    rows = SharedStore(made).rows()
    fragment = rows[0]["merchant_name"][2:5]
    expected = sum(1 for row in rows if fragment in row["merchant_name"])
    async with review_app(made) as (app, pilot):
        screen = the_list(app)
        await type_filter(pilot, screen, fragment)
        merchants = table_column(screen, "merchant")
        assert len(merchants) == expected and all(fragment in m for m in merchants)
        assert text_of(screen, "#review-count").startswith(f"{expected} of {VISITS} visits")
        await pilot.press("escape", "c")  # back to the table, clear every filter
        await pilot.pause()
        assert len(screen.matches) == VISITS


async def test_filter_by_verdict_technician_and_dates_with_an_inline_date_error(
    made: Path,
) -> None:
    rows = SharedStore(made).rows()
    async with review_app(made) as (app, pilot):
        screen = the_list(app)
        screen.query_one("#filter-verdict", Select).value = "fail"
        await pilot.pause()
        assert len(screen.matches) == sum(1 for row in rows if row["verdict"] == "fail")
        assert set(table_column(screen, "verdict")) == {"Fail"}
        screen.query_one("#filter-verdict", Select).clear()
        technician = rows[0]["technician"]
        screen.query_one("#filter-technician", Select).value = technician
        await pilot.pause()
        assert set(table_column(screen, "technician")) == {technician}
        screen.query_one("#filter-technician", Select).clear()
        screen.query_one("#filter-from", Input).focus()
        await pilot.press(*"2026-13-01")
        await pilot.pause()
        assert "YYYY-MM-DD" in text_of(screen, "#filter-error")
        assert screen.query_one("#filter-from", Input).has_class("-invalid")
        days = sorted(row["updated_at"][:10] for row in rows)
        middle = days[len(days) // 2]
        await pilot.press(*["backspace"] * 10, *middle)
        await pilot.pause()
        assert text_of(screen, "#filter-error") == ""
        assert len(screen.matches) == sum(1 for day in days if day >= middle)


async def test_sort_by_key_and_by_clicking_a_header(made: Path) -> None:
    async with review_app(made) as (app, pilot):
        screen = the_list(app)
        await pilot.press("s")  # needs-attention -> date, newest first
        await pilot.pause()
        dates = table_column(screen, "date")
        assert dates == sorted(dates, reverse=True) and "sort: Date (descending)" in text_of(
            screen, "#review-count"
        )
        await pilot.press("s")  # -> merchant, A to Z
        await pilot.pause()
        merchants = [r.merchant_name for r in screen.matches]
        assert merchants == sorted(merchants)
        await pilot.press("S")  # reverse
        await pilot.pause()
        assert [r.merchant_name for r in screen.matches] == sorted(merchants, reverse=True)
        table = screen.query_one("#review-table", ReviewTable)
        before = table.get_column_index("failures")
        x = sum(c.get_render_width(table) for c in table.ordered_columns[:before]) + 2
        await pilot.click("#review-table", offset=(x, 0))
        await pilot.pause()
        assert screen.sort_by == "failures" and screen.descending
        fails = [int(v) for v in table_column(screen, "failures")]
        assert fails == sorted(fails, reverse=True)
        await pilot.click("#review-table", offset=(x, 0))  # again: the other way
        await pilot.pause()
        assert not screen.descending


# -- the detail and decisions ----------------------------------------------------------


async def test_open_a_visit_shows_details_answers_and_timeline(made: Path) -> None:
    row = next(r for r in SharedStore(made).rows() if r["failures"])
    async with review_app(made) as (app, pilot):
        detail = await open_visit(app, pilot, row["terminal_number"])
        assert detail.row.uuid == row["uuid"]
        assert not detail.query_one("#detail-banner", Static).display
        meta = text_of(detail, "#detail-meta")
        assert row["merchant_name"] in meta and row["merchant_number"] in meta
        answers = text_of(detail, "#detail-answers")
        assert "Pre-flight checks" in answers and "Fail (" in answers
        timeline = text_of(detail, "#detail-timeline")
        for what in ("Created", "Answered", "Signed", "Synced"):
            assert what in timeline
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReviewListScreen)


async def test_the_detail_writes_the_acceptance_report(
    made: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POS_TUI_REPORTS_DIR", str(tmp_path / "reports"))
    row = next(r for r in SharedStore(made).rows() if r["failures"])
    async with review_app(made) as (app, pilot):
        await open_visit(app, pilot, row["terminal_number"])
        await pilot.press("ctrl+r")
        await settle(app, pilot)
    [report] = (tmp_path / "reports").glob("*.html")
    html = report.read_text("utf-8")
    assert row["merchant_name"] in html and row["content_sha256"] in html


async def test_approve_needs_no_comment(shared: Path) -> None:
    row = next(r for r in SharedStore(shared).rows() if not r["failures"])
    async with review_app(shared) as (app, pilot):
        await open_visit(app, pilot, row["terminal_number"])
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ReviewDecisionScreen)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewDetailScreen)
        [decision] = SharedStore(shared).reviews()
        assert (decision["uuid"], decision["decision"], decision["reviewer"]) == (
            row["uuid"],
            "approved",
            REVIEWER,
        )
        assert "Approved by 李主管" in text_of(app.screen, "#detail-meta")
        await pilot.press("escape")
        await pilot.pause()
        assert table_column(the_list(app), "review")[0] == "Approved"


async def test_has_issues_and_reject_refuse_an_empty_comment_inline(shared: Path) -> None:
    row = next(r for r in SharedStore(shared).rows() if r["failures"])
    async with review_app(shared) as (app, pilot):
        await open_visit(app, pilot, row["terminal_number"])
        for key in ("i", "x"):
            await pilot.press(key)
            await pilot.pause()
            await pilot.press("enter")
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, ReviewDecisionScreen)
            assert "A comment is required" in text_of(dialog, "#decision-error")
            assert SharedStore(shared).reviews() == []
            await pilot.press("escape")
            await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await pilot.press(*"重新打印签购单", "enter")
        await settle(app, pilot)
        [decision] = SharedStore(shared).reviews()
        assert (decision["decision"], decision["comment"]) == ("has_issues", "重新打印签购单")
        timeline = text_of(app.screen, "#detail-timeline")
        assert "Has issues: 重新打印签购单" in timeline and REVIEWER in timeline
        await pilot.press("escape")
        await pilot.pause()
        screen = the_list(app)
        state = next(r.review_state for r in screen.rows if r.uuid == row["uuid"])
        assert state == "has_issues"
        assert not any(r.uuid == row["uuid"] for r in screen.matches if r.needs_attention)


async def test_decisions_land_while_a_technician_syncs(shared: Path, tmp_path: Path) -> None:
    env = dict(os.environ, POS_TUI_CONFIG_FILE=str(tmp_path / "settings.json"))
    laptop = tmp_path / "laptop2"
    pos_tui("demo", "--sessions", "40", "--seed", "99", "--data-dir", str(laptop), env=env)
    rows = SharedStore(shared).rows()[:3]
    async with review_app(shared) as (app, pilot):
        syncing = threading.Thread(target=lambda: sync(LocalStore.open(laptop), shared))
        syncing.start()
        for row in rows:
            app.review.decide(row["uuid"], "rejected", "不合格")
        await asyncio.to_thread(syncing.join)
        await settle(app, pilot)
    store = SharedStore(shared)
    assert len(store.rows()) == VISITS + 40
    assert sorted(d["uuid"] for d in store.reviews()) == sorted(r["uuid"] for r in rows)


def edit_signed_answer_time(folder: Path, row: dict[str, Any]) -> None:
    """Change one second of one answer's time in the record, keeping its length."""
    path = folder / "batches" / row["batch"]
    data = bytearray(path.read_bytes())
    start, end = row["offset"], row["offset"] + row["length"]
    record = data[start:end].decode("utf-8")
    answers = record.index('"answers"')
    found = re.compile(r'"at": ?"[^"]*?(\d)\+').search(record, answers)
    assert found is not None
    digit = found.start(1)
    changed = record[:digit] + str((int(record[digit]) + 1) % 10) + record[digit + 1 :]
    json.loads(changed)  # still a valid record, only the content differs
    data[start:end] = changed.encode("utf-8")
    path.write_bytes(bytes(data))


async def test_a_signed_visit_edited_by_hand_is_shown_as_altered(shared: Path) -> None:
    row = SharedStore(shared).rows()[5]
    edit_signed_answer_time(shared, row)
    async with review_app(shared) as (app, pilot):
        detail = await open_visit(app, pilot, row["terminal_number"])
        banner = detail.query_one("#detail-banner", Static)
        assert banner.display and banner.has_class("-altered")
        assert "ALTERED AFTER SIGNING" in text_of(detail, "#detail-banner")
        await pilot.press("x")
        await pilot.pause()
        assert "ALTERED" in text_of(app.screen, "#decision-warning")


async def test_a_conflict_is_shown_in_the_list_and_as_a_banner(shared: Path) -> None:
    index = min((shared / "index").glob("*.json"))  # one shard of the index
    document = json.loads(index.read_text(encoding="utf-8"))
    doc_id, row = next(iter(document["visits"].items()))
    document["visits"][doc_id]["conflict"] = True
    index.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    async with review_app(shared) as (app, pilot):
        screen = the_list(app)
        at = next(i for i, r in enumerate(screen.matches) if r.uuid == row["uuid"])
        assert all(r.needs_attention for r in screen.matches[: at + 1])  # among the first
        assert "conflict" in table_column(screen, "review")[at]
        detail = await open_visit(app, pilot, row["terminal_number"])
        banner = detail.query_one("#detail-banner", Static)
        assert banner.display and not banner.has_class("-altered")
        assert "CONFLICT" in text_of(detail, "#detail-banner")


# -- statistics, language, command line ------------------------------------------------


async def test_statistics_show_bars_for_the_worst_items(made: Path) -> None:
    stats = failure_stats(SharedStore(made).rows())
    async with review_app(made) as (app, pilot):
        await pilot.press("t")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReviewStatsScreen)
        items = screen.query_one("#chart-items", BarChart)
        assert len(items.bars) == min(15, len(stats.items))
        top = stats.items[0]
        assert items.bars[0].note.strip().startswith(f"{top.rate:.1%}")
        assert "/" not in items.bars[0].label  # a title from the checklist, not an id
        assert any("on" in str(span.style) for span in shown(items).spans)
        technicians = screen.query_one("#chart-technicians", BarChart)
        assert {b.label for b in technicians.bars} == {r.key for r in stats.technicians}
        await pilot.press("f2")
        await pilot.pause()
        assert "不通过最多的检查项" in shown(items).plain


async def test_the_list_speaks_chinese_after_f2(made: Path) -> None:
    async with review_app(made) as (app, pilot):
        await pilot.press("f2")
        await pilot.pause()
        screen = the_list(app)
        table = screen.query_one("#review-table", ReviewTable)
        assert [str(c.label) for c in table.ordered_columns][:2] == ["日期", "商户"]
        assert f"{VISITS} / {VISITS} 条访问" in text_of(screen, "#review-count")
        assert set(table_column(screen, "review")) == {"未审核"}


def shown(chart_widget: BarChart) -> RichText:
    content = chart_widget.content
    assert isinstance(content, RichText)
    return content


def test_chart_lines_are_exactly_as_wide_as_asked_with_chinese_labels() -> None:
    bars = [
        Bar("密码输入私密性", 0.5, "50.0%  1/2"),
        Bar("Terminal placed securely, away from heat and water", 1 / 30, "3.3%  1/30"),
        Bar("张伟", 0.0, "0.0%  0/9"),
    ]
    for width in (40, 80, 117):
        lines = chart("标题", bars, width).plain.split("\n")
        assert lines[0] == "标题"
        assert {cell_len(line) for line in lines[1:]} == {width}
    text = chart("t", bars, 80)
    filled = [span for span in text.spans if "on" in str(span.style)]
    assert len(filled) == 2  # a 3% bar still shows; 0% shows nothing


def test_review_command_fails_plainly_without_a_store(tmp_path: Path) -> None:
    env = {"POS_TUI_CONFIG_FILE": str(tmp_path / "settings.json"), "POS_TUI_SHARED_STORE": ""}
    missing = CliRunner().invoke(main, ["review", "--store", str(tmp_path / "nope")], env=env)
    assert missing.exit_code == 1 and "is not there" in missing.output
    unset = CliRunner().invoke(main, ["review"], env=env)
    assert unset.exit_code == 1 and "no shared store given" in unset.output
