"""The one integrity rule (`pos_tui.domain.integrity`), on sessions rebuilt as a store would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pos_tui.domain import integrity as rule
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.integrity import Integrity, integrity, unreadable
from pos_tui.domain.keyring import TECHNICIAN, TRUST, KeyEntry, Keyring
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.signatures import Signer
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.keys import DEVICE, KeyFile, ensure_key


def signed(info: VisitInfo, checklists: list[Checklist], signer: Signer | None) -> Session:
    session = Session.start(info, checklists)
    session.record("card", "void", Outcome.FAIL, note="撤销后没有打印小票")
    session.record("receipt", "masked", Outcome.PASS)
    session.sign("张伟", "王老板", signer=signer)
    return session


def stored(session: Session) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The visit and its events as JSON, the way a store file holds them."""
    visit = json.loads(json.dumps(session.to_dict(), ensure_ascii=False))
    return visit, [event.to_dict() for event in session.events]


def rebuilt(session: Session, visit: dict[str, Any], events: list[dict[str, Any]]) -> Session:
    return Session.from_dict(visit, session.checklists, events)


def index_row(session: Session, **changes: Any) -> dict[str, Any]:
    """What the shared index recorded at sync: the hash the laptop signed."""
    return {"uuid": session.uuid, "content_sha256": session.content_sha256, "conflict": False} | (
        changes
    )


def pass_the_failed_answer(visit: dict[str, Any]) -> None:
    [answer] = [a for a in visit["answers"] if a["item_id"] == "void"]
    answer["outcome"], answer["note"] = "pass", ""


@pytest.fixture
def laptop(tmp_path: Path) -> KeyFile:
    return ensure_key(tmp_path / "laptop", DEVICE)[0]


@pytest.fixture
def visit(info: VisitInfo, checklists: list[Checklist], laptop: KeyFile) -> Session:
    return signed(info, checklists, laptop)


def test_a_draft_is_unsigned_and_not_trusted(info: VisitInfo, checklists: list[Checklist]) -> None:
    draft = Session.start(info, checklists)
    draft.record("card", "void", Outcome.FAIL, note="没有小票")
    found = integrity(draft)
    assert found == Integrity("unsigned", ("not_signed",))
    assert not found.trusted and found.problem and found.warnings == ("unsigned",)


def test_a_signed_record_as_it_was_signed_is_intact(visit: Session) -> None:
    row = index_row(visit)
    visit_data, events = stored(visit)
    for session in (visit, rebuilt(visit, visit_data, events)):
        for given in (None, row):
            found = integrity(session, given)
            assert found == Integrity("intact")
            assert found.trusted and not found.problem and found.warnings == ()


def test_changing_an_answer_alone_is_caught_by_every_hash(visit: Session) -> None:
    visit_data, events = stored(visit)
    pass_the_failed_answer(visit_data)
    found = integrity(rebuilt(visit, visit_data, events), index_row(visit))
    assert found.state == "altered"
    assert found.reasons == (
        "content_changed",
        "index_differs",
        "signed_event_differs",
        "signature_fails",
    )


def test_recomputing_the_visits_own_hash_is_not_enough(visit: Session) -> None:
    """The case that once had the review screen and the printed report disagree."""
    visit_data, events = stored(visit)
    pass_the_failed_answer(visit_data)
    tampered = rebuilt(visit, visit_data, events)
    visit_data["content_sha256"] = tampered.content_hash()
    tampered = rebuilt(visit, visit_data, events)
    assert not tampered.altered  # the old, visit-only check is fooled
    found = integrity(tampered, index_row(visit))
    assert found.state == "altered"
    assert found.reasons == ("index_differs", "signed_event_differs", "signature_fails")
    # No row: still caught.
    assert integrity(tampered).reasons == ("signed_event_differs", "signature_fails")


def test_rewriting_every_hash_is_caught_by_the_signature(visit: Session) -> None:
    """The limit of hashes: all three rewritten agree; the laptop's signature does not."""
    visit_data, events = stored(visit)
    pass_the_failed_answer(visit_data)
    forged = rebuilt(visit, visit_data, events).content_hash()
    visit_data["content_sha256"] = forged
    for event in events:
        if event["what"] == "signed":
            event["detail"]["content_sha256"] = forged
    found = integrity(rebuilt(visit, visit_data, events), index_row(visit, content_sha256=forged))
    assert found == Integrity("altered", ("signature_fails",))


def test_a_record_signed_before_keys_existed_is_unsigned_not_trusted(
    info: VisitInfo, checklists: list[Checklist]
) -> None:
    legacy = signed(info, checklists, signer=None)
    found = integrity(legacy, index_row(legacy))
    assert found == Integrity("unsigned", ("no_signature",))
    assert not found.trusted


def test_removing_the_hashes_does_not_make_a_signed_record_a_draft(visit: Session) -> None:
    visit_data, events = stored(visit)
    visit_data["content_sha256"] = None
    found = integrity(rebuilt(visit, visit_data, events), index_row(visit, content_sha256=None))
    assert found.state == "altered"
    assert found.reasons == ("hash_missing", "index_hash_missing")


def test_a_signed_record_without_its_signing_event_is_altered(visit: Session) -> None:
    visit_data, events = stored(visit)
    events = [event for event in events if event["what"] != "signed"]
    found = integrity(rebuilt(visit, visit_data, events), index_row(visit))
    assert found == Integrity("altered", ("signed_event_missing",))


