"""Keys at the counter, on the real app and a real store: nothing typed for the list lands in
a field, moving on is the same whichever way an answer is given, only working keys are
shown, and notifications stay off what they talk about.

Fixture checklists, in visit order: card/chip-pin (needs chip; three required fields),
card/tap (needs contactless, which the fixture terminal lacks), card/void, card/shield
(optional), receipt/masked, receipt/clock.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual import events
from textual.command import CommandList, CommandPalette
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, RadioButton
from textual.widgets._toast import Toast

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session
from pos_tui.store.local import LocalStore
from pos_tui.ui.app import PosApp
from pos_tui.ui.screens.help import HelpScreen
from pos_tui.ui.screens.note import NoteArea, NoteScreen
from pos_tui.ui.screens.runner import RunnerScreen
from pos_tui.ui.screens.sign_off import SignOffScreen
from tests.helpers.ui import key_bar_text, settle, technician_app
from tests.helpers.visits import save_answer, save_sign

CHIP = ("card", "chip-pin")
TAP = ("card", "tap")
VOID = ("card", "void")
SHIELD = ("card", "shield")
MASKED = ("receipt", "masked")
LONG_MESSAGE = (
    "The shared folder could not be reached while the visit was being signed; nothing was"
    " lost, it is kept on this laptop and goes out with the next sync"
)
FRAMEWORK_ENTRIES = (
    "Focus Next",
    "Focus Previous",
    "Copy selected text",
    "Quit the application",
    "Keys",
    "Screenshot",
    "Maximize",
)


async def open_runner(app: PosApp, pilot: Pilot[None], session: Session) -> RunnerScreen:
    await settle(app, pilot)
    await app.push_screen(RunnerScreen(session))
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunnerScreen)
    return screen


def note_text(note: NoteScreen) -> str:
    return note.query_one("#note-note", NoteArea).value


def toast_regions(app: PosApp) -> list[Region]:
    toasts = list(app.screen.query(Toast))
    assert toasts, "no notification on screen"
    return [toast.region for toast in toasts]


def uncovered(widget: Widget, app: PosApp) -> bool:
    return not any(region.overlaps(widget.region) for region in toast_regions(app))


# -- keys meant for the list ------------------------------------------------------------


async def test_a_key_typed_before_the_dialog_showed_never_lands_in_it(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    """`f` then a fast `p`: the terminal had sent the `p` before the note dialog was on
    screen, so it was meant for the list; it must not become text in the note."""
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        runner = await open_runner(app, pilot, session)
        runner.jump_to(VOID)
        typed_fast = [events.Key("p", "p"), events.Key("ctrl+s", None)]  # stamped now
        await pilot.press("f")
        await pilot.pause()
        note = app.screen
        assert isinstance(note, NoteScreen)
        assert note.focused is note.query_one("#note-note", NoteArea)
        for key in typed_fast:  # they reach the app only now, as a burst would
            app.post_message(key)
        await pilot.pause()
        await pilot.pause()
        assert app.screen is note  # ctrl+s did not save it either
        assert note_text(note) == ""
        await pilot.press(*"paper jam")  # typed once the dialog shows: the note's
        assert note_text(note) == "paper jam"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert store.load(session.uuid).answer(*VOID).note == "paper jam"  # type: ignore[union-attr]


async def test_every_answer_from_a_dialog_moves_on_as_p_does(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        runner = await open_runner(app, pilot, session)
        # The values dialog of a pass that needs them.
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"123456789012", "tab", *"0.01", "tab", *"1234", "ctrl+s")
        await settle(app, pilot)
        assert runner.items.current_key == VOID
        # A fail, with its note.
        await pilot.press("f")
        await pilot.pause()
        await pilot.press(*"no slip", "ctrl+s")
        await settle(app, pilot)
        assert runner.items.current_key == SHIELD
        # Enter: the note and values of an item, answered in the dialog.
        await pilot.press("enter")
        await pilot.pause()
        note = app.screen
        assert isinstance(note, NoteScreen)
        assert note.focused is note.query_one("#note-outcome")  # no outcome yet: chosen first
        note.query_one(f"#outcome-{Outcome.PASS}", RadioButton).value = True
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert runner.session.answer(*SHIELD).outcome is Outcome.PASS  # type: ignore[union-attr]
        assert runner.items.current_key == MASKED
        on_disk = store.load(session.uuid)
        assert [on_disk.answer(*key).outcome for key in (CHIP, VOID, SHIELD)] == [  # type: ignore[union-attr]
            Outcome.PASS,
            Outcome.FAIL,
            Outcome.PASS,
        ]


async def test_g_stays_on_an_open_item_and_skips_what_does_not_apply(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    save_answer(store, session, *CHIP, Outcome.NA, note="商户只受理挥卡")
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        runner = await open_runner(app, pilot, store.load(session.uuid))
        runner.jump_to(VOID)
        await pilot.press("g")
        assert runner.items.current_key == VOID  # open itself: not skipped
        runner.jump_to(CHIP)
        await pilot.press("g")
        assert runner.items.current_key == VOID  # answered: on to the next open, past tap


# -- only what works ---------------------------------------------------------------------


async def test_a_signed_visit_shows_no_answer_keys_anywhere(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    save_answer(store, session, *VOID, Outcome.FAIL, note="no slip")
    save_sign(store, session, "张伟", "王老板")
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        runner = await open_runner(app, pilot, store.load(session.uuid))
        bar = key_bar_text(runner)
        for words in ("Pass", "Fail", "N/A", "Undo", "Note"):
            assert words not in bar
        assert "s Summary" in bar
        commands = [command.title for command in app.get_system_commands(runner)]
        assert not {"Pass", "Fail", "N/A", "Undo", "Note"} & set(commands)
        await pilot.press("f1")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        table = help_screen.query_one("#help-keys", DataTable)
        actions = [str(table.get_row_at(n)[1]) for n in range(table.row_count)]
        assert "Summary" in actions and "Down" in actions
        assert not {"Pass", "Fail", "N/A", "Undo", "Note"} & set(actions)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_help_and_palette_list_only_our_commands_in_the_ui_language(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path, lang: str
) -> None:
    app = technician_app(store, checklists, tmp_path, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        runner = await open_runner(app, pilot, session)
        await pilot.press("f1")
        await pilot.pause()
        table = app.screen.query_one("#help-keys", DataTable)
        actions = [str(table.get_row_at(n)[1]) for n in range(table.row_count)]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is runner
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await settle(app, pilot)
        await pilot.pause(0.3)  # the palette gathers its commands in a worker of its own
        listed = palette.query_one(CommandList)
        shown = [str(listed.get_option_at_index(n).prompt) for n in range(listed.option_count)]
        placeholder = palette.query_one(Input).placeholder
        await pilot.press("escape")
        await pilot.pause()
        app.action_change_theme()  # the palette's theme command opens a palette of its own
        await pilot.pause()
        theme_placeholder = app.screen.query_one(Input).placeholder
    assert shown, "the palette showed nothing"
    for entries in (actions, shown):
        assert len(entries) == len(set(entries)), entries  # nothing twice
        for entry in entries:
            assert not entry.startswith(FRAMEWORK_ENTRIES), entry
    assert "Commands" not in " ".join(shown) and "命令" not in " ".join(shown)
    if lang == "zh":
        assert placeholder == "搜索命令…"
        assert theme_placeholder == "搜索配色主题…"
        # Chinese only, but for key names and the one bilingual switch.
        for entry in actions + shown:
            words = re.sub(r"按键：\S+|Switch language|English|Theme", "", entry)
            assert not re.search(r"[A-Za-z]{3,}", words), entry
    else:
        assert any(entry.startswith("Pass\nKey: p") for entry in shown), shown


# -- notifications -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (80, 20)])
async def test_a_notification_leaves_the_sign_off_dialog_uncovered(
    store: LocalStore,
    checklists: list[Checklist],
    session: Session,
    tmp_path: Path,
    size: tuple[int, int],
) -> None:
    """At 80x20 the incomplete visit's dialog would fill the screen: the notification
    takes its rows from the dialog rather than cover its buttons."""
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=size, notifications=True) as pilot:
        await open_runner(app, pilot, session)
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SignOffScreen)
        app.notify(LONG_MESSAGE, severity="error")
        await pilot.pause()
        await pilot.pause()
        box = dialog.query_one("#signoff-box")
        assert uncovered(box, app)
        assert box.region in dialog.region  # shorter (it scrolls), not pushed off the screen


async def test_a_notification_leaves_the_help_and_the_answers_uncovered(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "zh")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        runner = await open_runner(app, pilot, session)
        await pilot.press("n")  # chip-pin is required: n asks why
        await pilot.pause()
        await pilot.press(*"只受理挥卡", "ctrl+s")
        await settle(app, pilot)
        await pilot.press("u")  # "已撤销：..." is said over the runner
        await settle(app, pilot)
        assert any("已撤销" in str(toast.render()) for toast in app.screen.query(Toast))
        assert uncovered(runner.query_one("#runner-body"), app)
        await pilot.press("f1")
        await pilot.pause()
        app.notify(LONG_MESSAGE)
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert uncovered(app.screen.query_one("#help-box"), app)


# -- Chinese lines ---------------------------------------------------------------------


def shipped_visit(store: LocalStore) -> tuple[list[Checklist], Session]:
    """The shipped checklists and a visit of them, stored, for a terminal that does all."""
    from pos_tui.domain.loader import load_checklists
    from pos_tui.domain.visit_info import VisitInfo

    shipped = load_checklists([Path(__file__).parents[2] / "checklists"]).checklists
    info = VisitInfo(
        merchant_name="上海老王面馆",
        merchant_number="310104000000001",
        terminal_number="20240001",
        technician="张伟",
        capabilities=("chip", "pinpad", "printer", "contactless"),
    )
    session = Session.start(info, shipped)
    store.create(session)
    return shipped, session


def drawn_lines(widget: Widget) -> list[str]:
    """The widget's lines as the terminal shows them."""
    width, height = widget.size
    strips = widget.render_lines(Region(0, 0, width, height))
    return ["".join(segment.text for segment in strip).strip() for strip in strips]


