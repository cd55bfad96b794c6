"""Review of corrections, below the screens: decisions that name items (signed, verified,
refused for an item the visit does not have), every revision of a visit read from the
shared store with its own integrity, review states that count per record, and follow-ups
grouped with their visit.

Every store is real: a bank made with `shared init`, a trusted laptop whose key signs each
revision, the sync as the technician runs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.decisions import (
    FORGED,
    VALID,
    check_log,
    decision_items,
    record_sha256,
    signed_part,
)
from pos_tui.domain.integrity import VERIFIED
from pos_tui.domain.review import decision_request
from pos_tui.domain.review_filter import (
    APPROVED,
    HAS_ISSUES,
    UNREVIEWED,
    Filter,
    filter_rows,
    record_states,
    review_rows,
    sort_rows,
)
from pos_tui.domain.session import Session, VisitError
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import SharedStore
from pos_tui.store.sources import SharedSource, VisitRecord
from pos_tui.store.sync import sync
from tests.helpers.bank import Bank, open_bank
from tests.helpers.visits import save_answer, save_sign

VOID = ("card", "void")
TAP = ("card", "shield")
MASKED = ("receipt", "masked")
REASON = "撤销交易现场重做后通过 / void redone on site and passed"


@dataclass
class Loop:
    """A visit sent back with items named, amended and synced again."""

    bank: Bank
    data: Path
    uuid: str
    first_decision: dict[str, object]


def signed_visit(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], data: Path
) -> Session:
    key = ensure_key(data, DEVICE)[0]
    session = Session.start(info, checklists)
    store.create(session)
    save_answer(store, session, *TAP, "pass")
    save_answer(store, session, *VOID, "fail", "撤销失败 / the void was declined")
    save_answer(store, session, *MASKED, "pass")
    save_sign(store, session, "张伟", "王老板", signer=key)
    return session


def amend_and_sync(bank: Bank, data: Path, uuid: str) -> Session:
    """The technician amends the visit (the void now passes), signs again and syncs."""
    key = ensure_key(data, DEVICE)[0]
    with LocalStore.open(data) as store:
        session = store.load(uuid)
        session.amend("张伟", REASON)
        store.save(session)
        save_answer(store, session, *VOID, "pass", "重做成功 / redone")
        save_sign(store, session, "张伟", "王老板", signer=key)
        report = sync(store, bank.shared)
        assert report.pushed.added == [uuid], report
    return session


def sent_back(root: Path, info: VisitInfo, checklists: list[Checklist]) -> Loop:
    """Signed, synced, sent back naming the failed void and the receipt; synced again."""
    bank = open_bank(root)
    data = root / "laptop"
    bank.trust_laptop(data)
    with LocalStore.open(data) as store:
        session = signed_visit(store, info, checklists, data)
        sync(store, bank.shared)
    services = bank.review_services()
    try:
        services.rows().result()
        decision = services.decide(
            session.uuid, HAS_ISSUES, "请重做撤销 / redo the void", [VOID, MASKED]
        ).result()
    finally:
        services.close()
    with LocalStore.open(data) as store:
        assert sync(store, bank.shared).reviews_applied == 1
    return Loop(bank, data, session.uuid, decision)


@pytest.fixture
def loop(tmp_path: Path, info: VisitInfo, checklists: list[Checklist]) -> Loop:
    return sent_back(tmp_path, info, checklists)


# -- decisions that name items ---------------------------------------------------------


def test_a_decision_without_items_keeps_the_bytes_decisions_had() -> None:
    request = decision_request("u", HAS_ISSUES, "补拍", "王主管")
    assert "items" not in request.to_dict()
    row = request.to_dict() | {"id": "1", "at": "t", "prev": "", "record_sha256": "r"}
    assert "items" not in signed_part(row)


def test_a_decision_names_items_once_each_in_the_order_given() -> None:
    request = decision_request(
        "u", HAS_ISSUES, "重做", "王主管", items=[VOID, MASKED, VOID], visit_items={VOID, MASKED}
    )
    assert request.items == (VOID, MASKED)
    assert request.to_dict()["items"] == [list(VOID), list(MASKED)]


def test_a_decision_naming_an_item_the_visit_does_not_have_is_refused() -> None:
    with pytest.raises(VisitError) as refused:
        decision_request(
            "u", HAS_ISSUES, "重做", "王主管", items=[VOID, ("card", "nfc")], visit_items={VOID}
        )
    assert "card/nfc" in str(refused.value.text.en)
    assert "card/nfc" in refused.value.text.zh


def test_the_items_are_signed_and_verified(loop: Loop) -> None:
    shared = SharedStore.open(loop.bank.shared)
    source = SharedSource(loop.bank.shared, loop.bank.reviewer)
    [checked] = check_log(shared.reviews(), source.keyring)
    assert checked.state == VALID
    assert decision_items(checked.row) == (VOID, MASKED)
    assert checked.row["items"] == [list(VOID), list(MASKED)]


def _rewrite_reviews(shared: Path, change: object) -> None:
    """Each decision file of the store's log, rewritten by hand (`store/decision_log.py`)."""
    for path in sorted((shared / "decisions").glob("*/*.json")):
        row = json.loads(path.read_text(encoding="utf-8"))
        change(row)  # type: ignore[operator]
        path.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")


