"""Corrections at the core: discarding a draft, amending a signed visit, following one up,
and what changed between two revisions. Real stores on disk, real Ed25519 keys."""

from __future__ import annotations

import pytest

from pos_tui.domain.integrity import (
    ALTERED,
    AMENDING,
    CORRECTION_BROKEN,
    INTACT,
    UNSIGNED,
    integrity,
)
from pos_tui.domain.revisions import EVIDENCE_ADDED, NOTE, OUTCOME, VALUE, differences
from pos_tui.domain.session import Outcome, Session, Status, VisitError
from pos_tui.store.local import LocalStore
from tests.helpers.photos import jpeg
from tests.helpers.visits import (
    CHIP_PIN_VALUES,
    laptop_key,
    save_answer,
    save_attach,
    save_sign,
    signed_with_a_failure,
)

# -- discarding ----------------------------------------------------------------------


def test_a_draft_is_discarded_with_its_reason_and_can_no_longer_change(
    store: LocalStore, session: Session
) -> None:
    with pytest.raises(VisitError, match="needs a reason"):
        session.discard("张伟", "  ")
    session.discard("张伟", "商户取消装机")
    store.save(session)
    again = store.load(session.uuid)
    assert again.status is Status.DISCARDED
    assert again.events[-1].what == "discarded"
    assert again.events[-1].detail == {"reason": "商户取消装机"}
    with pytest.raises(VisitError, match="discarded"):
        again.record("card", "chip-pin", Outcome.PASS)
    with pytest.raises(VisitError, match="cannot be synced"):
        again.mark(Status.SYNCED, "sync")
    assert store.drafts() == []


def test_a_signed_visit_cannot_be_discarded_only_amended(
    store: LocalStore, session: Session
) -> None:
    signed_with_a_failure(store, session)
    with pytest.raises(VisitError, match="cannot be discarded, only amended") as refused:
        session.discard("张伟", "填错了")
    assert refused.value.text.zh == "已签署的访问不能丢弃，只能更正"


# -- amending ------------------------------------------------------------------------


def test_an_amendment_names_the_revision_it_corrects_and_is_signed_again(
    store: LocalStore, session: Session
) -> None:
    signed_with_a_failure(store, session)
    first_hash, first_signature = session.content_sha256, session.signature
    with pytest.raises(VisitError, match="amend it first"):
        session.record("card", "chip-pin", Outcome.PASS)
    with pytest.raises(VisitError, match="needs its reason"):
        session.amend("张伟", "")
    correction = session.amend("张伟", "复测通过：银行卡芯片脏污，清洁后重试")
    assert correction.content_sha256 == first_hash and correction.number == 1
    assert session.editable and session.amending
    assert integrity(session).reasons == (AMENDING,)
    assert integrity(session).state == UNSIGNED
    save_answer(store, session, "card", "chip-pin", Outcome.PASS, "", CHIP_PIN_VALUES)
    # The outcome changed: what the merchant accepted changed, so they sign again.
    assert session.merchant_must_sign
    with pytest.raises(VisitError, match="both the technician and the merchant"):
        session.sign("张伟", "", signer=laptop_key(store))
    save_sign(store, session, "张伟", "王老板", signer=laptop_key(store))
    assert session.content()["corrects"]["content_sha256"] == first_hash
    assert session.content_sha256 != first_hash
    assert session.signature is not None and session.signature != first_signature
    assert integrity(store.load(session.uuid)).state == INTACT
    answered = [e for e in session.events if e.what == "answered"][-1]
    assert answered.detail["amendment"] == 1
    assert answered.detail["why"] == "复测通过：银行卡芯片脏污，清洁后重试"


def test_a_note_corrected_alone_needs_only_the_technician_to_sign_again(
    store: LocalStore, session: Session
) -> None:
    signed_with_a_failure(store, session)
    session.amend("张伟", "备注写错了")
    save_answer(store, session, "card", "chip-pin", Outcome.FAIL, "拒绝交易 51：余额不足")
    assert not session.merchant_must_sign
    save_sign(store, session, "张伟", "", signer=laptop_key(store))
    assert session.signoff is not None
    assert (session.signoff.merchant_representative, session.signoff.carried) == ("王老板", True)
    assert integrity(store.load(session.uuid)).state == INTACT


def test_a_second_amendment_chains_to_the_first(store: LocalStore, session: Session) -> None:
    signed_with_a_failure(store, session)
    session.amend("张伟", "第一次更正")
    save_answer(store, session, "card", "chip-pin", Outcome.FAIL, "拒绝交易 51")
    save_sign(store, session, "张伟", "", signer=laptop_key(store))
    second = session.content_sha256
    session.amend("张伟", "第二次更正")
    save_answer(store, session, "card", "chip-pin", Outcome.FAIL, "拒绝交易 55")
    save_sign(store, session, "张伟", "", signer=laptop_key(store))
    assert session.corrects is not None
    assert (session.corrects.number, session.corrects.content_sha256) == (2, second)
    assert integrity(store.load(session.uuid)).state == INTACT