async def test_no_chinese_line_starts_with_a_stop_mark_at_any_width(
    store: LocalStore, tmp_path: Path
) -> None:
    """The guidance of a shipped item, drawn at several narrow widths: where counting
    cells would start a line with `，` or `）`, the drawn lines never do."""
    from pos_tui.domain.line_breaking import NO_LINE_START, text_width
    from tests.unit.test_line_breaking import naive_fold

    shipped, session = shipped_visit(store)
    key = ("card-acceptance", "contactless-under-limit")
    guidance = session.item(*key).guidance.zh  # type: ignore[union-attr]
    app = technician_app(store, shipped, tmp_path, "zh")
    naive_breaks = 0
    async with app.run_test(size=(80, 24)) as pilot:
        runner = await open_runner(app, pilot, session)
        runner.jump_to(key)
        for columns in (60, 66, 72, 80):
            await pilot.resize_terminal(columns, 24)
            await pilot.pause()
            widget = runner.query_one("#detail-guidance")
            width = widget.size.width
            naive_breaks += sum(
                line[:1] in NO_LINE_START for line in naive_fold(guidance, width)[1:]
            )
            lines = [line for line in drawn_lines(widget) if line]
            assert "".join(lines) == guidance.replace(" ", "")  # all of it, in order
            for line in lines:
                assert line[0] not in NO_LINE_START, (columns, line)
                assert text_width(line) <= width
    assert naive_breaks, "no width at which counting cells alone breaks a rule: test nothing"


