"""Corrections at the counter (#15), by keys, on real stores: a visit sent back and amended,
a follow-up visit, a draft discarded, a signed visit that cannot be, and an amendment the
technician signs alone."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, OptionList

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session, Status
from pos_tui.services.technician import Services
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.local import LocalStore
from pos_tui.store.sync import pending
from pos_tui.ui.app import PosApp, make_app
from pos_tui.ui.screens.details_edit import DetailsEditScreen
from pos_tui.ui.screens.home import HomeScreen
from pos_tui.ui.screens.note import NoteArea, NoteScreen
from pos_tui.ui.screens.reason import ReasonScreen
from pos_tui.ui.screens.runner import RunnerScreen
from pos_tui.ui.screens.sign_off import SignOffScreen
from pos_tui.ui.screens.summary import SummaryScreen
from tests.helpers.bank import Bank, open_bank
from tests.helpers.ui import key_bar_text, settle, static_text
from tests.helpers.visits import save_answer, save_sign

REASON = "商户反映小票卡号未屏蔽，重新检查"
COMMENT = "小票一项请重测"


def signed_visit(store: LocalStore, session: Session) -> Session:
    """A failed visit signed with the laptop's key: the chip test failed."""
    save_answer(store, session, "card", "chip-pin", Outcome.FAIL, "拒绝交易 05")
    save_answer(store, session, "card", "void", Outcome.PASS)
    save_answer(store, session, "receipt", "masked", Outcome.PASS)
    save_sign(store, session, "张伟", "王老板", signer=ensure_key(store.folder, DEVICE)[0])
    return session


def app_on(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path, shared: Path, lang: str = "en"
) -> PosApp:
    settings = Settings(technician="张伟", device_id="laptop-1", shared_store=str(shared))
    services = Services(store, checklists, settings, settings_path=tmp_path / "settings.json")
    return make_app(services, lang)


def option_texts(screen: object, selector: str) -> list[str]:
    options = screen.query_one(selector, OptionList)  # type: ignore[attr-defined]
    return [str(options.get_option_at_index(n).prompt) for n in range(options.option_count)]


async def sign_off(app: PosApp, pilot: Pilot[None]) -> None:
    """Confirm the open sign-off dialog; these visits leave items open, so it is ticked."""
    signing = app.screen
    assert isinstance(signing, SignOffScreen)
    if signing.incomplete:
        signing.query_one("#signoff-confirm", Checkbox).value = True
    await pilot.press("ctrl+s")
    await settle(app, pilot)


async def give_reason(app: PosApp, pilot: Pilot[None], reason: str) -> None:
    dialog = app.screen
    assert isinstance(dialog, ReasonScreen)
    dialog.query_one("#reason-input", Input).value = reason
    await pilot.press("ctrl+s")
    await settle(app, pilot)


def sent_back(tmp_path: Path, store: LocalStore, session: Session) -> Bank:
    """The visit signed, synced, decided "has issues" by the supervisor (naming the receipt
    item), and the decision brought back to the laptop."""
    from pos_tui.store.sync import sync

    bank = open_bank(tmp_path, reviewer_name="李主管")
    bank.trust_laptop(store.folder)
    signed_visit(store, session)
    sync(store, bank.shared)
    review = bank.review_services()
    try:
        review.rows().result()
        review.decide(session.uuid, "has_issues", COMMENT, items=[("receipt", "masked")]).result()
    finally:
        review.close()
    sync(store, bank.shared)
    return bank


async def open_finished_visit(app: PosApp, pilot: Pilot[None]) -> None:
    """From home, the signed visit at the top of the recent list, opened on its summary."""
    app.screen.query_one("#recent").focus()
    await pilot.press("enter")
    await settle(app, pilot)