def test_an_amended_record_stripped_of_its_link_is_altered(
    store: LocalStore, session: Session
) -> None:
    signed_with_a_failure(store, session)
    session.amend("张伟", "更正")
    save_answer(store, session, "card", "chip-pin", Outcome.PASS, "", CHIP_PIN_VALUES)
    save_sign(store, session, "张伟", "王老板", signer=laptop_key(store))
    forged = store.load(session.uuid)
    forged.corrects = None
    forged.content_sha256 = forged.content_hash()  # the visit's own hash, recomputed
    verdict = integrity(forged)
    assert verdict.state == ALTERED
    assert CORRECTION_BROKEN in verdict.reasons


def test_visit_details_are_corrected_with_old_and_new_but_not_what_decides_the_checks(
    store: LocalStore, session: Session
) -> None:
    signed_with_a_failure(store, session)
    session.amend("张伟", "商户号录入错误")
    changed = session.change_details("张伟", {"merchant_number": "310104000000002"})
    assert changed == {"merchant_number": ("310104000000001", "310104000000002")}
    assert session.events[-1].what == "details_changed"
    with pytest.raises(VisitError, match="start a new visit"):
        session.change_details("张伟", {"capabilities": "chip"})  # type: ignore[dict-item]
    with pytest.raises(VisitError, match="unknown visit details"):
        session.change_details("张伟", {"colour": "red"})
    with pytest.raises(VisitError, match="merchant_number"):
        session.change_details("张伟", {"merchant_number": "12"})
    assert session.merchant_must_sign  # the details are part of what the merchant accepted


def test_the_diff_of_two_revisions_names_every_change(
    store: LocalStore, photo_session: Session
) -> None:
    save_attach(store, photo_session, "site-photos", "storefront", [("a.jpg", jpeg(1))])
    save_answer(store, photo_session, "site-photos", "storefront", Outcome.PASS)
    save_answer(
        store,
        photo_session,
        "card",
        "chip-pin",
        Outcome.PASS,
        "",
        {"reference": "123456789012", "amount": "0.01", "last4": "1234"},
    )
    save_sign(store, photo_session, "张伟", "王老板", signer=laptop_key(store))
    first = store.load(photo_session.uuid)
    photo_session.amend("张伟", "补拍门头、参考号抄错")
    save_attach(store, photo_session, "site-photos", "storefront", [("b.jpg", jpeg(2))])
    save_answer(
        store,
        photo_session,
        "card",
        "chip-pin",
        Outcome.PASS,
        "复核",
        {"reference": "123456789013", "amount": "0.01", "last4": "1234"},
    )
    save_answer(store, photo_session, "receipt", "masked", Outcome.FAIL, "卡号未屏蔽")
    found = {(d.kind, d.where): (d.before, d.after) for d in differences(first, photo_session)}
    assert found[(VALUE, "card/chip-pin/reference")] == ("123456789012", "123456789013")
    assert found[(NOTE, "card/chip-pin")] == ("", "复核")
    assert found[(OUTCOME, "receipt/masked")] == ("", "fail")
    assert found[(EVIDENCE_ADDED, "site-photos/storefront")][1].startswith("b.jpg (")
    assert differences(first, first) == []


# -- following up ------------------------------------------------------------------


def test_a_follow_up_runs_only_the_failed_items_and_those_the_supervisor_named(
    store: LocalStore, session: Session
) -> None:
    signed_with_a_failure(store, session)
    follow = Session.start_follow_up(session, "李娜", "laptop-2", named=[("receipt", "clock")])
    assert follow.follow_up is not None
    assert follow.follow_up.of_uuid == session.uuid
    assert follow.follow_up.of_content_sha256 == session.content_sha256
    runs = [(c.id, i.id) for c, i in follow.all_items() if follow.applies(i)]
    assert runs == [("card", "chip-pin"), ("receipt", "clock")]
    assert follow.info.merchant_number == session.info.merchant_number
    assert follow.info.technician == "李娜"
    assert follow.progress().applicable == 2
    with pytest.raises(VisitError, match="does not apply"):
        follow.record("card", "void", Outcome.PASS)
    follow.record("card", "chip-pin", Outcome.PASS, "", CHIP_PIN_VALUES)
    assert follow.content()["follow_up"]["items"] == [["card", "chip-pin"], ["receipt", "clock"]]


def test_a_visit_with_nothing_failed_and_nothing_named_has_no_follow_up(
    store: LocalStore, session: Session
) -> None:
    save_answer(store, session, "card", "chip-pin", Outcome.PASS, "", CHIP_PIN_VALUES)
    with pytest.raises(VisitError, match="only a signed visit"):
        Session.start_follow_up(session, "李娜")
    save_sign(store, session, "张伟", "王老板")
    with pytest.raises(VisitError, match="no failed or named items"):
        Session.start_follow_up(session, "李娜")
