"""The stores and sync keep every revision of an amended visit (#15).

Real stores on disk, a bank's shared store with trusted keys, real Ed25519 signatures: a
visit sent back, amended and signed again keeps its first revision byte for byte on the
laptop and in the shared store, and both verify; a discarded draft never leaves the laptop;
a follow-up is a visit of its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pos_tui.cli import main
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.integrity import INTACT, VERIFIED, integrity
from pos_tui.domain.session import Outcome, Session, Status
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.keys import KeyFile
from pos_tui.store.local import LocalStore, recover_file
from pos_tui.store.shared import BATCHES_DIR, SharedStore
from pos_tui.store.shared_check import check_store
from pos_tui.store.sources import SharedSource
from pos_tui.store.storage import StoreError
from pos_tui.store.sync import apply_review, pending, signed_record, sync
from tests.helpers.bank import Bank, open_bank
from tests.helpers.photos import jpeg
from tests.helpers.visits import save_answer, save_attach, save_sign

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bank(tmp_path: Path) -> Bank:
    return open_bank(tmp_path)


@pytest.fixture
def key(bank: Bank, store: LocalStore) -> KeyFile:
    return bank.trust_laptop(store.folder)


def signed_visit(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], key: KeyFile
) -> Session:
    session = Session.start(info, checklists)
    store.create(session)
    save_answer(store, session, "card", "void", Outcome.FAIL, "撤销后没有打印小票")
    save_answer(store, session, "receipt", "masked", Outcome.PASS)
    save_sign(store, session, "张伟", "王老板", signer=key)
    return session


def amend_and_sign(store: LocalStore, uuid: str, key: KeyFile) -> Session:
    """The technician's correction: a changed outcome, so the merchant signs again."""
    session = store.load(uuid)
    session.amend("张伟", "撤销复测通过：打印机缺纸，换纸后重试")
    store.save(session)
    save_answer(store, session, "card", "void", Outcome.PASS)
    save_sign(store, session, "张伟", "王老板", signer=key)
    return session


def batches(shared: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in (shared / BATCHES_DIR).glob("*.jsonl")}


def shared_rows(bank: Bank, uuid: str) -> list[dict[str, Any]]:
    """Every row of the visit, superseded ones too, oldest revision first."""
    rows = [row for row in SharedStore.open(bank.shared).rows() if row["uuid"] == uuid]
    return sorted(rows, key=lambda row: row["revision"])


def shared_state(bank: Bank, row: dict[str, Any]) -> str:
    source = SharedSource(bank.shared, bank.reviewer)
    return source.record(row).integrity.state


def record_bytes(bank: Bank, row: dict[str, Any]) -> bytes:
    data = (bank.shared / BATCHES_DIR / row["batch"]).read_bytes()
    return data[row["offset"] : row["offset"] + row["length"]]


# -- the send-back loop --------------------------------------------------------------


def test_a_visit_sent_back_amended_and_synced_keeps_both_revisions_verified(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], bank: Bank, key: KeyFile
) -> None:
    first = signed_visit(store, info, checklists, key)
    assert sync(store, bank.shared).pushed.added == [first.uuid]
    bank.decide(first.uuid, "has_issues", "撤销须重做")
    assert sync(store, bank.shared).reviews_applied == 1
    sent_first = batches(bank.shared)
    on_disk = store.read_raw(first.uuid)  # the signed revision, with the decision recorded

    amended = amend_and_sign(store, first.uuid, key)
    assert [summary.uuid for summary in pending(store, bank.shared)] == [first.uuid]
    report = sync(store, bank.shared)
    assert (report.pushed.added, report.reviews_applied) == ([first.uuid], 0)
    assert pending(store, bank.shared) == []
    [summary] = store.summaries()
    assert (summary.status, summary.amendment, summary.review_decision) == ("synced", 1, "")

    # The shared store: both revisions, the first batch as it was, the first superseded.
    old_row, new_row = shared_rows(bank, first.uuid)
    assert (old_row["superseded"], new_row["superseded"]) == (True, False)
    assert old_row["content_sha256"] == first.content_sha256
    assert new_row["content_sha256"] == amended.content_sha256
    assert all(batches(bank.shared)[name] == data for name, data in sent_first.items())
    assert len(batches(bank.shared)) == len(sent_first) + 1
    assert [shared_state(bank, row) for row in (old_row, new_row)] == [VERIFIED, VERIFIED]
    new_session = SharedSource(bank.shared, bank.reviewer).record(new_row).session
    assert new_session.corrects is not None
    assert new_session.corrects.content_sha256 == first.content_sha256

    # The laptop: the signed revision kept byte for byte beside the amended one, intact.
    [kept] = store.revisions(first.uuid)
    path = store.revision_path(first.uuid, str(first.content_sha256))
    assert path.read_bytes() == on_disk
    assert kept.content_sha256 == first.content_sha256 and kept.status is Status.REVIEWED
    assert integrity(kept).state == INTACT
    assert integrity(store.load(first.uuid)).state == INTACT

    # The amendment is reviewed on its own, and that decision is applied.
    bank.decide(first.uuid, "approved", "已复测")
    assert sync(store, bank.shared).reviews_applied == 1
    assert store.load(first.uuid).review is not None
    assert [s.review_decision for s in store.summaries()] == ["approved"]
    assert pending(store, bank.shared) == []