def test_items_changed_after_signing_make_the_decision_forged(loop: Loop) -> None:
    _rewrite_reviews(loop.bank.shared, lambda row: row.update(items=[list(TAP)]))
    source = SharedSource(loop.bank.shared, loop.bank.reviewer)
    [checked] = check_log(SharedStore.open(loop.bank.shared).reviews(), source.keyring)
    assert checked.state == FORGED


def test_items_added_to_a_decision_signed_without_any_make_it_forged(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    bank = open_bank(tmp_path)
    data = tmp_path / "laptop"
    bank.trust_laptop(data)
    with LocalStore.open(data) as store:
        session = signed_visit(store, info, checklists, data)
        sync(store, bank.shared)
    bank.decide(session.uuid, HAS_ISSUES, "重做")
    _rewrite_reviews(bank.shared, lambda row: row.update(items=[list(VOID)]))
    source = SharedSource(bank.shared, bank.reviewer)
    [checked] = check_log(SharedStore.open(bank.shared).reviews(), source.keyring)
    assert checked.state == FORGED


def test_the_review_service_refuses_an_item_not_in_the_visit(loop: Loop) -> None:
    services = loop.bank.review_services()
    try:
        services.rows().result()
        future = services.decide(loop.uuid, HAS_ISSUES, "重做", [("card", "no-such-item")])
        with pytest.raises(VisitError):
            future.result()
    finally:
        services.close()
    assert len(SharedStore.open(loop.bank.shared).reviews()) == 1  # nothing written


# -- revisions -------------------------------------------------------------------------


def test_every_revision_is_read_oldest_first_each_verified(loop: Loop) -> None:
    amended = amend_and_sync(loop.bank, loop.data, loop.uuid)
    source = SharedSource(loop.bank.shared, loop.bank.reviewer)
    found = source.revisions(loop.uuid)
    assert len(found) == 2
    first, second = found
    assert isinstance(first, VisitRecord) and isinstance(second, VisitRecord)
    assert first.row.get("superseded") and not second.row.get("superseded")
    assert first.integrity.state == VERIFIED and second.integrity.state == VERIFIED
    assert first.session.corrects is None
    assert second.session.corrects is not None
    assert second.session.corrects.content_sha256 == first.session.content_sha256
    assert second.session.corrects.reason == REASON
    assert second.record_sha256 == record_sha256(amended)
    # The decision that sent it back names the first revision, and only that one.
    assert [d["id"] for d in first.own_decisions] == [loop.first_decision["id"]]
    assert second.own_decisions == []
    # The first revision is never rewritten: its record is the one signed.
    assert first.session.answers[VOID].outcome == "fail"


def test_an_amendment_awaits_its_own_review_and_the_earlier_decision_stays_its_own(
    loop: Loop,
) -> None:
    services = loop.bank.review_services()
    try:
        [row] = services.rows().result()
        assert row.review_state == HAS_ISSUES
        amend_and_sync(loop.bank, loop.data, loop.uuid)
        [row] = services.rows().result()
        assert row.review_state == UNREVIEWED and row.amendment == 1
        assert [r.uuid for r in filter_rows([row], Filter(review_state=UNREVIEWED))] == [row.uuid]
        services.decide(loop.uuid, APPROVED, "已复核 / checked again", key=row.key).result()
        [row] = services.rows().result()
        assert row.review_state == APPROVED
        revisions = services.revisions(loop.uuid).result()
        states = [[d["decision"] for d in r.own_decisions] for r in revisions]  # type: ignore[union-attr]
        assert states == [[HAS_ISSUES], [APPROVED]]
    finally:
        services.close()


# -- pure rules ------------------------------------------------------------------------


def test_record_states_count_only_decisions_naming_the_record() -> None:
    decisions = [
        {"uuid": "v", "record_sha256": "one", "decision": HAS_ISSUES, "at": "1"},
        {"uuid": "v", "record_sha256": "two", "decision": APPROVED, "at": "3"},
        {"uuid": "w", "record_sha256": "x", "decision": APPROVED, "at": "2"},
    ]
    found = record_states(decisions, {"v/a": ("v", "one"), "v/b": ("v", "three")})
    assert found == {"v/a": HAS_ISSUES, "v/b": UNREVIEWED}


def _row(uuid: str, at: str, of: str = "", failures: int = 0) -> dict[str, object]:
    return {
        "uuid": uuid,
        "updated_at": at,
        "merchant_name": uuid,
        "record_hash": uuid,
        "failures": failures,
        "follow_up_of": of,
    }


def test_follow_ups_come_right_under_their_visit_whatever_the_order() -> None:
    rows = review_rows(
        [
            _row("a", "2026-03-01", failures=1),
            _row("b", "2026-03-05"),
            _row("a2", "2026-03-04", of="a"),
            _row("a3", "2026-03-06", of="a"),
            _row("a2x", "2026-03-07", of="a2"),
            _row("z", "2026-03-08", of="gone"),
        ],
        {},
    )
    for by in ("date", "attention", "merchant", "failures"):
        order = [r.uuid for r in sort_rows(rows, by)]
        at = order.index("a")
        assert order[at : at + 4] == ["a", "a2", "a2x", "a3"], (by, order)
        assert sorted(order) == sorted(r.uuid for r in rows)
    grouped = filter_rows(sort_rows(rows), Filter(follow_ups=True))
    assert {r.uuid for r in grouped} == {"a", "a2", "a3", "a2x", "z"}
    searched = filter_rows(sort_rows(rows), Filter(text="a"))
    assert {"a2", "a3"} <= {r.uuid for r in searched}
