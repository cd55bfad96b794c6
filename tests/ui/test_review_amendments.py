"""The supervisor's side of corrections, on the real app over a bank's shared store: a
visit sent back with items named in the dialog, amended on the laptop, synced, shown as
awaiting review again, its revisions and their diff, approved; a follow-up listed under its
visit and linked both ways.

Nothing is mocked: the laptop's key signs each revision, the sync is the technician's.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import SelectionList

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.review_filter import APPROVED, HAS_ISSUES, UNREVIEWED
from pos_tui.domain.session import Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import SharedStore
from pos_tui.store.sync import sync
from pos_tui.ui.app import PosApp, make_app
from pos_tui.ui.screens.review_decision import ReviewDecisionScreen
from pos_tui.ui.screens.review_detail import ReviewDetailScreen
from pos_tui.ui.screens.review_list import ReviewListScreen
from pos_tui.ui.screens.revision_diff import RevisionDiffScreen
from tests.helpers.bank import Bank, open_bank
from tests.helpers.ui import settle
from tests.helpers.ui import static_text as text_of
from tests.helpers.visits import save_answer, save_sign
from tests.unit.test_review_corrections import MASKED, REASON, VOID, amend_and_sync, signed_visit


def listed_screen(app: PosApp) -> ReviewListScreen:
    screen = app.screen
    assert isinstance(screen, ReviewListScreen) and screen.loaded
    return screen


async def open_row(app: PosApp, pilot: Pilot[None], uuid: str) -> ReviewDetailScreen:
    screen = listed_screen(app)
    [row] = [r for r in screen.rows if r.uuid == uuid]
    detail = ReviewDetailScreen(row, screen.decided, screen.rows)
    await app.push_screen(detail)
    await settle(app, pilot)
    await settle(app, pilot)  # the revisions come behind the record
    assert detail.record is not None
    return detail


async def reload(app: PosApp, pilot: Pilot[None]) -> ReviewListScreen:
    await pilot.press("f5")
    await settle(app, pilot)
    return listed_screen(app)


def bank_with_visit(
    root: Path, info: VisitInfo, checklists: list[Checklist]
) -> tuple[Bank, Path, Session]:
    bank = open_bank(root)
    data = root / "laptop"
    bank.trust_laptop(data)
    with LocalStore.open(data) as store:
        session = signed_visit(store, info, checklists, data)
        sync(store, bank.shared)
    return bank, data, session


async def test_sent_back_with_items_amended_synced_and_reviewed_again(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    bank, data, session = bank_with_visit(tmp_path, info, checklists)
    services = bank.review_services()
    app = make_app(None, "en", review=services)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        detail = await open_row(app, pilot, session.uuid)

        # Sent back: the failed void is marked already; the receipt item marked too.
        await pilot.press("i")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ReviewDecisionScreen)
        assert dialog.chosen_items == [VOID]
        items = dialog.query_one("#decision-items", SelectionList)
        items.select(dialog._keys.index(MASKED))
        await pilot.click("#decision-comment")
        await pilot.press(*"redo the void", "enter")
        await settle(app, pilot)
        assert app.screen is detail
        [decision] = SharedStore.open(bank.shared).reviews()
        assert decision["items"] == [list(VOID), list(MASKED)]
        said = text_of(detail, "#detail-meta", width=160)
        assert "Items named" in said
        assert "Same-day void, Card number masked on the receipt" in said
        assert "[Same-day void, Card number masked on the receipt]" in text_of(
            detail, "#detail-timeline", width=200
        )
        await pilot.press("escape")
        await settle(app, pilot)

        # The laptop takes the decision, amends the visit and syncs the new revision.
        with LocalStore.open(data) as store:
            assert sync(store, bank.shared).reviews_applied == 1
        amend_and_sync(bank, data, session.uuid)

        screen = await reload(app, pilot)
        [row] = [r for r in screen.rows if r.uuid == session.uuid]
        assert row.review_state == UNREVIEWED and row.amendment == 1
        # Unreviewed first: the amendment is at the top of the list again.
        assert screen.matches[0] is row
        assert "Unreviewed | amended 1" in str(screen._review_cell(row, "en").text)

        detail = await open_row(app, pilot, session.uuid)
        assert len(detail.revisions) == 2
        history = text_of(detail, "#detail-history", width=200)
        assert "Revisions (2; d compares them)" in text_of(detail, "#detail-history-title")
        assert history.count("Verified") == 2, history
        assert "rev. 1" in history and "rev. 2 (this)" in history
        assert "Has issues by 王主管" in history and "redo the void" in history
        assert "awaiting review" in history
        assert f"Amendment 1: {REASON}" in history
        # The review state is this record's: the send-back stays in the history.
        assert "Unreviewed" in text_of(detail, "#detail-meta", width=160)

        # The diff: the latest against the one it corrects.
        await pilot.press("d")
        await settle(app, pilot)
        diff = app.screen
        assert isinstance(diff, RevisionDiffScreen)
        assert (diff.before, diff.after) == (0, 1)
        table = text_of(diff, "#diff-table", width=200)
        assert "Same-day void" in table and "Fail" in table and "Pass" in table
        assert "the void was declined" in table and "redone" in table
        assert "Amendment 1 (" in text_of(diff, "#diff-reasons", width=200)
        assert REASON in text_of(diff, "#diff-reasons", width=200)
        assert "From rev. 1 to rev. 2" in text_of(diff, "#diff-count", width=200)
        # The same revision against itself: nothing differs.
        diff.query_one("#diff-from").value = 1  # type: ignore[attr-defined]
        await settle(app, pilot)
        assert diff.changes == 0
        await pilot.press("escape")
        await settle(app, pilot)

        # Approved again: the decision names the new record, the old one keeps its own.
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewDecisionScreen)
        assert app.screen.chosen_items == []  # nothing failed any more, nothing marked
        await pilot.press("enter")
        await settle(app, pilot)
        await settle(app, pilot)
        assert row.review_state == APPROVED
        history = text_of(detail, "#detail-history", width=200)
        assert "Has issues by 王主管" in history and "Approved by 王主管" in history
        assert "awaiting review" not in history
        await pilot.press("escape")
        await settle(app, pilot)
        screen = await reload(app, pilot)
        [row] = [r for r in screen.rows if r.uuid == session.uuid]
        assert row.review_state == APPROVED
    reviews = SharedStore.open(bank.shared).reviews()
    assert [r["decision"] for r in reviews] == [HAS_ISSUES, APPROVED]
    assert reviews[0]["record_sha256"] != reviews[1]["record_sha256"]


async def test_a_follow_up_is_listed_under_its_visit_and_linked_both_ways(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    bank, data, session = bank_with_visit(tmp_path, info, checklists)
    # Another visit, newer: without grouping it would come between the two.
    with LocalStore.open(data) as store:
        other = signed_visit(store, info, checklists, data)
        key = ensure_key(data, DEVICE)[0]
        follow = Session.start_follow_up(store.load(session.uuid), "李强", "laptop-1", [MASKED])
        store.create(follow)
        save_answer(store, follow, *VOID, "pass", "复查通过 / passed on the follow-up")
        save_answer(store, follow, *MASKED, "pass")
        save_sign(store, follow, "李强", "王老板", signer=key)
        sync(store, bank.shared)
    app = make_app(None, "en", review=bank.review_services())
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        screen = listed_screen(app)
        for by in ("date", "merchant"):
            screen.sort(by)
            order = [r.uuid for r in screen.matches]
            at = order.index(session.uuid)
            assert order[at + 1] == follow.uuid, by
            assert other.uuid in order
        [row] = [r for r in screen.rows if r.uuid == follow.uuid]
        assert str(screen._cells(row, "en")[1].text).startswith("↳ ")
        # o keeps the groups only.
        await pilot.press("o")
        await settle(app, pilot)
        assert {r.uuid for r in screen.matches} == {session.uuid, follow.uuid}
        await pilot.press("o")
        await settle(app, pilot)
        assert len(screen.matches) == 3

        detail = await open_row(app, pilot, follow.uuid)
        links = text_of(detail, "#detail-links", width=200)
        assert "This visit follows up 上海老王面馆" in links and session.uuid[:8] in links
        assert "re-running 2 item(s): Same-day void, Card number masked on the receipt" in links
        await pilot.press("l")
        await settle(app, pilot)
        await settle(app, pilot)
        original = app.screen
        assert isinstance(original, ReviewDetailScreen) and original.row.uuid == session.uuid
        links = text_of(original, "#detail-links", width=200)
        assert "Followed up by: 上海老王面馆" in links and follow.uuid[:8] in links
        await pilot.press("l")
        await settle(app, pilot)
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewDetailScreen)
        assert app.screen.row.uuid == follow.uuid