def test_a_decision_on_the_first_revision_is_not_applied_to_the_amendment(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], bank: Bank, key: KeyFile
) -> None:
    first = signed_visit(store, info, checklists, key)
    sync(store, bank.shared)
    session = store.load(first.uuid)
    session.amend("张伟", "商户编号填错")
    store.save(session)
    # The supervisor decides on the record still in the store, while the laptop amends it.
    bank.decide(first.uuid, "has_issues", "请核对商户编号")
    assert sync(store, bank.shared).reviews_applied == 0  # a draft takes no decision
    session.change_details("张伟", {"merchant_number": "310104000000002"})
    store.save(session)
    save_sign(store, session, "张伟", "王老板", signer=key)
    report = sync(store, bank.shared)
    assert (report.pushed.added, report.reviews_applied) == ([first.uuid], 0)
    [summary] = store.summaries()
    assert (summary.status, summary.review_decision) == ("synced", "")
    again = store.load(first.uuid)
    assert again.review is None  # "synced" lives in the index; the file keeps what was signed
    assert not any(event.what == "reviewed" for event in again.events)


def test_an_amended_reviewed_visit_sent_again_is_its_last_signed_record(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], bank: Bank, key: KeyFile
) -> None:
    """Two "signed" events in the log: what is rebuilt is the record as signed the last time."""
    first = signed_visit(store, info, checklists, key)
    sync(store, bank.shared)
    amend_and_sign(store, first.uuid, key)
    sync(store, bank.shared)
    bank.decide(first.uuid, "approved", "已复测")
    sync(store, bank.shared)
    _old_row, new_row = shared_rows(bank, first.uuid)
    assert signed_record(store.read_raw(first.uuid)) == record_bytes(bank, new_row)
    (store.folder / "sync-ledger.json").unlink()  # the laptop forgot what it sent
    assert [s.uuid for s in pending(store, bank.shared)] == [first.uuid]
    again = sync(store, bank.shared)
    # Both revisions are offered again (the kept one too) and both are found there already.
    assert (again.pushed.unchanged, again.pushed.added) == ([first.uuid] * 2, [])
    assert len(shared_rows(bank, first.uuid)) == 2 and pending(store, bank.shared) == []


def test_a_revision_amended_before_it_was_ever_synced_reaches_the_share_too(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], bank: Bank, key: KeyFile
) -> None:
    first = signed_visit(store, info, checklists, key)
    amended = amend_and_sign(store, first.uuid, key)
    report = sync(store, bank.shared)
    assert report.pushed.added == [first.uuid, first.uuid]
    assert report.sentence().startswith("1 visit synced (2 revisions)")
    old_row, new_row = shared_rows(bank, first.uuid)
    assert (old_row["content_sha256"], new_row["content_sha256"]) == (
        first.content_sha256,
        amended.content_sha256,
    )
    assert (old_row["superseded"], new_row["superseded"]) == (True, False)
    assert [shared_state(bank, row) for row in (old_row, new_row)] == [VERIFIED, VERIFIED]
    assert check_store(bank.shared).ok
    again = sync(store, bank.shared)  # the ledger has both: nothing is sent twice
    assert (again.pushed.added, again.pushed.unchanged, again.pushed.batch) == ([], [], None)