async def test_no_item_title_in_the_list_starts_a_line_with_a_stop_mark(
    store: LocalStore, tmp_path: Path
) -> None:
    """The item list's titles are cells of a Rich grid, which folds them by cells: drawn
    at widths where that would start a line with `，`, every line keeps the rule."""
    from pos_tui.domain.line_breaking import NO_LINE_START
    from pos_tui.ui.widgets.item_list import ItemList, status_width
    from tests.unit.test_line_breaking import naive_fold

    shipped, session = shipped_visit(store)
    titles = [item.title.zh for checklist in session.checklists for item in checklist.items]
    app = technician_app(store, shipped, tmp_path, "zh")
    naive_breaks = 0
    async with app.run_test(size=(80, 24)) as pilot:
        runner = await open_runner(app, pilot, session)
        for columns in (60, 64, 70, 76, 80, 90):
            await pilot.resize_terminal(columns, 200)  # tall: every item on the screen
            await pilot.pause()
            items = runner.query_one(ItemList)
            room = items.scrollable_content_region.width - status_width("zh") - 1
            naive_breaks += sum(
                line[:1] in NO_LINE_START for title in titles for line in naive_fold(title, room)
            )
            lines = [line for line in drawn_lines(items) if line]
            assert len(lines) > len(titles)  # every title drawn, headings besides
            for line in lines:
                assert line[0] not in NO_LINE_START, (columns, line)
    assert naive_breaks, "no width at which folding by cells breaks a rule: test nothing"
