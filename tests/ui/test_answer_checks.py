"""Answers that check themselves, driven by keys on the real app with a real store.

Fixture checklist `tests/fixtures/checklists/rules/answers.yaml`: one item per rule (last 4
digits, a terminal number compared with the visit, a choice that means failure, an amount
with a limit, prefilled identity values, an optional item). The shipped checklists for the
relocation, the walkthrough's acknowledgement and the sign-off.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Select, Static

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store.local import LocalStore
from pos_tui.ui.app import PosApp
from pos_tui.ui.screens.note import NoteArea, NoteScreen
from pos_tui.ui.screens.runner import RunnerScreen
from pos_tui.ui.screens.sign_off import SignOffScreen
from pos_tui.ui.screens.summary import SummaryScreen
from pos_tui.ui.widgets.item_list import ItemList
from tests.conftest import FIXTURES
from tests.helpers.ui import settle, technician_app
from tests.helpers.visits import save_answer

LAST4 = ("answers", "last4")
PARAMETERS = ("answers", "parameters")
SETTLEMENT = ("answers", "settlement")
TAP = ("answers", "tap")
IDENTITY = ("answers", "identity")
STICKER = ("answers", "sticker")
ICCID = "8986001234567890120"
INFO = VisitInfo(
    merchant_name="上海老王面馆",
    merchant_number="310104000000001",
    terminal_number="12345678",
    terminal_serial="N910A0012345",
    model="Newland N910",
    sim_iccid=ICCID,
    technician="张伟",
    capabilities=("chip", "contactless", "pinpad", "printer"),
)
NOT_BALANCED = "对账不平 / Not balanced"


@pytest.fixture
def rules() -> list[Checklist]:
    loaded = load_checklists([FIXTURES / "checklists" / "rules"])
    assert loaded.ok, loaded.problems
    return loaded.checklists


@pytest.fixture
def shipped() -> list[Checklist]:
    loaded = load_checklists([shipped_checklists_dir()])
    assert loaded.ok, loaded.problems
    return loaded.checklists


def visit_in(store: LocalStore, checklists: list[Checklist], info: VisitInfo = INFO) -> Session:
    session = Session.start(info, checklists)
    store.create(session)
    return session


async def runner_on(
    app: PosApp, pilot: Pilot[None], session: Session, key: tuple[str, str]
) -> RunnerScreen:
    await pilot.pause()
    await app.push_screen(RunnerScreen(session, start_at=key))
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunnerScreen)
    assert screen.current_key == key
    return screen


async def dialog_for(app: PosApp, pilot: Pilot[None], key: str) -> NoteScreen:
    await pilot.press(key)
    await pilot.pause()
    note = app.screen
    assert isinstance(note, NoteScreen)
    return note


def text_of(screen: object, selector: str) -> str:
    assert isinstance(screen, NoteScreen | RunnerScreen | SignOffScreen)
    widget = screen.query_one(selector, Static)
    return str(widget.visual) if widget.display else ""


def stored(store: LocalStore, session: Session) -> Session:
    return store.load(session.uuid)


# -- last 4 digits -------------------------------------------------------------------------


async def test_a_full_card_number_typed_as_last_4_keeps_its_last_four(
    store: LocalStore, rules: list[Checklist], tmp_path: Path
) -> None:
    session = visit_in(store, rules)
    app = technician_app(store, rules, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await runner_on(app, pilot, session, LAST4)
        note = await dialog_for(app, pilot, "p")
        field = note.query_one("#field-last4", Input)
        await pilot.press(*"6222 0212 3456 7890 128")
        assert field.value == "0128"  # the last four as they come, never "6222"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, RunnerScreen)
    answer = stored(store, session).answer(*LAST4)
    assert answer is not None and answer.outcome is Outcome.PASS
    assert answer.values == {"last4": "0128"}
    on_disk = store.visit_path(session.uuid).read_text("utf-8")
    assert "6222" not in on_disk


async def test_full_width_digits_pasted_as_last_4_are_kept_as_digits(
    store: LocalStore, rules: list[Checklist], tmp_path: Path
) -> None:
    session = visit_in(store, rules)
    app = technician_app(store, rules, tmp_path, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await runner_on(app, pilot, session, LAST4)
        note = await dialog_for(app, pilot, "p")
        note.query_one("#field-last4", Input).value = "６２２２０２１２３４５６７８９０"
        await pilot.pause()
        assert note.query_one("#field-last4", Input).value == "7890"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert stored(store, session).answer(*LAST4).values == {"last4": "7890"}  # type: ignore[union-attr]


# -- a value compared with the visit -------------------------------------------------------


async def test_a_terminal_number_that_differs_cannot_pass_and_fails_with_one_key(
    store: LocalStore, rules: list[Checklist], tmp_path: Path
) -> None:
    session = visit_in(store, rules)
    app = technician_app(store, rules, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        runner = await runner_on(app, pilot, session, PARAMETERS)
        assert "must be 12345678" in text_of(runner, "#detail-values")  # said before typing
        note = await dialog_for(app, pilot, "p")
        assert not note.query_one("#note-fail-it", Button).display
        await pilot.press(*"12345679", "ctrl+s")
        await pilot.pause()
        assert app.screen is note  # refused: nothing closes, nothing is saved
        said = "12345679 entered, but the visit's terminal number is 12345678"
        assert text_of(note, "#error-field-terminal-number") == said
        assert "Ctrl+F" in text_of(note, "#note-cannot-pass")
        assert note.query_one("#note-fail-it", Button).display
        await pilot.press("ctrl+f")
        await settle(app, pilot)
        assert app.screen is runner
        assert runner.current_key != PARAMETERS  # saved from the dialog: moved on, as p does
    answer = stored(store, session).answer(*PARAMETERS)
    assert answer is not None
    assert answer.outcome is Outcome.FAIL
    assert answer.values == {"terminal-number": "12345679"}
    assert said in answer.note
    assert "填写的是 12345679，本次访问的终端号是 12345678" in answer.note


async def test_the_visit_refuses_the_pass_even_without_the_dialog(
    store: LocalStore, rules: list[Checklist], tmp_path: Path
) -> None:
    session = visit_in(store, rules)
    save_answer(
        store, session, *PARAMETERS, Outcome.FAIL, "终端号不符", {"terminal-number": "12345679"}
    )
    app = technician_app(store, rules, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await runner_on(app, pilot, stored(store, session), PARAMETERS)
        await pilot.press("p")  # the values are there, so p saves straight away: or tries
        await settle(app, pilot)
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("cannot pass: Terminal number: 12345679") for m in messages)
    assert stored(store, session).answer(*PARAMETERS).outcome is Outcome.FAIL  # type: ignore[union-attr]


async def test_a_matching_terminal_number_passes(
    store: LocalStore, rules: list[Checklist], tmp_path: Path
) -> None:
    session = visit_in(store, rules)
    app = technician_app(store, rules, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await runner_on(app, pilot, session, PARAMETERS)
        await dialog_for(app, pilot, "p")
        await pilot.press(*"12345678", "ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, RunnerScreen)
    assert stored(store, session).answer(*PARAMETERS).outcome is Outcome.PASS  # type: ignore[union-attr]


# -- a choice that means failure, an amount over its limit ---------------------------------


async def test_a_failing_choice_cannot_pass(
    store: LocalStore, rules: list[Checklist], tmp_path: Path
) -> None:
    session = visit_in(store, rules)
    app = technician_app(store, rules, tmp_path, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await runner_on(app, pilot, session, SETTLEMENT)
        note = await dialog_for(app, pilot, "p")
        note.query_one("#field-result", Select).value = NOT_BALANCED
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is note
        assert text_of(note, "#error-field-result") == f"「{NOT_BALANCED}」表示检查未通过"
        assert "Ctrl+F" in text_of(note, "#note-cannot-pass")
        await pilot.click("#note-fail-it")  # the same as Ctrl+F, for a mouse
        await settle(app, pilot)
        assert isinstance(app.screen, RunnerScreen)
    answer = stored(store, session).answer(*SETTLEMENT)
    assert answer is not None and answer.outcome is Outcome.FAIL
    assert answer.values == {"result": NOT_BALANCED}
    assert "means the check failed" in answer.note


async def test_an_amount_over_its_limit_cannot_pass(
    store: LocalStore, rules: list[Checklist], tmp_path: Path
) -> None:
    session = visit_in(store, rules)
    app = technician_app(store, rules, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await runner_on(app, pilot, session, TAP)
        note = await dialog_for(app, pilot, "p")
        await pilot.press(*"1500", "ctrl+s")
        await pilot.pause()
        assert app.screen is note
        assert text_of(note, "#error-field-amount") == "must be at most 1000 (1500 entered)"
        amount = note.query_one("#field-amount", Input)
        assert note.focused is amount
        amount.value = "0.01"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, RunnerScreen)
    answer = stored(store, session).answer(*TAP)
    assert answer is not None and answer.outcome is Outcome.PASS
    assert answer.values == {"amount": "0.01"}


# -- not applicable ------------------------------------------------------------------------


async def test_not_applicable_on_a_critical_item_asks_for_the_reason(
    store: LocalStore, rules: list[Checklist], tmp_path: Path
) -> None:
    session = visit_in(store, rules)
    app = technician_app(store, rules, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        runner = await runner_on(app, pilot, session, TAP)
        note = await dialog_for(app, pilot, "n")
        assert note.focused is note.query_one("#note-note", NoteArea)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is note  # no reason, no n/a
        assert "needs the reason" in text_of(note, "#error-note-note")
        await pilot.press(*"Card reader has no NFC", "ctrl+s")
        await settle(app, pilot)
        assert app.screen is runner
        assert runner.current_key == IDENTITY  # moved on, as n does
        runner.jump_to(STICKER)
        await pilot.press("n")  # an optional minor item: no reason asked
        await settle(app, pilot)
        assert app.screen is runner
    on_disk = stored(store, session)
    assert on_disk.answer(*TAP).outcome is Outcome.NA  # type: ignore[union-attr]
    assert on_disk.answer(*TAP).note == "Card reader has no NFC"  # type: ignore[union-attr]
    assert on_disk.answer(*STICKER).outcome is Outcome.NA  # type: ignore[union-attr]


# -- values known from the visit -----------------------------------------------------------


async def test_known_values_are_prefilled_and_checked(
    store: LocalStore, rules: list[Checklist], tmp_path: Path
) -> None:
    session = visit_in(store, rules)
    app = technician_app(store, rules, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await runner_on(app, pilot, session, IDENTITY)
        note = await dialog_for(app, pilot, "p")
        assert note.query_one("#field-serial", Input).value == "N910A0012345"
        assert note.query_one("#field-model", Input).value == "Newland N910"
        assert note.query_one("#field-iccid", Input).value == ""  # compared, not prefilled
        note.query_one("#field-iccid", Input).value = ICCID
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, RunnerScreen)
    answer = stored(store, session).answer(*IDENTITY)
    assert answer is not None and answer.outcome is Outcome.PASS
    assert answer.values == {"serial": "N910A0012345", "model": "Newland N910", "iccid": ICCID}


async def test_a_prefilled_serial_corrected_to_what_the_device_shows_cannot_pass(
    store: LocalStore, rules: list[Checklist], tmp_path: Path
) -> None:
    session = visit_in(store, rules)
    app = technician_app(store, rules, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await runner_on(app, pilot, session, IDENTITY)
        note = await dialog_for(app, pilot, "p")
        note.query_one("#field-serial", Input).value = "N910A0099999"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is note
        assert "the visit's terminal serial number is N910A0012345" in text_of(
            note, "#error-field-serial"
        )


async def test_the_walkthrough_names_the_representative_at_sign_off(
    store: LocalStore, shipped: list[Checklist], tmp_path: Path
) -> None:
    session = visit_in(store, shipped)
    key = ("merchant-walkthrough", "merchant-acknowledgement")
    app = technician_app(store, shipped, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await runner_on(app, pilot, session, key)
        note = await dialog_for(app, pilot, "p")
        await pilot.press(*"Wang Lan", "ctrl+s")
        await settle(app, pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        sign_off = app.screen
        assert isinstance(sign_off, SignOffScreen)
        assert sign_off.query_one("#signoff-rep", Input).value == "Wang Lan"
        assert "acknowledgement" in text_of(sign_off, "#signoff-rep-message")
        sign_off.query_one("#signoff-confirm").value = True  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    signed = stored(store, session)
    assert signed.signoff is not None
    assert signed.signoff.merchant_representative == "Wang Lan"
    assert signed.departed_at == signed.signoff.at  # the departure is the sign-off's time
    assert note.item.id == "merchant-acknowledgement"


# -- a checklist for relocations only ------------------------------------------------------


async def test_the_relocation_checklist_appears_only_in_a_relocation_visit(
    store: LocalStore, shipped: list[Checklist], tmp_path: Path
) -> None:
    moved = visit_in(
        store,
        shipped,
        replace(
            INFO, job_type="relocation", province="上海市", street="漕溪北路", street_number="88号"
        ),
    )
    installed = visit_in(store, shipped)
    assert "relocation" not in [c.id for c in installed.checklists]
    app = technician_app(store, shipped, tmp_path, "en")
    async with app.run_test(size=(100, 32)) as pilot:
        runner = await runner_on(app, pilot, installed, ("preflight", "technician-identity"))
        assert "relocation" not in {key[0] for key in runner.query_one(ItemList).item_keys()}
        await pilot.press("escape")
        runner = await runner_on(app, pilot, moved, ("relocation", "addresses"))
        assert "relocation" in {key[0] for key in runner.query_one(ItemList).item_keys()}
        note = await dialog_for(app, pilot, "p")
        # The new address is the visit's install address: offered, not typed again.
        assert note.query_one("#field-new-address", Input).value == "上海市 漕溪北路 88号"
