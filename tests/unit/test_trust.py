"""Forgeries on a real shared store, tried as someone with write access to the folder (or
the database's tables) would, and what review, the reports, the exports and the laptop
make of each. Each test runs on both kinds (`shared_kind`), but the one that rewrites a
folder's batch and index files.

Every forgery must be shown as such and change no state: a decision not signed by a
trusted reviewer decides nothing, on the supervisor's screen or on the laptop.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.decisions import decision_hash, signed_part
from pos_tui.domain.keyring import REVIEWER
from pos_tui.domain.session import Outcome, Session, Status, VisitError
from pos_tui.domain.signatures import canonical, sign
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.reports.export import visit_document, write_csv
from pos_tui.reports.model import build_report
from pos_tui.services.identity import register, revoke, trust
from pos_tui.services.review import ReviewServices
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.keys import REVIEWER as REVIEWER_KEY
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import SharedStore
from pos_tui.store.sources import SharedSource, VisitRecord
from pos_tui.store.sync import sync
from tests.helpers.bank import Bank, open_bank
from tests.helpers.kinds import sql
from tests.helpers.visits import save_answer, save_sign


def an_hour_ago() -> datetime:
    return datetime.now().astimezone() - timedelta(hours=1)


@pytest.fixture
def bank(tmp_path: Path, shared_target: Path | str) -> Bank:
    return open_bank(tmp_path, reviewer_name="王主管", shared=shared_target)


@pytest.fixture
def laptop(tmp_path: Path) -> Path:
    return tmp_path / "laptop"


@pytest.fixture
def visit(bank: Bank, laptop: Path, info: VisitInfo, checklists: list[Checklist]) -> Session:
    """A visit with a failed critical-looking answer, signed on a trusted laptop, synced."""
    key = bank.trust_laptop(laptop)
    with LocalStore.open(laptop) as store:
        # Signed an hour ago: a revocation made in the test is then clearly later.
        session = Session.start(info, checklists, clock=an_hour_ago)
        store.create(session)
        save_answer(store, session, "card", "void", Outcome.FAIL, note="撤销后没有打印小票")
        save_answer(store, session, "receipt", "masked", Outcome.PASS)
        save_sign(store, session, "张伟", "王老板", signer=key)
        sync(store, bank.shared)
    return session


def record(bank: Bank, uuid: str) -> VisitRecord:
    source = SharedSource(bank.shared, bank.reviewer)
    source.checked_decisions()
    [row] = [row for row in source.rows() if row["uuid"] == uuid]
    return source.record(row)


def review_state(bank: Bank, uuid: str) -> str:
    services = bank.review_services()
    try:
        [row] = [row for row in services.rows().result() if row.uuid == uuid]
        return row.review_state
    finally:
        services.close()


def csv_of(bank: Bank) -> list[dict[str, str]]:
    source = SharedSource(bank.shared, bank.reviewer)
    source.checked_decisions()
    out = io.StringIO()
    write_csv(source, source.rows(), out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def write_reviews(bank: Bank, document: dict[str, Any]) -> None:
    """Decisions put past the app: a folder's `reviews.json`, where earlier versions kept
    decisions and which is still read; a database's decisions table, a row inserted."""
    if isinstance(bank.shared, str):
        for row in document["reviews"].values():
            sql(
                bank.shared,
                "INSERT INTO decisions (uuid, body, hash) VALUES (%s, %s, %s)",
                row["uuid"],
                json.dumps(row, ensure_ascii=False),
                decision_hash(row),
            )
        return
    (bank.shared / "reviews.json").write_text(json.dumps(document, ensure_ascii=False), "utf-8")


def decision_files(bank: Bank) -> list[Path]:
    """The log's decision files, in order (`store/decision_log.py`)."""
    assert isinstance(bank.shared, Path)
    return sorted((bank.shared / "decisions").glob("*/*.json"))


