"""One interface for both kinds of shared store: each test here runs against a folder and
against PostgreSQL (`shared_kind` in conftest.py), with real keys, real stores on disk and a
real server; what a kind does differently (its own faults) is in tests/helpers/kinds.py.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pos_tui.cli import main
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session, Status
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.services.review_start import start_review
from pos_tui.store.keyring import AdminChanged
from pos_tui.store.keys import REVIEWER as REVIEWER_KEY
from pos_tui.store.keys import KeyFile, ensure_key
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import SharedSource, VisitRecord
from pos_tui.store.sync import pending, sync
from pos_tui.store.targets import Target
from tests.helpers.bank import Bank, open_bank
from tests.helpers.kinds import (
    change_record_bytes,
    opened,
    replace_keyring,
    reviews,
    rows,
    stored_files,
)
from tests.helpers.photos import jpeg
from tests.helpers.visits import save_answer, save_attach, save_sign

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bank(tmp_path: Path, shared_target: Target) -> Bank:
    return open_bank(tmp_path, reviewer_name="李主管", shared=shared_target)


@pytest.fixture
def key(bank: Bank, store: LocalStore) -> KeyFile:
    return bank.trust_laptop(store.folder)


def signed_visit(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], key: KeyFile, note: str = ""
) -> Session:
    session = Session.start(info, checklists)
    store.create(session)
    save_answer(store, session, "card", "void", Outcome.FAIL, note or "撤销后没有打印小票")
    save_answer(store, session, "receipt", "masked", Outcome.PASS)
    save_sign(store, session, "张伟", "王老板", signer=key)
    return session


def shared_record(bank: Bank, uuid: str, revision: int | None = None) -> VisitRecord:
    """The visit as the supervisor's machine reads it, its integrity judged while the
    store is open (a database's evidence files are read through its connection)."""
    source = SharedSource(bank.shared, bank.reviewer)
    try:
        found = [row for row in source.store.rows() if row["uuid"] == uuid]
        if revision is not None:
            found = [row for row in found if row["revision"] == revision]
        [row] = [row for row in found if revision is not None or not row["superseded"]]
        record = source.record(row)
        assert record.integrity is not None
        return record
    finally:
        source.close()


def status_of(store: LocalStore, uuid: str) -> Status:
    [status] = [s.status for s in store.summaries() if s.uuid == uuid]
    return status


def test_a_store_without_a_keyring_takes_signed_visits_once(
    empty_shared: Target, store: LocalStore, info: VisitInfo, checklists: list[Checklist]
) -> None:
    """A store made without `shared init` (no administrator yet): visits go in, once."""
    session = Session.start(info, checklists)
    store.create(session)
    save_answer(store, session, "card", "void", Outcome.PASS)
    save_sign(store, session, "张伟", "王老板")
    assert sync(store, empty_shared).pushed.added == [session.uuid]
    again = sync(store, empty_shared)
    assert (again.pushed.added, again.reviews_applied, again.forged_decisions) == ([], 0, 0)
    [row] = rows(empty_shared)
    assert (row["uuid"], row["status"], row["superseded"]) == (session.uuid, "signed", False)
    assert status_of(store, session.uuid) == Status.SYNCED


# -- decisions and the keyring -------------------------------------------------------------


def test_a_decision_signed_by_a_key_nobody_trusted_is_ignored_by_sync_and_review(
    bank: Bank,
    store: LocalStore,
    info: VisitInfo,
    checklists: list[Checklist],
    key: KeyFile,
    tmp_path: Path,
) -> None:
    session = signed_visit(store, info, checklists, key)
    sync(store, bank.shared)
    intruder = ensure_key(tmp_path / "intruder", REVIEWER_KEY)[0]
    body = {"uuid": session.uuid, "decision": "approved", "comment": "通过", "reviewer": "假主管"}
    body |= {"at": "2999-01-01T00:00:00+08:00", "record_sha256": ""}
    with opened(bank.shared) as shared:  # past the app, straight into the store's log
        shared.add_review(body, intruder)
    report = sync(store, bank.shared)
    assert (report.reviews_applied, report.forged_decisions) == (0, 1)
    assert "1 decision(s) not signed by a trusted reviewer ignored" in report.sentence()
    assert status_of(store, session.uuid) == Status.SYNCED
    found = shared_record(bank, session.uuid)
    assert found.decisions == [] and [c.reasons for c in found.forged] == [("untrusted_key",)]
    # A trusted reviewer's decision after it counts, and only it comes back.
    bank.decide(session.uuid, "has_issues", "请补拍小票")
    again = sync(store, bank.shared)
    assert (again.reviews_applied, again.forged_decisions) == (1, 0)
    assert status_of(store, session.uuid) == Status.REVIEWED


def test_a_replaced_keyring_is_refused_by_sync_and_review_where_the_admin_was_pinned(
    bank: Bank,
    store: LocalStore,
    info: VisitInfo,
    checklists: list[Checklist],
    key: KeyFile,
    tmp_path: Path,
) -> None:
    signed_visit(store, info, checklists, key)
    sync(store, bank.shared)  # the laptop pins the store's administrator
    signed_visit(store, info, checklists, key, note="第二次")
    replace_keyring(bank.shared, ensure_key(tmp_path / "intruder", REVIEWER_KEY)[0])
    before = rows(bank.shared)
    with pytest.raises(AdminChanged, match="the keyring was replaced"):
        sync(store, bank.shared)
    assert rows(bank.shared) == before and len(pending(store, bank.shared)) == 1
    with pytest.raises(AdminChanged, match="the keyring was replaced"):
        SharedSource(bank.shared, bank.reviewer)
    # A machine that never saw the store trusts what it first sees, as with ssh.
    SharedSource(bank.shared, tmp_path / "new-machine").close()


# -- records and evidence ------------------------------------------------------------------


def test_an_amendment_sends_the_revision_it_corrects_and_both_verify(
    bank: Bank, store: LocalStore, info: VisitInfo, checklists: list[Checklist], key: KeyFile
) -> None:
    first = signed_visit(store, info, checklists, key)
    amended = store.load(first.uuid)
    amended.amend("张伟", "撤销复测通过：打印机缺纸，换纸后重试")
    store.save(amended)
    save_answer(store, amended, "card", "void", Outcome.PASS)
    save_sign(store, amended, "张伟", "王老板", signer=key)
    report = sync(store, bank.shared)
    assert report.pushed.added == [first.uuid, first.uuid]
    assert report.sentence().startswith("1 visit synced (2 revisions)")
    old, new = sorted(rows(bank.shared), key=lambda row: row["revision"])
    assert (old["superseded"], new["superseded"]) == (True, False)
    assert (old["content_sha256"], new["content_sha256"]) == (
        first.content_sha256,
        amended.content_sha256,
    )
    for row in (old, new):
        assert shared_record(bank, first.uuid, row["revision"]).integrity.state == "verified"
    again = sync(store, bank.shared)
    assert (again.pushed.added, again.pushed.unchanged) == ([], [])


def test_a_record_changed_where_it_lies_is_altered_and_repair_sends_it_again(
    bank: Bank, store: LocalStore, info: VisitInfo, checklists: list[Checklist], key: KeyFile
) -> None:
    session = signed_visit(store, info, checklists, key, note="撤销正常完成了")
    sync(store, bank.shared)
    [row] = rows(bank.shared)
    change_record_bytes(bank.shared, row, "撤销正常完成了", "撤销没有完成了")
    assert shared_record(bank, session.uuid).integrity.state == "altered"
    assert sync(store, bank.shared, repair=True).pushed.repointed == [session.uuid]
    found = shared_record(bank, session.uuid)
    assert found.integrity.state == "verified"
    assert found.session.answers[("card", "void")].note == "撤销正常完成了"


def test_a_visit_whose_photo_was_replaced_on_the_laptop_is_refused_and_the_others_go(
    bank: Bank,
    store: LocalStore,
    info: VisitInfo,
    evidence_checklists: list[Checklist],
    key: KeyFile,
) -> None:
    def with_photo(data: bytes) -> tuple[Session, str]:
        session = Session.start(info, evidence_checklists)
        store.create(session)
        [ref] = save_attach(store, session, "site-photos", "storefront", [("门头.jpg", data)])
        save_answer(store, session, "site-photos", "storefront", Outcome.PASS)
        save_sign(store, session, "张伟", "王老板", signer=key)
        return session, ref.sha256

    replaced, bad = with_photo(jpeg(31))
    fine, good = with_photo(jpeg(32))
    photo = store.folder / "evidence" / bad[:2] / bad
    if not photo.exists():
        [photo] = [p for p in (store.folder / "evidence").rglob(f"{bad}*") if p.is_file()]
    photo.chmod(0o644)
    data = bytearray(photo.read_bytes())
    data[-3] ^= 0xFF
    photo.write_bytes(bytes(data))
    report = sync(store, bank.shared)
    assert report.pushed.added == [fine.uuid]
    assert [uuid for uuid, _why in report.refused] == [replaced.uuid]
    assert "on this laptop no longer hashes to its name" in "\n".join(report.refusals())
    assert [s.uuid for s in pending(store, bank.shared)] == [replaced.uuid]
    assert stored_files(bank.shared) == {good}
    assert shared_record(bank, fine.uuid).integrity.state == "verified"


# -- the command line, end to end ----------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("POS_TUI_CONFIG_FILE", str(tmp_path / "settings.json"))
    monkeypatch.delenv("POS_TUI_SHARED_STORE", raising=False)
    monkeypatch.delenv("POS_TUI_DATA_DIR", raising=False)
    yield CliRunner()


def run(cli: CliRunner, *args: str) -> str:
    done = cli.invoke(main, list(args), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


def fingerprint_in(output: str) -> str:
    [line] = [
        line
        for line in output.splitlines()
        if line.startswith(("Fingerprint:", "Administrator key:"))
    ]
    return line.split(":", 1)[1].strip()


def test_the_command_line_makes_a_store_trusts_syncs_and_a_decision_comes_back(
    cli: CliRunner,
    shared_target: Target,
    tmp_path: Path,
    info: VisitInfo,
    checklists: list[Checklist],
) -> None:
    where = str(shared_target)
    admin, supervisor, laptop = tmp_path / "admin", tmp_path / "supervisor", tmp_path / "laptop"
    made = run(cli, "shared", "init", where, "--name", "系统管理员", "--data-dir", str(admin))
    assert len(fingerprint_in(made)) == 39
    asked = run(cli, "keys", "init", "--reviewer", "--store", where, "--data-dir", str(supervisor))
    reviewer = fingerprint_in(asked)
    run(cli, "keys", "trust", reviewer, "--name", "王主管", "--role", "reviewer",
        "--store", where, "--data-dir", str(admin))  # fmt: skip

    with LocalStore.open(laptop) as store:
        device = ensure_key(laptop, "device")[0]
        session = signed_visit(store, info, checklists, device)
    said = run(cli, "--data-dir", str(laptop), "sync", "--to", where)
    assert f"Sync complete: 1 visit synced ({where})." in said
    assert "Asked the shared store's administrator to trust this laptop" in said
    listed = run(cli, "keys", "list", "--store", where, "--data-dir", str(admin))
    assert f"{device.fingerprint}  -" in listed and "pending since" in listed
    run(cli, "keys", "trust", device.fingerprint, "--name", "张伟", "--role", "technician",
        "--store", where, "--data-dir", str(admin))  # fmt: skip

    # As `pos-tui review --store` opens it (on PostgreSQL: a child reads the first page;
    # the decision below is this process's first use of its own connection).
    services = start_review(shared_target, supervisor)
    assert services.reviewer_key is not None
    try:
        [row] = services.rows().result()
        assert services.reviewer == "王主管"
        services.decide(row.uuid, "has_issues", "请补拍小票").result()
    finally:
        services.close()
    said = run(cli, "--data-dir", str(laptop), "sync", "--to", where)
    assert "1 review decision(s) received" in said
    with LocalStore.open(laptop, read_only=True) as store:
        assert status_of(store, session.uuid) == Status.REVIEWED
    assert [d["reviewer"] for d in reviews(shared_target)] == ["王主管"]
    status = run(cli, "--data-dir", str(laptop), "sync", "--to", where, "--status")
    assert status.startswith(f"0 visit(s) not yet synced to {where}")
    run(cli, "keys", "revoke", reviewer, "--reason", "离职", "--store", where,
        "--data-dir", str(admin))  # fmt: skip
    listed = run(cli, "keys", "list", "--store", where, "--data-dir", str(admin))
    assert f"{reviewer}  reviewer      王主管  revoked" in listed


def test_export_and_report_read_either_kind(
    cli: CliRunner,
    bank: Bank,
    store: LocalStore,
    info: VisitInfo,
    evidence_checklists: list[Checklist],
    key: KeyFile,
    tmp_path: Path,
) -> None:
    checklists = evidence_checklists
    sessions = [signed_visit(store, info, checklists, key, note=f"第{n}次") for n in range(2)]
    # One with a photo: a report judges its file, in a database read through the connection.
    photo = Session.start(info, checklists)
    store.create(photo)
    save_attach(store, photo, "site-photos", "storefront", [("门头.jpg", jpeg(41))])
    save_answer(store, photo, "site-photos", "storefront", Outcome.PASS)
    save_sign(store, photo, "张伟", "王老板", signer=key)
    sessions.append(photo)
    sync(store, bank.shared)
    bank.decide(sessions[0].uuid, "has_issues", "请复测")
    where = str(bank.shared)

    done = cli.invoke(main, ["export", "--store", where, "--format", "csv", "--out", "-"])
    assert done.exit_code == 0, done.output
    table = list(csv.DictReader(io.StringIO(done.stdout.lstrip("\ufeff"))))
    assert {r["visit_uuid"] for r in table} == {s.uuid for s in sessions}
    assert {r["integrity"] for r in table} == {"verified"}
    decided = {r["review_decision"] for r in table if r["visit_uuid"] == sessions[0].uuid}
    assert decided == {"has_issues"}
    assert {r["evidence_count"] for r in table if r["visit_uuid"] == photo.uuid} >= {"1"}

    done = cli.invoke(main, ["export", "--store", where, "--format", "json", "--out", "-"])
    assert done.exit_code == 0, done.output
    documents = json.loads(done.stdout.lstrip("\ufeff"))
    assert {d["uuid"] for d in documents} == {s.uuid for s in sessions}

    book = tmp_path / "visits.xlsx"
    run(cli, "export", "--store", where, "--out", str(book))
    from openpyxl import load_workbook

    sheet = load_workbook(book, read_only=True).worksheets[0]
    assert sheet.max_row == 1 + len(sessions)

    uuid = sessions[0].uuid
    done = cli.invoke(main, ["report", uuid[:8], "--store", where, "--out", "-", "--lang", "en"])
    assert done.exit_code == 0, done.output
    assert uuid in done.stdout and "请复测" in done.stdout
    done = cli.invoke(main, ["report", photo.uuid, "--store", where, "--out", "-"])
    assert done.exit_code == 0, done.output
    assert photo.uuid in done.stdout and "门头.jpg" in done.stdout

    missing = cli.invoke(main, ["report", "ffffffff", "--store", where, "--out", "-"])
    assert missing.exit_code == 1 and "No visit in" in missing.output
