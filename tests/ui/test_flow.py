"""A whole visit at the counter, by keys, on a real store: start, answer, undo, sign, reopen."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, SelectionList, Static

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.progress import Verdict
from pos_tui.domain.session import Outcome, Session, Status
from pos_tui.services.technician import Services
from pos_tui.store.local import LocalStore
from pos_tui.ui.app import PosApp, make_app
from pos_tui.ui.screens.home import HomeScreen
from pos_tui.ui.screens.new_visit import NewVisitScreen
from pos_tui.ui.screens.note import NoteArea, NoteScreen
from pos_tui.ui.screens.runner import RunnerScreen
from pos_tui.ui.screens.sign_off import SignOffScreen
from pos_tui.ui.screens.summary import SummaryScreen
from tests.helpers.bank import open_bank
from tests.helpers.ui import key_bar_text, settle, technician_app
from tests.helpers.visits import save_answer, save_sign


async def type_into(pilot: Pilot[None], field: Input, text: str) -> None:
    field.focus()
    await pilot.press(*text)


async def start_visit(app: PosApp, pilot: Pilot[None]) -> RunnerScreen:
    await settle(app, pilot)
    await pilot.press("n")
    await pilot.pause()
    form = app.screen
    assert isinstance(form, NewVisitScreen)
    form.query_one("#merchant_name", Input).value = "上海老王面馆"
    await type_into(pilot, form.query_one("#merchant_number", Input), "310104000000001")
    await type_into(pilot, form.query_one("#terminal_number", Input), "20240001")
    capabilities = form.query_one("#capabilities", SelectionList)
    capabilities.deselect_all()
    for capability in ("chip", "pinpad", "printer"):
        capabilities.select(capability)
    await pilot.press("ctrl+s")
    await settle(app, pilot)
    runner = app.screen
    assert isinstance(runner, RunnerScreen)
    return runner


async def test_a_whole_visit_by_keys(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        runner = await start_visit(app, pilot)
        session = runner.session
        assert runner.current_key == ("card", "chip-pin")

        # A pass that needs its evidence asks for it first.
        await pilot.press("p")
        await pilot.pause()
        note = app.screen
        assert isinstance(note, NoteScreen)
        for field_id, value in (("reference", "000012345678"), ("amount", "0.01")):
            await type_into(pilot, note.query_one(f"#field-{field_id}", Input), value)
        # Last 4 keeps the last four digits typed, however many are typed.
        await type_into(pilot, note.query_one("#field-last4", Input), "12345")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is runner
        # The tap test does not apply to a terminal without contactless: skipped.
        assert runner.current_key == ("card", "void")

        # A failure asks for its note at once, and refuses to go without one.
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
        app.screen.query_one("#note-note", NoteArea).value = "撤销后小票未打印"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert runner.current_key == ("card", "shield")  # moved on, as a pass does

        await pilot.press("g", "n")  # next open item: the optional shield, not applicable
        await settle(app, pilot)
        assert runner.session.answer("card", "shield").outcome is Outcome.NA  # type: ignore[union-attr]
        await pilot.press("u")
        await settle(app, pilot)
        assert runner.session.answer("card", "shield") is None
        assert store.load(session.uuid).answer("card", "shield") is None

        runner.jump_to(("receipt", "masked"))
        await pilot.press("p", "p")
        await settle(app, pilot)
        stored = store.load(session.uuid)
        assert {key: a.outcome for key, a in stored.answers.items()} == {
            ("card", "chip-pin"): Outcome.PASS,
            ("card", "void"): Outcome.FAIL,
            ("receipt", "masked"): Outcome.PASS,
            ("receipt", "clock"): Outcome.PASS,
        }
        assert stored.answer("card", "chip-pin").values == {  # type: ignore[union-attr]
            "reference": "000012345678",
            "amount": "0.01",
            "last4": "2345",
        }
        assert stored.answer("card", "void").note == "撤销后小票未打印"  # type: ignore[union-attr]
        assert stored.verdict() is Verdict.FAIL

        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        sign_off = app.screen
        assert isinstance(sign_off, SignOffScreen)
        inputs = list(sign_off.query(Input))
        assert inputs[0].value == "张伟"
        await type_into(pilot, inputs[1], "王老板")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        signed = store.load(session.uuid)
        assert signed.status is Status.SIGNED
        assert (signed.signoff.technician, signed.signoff.merchant_representative) == (  # type: ignore[union-attr]
            "张伟",
            "王老板",
        )

        # Back on the runner the visit is read-only: keys change nothing.
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is runner
        runner.jump_to(("card", "shield"))
        await pilot.press("p", "n", "u")
        await settle(app, pilot)
        assert store.load(session.uuid).answers == signed.answers
        assert store.load(session.uuid).events == signed.events


async def test_a_signed_visit_reopens_read_only_from_home(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path, session: Session
) -> None:
    save_answer(store, session, "card", "void", Outcome.PASS)
    save_sign(store, session, "张伟", "王老板")
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        app.screen.query_one("#recent").focus()
        await pilot.press("enter")
        await settle(app, pilot)
        summary = app.screen
        assert isinstance(summary, SummaryScreen)
        assert summary.check_action("sign", ()) is False


async def test_language_switch_changes_every_word(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    async with app.run_test(size=(100, 30)) as pilot:
        runner = await start_visit(app, pilot)
        assert "p Pass" in key_bar_text(runner)
        await pilot.press("f2")
        await pilot.pause()
        assert app.lang == "zh"
        assert "p 通过" in key_bar_text(runner)
        assert "f1 帮助" in key_bar_text(runner)
        title = runner.query_one("#detail-title", Static)
        assert str(title.content) == "芯片卡加密码消费"
        await settle(app, pilot)
        assert app.services.settings.language == "zh"
        assert (tmp_path / "settings.json").read_text("utf-8").count('"language":"zh"') == 1


async def test_the_summary_writes_a_printable_report(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path, session: Session
) -> None:
    save_answer(store, session, "card", "void", Outcome.FAIL, note="撤销后小票未打印")
    app = technician_app(store, checklists, tmp_path, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.app.push_screen(RunnerScreen(store.load(session.uuid)))
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        [report] = (store.folder / "reports").glob("*.html")
        html = report.read_text("utf-8")
        assert "上海老王面馆" in html and "撤销后小票未打印" in html
        assert report.name.startswith("acceptance-20240001-")


async def test_sync_from_home_and_a_visit_sent_back_with_issues(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path, session: Session
) -> None:
    from pos_tui.store.shared import SharedStore

    bank = open_bank(tmp_path, reviewer_name="李主管")
    laptop_key = bank.trust_laptop(store.folder)
    shared = bank.shared
    save_answer(store, session, "card", "void", Outcome.PASS)
    save_sign(store, session, "张伟", "王老板", signer=laptop_key)
    settings = Settings(technician="张伟", device_id="laptop-1", shared_store=str(shared))
    services = Services(store, checklists, settings, settings_path=tmp_path / "settings.json")
    app = make_app(services, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        [row] = SharedStore.open(shared).rows()
        assert row["uuid"] == session.uuid

        review = bank.review_services()
        review.rows().result()
        review.decide(session.uuid, "has_issues", "请补拍小票").result()
        review.close()
        await pilot.press("y")
        await settle(app, pilot)
        table = app.screen.query_one("#recent", DataTable)
        assert str(table.get_row_at(0)[-1]) == "Has issues"
        table.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SummaryScreen)
        signoff = str(app.screen.query_one("#summary-signoff", Static).content)
        assert "Reviewed by 李主管: Has issues. Comment: 请补拍小票" in signoff