def past_the_trigger(bank: Bank, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Statements on the decisions table by its owner, who can drop the append-only
    trigger: the chain of signatures must show what they did."""
    assert isinstance(bank.shared, str)
    sql(bank.shared, "ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
    try:
        for query, params in statements:
            sql(bank.shared, query, *params)
    finally:
        sql(bank.shared, "ALTER TABLE decisions ENABLE TRIGGER decisions_append_only")


def decision_bodies(bank: Bank) -> list[tuple[int, str]]:
    assert isinstance(bank.shared, str)
    return [(int(seq), str(body)) for seq, body in sql(bank.shared, LOG)]


LOG = "SELECT seq, body FROM decisions ORDER BY seq"


def edit_decision(bank: Bank, number: int, change: dict[str, Any]) -> None:
    if isinstance(bank.shared, str):
        seq, body = decision_bodies(bank)[number]
        edited = json.dumps(json.loads(body) | change, ensure_ascii=False)
        past_the_trigger(bank, ("UPDATE decisions SET body = %s WHERE seq = %s", (edited, seq)))
        return
    path = decision_files(bank)[number]
    row = json.loads(path.read_text("utf-8")) | change
    path.write_text(json.dumps(row, ensure_ascii=False), "utf-8")


def take_out_decision(bank: Bank, number: int) -> None:
    if isinstance(bank.shared, str):
        seq, _body = decision_bodies(bank)[number]
        past_the_trigger(bank, ("DELETE FROM decisions WHERE seq = %s", (seq,)))
        return
    decision_files(bank)[number].unlink()


def swap_first_and_last_decisions(bank: Bank) -> None:
    if isinstance(bank.shared, str):
        (first, one), *_, (last, other) = decision_bodies(bank)
        update = "UPDATE decisions SET body = %s WHERE seq = %s"
        past_the_trigger(bank, (update, (other, first)), (update, (one, last)))
        return
    first, *_, last = decision_files(bank)
    kept = first.read_bytes()
    first.write_bytes(last.read_bytes())
    last.write_bytes(kept)


def laptop_applies(laptop: Path, bank: Bank) -> int:
    with LocalStore.open(laptop) as store:
        return sync(store, bank.shared).reviews_applied


def assert_forged_everywhere(bank: Bank, uuid: str, reason: str, laptop: Path) -> None:
    """Shown as forged in review, both reports, both exports; counted and applied nowhere."""
    found = record(bank, uuid)
    assert found.decisions == [] and [c.reasons[0] for c in found.forged] == [reason]
    assert review_state(bank, uuid) == "unreviewed"
    for lang in ("zh", "en"):
        report = build_report(found, lang)
        [printed] = report.decisions
        assert printed.decision.startswith(("伪造", "无签名", "FORGED", "unsigned"))
    document = visit_document(found)
    assert document["review_decisions"] == []
    assert [d["reasons"][0] for d in document["forged_decisions"]] == [reason]
    rows = [r for r in csv_of(bank) if r["visit_uuid"] == uuid]
    assert {r["review_decision"] for r in rows} == {""}
    assert {r["forged_reasons"] for r in rows} == {reason}
    assert laptop_applies(laptop, bank) == 0
    with LocalStore.open(laptop, read_only=True) as store:
        assert store.load(uuid).status is not Status.REVIEWED


def test_a_decision_written_by_hand_decides_nothing(
    bank: Bank, visit: Session, laptop: Path
) -> None:
    row = {"id": "f" * 32, "uuid": visit.uuid, "decision": "approved", "reviewer": "王主管"}
    write_reviews(bank, {"reviews": {"1": row | {"at": "2026-12-01T10:00:00+08:00"}}})
    assert_forged_everywhere(bank, visit.uuid, "no_signature", laptop)


def test_a_signed_decision_rewritten_afterwards_decides_nothing(
    bank: Bank, visit: Session, laptop: Path
) -> None:
    bank.decide(visit.uuid, "has_issues", "请补拍小票")
    edit_decision(bank, 0, {"decision": "approved"})  # the forger's wish
    assert_forged_everywhere(bank, visit.uuid, "bad_signature", laptop)


def test_a_decision_taken_out_of_the_log_leaves_a_gap_that_shows(
    bank: Bank, visit: Session, laptop: Path
) -> None:
    bank.decide(visit.uuid, "has_issues", "请补拍小票")
    bank.decide(visit.uuid, "approved", "已补拍")
    bank.decide(visit.uuid, "has_issues", "再核对一次")
    take_out_decision(bank, 1)
    found = record(bank, visit.uuid)
    assert found.log_has_gap
    assert [c.reasons for c in SharedSource(bank.shared).checked_decisions()] == [
        (),
        ("gap_before",),
    ]
    assert visit_document(found)["decision_log_gap"] is True
    # Moved instead: the same.
    swap_first_and_last_decisions(bank)
    assert record(bank, visit.uuid).log_has_gap


@pytest.mark.parametrize("shared_kind", ["folder"])  # a folder's batch and index rewritten
def test_content_edited_with_every_plain_hash_recomputed_is_altered_everywhere(
    bank: Bank, visit: Session, laptop: Path
) -> None:
    assert isinstance(bank.shared, Path)
    shared = SharedStore.open(bank.shared)
    [row] = shared.rows()
    path = bank.shared / "batches" / row["batch"]
    data = bytearray(path.read_bytes())
    start, end = row["offset"], row["offset"] + row["length"]
    document = json.loads(data[start:end])
    [stored] = document["visit"].values()
    [answer] = [a for a in stored["answers"] if a["item_id"] == "void"]
    answer["outcome"], answer["note"] = "pass", ""
    events = [document["events"][k] for k in sorted(document["events"], key=int)]
    forged = Session.from_dict(stored, visit.checklists, events).content_hash()
    stored["content_sha256"] = forged
    for event in document["events"].values():
        if event["what"] == "signed":
            event["detail"]["content_sha256"] = forged
    line = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    data[start:end] = line + b" " * (row["length"] - len(line))
    path.write_bytes(bytes(data))
    index_file = shared.shard_path(row["uuid"])
    index = json.loads(index_file.read_text("utf-8"))
    for indexed in index["visits"].values():
        indexed["content_sha256"] = forged
    index_file.write_text(json.dumps(index, ensure_ascii=False), "utf-8")

    found = record(bank, visit.uuid)
    assert found.integrity.state == "altered"
    assert found.integrity.reasons == ("signature_fails",)
    assert build_report(found, "en").integrity_state == "altered"
    assert visit_document(found)["integrity"]["state"] == "altered"
    assert {r["integrity"] for r in csv_of(bank)} == {"altered"}
    with pytest.raises(VisitError, match="Cannot approve: the record was altered"):
        bank.decide(visit.uuid, "approved", "看着没问题")


def other_reviewer(bank: Bank, tmp_path: Path, trusted: bool) -> ReviewServices:
    machine = tmp_path / "intruder-machine"
    key = ensure_key(machine, REVIEWER_KEY)[0]
    register(bank.shared, machine, key, {"role": "reviewer", "name": "假主管"})
    if trusted:
        trust(bank.shared, bank.admin, key.fingerprint, "赵主管", REVIEWER)
    return ReviewServices(SharedSource(bank.shared, machine), key)


def test_a_decision_by_a_key_nobody_trusted_decides_nothing(
    bank: Bank, visit: Session, laptop: Path, tmp_path: Path
) -> None:
    intruder = other_reviewer(bank, tmp_path, trusted=False)
    try:
        assert intruder.reviewer == ""  # the keyring gives no name, so the app refuses...
        intruder.rows().result()
        with pytest.raises(VisitError, match="not trusted"):
            intruder.decide(visit.uuid, "approved", "通过").result()
        # ...and one written past the app, signed with that key, is still forged.
        assert intruder.reviewer_key is not None
        body = {"id": "e" * 32, "uuid": visit.uuid, "decision": "approved", "comment": ""}
        body |= {"at": "2026-12-01T10:00:00+08:00", "prev": "", "record_sha256": ""}
        body["signature"] = sign(intruder.reviewer_key, canonical(signed_part(body))).to_dict()
        write_reviews(bank, {"reviews": {"1": body}})
    finally:
        intruder.close()
    assert_forged_everywhere(bank, visit.uuid, "untrusted_key", laptop)


def test_a_decision_by_a_revoked_key_decides_nothing(
    bank: Bank, visit: Session, laptop: Path, tmp_path: Path
) -> None:
    services = other_reviewer(bank, tmp_path, trusted=True)
    assert services.reviewer_key is not None
    revoke(bank.shared, bank.admin, services.reviewer_key.fingerprint, "离职")
    services.close()
    # Still holding the key, the former reviewer signs a decision into the folder.
    key = services.reviewer_key
    body = {"id": "d" * 32, "uuid": visit.uuid, "decision": "approved", "comment": "通过"}
    body |= {"at": "2999-01-01T00:00:00+08:00", "prev": "", "record_sha256": ""}
    body["signature"] = sign(key, canonical(signed_part(body))).to_dict()
    write_reviews(bank, {"reviews": {"1": body}})
    assert_forged_everywhere(bank, visit.uuid, "revoked_key", laptop)


def test_a_record_signed_on_one_laptop_verifies_on_another_machine(
    bank: Bank, visit: Session, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "head-office"
    found = record(bank, visit.uuid)
    assert found.integrity.state == "verified"
    # Another machine that never saw the store: it pins the administrator on first sight.
    source = SharedSource(bank.shared, elsewhere)
    [row] = source.rows()
    assert source.record(row).integrity.state == "verified"
    assert (elsewhere / "trust" / "admins.json").exists()


def test_revoking_a_laptop_later_leaves_what_it_signed_before_verified(
    bank: Bank, visit: Session, laptop: Path
) -> None:
    key = ensure_key(laptop, DEVICE)[0]
    revoke(bank.shared, bank.admin, key.fingerprint, "笔记本丢失")
    found = record(bank, visit.uuid)
    assert found.integrity.state == "verified"
    assert found.integrity.reasons == ("signed_before_revocation",)
    assert "signed before the key was revoked" in build_report(found, "en").integrity_reasons


def test_a_record_from_an_unverified_device_cannot_be_approved(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist], shared_target: Path | str
) -> None:
    bank = open_bank(tmp_path, shared=shared_target)
    laptop = tmp_path / "unknown-laptop"
    with LocalStore.open(laptop) as store:
        session = Session.start(info, checklists)
        store.create(session)
        save_answer(store, session, "receipt", "masked", Outcome.PASS)
        save_sign(store, session, "张伟", "王老板", signer=ensure_key(laptop, DEVICE)[0])
        sync(store, bank.shared)
    found = record(bank, session.uuid)
    assert found.integrity.state == "unknown_signer"
    assert found.integrity.reasons == ("key_unknown",)
    with pytest.raises(VisitError, match="unverified device"):
        bank.decide(session.uuid, "approved", "")
    bank.decide(session.uuid, "has_issues", "请先让管理员信任这台笔记本")
    assert review_state(bank, session.uuid) == "has_issues"


def test_approving_a_visit_with_failures_needs_a_comment(bank: Bank, visit: Session) -> None:
    with pytest.raises(VisitError, match="failed items"):
        bank.decide(visit.uuid, "approved", "")
    decided = bank.decide(visit.uuid, "approved", "撤销小票已现场补打")
    assert record(bank, visit.uuid).decisions[0]["reviewer"] == "王主管"
    assert decided["signature"]["fingerprint"] == bank.reviewer_key.fingerprint


async def test_the_review_screen_shows_a_forged_decision_and_counts_it_nowhere(
    bank: Bank, visit: Session
) -> None:
    from pos_tui.ui.app import make_app
    from pos_tui.ui.screens.review_detail import ReviewDetailScreen
    from pos_tui.ui.screens.review_list import ReviewListScreen
    from tests.helpers.ui import settle, static_text

    row = {"id": "f" * 32, "uuid": visit.uuid, "decision": "approved", "reviewer": "王主管"}
    write_reviews(bank, {"reviews": {"1": row | {"at": "2026-12-01T10:00:00+08:00"}}})
    app = make_app(None, "en", review=bank.review_services())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        listing = app.screen
        assert isinstance(listing, ReviewListScreen)
        assert [r.review_state for r in listing.rows] == ["unreviewed"]
        listing.query_one("#review-table").focus()
        await pilot.press("enter")
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, ReviewDetailScreen)
        banner = str(detail.query_one("#detail-banner").render())
        assert "1 decision(s) on this visit were not signed by a trusted reviewer" in banner
        assert "unsigned (not counted): Approved" in static_text(detail, "#detail-timeline")
