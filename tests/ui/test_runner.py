"""The runner screen driven with keys on a real store: what it shows and what reaches disk.

Fixture checklists, in visit order: card/chip-pin (needs chip; three required fields),
card/tap (needs contactless, which the fixture terminal lacks), card/void, card/shield
(optional), receipt/masked, receipt/clock.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import LocalStore
from pos_tui.ui.app import PosApp
from pos_tui.ui.screens.note import NoteArea, NoteResult, NoteScreen
from pos_tui.ui.screens.runner import RunnerScreen
from pos_tui.ui.widgets.item_list import ItemList
from pos_tui.ui.widgets.visit_header import elapsed_text
from tests.helpers.ui import key_bar_text, settle, technician_app
from tests.helpers.visits import save_answer, save_sign

CHIP = ("card", "chip-pin")
TAP = ("card", "tap")
VOID = ("card", "void")
SHIELD = ("card", "shield")
MASKED = ("receipt", "masked")
CLOCK_ITEM = ("receipt", "clock")
START = datetime(2025, 3, 14, 9, 30, tzinfo=timezone(timedelta(hours=8)))
VISA_TEST_NUMBER = "4111 1111 1111 1111"
TRACK2 = ";4111111111111111=25121010000012345678?"


class FixedClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def visit(store: LocalStore, info: VisitInfo, checklists: list[Checklist], clock: FixedClock):
    session = Session.start(info, checklists, clock=clock)
    store.create(session)
    return session


def make(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path, clock: FixedClock, lang="en"
) -> PosApp:
    return technician_app(
        store, checklists, tmp_path, lang, settings=Settings(technician="张伟"), clock=clock
    )


def runner(app: PosApp) -> RunnerScreen:
    screen = app.screen
    assert isinstance(screen, RunnerScreen)
    return screen


def current(app: PosApp) -> tuple[str, str] | None:
    return runner(app).query_one(ItemList).current_key


def text_of(screen: object, selector: str) -> str:
    from textual.screen import Screen

    assert isinstance(screen, Screen)
    return str(screen.query_one(selector, Static).visual)


def plain(renderable: object) -> str:
    console = Console(width=60, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text().strip()


def stored(store: LocalStore, session: Session) -> Session:
    return store.load(session.uuid)


async def open_runner(app: PosApp, pilot: Pilot[None], session: Session) -> RunnerScreen:
    await app.push_screen(RunnerScreen(session))
    await pilot.pause()
    return runner(app)


NO_CHIP = "商户只受理挥卡"


async def na_with_reason(app: PosApp, pilot: Pilot[None], reason: str = NO_CHIP) -> None:
    """n on a required or critical item: the dialog asks why, the reason is typed, saved."""
    await pilot.press("n")
    await pilot.pause()
    note = app.screen
    assert isinstance(note, NoteScreen)
    assert note.focused is note.query_one("#note-note", NoteArea)
    await pilot.press(*reason, "ctrl+s")
    await pilot.pause()


async def test_na_and_pass_save_and_move_on(store, checklists, tmp_path, clock, visit):
    app = make(store, checklists, tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_runner(app, pilot, visit)
        assert current(app) == CHIP
        await na_with_reason(app, pilot)
        assert current(app) == VOID  # moved on at once, past the item that does not apply
        await pilot.press("p")
        assert current(app) == SHIELD
        await settle(app, pilot)
        assert runner(app).session.answer(*CHIP).outcome is Outcome.NA
        assert runner(app).session.answer(*VOID).outcome is Outcome.PASS
        on_disk = stored(store, visit)
        assert on_disk.answer(*CHIP).outcome is Outcome.NA
        assert on_disk.answer(*VOID).outcome is Outcome.PASS
        assert on_disk.answer(*SHIELD) is None
        assert text_of(app.screen, "#runner-save") == "Saved 09:30:00"
        assert text_of(app.screen, "#runner-overall-count") == "2/5"


async def test_pass_asks_for_the_required_values_first(store, checklists, tmp_path, clock, visit):
    app = make(store, checklists, tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_runner(app, pilot, visit)
        await pilot.press("p")
        await pilot.pause()
        note = app.screen
        assert isinstance(note, NoteScreen)
        assert note.focused is note.query_one("#field-reference", Input)
        await pilot.press(*"123456789012", "tab", *"0.01", "tab", *"12a34")
        assert note.query_one("#field-last4", Input).value == "1234"  # digits only, four
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, RunnerScreen)
        answer = stored(store, visit).answer(*CHIP)
        assert answer is not None
        assert answer.outcome is Outcome.PASS
        assert answer.values == {"reference": "123456789012", "amount": "0.01", "last4": "1234"}
        assert current(app) == VOID


async def test_values_are_checked_in_the_dialog(store, checklists, tmp_path, clock, visit):
    app = make(store, checklists, tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_runner(app, pilot, visit)
        await pilot.press("p")
        await pilot.pause()
        note = app.screen
        assert isinstance(note, NoteScreen)
        await pilot.press(*"12345", "tab", *"abc", "tab", *"12", "ctrl+s")
        await pilot.pause()
        assert app.screen is note  # refused: nothing closes, nothing is saved
        # Said in words, never as the pattern ^[0-9]{12}$ a technician cannot read.
        assert text_of(note, "#error-field-reference") == "must be 12 digits"
        assert note.query_one("#field-amount", Input).value == ""  # letters never got in
        assert text_of(note, "#error-field-amount") == "required"
        assert text_of(note, "#error-field-last4") == "must be exactly 4 digits"
        assert note.focused is note.query_one("#field-reference", Input)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, RunnerScreen)
        assert stored(store, visit).answer(*CHIP) is None


async def test_fail_needs_a_note_and_moves_on(store, checklists, tmp_path, clock, visit):
    app = make(store, checklists, tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_runner(app, pilot, visit)
        screen.jump_to(VOID)
        await pilot.press("f")
        await pilot.pause()
        note = app.screen
        assert isinstance(note, NoteScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is note
        assert text_of(note, "#error-note-note") == "A failed item needs a note"
        await pilot.press(*"打印机卡纸已更换")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        answer = stored(store, visit).answer(*VOID)
        assert answer is not None
        assert answer.outcome is Outcome.FAIL
        assert answer.note == "打印机卡纸已更换"
        assert current(app) == SHIELD  # on to the next open item, as p does


async def test_track_data_is_refused_and_card_numbers_masked(
    store, checklists, tmp_path, clock, visit
):
    app = make(store, checklists, tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_runner(app, pilot, visit)
        screen.jump_to(VOID)
        await pilot.press("f")
        await pilot.pause()
        note = app.screen
        assert isinstance(note, NoteScreen)
        note_input = note.query_one("#note-note", NoteArea)
        note_input.value = TRACK2
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is note
        assert "track" in text_of(note, "#error-note-note")
        note_input.value = f"declined, card {VISA_TEST_NUMBER}"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is note  # shown masked first, saved on the second Ctrl+S
        assert note_input.value == "declined, card ****1111"
        assert "masked" in text_of(note, "#note-warning")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        answer = stored(store, visit).answer(*VOID)
        assert answer is not None
        assert answer.note == "declined, card ****1111"
        assert "4111" not in (
            store.visit_path(visit.uuid).read_text("utf-8").replace("****1111", "")
        )


async def test_items_the_terminal_lacks_are_skipped_and_refused(
    store, checklists, tmp_path, clock, visit
):
    app = make(store, checklists, tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_runner(app, pilot, visit)
        assert current(app) == CHIP
        await pilot.press("g")
        assert current(app) == CHIP  # the item under the cursor is open: g stays
        await pilot.press("j")
        assert current(app) == TAP  # the cursor can land on the contactless item
        await pilot.press("g")
        assert current(app) == VOID  # but g skips it
        await pilot.press("k")
        assert current(app) == TAP
        await pilot.press("p", "n", "f")
        await settle(app, pilot)
        assert isinstance(app.screen, RunnerScreen)  # no dialog either
        assert stored(store, visit).answer(*TAP) is None
        assert runner(app).session.answers == {}
        messages = [n.message for n in app._notifications]
        assert "This item does not apply to this terminal" in messages
        assert "needs Contactless" in text_of(app.screen, "#detail-notice")


async def test_undo_takes_back_the_last_answer(store, checklists, tmp_path, clock, visit):
    app = make(store, checklists, tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_runner(app, pilot, visit)
        assert "u" not in app.screen.active_bindings  # nothing to undo yet: not shown
        await na_with_reason(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        assert app.screen.active_bindings["u"].enabled
        await pilot.press("u")
        await settle(app, pilot)
        assert current(app) == VOID
        assert runner(app).session.answer(*VOID) is None
        on_disk = stored(store, visit)
        assert on_disk.answer(*VOID) is None
        assert on_disk.answer(*CHIP).outcome is Outcome.NA
        await pilot.press("u")
        await settle(app, pilot)
        assert current(app) == CHIP
        assert stored(store, visit).answers == {}


async def test_resumes_where_work_stopped(store, checklists, tmp_path, clock, visit):
    save_answer(store, visit, *CHIP, Outcome.NA, note=NO_CHIP)
    save_answer(store, visit, *MASKED, Outcome.PASS)
    save_answer(store, visit, *VOID, Outcome.PASS)
    resumed = store.load(visit.uuid)
    app = make(store, checklists, tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_runner(app, pilot, resumed)
        assert current(app) == SHIELD  # the open item after the last one answered
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RunnerScreen)
        await open_runner(app, pilot, store.load(visit.uuid))
        assert current(app) == VOID  # the undone item is where work stopped


async def test_chinese_at_the_press_of_f2(store, checklists, tmp_path, clock, visit):
    app = make(store, checklists, tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_runner(app, pilot, visit)
        await na_with_reason(app, pilot)
        await settle(app, pilot)
        assert text_of(screen, "#runner-overall-label") == "Overall"
        await pilot.press("f2")
        await pilot.pause()
        assert text_of(screen, "#runner-overall-label") == "总进度"
        assert text_of(screen, "#runner-save") == "已保存 09:30:00"
        assert text_of(screen, "#detail-title") == "当日撤销"
        assert "p 通过" in key_bar_text(screen)
        assert "s 汇总" in key_bar_text(screen)
        items = screen.query_one(ItemList)
        assert plain(items.get_option("card/chip-pin").prompt).split() == [
            "不适用",
            "芯片卡加密码消费",
        ]
        assert "（本终端不适用）" in plain(items.get_option("card/tap").prompt)
        assert plain(items.get_option("heading:card").prompt).split() == ["银行卡受理", "1/3"]


async def test_a_signed_visit_is_read_only(store, checklists, tmp_path, clock, visit):
    save_answer(store, visit, *CHIP, Outcome.NA, note=NO_CHIP)
    save_sign(store, visit, "张伟", "王老板")
    app = make(store, checklists, tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_runner(app, pilot, store.load(visit.uuid))
        # Only what works is shown: no answer keys on a signed visit.
        for key in ("p", "f", "n", "u", "enter"):
            assert key not in screen.active_bindings
        assert "Pass" not in key_bar_text(screen) and "s Summary" in key_bar_text(screen)
        await pilot.press("j", "p", "n", "f", "enter", "u")
        await settle(app, pilot)
        assert app.screen is screen
        assert "Read-only" in text_of(screen, "#runner-visit")
        assert "signed" in text_of(screen, "#detail-notice")
        on_disk = stored(store, visit)
        assert list(on_disk.answers) == [CHIP]


async def test_a_failed_save_is_shown_and_nothing_changes(
    store, checklists, tmp_path, clock, visit
):
    with LocalStore.open(store.folder, read_only=True) as read_only:
        app = make(read_only, checklists, tmp_path, clock)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_runner(app, pilot, visit)
            await na_with_reason(app, pilot)
            await settle(app, pilot)
            assert screen.session.answer(*CHIP) is None  # the unsaved copy was dropped
            assert current(app) == CHIP  # back on the item that was not saved
            label = screen.query_one("#runner-save", Static)
            assert text_of(screen, "#runner-save").startswith("Not saved: ")
            assert label.has_class("-error")
            assert any(n.severity == "error" for n in app._notifications)
    assert stored(store, visit).answers == {}


async def test_elapsed_time_follows_the_clock(store, checklists, tmp_path, clock, visit):
    app = make(store, checklists, tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_runner(app, pilot, visit)
        assert text_of(screen, "#runner-elapsed") == "Time 0:00:00"
        clock.now = START + timedelta(hours=1, minutes=2, seconds=3)
        screen._show_elapsed()
        assert text_of(screen, "#runner-elapsed") == "Time 1:02:03"
    assert elapsed_text("2025-03-14T09:30:00+08:00", START - timedelta(minutes=1)) == "0:00:00"


async def test_jump_to_and_larger_terminal(store, checklists, tmp_path, clock, visit):
    app = make(store, checklists, tmp_path, clock, lang="zh")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_runner(app, pilot, visit)
        screen.jump_to(CLOCK_ITEM)
        await pilot.pause()
        assert current(app) == CLOCK_ITEM
        assert text_of(screen, "#detail-title") == "终端时钟"
        assert text_of(screen, "#runner-current") == "小票打印 0/2"
        await pilot.press("p")
        await settle(app, pilot)
        assert stored(store, visit).answer(*CLOCK_ITEM).outcome is Outcome.PASS
        assert current(app) == CHIP  # wrapped round to the first open item


async def test_the_dialog_offers_choices_and_numbers(store, tmp_path, clock):
    shipped = load_checklists([Path(__file__).parents[2] / "checklists"]).checklists
    backup = next(c for c in shipped if c.id == "data-backup")
    item = backup.item("settlement-totals")
    results: list[object] = []
    app = make(store, shipped, tmp_path, clock, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(NoteScreen(item, Outcome.PASS), results.append)
        await pilot.pause()
        note = app.screen
        assert isinstance(note, NoteScreen)
        assert text_of(note, "#label-field-count") == "结算总笔数 *"
        assert note.focused is note.query_one("#field-count", Input)
        await pilot.press(*"12x", "tab", *"30.5")
        assert note.query_one("#field-count", Input).value == "12"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is note
        assert text_of(note, "#error-field-result") == "必填"
        choice = note.query_one("#field-result", Select)
        choice.value = item.field("result").choices[0]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is not note
    assert len(results) == 1
    result = results[0]
    assert isinstance(result, NoteResult)
    assert result.outcome is Outcome.PASS
    assert result.values == {
        "count": "12",
        "total-amount": "30.5",
        "result": item.field("result").choices[0],
    }


async def test_a_note_of_several_lines_is_typed_saved_shown_and_exported(
    store, checklists, tmp_path, clock, visit
):
    """Enter is a new line in the note (Tab and Ctrl+S as the hint says); the lines reach
    the disk, the item, the summary, the printed report and the CSV as lines."""
    import csv

    from click.testing import CliRunner

    from pos_tui.cli import main
    from pos_tui.ui.screens.summary import SummaryScreen

    first, second = "撤销后小票未打印", "更换打印纸后重试仍未打印"
    app = make(store, checklists, tmp_path, clock, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_runner(app, pilot, visit)
        screen.jump_to(VOID)
        await pilot.press("f")
        await pilot.pause()
        note = app.screen
        assert isinstance(note, NoteScreen)
        assert "Enter 换行" in text_of(note, "#note-hint") and "Ctrl+S 保存" in text_of(
            note, "#note-hint"
        )
        await pilot.press(*first, "enter", *second)
        assert note.query_one("#note-note", NoteArea).value == f"{first}\n{second}"
        assert app.screen is note  # Enter in the note did not save or move on
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert stored(store, visit).answer(*VOID).note == f"{first}\n{second}"
        screen.jump_to(VOID)
        await pilot.pause()
        assert screen.query_one("#detail-note").plain == f"备注：{first}\n{second}"
        await pilot.press("s")
        await pilot.pause()
        summary = app.screen
        assert isinstance(summary, SummaryScreen)
        table = summary.query_one("#failures")
        assert table.get_row_at(0)[2].plain.split("\n") == [first, second]
        await pilot.press("ctrl+r")
        await settle(app, pilot)
    [report] = (store.folder / "reports").glob("*.html")
    html = report.read_text("utf-8")
    assert f"{first}\n{second}" in html and "white-space: pre-line" in html
    out = tmp_path / "visits.csv"
    done = CliRunner().invoke(
        main,
        ["export", "--format", "csv", "--store", str(store.folder), "--drafts", "--out", str(out)],
    )
    assert done.exit_code == 0, done.output
    with open(out, encoding="utf-8-sig", newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["item_id"] == VOID[1]]
    assert [row["note"] for row in rows] == [f"{first}\n{second}"]
