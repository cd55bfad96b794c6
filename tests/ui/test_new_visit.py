"""The new-visit form, driven by keys on the real app with a real store."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Select, SelectionList, Static

from pos_tui.domain.checklist import CAPABILITIES, Checklist
from pos_tui.domain.loader import load_checklist
from pos_tui.store.local import LocalStore
from pos_tui.ui.app import PosApp
from pos_tui.ui.i18n import CAPABILITY_NAMES
from pos_tui.ui.screens.new_visit import ROWS, NewVisitScreen
from tests.conftest import FIXTURES
from tests.helpers.ui import settle, technician_app

VALID = {
    "merchant_name": "上海老王面馆",
    "merchant_number": "310104000000001",
    "terminal_number": "20240001",
}


async def open_form(app: PosApp, pilot: Pilot[None]) -> NewVisitScreen:
    await pilot.pause()
    await pilot.press("n")
    await pilot.pause()
    assert isinstance(app.screen, NewVisitScreen)
    return app.screen


def message(screen: NewVisitScreen, field: str) -> Static:
    return screen.query_one(f"#{field}-message", Static)


def shown(screen: NewVisitScreen, field: str) -> str:
    widget = message(screen, field)
    return str(widget.content) if widget.display else ""


async def type_into(pilot: Pilot[None], screen: NewVisitScreen, field: str, text: str) -> None:
    screen.query_one(f"#{field}", Input).focus()
    await pilot.press(*text)


async def fill_valid(pilot: Pilot[None], screen: NewVisitScreen) -> None:
    for field, text in VALID.items():
        screen.query_one(f"#{field}", Input).value = text
    await pilot.pause()


def test_every_capability_has_a_name_in_both_languages() -> None:
    assert set(CAPABILITY_NAMES) == set(CAPABILITIES)
    assert all(name.zh and name.en for name in CAPABILITY_NAMES.values())


async def test_submitting_an_empty_form_marks_every_required_field(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        assert shown(screen, "merchant_name") == ""  # nothing nags before the field is touched
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        for field in ("merchant_name", "merchant_number", "terminal_number"):
            assert shown(screen, field) == "required"
            assert message(screen, field).has_class("field-error")
        assert shown(screen, "terminal_serial") == ""
        assert app.focused is screen.query_one("#merchant_name", Input)
        assert store.drafts() == []


async def test_number_errors_show_as_you_type(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        await type_into(pilot, screen, "merchant_number", "31010400")
        assert shown(screen, "merchant_number") == "must be 15 characters (now 8)"
        await type_into(pilot, screen, "terminal_number", "12a3")
        assert screen.query_one("#terminal_number", Input).value == "123"  # digits only
        assert shown(screen, "terminal_number") == "must be 8 digits"
        await pilot.press(*"456789")
        assert screen.query_one("#terminal_number", Input).value == "12345678"  # 8 at most
        assert shown(screen, "terminal_number") == ""
        screen.query_one("#merchant_number", Input).focus()
        await pilot.press("end", *"0000001")  # focus selects the text: typing would replace it
        assert shown(screen, "merchant_number") == ""
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert shown(screen, "merchant_name") == "required"


async def test_reactivation_needs_a_reason(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        reason_row = screen.query_one("#reason-row")
        assert not reason_row.display
        screen.query_one("#job_type", Select).value = "reactivation"
        await pilot.pause()
        assert reason_row.display
        await fill_valid(pilot, screen)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert shown(screen, "reason") == "choose the reason for re-activation"
        assert app.focused is screen.query_one("#reason", Select)
        screen.query_one("#reason", Select).value = "device_fault"
        await pilot.pause()
        assert shown(screen, "reason") == ""
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.__class__.__name__ == "RunnerScreen"
        (draft,) = store.drafts()
        info = store.load(draft.uuid).info
        assert (info.job_type, info.reason) == ("reactivation", "device_fault")


async def test_a_letter_in_the_merchant_number_warns_but_does_not_block(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        await fill_valid(pilot, screen)
        merchant_number = screen.query_one("#merchant_number", Input)
        merchant_number.value = "31010400000000A"
        await pilot.pause()
        assert "usually all digits" in shown(screen, "merchant_number")
        assert message(screen, "merchant_number").has_class("field-warning")
        assert not message(screen, "merchant_number").has_class("field-error")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.__class__.__name__ == "RunnerScreen"
        (draft,) = store.drafts()
        assert store.load(draft.uuid).info.merchant_number == "31010400000000A"


async def test_typed_chinese_and_chosen_capabilities_and_checklists_are_stored(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        await fill_valid(pilot, screen)
        screen.query_one("#merchant_name", Input).clear()
        await type_into(pilot, screen, "merchant_name", "上海老王面馆")  # key by key
        for field, text in (
            ("province", "上海市"),
            ("city", "上海市"),
            ("district", "徐汇区"),
            ("street", "漕溪北路"),
            ("street_number", "88号"),
        ):
            await type_into(pilot, screen, field, text)
        capabilities = screen.query_one("#capabilities", SelectionList)
        assert capabilities.selected == list(CAPABILITIES)  # all, until told otherwise
        capabilities.deselect_all()
        capabilities.focus()
        await pilot.press("space", "down", "down", "space")  # chip, contactless
        chosen = screen.query_one("#checklists", SelectionList)
        assert chosen.selected == ["card", "receipt"]  # all of them, in their order
        chosen.focus()
        await pilot.press("down", "space")  # not the receipt checklist
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.__class__.__name__ == "RunnerScreen"
        (draft,) = store.drafts()
        session = store.load(draft.uuid)
        assert session.info.merchant_name == "上海老王面馆"
        assert (session.info.district, session.info.street_number) == ("徐汇区", "88号")
        # The one-line address, for what reads only that, is made of the parts.
        assert session.info.site_address == "上海市 上海市 徐汇区 漕溪北路 88号"
        assert session.info.capabilities == ("chip", "contactless")
        assert [c.id for c in session.checklists] == ["card"]
        assert (session.info.technician, session.info.device_id) == ("张伟", "laptop-1")
        assert session.info.job_type == "new_install"


async def test_no_checklist_chosen_is_refused(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        await fill_valid(pilot, screen)
        screen.query_one("#checklists", SelectionList).deselect_all()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert shown(screen, "checklists") == "choose at least one checklist"
        assert store.drafts() == []


async def test_card_data_is_refused_with_a_sentence_not_a_crash(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        await fill_valid(pilot, screen)
        screen.query_one("#merchant_contact", Input).value = ";4111111111111111=25121010000"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        error = screen.query_one("#form-error", Static)
        assert error.display and error.has_class("field-error")
        assert "track" in str(error.content).lower()
        assert not screen.query_one("#start").disabled
        assert store.drafts() == []


async def test_enter_moves_on_and_escape_goes_home(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        assert app.focused is screen.query_one("#merchant_name", Input)
        await pilot.press(*"Shop", "enter")
        assert app.focused is screen.query_one("#merchant_number", Input)
        await pilot.press("enter")
        assert app.focused is screen.query_one("#terminal_number", Input)
        await pilot.press("enter")
        assert app.focused is screen.query_one("#model", Input)  # on the same row
        await pilot.press("enter", "enter")
        assert app.focused is screen.query_one("#registered_name", Input)
        await pilot.press("escape")  # something was typed: one Esc only warns
        await pilot.pause()
        assert app.screen is screen
        assert any("Esc again" in n.message for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HomeScreen"
        assert store.drafts() == []


async def test_escape_on_an_untouched_form_goes_straight_home(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HomeScreen"


async def test_switching_language_keeps_what_was_typed(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        screen.query_one("#job_type", Select).value = "reactivation"
        screen.query_one("#capabilities", SelectionList).deselect_all()
        screen.query_one("#capabilities", SelectionList).select("printer")
        await type_into(pilot, screen, "merchant_number", "123")
        await pilot.press("f2")
        await pilot.pause()
        assert str(screen.query_one("#merchant_name-label", Static).content).startswith("商户名称")
        assert shown(screen, "merchant_number") == "商户号须为15位（当前3位）"
        assert screen.query_one("#job_type", Select).value == "reactivation"
        assert screen.query_one("#capabilities", SelectionList).selected == ["printer"]
        assert screen.query_one("#checklists", SelectionList).selected == ["card", "receipt"]
        assert screen.query_one("#merchant_number", Input).value == "123"


# -- the details acquirers require ---------------------------------------------------------

CREDIT_CODE = "91350100M000100Y43"  # the example of GB 32100-2015, check character 3
ICCID = "8986001234567890120"  # 19 digits that pass the Luhn check, as every ICCID does
REQUIRED_DETAILS = {
    "work_order": "GD-20250314-0007",
    "registered_name": "上海老王餐饮管理有限公司",
    "credit_code": CREDIT_CODE.lower(),  # typed in small letters: stored as printed
    "mcc": "5812",
    "terminal_serial": "N910A0012345",
    "tusn": "000002N910A0012345",
    "pinpad_serial": "000003SP30123456",
    "sim_iccid": ICCID,
    "latitude": "31.1905",
    "longitude": "121.4378",
    "accuracy_m": "15",
}


async def test_the_details_acquirers_require_are_stored(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        await fill_valid(pilot, screen)
        for field, text in REQUIRED_DETAILS.items():
            await type_into(pilot, screen, field, text)
        assert all(shown(screen, row) == "" for row in ("credit_code", "pinpad_serial"))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.__class__.__name__ == "RunnerScreen"
        (draft,) = store.drafts()
        session = store.load(draft.uuid)
    info = session.info
    assert {name: getattr(info, name) for name in REQUIRED_DETAILS} == REQUIRED_DETAILS | {
        "credit_code": CREDIT_CODE
    }
    assert info.sim_iccid == ICCID  # whole: an ICCID is no card number, whatever Luhn says
    assert session.arrived_at == session.created_at  # recorded when it started, not typed
    assert session.departed_at is None  # that is the sign-off's time


async def test_identifiers_with_a_wrong_check_are_marked_under_their_row(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        await fill_valid(pilot, screen)
        await type_into(pilot, screen, "credit_code", CREDIT_CODE[:-1] + "4")
        await type_into(pilot, screen, "sim_iccid", ICCID[:-1] + "1")
        await type_into(pilot, screen, "mcc", "581")
        await type_into(pilot, screen, "latitude", "131.2")
        assert "check character" in shown(screen, "credit_code")
        assert shown(screen, "pinpad_serial").startswith("ICCID: ")  # named: it shares a row
        assert "check digit" in shown(screen, "pinpad_serial")
        assert "MCC: an MCC is 4 digits" in shown(screen, "credit_code")
        position = "Latitude: must be a number of degrees from -90 to 90"
        assert shown(screen, "position") == position  # longitude untouched: no nagging yet
        assert screen.query_one("#sim_iccid", Input).has_class("-invalid")
        assert not screen.query_one("#pinpad_serial", Input).has_class("-invalid")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert (
            shown(screen, "position") == f"{position}; Longitude: give both latitude and longitude"
        )
        assert app.focused is screen.query_one("#credit_code", Input)  # the first in the form
        assert store.drafts() == []


async def test_the_relocation_checklist_is_offered_only_for_a_relocation(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    relocation = load_checklist(FIXTURES / "checklists" / "rules" / "relocation.yaml")
    app = technician_app(store, [*checklists, relocation], tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        listed = screen.query_one("#checklists", SelectionList)
        offered = [listed.get_option_at_index(i).value for i in range(listed.option_count)]
        assert offered == ["card", "receipt"]  # a new install: no relocation checklist
        job_type = screen.query_one("#job_type", Select)
        job_type.value = "relocation"
        await pilot.pause()
        assert listed.selected == ["card", "move", "receipt"]  # offered, and ticked
        job_type.value = "replacement"
        await pilot.pause()
        assert listed.selected == ["card", "receipt"]
        job_type.value = "relocation"
        await pilot.pause()
        await fill_valid(pilot, screen)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        (draft,) = store.drafts()
        assert [c.id for c in store.load(draft.uuid).checklists] == ["card", "move", "receipt"]


async def test_every_field_of_the_form_fits_80_columns(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        for field in screen.query(Input):
            region = field.region
            assert region.width >= 8, field.id
            assert region.right <= 80, field.id
            assert region.height == 1, field.id  # compact: one line a field
        # Every row of typed details is one line, two with its message.
        rows = [screen.query_one(f"#{row}-row") for row, _names in ROWS]
        assert all(row.region.height == 1 for row in rows)