async def test_a_visit_sent_back_is_amended_signed_and_synced(
    tmp_path: Path, checklists: list[Checklist], store: LocalStore, session: Session
) -> None:
    from pos_tui.store.shared import SharedStore

    bank = sent_back(tmp_path, store, session)
    first_hash = session.content_sha256
    assert first_hash is not None
    app = app_on(store, checklists, tmp_path, bank.shared)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        # At the top, with the supervisor's comment and the item it names by its title.
        [line] = option_texts(home, "#sent-back")
        assert "Has issues" in line and f"Comment: {COMMENT}" in line
        assert "Items: Card number masked on the receipt" in line
        assert "receipt/masked" not in line
        assert home.focused is home.query_one("#sent-back", OptionList)

        await pilot.press("enter")
        await settle(app, pilot)
        summary = app.screen
        assert isinstance(summary, SummaryScreen)
        assert "Amend" in key_bar_text(summary)
        await pilot.press("e")
        await pilot.pause()
        # A reason is required: the domain's sentence, and the dialog stays.
        await give_reason(app, pilot, "  ")
        assert isinstance(app.screen, ReasonScreen)
        assert "an amendment needs its reason" in static_text(app.screen, "#reason-message")
        await give_reason(app, pilot, REASON)

        runner = app.screen
        assert isinstance(runner, RunnerScreen)
        assert runner.session.amending
        banner = static_text(runner, "#runner-amendment")
        assert banner == (f"Amendment 1: {REASON} — corrects the signed revision {first_hash[:12]}")
        # An outcome changes: what the merchant accepted is no longer what they signed.
        runner.jump_to(("receipt", "masked"))
        await pilot.press("f")
        await pilot.pause()
        note = app.screen
        assert isinstance(note, NoteScreen)
        note.query_one("#note-note", NoteArea).value = "第二联显示完整卡号"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert runner.session.answer("receipt", "masked").outcome is Outcome.FAIL  # type: ignore[union-attr]

        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        assert "Amendment 1:" in static_text(app.screen, "#summary-amendment")
        await pilot.press("ctrl+s")
        await pilot.pause()
        signing = app.screen
        assert isinstance(signing, SignOffScreen)
        assert "the merchant signs again" in static_text(signing, "#signoff-amendment")
        assert signing.query_one("#signoff-rep", Input).value == "王老板"
        await sign_off(app, pilot)
        assert isinstance(app.screen, SummaryScreen)
        amended = app.screen.session
        assert amended.status is Status.SIGNED
        assert amended.corrects is not None and amended.corrects.content_sha256 == first_hash
        assert amended.signoff is not None and not amended.signoff.carried

        # Home: no longer sent back; a sync sends the amendment beside the first revision.
        await pilot.press("escape")
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        assert not app.screen.query_one("#sent-back", OptionList).display
        await pilot.press("y")
        await settle(app, pilot)
        rows = [r for r in SharedStore.open(bank.shared).rows() if r["uuid"] == session.uuid]
        assert len(rows) == 2
        assert not app.screen.query_one("#sent-back", OptionList).display
        assert pending(store, bank.shared) == []


async def test_details_are_corrected_during_an_amendment(
    tmp_path: Path, checklists: list[Checklist], store: LocalStore, session: Session
) -> None:
    signed_visit(store, session)
    app = app_on(store, checklists, tmp_path, tmp_path / "nowhere")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await open_finished_visit(app, pilot)
        assert "Details" not in key_bar_text(app.screen)  # only during an amendment
        await pilot.press("e")
        await pilot.pause()
        await give_reason(app, pilot, "商户号录错一位")
        runner = app.screen
        assert isinstance(runner, RunnerScreen)
        assert "Details" in key_bar_text(runner)
        await pilot.press("i")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, DetailsEditScreen)
        form.query_one("#details-merchant_number", Input).value = "3101040000"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        # Refused by the domain, in its words; the form stays open.
        assert isinstance(app.screen, DetailsEditScreen)
        assert "visit details are wrong" in static_text(app.screen, "#details-message")
        form.query_one("#details-merchant_number", Input).value = "310104000000002"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is runner
        assert runner.session.info.merchant_number == "310104000000002"
        [event] = [e for e in runner.session.events if e.what == "details_changed"]
        assert event.detail["changes"] == {
            "merchant_number": ["310104000000001", "310104000000002"]
        }
        assert event.detail["why"] == "商户号录错一位"
        # A detail is part of what the merchant accepted: they sign again.
        assert runner.session.merchant_must_sign