def test_repair_sends_again_a_damaged_earlier_revision_from_the_kept_copy(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], bank: Bank, key: KeyFile
) -> None:
    first = signed_visit(store, info, checklists, key)
    sync(store, bank.shared)
    bank.decide(first.uuid, "has_issues", "撤销须重做")
    sync(store, bank.shared)
    amend_and_sign(store, first.uuid, key)
    sync(store, bank.shared)
    old_row, _new_row = shared_rows(bank, first.uuid)
    batch = bank.shared / BATCHES_DIR / old_row["batch"]
    os.chmod(batch, 0o644)
    batch.write_bytes(
        batch.read_bytes().replace("撤销后没有打印小票".encode(), "撤销正常".encode())
    )
    assert not check_store(bank.shared).ok
    assert sync(store, bank.shared, repair=True).pushed.repointed == [first.uuid]
    assert check_store(bank.shared).ok
    old_row, new_row = shared_rows(bank, first.uuid)
    assert [shared_state(bank, row) for row in (old_row, new_row)] == [VERIFIED, VERIFIED]


def test_the_items_a_decision_names_reach_the_laptop(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], bank: Bank, key: KeyFile
) -> None:
    first = signed_visit(store, info, checklists, key)
    sync(store, bank.shared)
    decision = bank.decide(first.uuid, "has_issues", "撤销须重做")
    named = decision | {"reviewer": bank.reviewer_name}
    # A pair of the wrong shape comes from the share: it is left out, the others kept.
    named["items"] = [["card", "void"], ["receipt"], ["receipt", "masked"]]
    assert apply_review(store, named) is not None
    [summary] = store.summaries()
    assert summary.review_items == ("card/void", "receipt/masked")
    review = store.load(first.uuid).review
    assert review is not None and review["items"] == [["card", "void"], ["receipt", "masked"]]


# -- what the laptop keeps -----------------------------------------------------------


def test_every_amendment_keeps_the_revision_it_corrects(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], key: KeyFile
) -> None:
    first = signed_visit(store, info, checklists, key)
    second = amend_and_sign(store, first.uuid, key)
    third = store.load(first.uuid)
    third.amend("张伟", "补充备注")
    store.save(third)
    kept = store.revisions(first.uuid)
    assert [s.content_sha256 for s in kept] == [first.content_sha256, second.content_sha256]
    assert [integrity(s).state for s in kept] == [INTACT, INTACT]
    assert store.revisions(Session.start(info, checklists).uuid) == []
    with pytest.raises(StoreError, match="never again"):
        recover_file(store.revision_path(first.uuid, str(first.content_sha256)))


def test_an_amendment_whose_corrected_revision_is_not_on_disk_is_refused(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], key: KeyFile
) -> None:
    first = signed_visit(store, info, checklists, key)
    session = store.load(first.uuid)
    session.amend("张伟", "补拍照片")
    store.close()
    # The file on disk is no longer the revision this amendment names (edited by hand).
    path = store.visit_path(first.uuid)
    document = json.loads(path.read_text("utf-8"))
    document["visit"]["1"]["answers"][0]["note"] = "改过的说明"
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    before = path.read_bytes()
    with LocalStore.open(store.folder) as reopened, pytest.raises(StoreError, match="kept nowhere"):
        reopened.save(session)
    assert path.read_bytes() == before
    assert not (store.folder / "revisions" / first.uuid / f"{first.content_sha256}.json").exists()


def test_a_key_the_record_no_longer_has_leaves_the_visit_file(
    store: LocalStore, photo_session: Session
) -> None:
    """The last photo of an amendment detached: its "evidence" must not come back on load."""
    [ref] = save_attach(store, photo_session, "site-photos", "storefront", [("门头.jpg", jpeg(3))])
    photo_session.detach("site-photos", "storefront", ref.sha256)
    store.save(photo_session)
    assert store.load(photo_session.uuid).evidence == {}
    assert "evidence" not in store.read_record(photo_session.uuid)[0]


