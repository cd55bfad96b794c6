"""The visit summary and the sign-off, driven by keys on the real app with a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, OptionList, Static

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.line_breaking import NO_LINE_START
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Session, Status
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import LocalStore
from pos_tui.ui.app import PosApp
from pos_tui.ui.i18n import SEVERITY_NAMES
from pos_tui.ui.screens.runner import RunnerScreen
from pos_tui.ui.screens.sign_off import SignOffScreen
from pos_tui.ui.screens.summary import SummaryScreen
from tests.helpers.ui import settle, technician_app
from tests.helpers.visits import save_answer, save_sign

CHIP_VALUES = {"reference": "123456789012", "amount": "0.01", "last4": "1234"}


def answer_some(store: LocalStore, session: Session) -> None:
    """Two failures with notes, one pass; the chip test and the receipt mask still open."""
    save_answer(store, session, "card", "void", "fail", "撤销后没有打印小票")
    save_answer(store, session, "receipt", "clock", "fail", "clock 5 minutes slow")
    save_answer(store, session, "card", "shield", "pass")


def answer_all(store: LocalStore, session: Session) -> None:
    answer_some(store, session)
    save_answer(store, session, "card", "chip-pin", "pass", values=CHIP_VALUES)
    save_answer(store, session, "receipt", "masked", "pass")


async def summary_from_runner(app: PosApp, pilot: Pilot[None]) -> SummaryScreen:
    """Home -> Enter on the unfinished visit -> runner -> s."""
    await settle(app, pilot)
    await pilot.press("enter")
    await settle(app, pilot)
    assert isinstance(app.screen, RunnerScreen)
    await pilot.press("s")
    await pilot.pause()
    assert isinstance(app.screen, SummaryScreen)
    return app.screen


async def summary_from_home(app: PosApp, pilot: Pilot[None]) -> SummaryScreen:
    """Home -> Enter on a finished visit in the recent list."""
    await settle(app, pilot)
    app.screen.query_one("#recent", DataTable).focus()
    await pilot.press("enter")
    await settle(app, pilot)
    assert isinstance(app.screen, SummaryScreen)
    return app.screen


def text_of(screen: SummaryScreen | SignOffScreen, selector: str) -> str:
    widget = screen.query_one(selector, Static)
    return str(widget.content) if widget.display else ""


async def test_summary_shows_counts_verdict_failures_and_open_items(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    answer_some(store, session)
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await summary_from_runner(app, pilot)
        assert text_of(screen, "#summary-verdict") == "Verdict: Incomplete"
        assert screen.query_one("#summary-verdict").has_class("verdict-incomplete")
        assert text_of(screen, "#summary-counts") == (
            "Pass 1, Fail 2, N/A 0, Open 2 (of 5 that apply)"
        )
        assert text_of(screen, "#summary-progress-label") == "Answered 3/5"
        table = screen.query_one("#failures", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(n)] for n in range(table.row_count)]
        assert rows == [
            ["Same-day void\nCard acceptance", "Major", "撤销后没有打印小票"],
            ["Terminal clock\nReceipt printing", "Minor", "clock 5 minutes slow"],
        ]
        missing = screen.query_one("#missing", OptionList)
        assert [str(missing.get_option_at_index(n).prompt) for n in range(2)] == [
            "Card acceptance / Chip and PIN purchase",
            "Receipt printing / Card number masked on the receipt",
        ]
        assert app.focused is missing
        await pilot.press("f2")
        await pilot.pause()
        assert text_of(screen, "#summary-verdict") == "结论：未完成"
        assert str(table.get_row_at(0)[0]) == "当日撤销\n银行卡受理"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RunnerScreen)


async def test_choosing_an_open_item_jumps_back_to_it_in_the_runner(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    answer_some(store, session)
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await summary_from_runner(app, pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
        runner = app.screen
        assert isinstance(runner, RunnerScreen)
        assert runner.items.current_key == ("receipt", "masked")
        assert len(app.screen_stack) == 2  # home, runner: the summary is gone


async def test_a_visit_signed_incomplete_opens_read_only_and_can_still_be_looked_through(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    answer_some(store, session)
    save_sign(store, session, "张伟", "王老板")
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await summary_from_home(app, pilot)
        assert "Signed on" in text_of(screen, "#summary-signoff")
        assert "王老板" in text_of(screen, "#summary-signoff")
        assert "ctrl+s" not in screen.active_bindings
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen  # no sign-off dialog on a signed visit
        screen.query_one("#missing", OptionList).focus()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        runner = app.screen
        assert isinstance(runner, RunnerScreen)
        assert runner.items.current_key == ("card", "chip-pin")
        assert [s.__class__.__name__ for s in app.screen_stack] == ["HomeScreen", "RunnerScreen"]


async def test_sign_off_with_empty_names_is_refused_inline(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    answer_all(store, session)
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await summary_from_runner(app, pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SignOffScreen)
        assert dialog.query_one("#signoff-technician", Input).value == "张伟"
        assert text_of(dialog, "#signoff-verdict") == "Verdict: Fail"
        dialog.query_one("#signoff-technician", Input).value = "  "
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is dialog
        assert text_of(dialog, "#signoff-technician-message") == "required"
        assert text_of(dialog, "#signoff-rep-message") == "required"
        assert app.focused is dialog.query_one("#signoff-technician", Input)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, SummaryScreen)
        assert store.load(session.uuid).status is Status.DRAFT


async def test_sign_off_is_stored_and_the_summary_becomes_read_only(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    answer_all(store, session)
    app = technician_app(store, checklists, tmp_path, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await summary_from_runner(app, pilot)
        assert "ctrl+s" in screen.active_bindings
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SignOffScreen)
        assert app.focused is app.screen.query_one("#signoff-rep", Input)
        await pilot.press(*"王老板", "enter")  # Enter in the last field signs
        await settle(app, pilot)
        assert app.screen is screen
        stored = store.load(session.uuid)
        assert stored.status is Status.SIGNED
        assert stored.signoff is not None
        assert (stored.signoff.technician, stored.signoff.merchant_representative) == (
            "张伟",
            "王老板",
        )
        signoff = text_of(screen, "#summary-signoff")
        assert "王老板" in signoff and stored.signoff.at[:10] in signoff
        assert "ctrl+s" not in screen.active_bindings
        assert any("只读" in n.message for n in app._notifications)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen


async def test_signing_an_incomplete_visit_needs_an_explicit_confirmation(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    answer_some(store, session)
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await summary_from_runner(app, pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SignOffScreen)
        assert "2 required item(s) are still unanswered" in text_of(dialog, "#signoff-warning")
        await pilot.press(*"Mr Wang", "ctrl+s")
        await settle(app, pilot)
        assert app.screen is dialog
        assert text_of(dialog, "#signoff-confirm-message") == "tick the confirmation first"
        assert app.focused is dialog.query_one("#signoff-confirm", Checkbox)
        assert store.load(session.uuid).status is Status.DRAFT
        await pilot.press("space", "ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, SummaryScreen)
        stored = store.load(session.uuid)
        assert stored.status is Status.SIGNED
        assert str(stored.verdict()) == "incomplete"


SHIPPED = Path(__file__).parents[2] / "checklists"


def unbroken(text: str) -> str:
    return "".join(text.split())


LONG_NOTE = (
    "Tapped three times with two QuickPass cards; the reader beeped but the terminal asked"
    " for a PIN each time, so the merchant category was checked with the bank"
)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_every_failure_fits_80_columns_and_scrolls_into_view(
    store: LocalStore, tmp_path: Path, lang: str
) -> None:
    """The longest titles of the shipped checklists, failed with a long note, at 80x24: each
    failure's title, severity and note are in the table whole, nothing sideways, and the
    cursor brings the last one into view."""
    shipped = load_checklists([SHIPPED]).checklists
    info = VisitInfo(
        merchant_name="上海老王面馆",
        merchant_number="310104000000001",
        terminal_number="20240001",
        technician="张伟",
        capabilities=("chip", "pinpad", "printer", "contactless", "magstripe", "qr_display"),
    )
    session = Session.start(info, shipped)
    store.create(session)
    card = next(c for c in shipped if c.id == "card-acceptance")
    answerable = [item for item in card.items if session.applies(item)]
    failed = sorted(answerable, key=lambda item: -len(item.title.en))[:5]
    failed.sort(key=card.items.index)
    assert any("QuickPass" in item.title.en for item in failed)
    for item in failed:
        save_answer(store, session, card.id, item.id, "fail", LONG_NOTE)
    app = technician_app(store, shipped, tmp_path, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await summary_from_runner(app, pilot)
        table = screen.query_one("#failures", DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert screen.query_one("#summary-verdict").region.y >= 0  # the verdict on show
        assert screen.query_one("#summary-verdict").region in screen.region
        cells = [[cell.plain for cell in table.get_row_at(n)] for n in range(table.row_count)]
        for item, (title, severity, note) in zip(failed, cells, strict=True):
            # Broken into lines to fit (no line starting with a stop mark), nothing cut.
            assert unbroken(title).startswith(unbroken(item.title.get(lang)))
            assert severity == SEVERITY_NAMES[item.severity].get(lang)
            assert unbroken(note) == unbroken(LONG_NOTE)
            for line in (title + "\n" + note).split("\n"):
                assert line and line[0] not in NO_LINE_START, line
        table.focus()
        await pilot.press(*["down"] * len(failed))
        await pilot.pause()
        last = table.row_count - 1
        assert table.cursor_row == last
        row_top = sum(table.rows[key].height for key in list(table.rows)[:last])
        assert table.scroll_y <= row_top + 1  # its row is inside the table's window
        assert row_top + 1 <= table.scroll_y + table.scrollable_content_region.height
        assert table.region.bottom <= screen.query_one("#summary").region.bottom
        await pilot.press("enter")
        await pilot.pause()
        runner = app.screen
        assert isinstance(runner, RunnerScreen)
        assert runner.items.current_key == (card.id, failed[-1].id)