def test_a_record_stripped_to_look_like_a_draft_is_still_not_trusted(visit: Session) -> None:
    visit_data, events = stored(visit)
    visit_data |= {"status": "draft", "signoff": None, "content_sha256": None}
    events = [event for event in events if event["what"] != "signed"]
    # The signature left behind betrays it.
    found = integrity(rebuilt(visit, visit_data, events), index_row(visit, content_sha256=None))
    assert found.state == "altered" and "signature_fails" in found.reasons
    visit_data["signature"] = None
    found = integrity(rebuilt(visit, visit_data, events), index_row(visit, content_sha256=None))
    assert found.state == "unsigned" and not found.trusted
    # Only the index row's hash left: the record was signed, and now cannot be.
    found = integrity(rebuilt(visit, visit_data, events), index_row(visit))
    assert found.state == "altered" and "hash_missing" in found.reasons


def test_a_conflict_is_a_problem_beside_the_state(visit: Session) -> None:
    found = integrity(visit, index_row(visit, conflict=True))
    assert found == Integrity("intact", (), conflict=True)
    assert found.trusted and found.problem and found.warnings == ("conflict",)
    altered = Integrity("altered", ("content_changed",), conflict=True)
    assert altered.warnings == ("altered", "conflict")


def test_an_unreadable_record_is_not_trusted() -> None:
    found = unreadable({"conflict": True})
    assert found.state == "unreadable" and not found.trusted and found.conflict


def test_every_state_and_reason_has_words_in_both_languages() -> None:
    assert set(rule.INTEGRITY_NAMES) == set(rule.STATES)
    assert set(rule.REASON_NAMES) == set(rule.REASONS)
    for text in [*rule.INTEGRITY_NAMES.values(), *rule.REASON_NAMES.values()]:
        assert text.zh and text.en and text.zh != text.en
    assert Integrity("altered").name("zh") == "已被改动"
    assert Integrity("altered", ("index_differs",)).reason_text("en") == (
        "the content no longer matches the hash the shared index recorded at sync",
    )
    # A state or reason from a newer version shows its code rather than failing.
    assert rule.state_name("forged", "en") == "forged"
    assert rule.reason_name("bad_signature", "zh") == "bad_signature"


def test_states_are_ordered_worst_first_and_only_good_ones_are_trusted() -> None:
    assert rule.STATES[0] == "altered" and rule.STATES[-1] == "verified"
    assert set(rule.TRUSTED) == {"intact", "verified"}
    assert all(rule.STATE_ORDER[s] < rule.STATE_ORDER["intact"] for s in rule.STATES[:-2])


def test_the_rule_imports_no_ui_and_no_store() -> None:
    code = (
        "import sys, pos_tui.domain.integrity;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'tinydb')"
        " or m.startswith('pos_tui.store') or m.startswith('pos_tui.ui')];"
        "print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def keyring_with(key: KeyFile, **entry: str) -> Keyring:
    """A keyring as replayed, holding one key in the given standing."""
    ring = Keyring(store_id="s", admin="ADMIN")
    ring.keys[key.fingerprint] = KeyEntry(key.fingerprint, key.public_key, **entry)  # type: ignore[arg-type]
    return ring


def test_signed_by_a_trusted_technician_is_verified(visit: Session, laptop: KeyFile) -> None:
    ring = keyring_with(
        laptop, role=TECHNICIAN, name="张伟", trusted_at="2020-01-01T00:00:00+08:00"
    )
    assert integrity(visit, index_row(visit), ring) == Integrity("verified")
    assert rule.signer_name(visit, ring) == "张伟"
    assert TRUST == "trust"


def test_a_key_revoked_after_signing_leaves_the_record_verified_and_says_so(
    visit: Session, laptop: KeyFile
) -> None:
    ring = keyring_with(
        laptop,
        role=TECHNICIAN,
        trusted_at="2020-01-01T00:00:00+08:00",
        revoked_at="2999-01-01T00:00:00+08:00",
    )
    found = integrity(visit, index_row(visit), ring)
    assert found == Integrity("verified", ("signed_before_revocation",))
    assert found.trusted


@pytest.mark.parametrize(
    ("standing", "reason"),
    [
        ({"pending_since": "2020-01-01T00:00:00+08:00"}, "key_pending"),
        ({}, "key_unknown"),
        (
            {
                "role": TECHNICIAN,
                "trusted_at": "2020-01-01T00:00:00+08:00",
                "revoked_at": "2020-06-01T00:00:00+08:00",
            },
            "key_revoked",
        ),
        ({"role": "reviewer", "trusted_at": "2020-01-01T00:00:00+08:00"}, "key_wrong_role"),
    ],
)
def test_signed_by_a_key_the_bank_does_not_trust_is_from_an_unverified_device(
    visit: Session, laptop: KeyFile, standing: dict[str, str], reason: str
) -> None:
    found = integrity(visit, index_row(visit), keyring_with(laptop, **standing))
    assert found == Integrity("unknown_signer", (reason,))
    assert not found.trusted


def test_a_key_the_keyring_has_never_seen(visit: Session) -> None:
    found = integrity(visit, index_row(visit), Keyring())
    assert found == Integrity("unknown_signer", ("key_unknown",))


def test_the_signed_bytes_are_the_canonical_form_of_content_hash_and_events(
    visit: Session,
) -> None:
    from pos_tui.domain.signatures import canonical

    events = [e.to_dict() for e in visit.events if e.what != "signed"]
    expected = canonical(
        {"content": visit.content(), "content_sha256": visit.content_hash(), "events": events}
    )
    assert visit.signed_payload() == expected
    assert visit.signed_payload(canonical(visit.content())) == expected