KILLED_AMEND = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from pos_tui.store.local import LocalStore, recover_file

    folder, uuid, kill_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = LocalStore.open(folder)
    session = store.load(uuid)
    calls = 0

    def killing(real):
        # SIGKILL on the kill_at-th call that makes a file durable, renames or links one.
        def call(*args, **kwargs):
            global calls
            calls += 1
            if calls == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        return call

    for name in ("fsync", "replace", "link", "chmod", "unlink"):
        setattr(os, name, killing(getattr(os, name)))
    session.amend("张伟", "补充说明")
    store.save(session)
    print("saved", flush=True)
    """
)


def test_killed_anywhere_while_an_amendment_is_first_saved_nothing_is_lost(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], key: KeyFile
) -> None:
    """A real SIGKILL at each file operation of the archive and the save in turn."""
    first = signed_visit(store, info, checklists, key)
    folder, signed_bytes = store.folder, store.read_raw(first.uuid)
    store.close()
    kept = folder / "revisions" / first.uuid / f"{first.content_sha256}.json"
    outcomes: set[str] = set()
    for kill_at in range(1, 60):
        done = subprocess.run(
            [sys.executable, "-c", KILLED_AMEND, str(folder), first.uuid, str(kill_at)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "Traceback" not in done.stderr, done.stderr
        with LocalStore.open(folder) as reopened:
            now = reopened.load(first.uuid)
            [summary] = reopened.summaries()
            assert summary.status == str(now.status)  # the index follows the visit file
            if kept.exists():
                assert kept.read_bytes() == signed_bytes
            if now.amending:
                assert kept.read_bytes() == signed_bytes
                outcomes.add("amending")
            else:
                assert reopened.read_raw(first.uuid) == signed_bytes
                outcomes.add("kept" if kept.exists() else "untouched")
            assert not kept.parent.exists() or list(kept.parent.glob(".*")) == []
        if done.returncode == 0:
            assert "saved" in done.stdout
            break
        assert done.returncode == -signal.SIGKILL
        _put_back(folder, first.uuid, signed_bytes)
    else:
        pytest.fail("the amendment was never saved")
    # Killed before the archive, between it and the save, and after: all three were seen.
    assert outcomes == {"untouched", "kept", "amending"}


def _put_back(folder: Path, uuid: str, signed_bytes: bytes) -> None:
    """The next trial starts from the signed visit again; a kept revision stays kept."""
    path = folder / "visits" / f"{uuid}.json"
    if path.read_bytes() != signed_bytes:
        path.write_bytes(signed_bytes)
        with LocalStore.open(folder):
            pass  # opening for writing brings the index in line with the file put back


# -- discarded and follow-up visits ----------------------------------------------------


def test_a_discarded_draft_never_syncs_and_stays_listed(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], bank: Bank, key: KeyFile
) -> None:
    kept = signed_visit(store, info, checklists, key)
    draft = Session.start(info, checklists)
    store.create(draft)
    save_answer(store, draft, "card", "void", Outcome.PASS)
    draft.discard("张伟", "商户取消装机")
    store.save(draft)
    assert [s.uuid for s in pending(store, bank.shared)] == [kept.uuid]
    assert sync(store, bank.shared).pushed.added == [kept.uuid]
    assert sync(store, bank.shared, repair=True).pushed.added == []
    assert {row["uuid"] for row in SharedStore.open(bank.shared).rows()} == {kept.uuid}
    assert store.drafts() == []
    folder = store.folder
    store.close()
    runner = CliRunner()
    listed = runner.invoke(main, ["list", "--json", "--data-dir", str(folder)])
    assert {row["uuid"]: row["status"] for row in json.loads(listed.output)} == {
        kept.uuid: "synced",
        draft.uuid: "discarded",
    }
    only = runner.invoke(
        main, ["list", "--status", "discarded", "--json", "--data-dir", str(folder)]
    )
    assert only.exit_code == 0, only.output
    assert [row["uuid"] for row in json.loads(only.output)] == [draft.uuid]
    table = runner.invoke(main, ["list", "--data-dir", str(folder)], env={"COLUMNS": "120"})
    assert "discarded" in table.output


def test_a_follow_up_visit_syncs_as_its_own_visit(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], bank: Bank, key: KeyFile
) -> None:
    first = signed_visit(store, info, checklists, key)
    sync(store, bank.shared)
    follow = Session.start_follow_up(store.load(first.uuid), "张伟")
    store.create(follow)
    save_answer(store, follow, "card", "void", Outcome.PASS)
    save_sign(store, follow, "张伟", "王老板", signer=key)
    assert sync(store, bank.shared).pushed.added == [follow.uuid]
    [old_row] = shared_rows(bank, first.uuid)
    [new_row] = shared_rows(bank, follow.uuid)
    assert (old_row["superseded"], new_row["follow_up_of"]) == (False, first.uuid)
    assert [shared_state(bank, row) for row in (old_row, new_row)] == [VERIFIED, VERIFIED]
    assert pending(store, bank.shared) == []