async def test_an_amendment_of_a_note_only_is_signed_by_the_technician_alone(
    tmp_path: Path, checklists: list[Checklist], store: LocalStore, session: Session
) -> None:
    signed_visit(store, session)
    app = app_on(store, checklists, tmp_path, tmp_path / "nowhere")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await open_finished_visit(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        await give_reason(app, pilot, "补充备注")
        runner = app.screen
        assert isinstance(runner, RunnerScreen)
        runner.jump_to(("card", "void"))
        await pilot.press("enter")
        await pilot.pause()
        note = app.screen
        assert isinstance(note, NoteScreen)
        note.query_one("#note-note", NoteArea).value = "撤销后小票已打印"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not runner.session.merchant_must_sign

        await pilot.press("s")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        signing = app.screen
        assert isinstance(signing, SignOffScreen)
        said = static_text(signing, "#signoff-amendment")
        assert "the technician signs alone" in said and "王老板" in said
        assert not signing.query_one("#signoff-rep-row").display
        await sign_off(app, pilot)
        signed = store.load(session.uuid)
        assert signed.status is Status.SIGNED
        assert signed.signoff is not None
        assert signed.signoff.carried and signed.signoff.merchant_representative == "王老板"


async def test_a_follow_up_visit_runs_only_the_failed_items(
    tmp_path: Path, checklists: list[Checklist], store: LocalStore, session: Session
) -> None:
    signed_visit(store, session)
    app = app_on(store, checklists, tmp_path, tmp_path / "nowhere")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await open_finished_visit(app, pilot)
        assert "Follow-up visit" in key_bar_text(app.screen)
        await pilot.press("v")
        await settle(app, pilot)
        runner = app.screen
        assert isinstance(runner, RunnerScreen)
        follow_up = runner.session
        assert follow_up.uuid != session.uuid
        assert follow_up.follow_up is not None and follow_up.follow_up.of_uuid == session.uuid
        applying = [(c.id, i.id) for c, i in follow_up.all_items() if follow_up.applies(i)]
        assert applying == [("card", "chip-pin")]
        assert runner.current_key == ("card", "chip-pin")
        assert follow_up.info.merchant_number == session.info.merchant_number
        # On disk, a draft of its own; home lists it among the unfinished as a follow-up.
        assert store.load(follow_up.uuid).status is Status.DRAFT
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        [line] = option_texts(app.screen, "#drafts")
        assert "follow-up" in line


async def test_a_draft_is_discarded_with_a_reason_and_never_syncs(
    tmp_path: Path, checklists: list[Checklist], store: LocalStore, session: Session
) -> None:
    bank = open_bank(tmp_path)
    bank.trust_laptop(store.folder)
    save_answer(store, session, "card", "void", Outcome.PASS)
    app = app_on(store, checklists, tmp_path, bank.shared)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        assert home.focused is home.query_one("#drafts", OptionList)
        assert "Discard" in key_bar_text(home)
        await pilot.press("d")
        await settle(app, pilot)
        await give_reason(app, pilot, "")
        assert "discarding a draft needs a reason" in static_text(app.screen, "#reason-message")
        await give_reason(app, pilot, "商户取消装机")
        assert app.screen is home
        assert option_texts(home, "#drafts") == ["No unfinished visits. Press N to start one."]
        assert home.query_one("#recent").row_count == 0  # type: ignore[attr-defined]
    discarded = store.load(session.uuid)
    assert discarded.status is Status.DISCARDED
    assert discarded.events[-1].detail == {"reason": "商户取消装机"}
    assert pending(store, bank.shared) == []


async def test_a_signed_visit_cannot_be_discarded(
    tmp_path: Path, checklists: list[Checklist], store: LocalStore, session: Session
) -> None:
    signed_visit(store, session)
    app = app_on(store, checklists, tmp_path, tmp_path / "nowhere")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#recent").focus()
        await pilot.pause()
        await pilot.press("d")
        await settle(app, pilot)
        # No reason is asked for: the domain's sentence says why not at once.
        assert isinstance(app.screen, HomeScreen)
        said = [n.message for n in app._notifications]
        assert "a signed visit cannot be discarded, only amended" in said
    assert store.load(session.uuid).status is Status.SIGNED


async def test_an_amendment_under_way_shows_among_the_unfinished_with_its_reason(
    tmp_path: Path, checklists: list[Checklist], store: LocalStore, session: Session
) -> None:
    signed_visit(store, session)
    session.amend("张伟", REASON)
    store.save(session)
    app = app_on(store, checklists, tmp_path, tmp_path / "nowhere", "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        [line] = option_texts(app.screen, "#drafts")
        assert f"更正中（1）：{REASON}" in line
        await pilot.press("enter")
        await settle(app, pilot)
        runner = app.screen
        assert isinstance(runner, RunnerScreen)
        banner = static_text(runner, "#runner-amendment")
        assert banner.startswith(f"更正 1：{REASON}")
