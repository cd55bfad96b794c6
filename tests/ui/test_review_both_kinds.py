"""The supervisor's review on either kind of shared store, driven by keys on the real app:
the list, a decision signed in the detail, and the laptop's next sync bringing it back.

The same test runs against a folder and against PostgreSQL (`shared_kind`); the app is
given `start_review(target, data_folder)`, as `pos-tui review --store` gives it (on
PostgreSQL: the first page read by a child process, the store opened after it).
"""

from __future__ import annotations

from pathlib import Path

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.decisions import check_log
from pos_tui.domain.session import Outcome, Session, Status
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.services.review_start import start_review
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import SharedSource
from pos_tui.store.sync import sync
from pos_tui.store.targets import Target
from pos_tui.ui.app import make_app
from pos_tui.ui.screens.review_decision import ReviewDecisionScreen
from pos_tui.ui.screens.review_detail import ReviewDetailScreen
from pos_tui.ui.screens.review_list import ReviewListScreen
from pos_tui.ui.widgets.review_table import ReviewTable
from tests.helpers.bank import open_bank
from tests.helpers.kinds import reviews
from tests.helpers.ui import settle
from tests.helpers.ui import static_text as text_of
from tests.helpers.visits import save_answer, save_sign


async def test_the_list_a_signed_decision_and_the_laptop_brings_it_back(
    tmp_path: Path,
    shared_target: Target,
    store: LocalStore,
    info: VisitInfo,
    checklists: list[Checklist],
) -> None:
    bank = open_bank(tmp_path, reviewer_name="李主管", shared=shared_target)
    key = bank.trust_laptop(store.folder)
    made = []
    for note in ("撤销后没有打印小票", "打印机缺纸", "签购单模糊"):
        session = Session.start(info, checklists)
        store.create(session)
        save_answer(store, session, "card", "void", Outcome.FAIL, note)
        save_answer(store, session, "receipt", "masked", Outcome.PASS)
        save_sign(store, session, "张伟", "王老板", signer=key)
        made.append(session)
    sync(store, shared_target)

    services = start_review(shared_target, bank.reviewer)
    app = make_app(None, "en", review=services)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReviewListScreen) and screen.loaded
        assert {row.uuid for row in screen.rows} == {s.uuid for s in made}
        assert text_of(screen, "#review-count").startswith("3 of 3 visits")
        screen.query_one("#review-table", ReviewTable).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewDetailScreen)
        chosen = app.screen.row.uuid  # the row under the cursor: the list's first
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ReviewDecisionScreen)
        await pilot.press(*"请补拍小票", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewDetailScreen)
        assert "Has issues: 请补拍小票" in text_of(app.screen, "#detail-timeline")
        await pilot.press("escape")
        await pilot.pause()
        assert next(r.review_state for r in screen.rows if r.uuid == chosen) == "has_issues"

    [decision] = reviews(shared_target)
    assert (decision["uuid"], decision["decision"], decision["reviewer"]) == (
        chosen,
        "has_issues",
        "李主管",
    )
    # Signed by the trusted reviewer's key: it counts wherever it is read.
    source = SharedSource(shared_target, tmp_path / "head-office")
    try:
        [checked] = check_log([decision], source.keyring)
        assert checked.counts, checked.reasons
    finally:
        source.close()
    report = sync(store, shared_target)
    assert (report.reviews_applied, report.forged_decisions) == (1, 0)
    [summary] = [s for s in store.summaries() if s.uuid == chosen]
    assert summary.status == Status.REVIEWED
    event = store.load(chosen).events[-1]
    assert (event.who, event.detail["comment"]) == ("李主管", "请补拍小票")
