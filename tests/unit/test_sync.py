"""Sync into a shared store on real files: idempotent, never overwrites, survives faults."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session, Status
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.ledger import SyncLedger
from pos_tui.store.local import LocalStore
from pos_tui.store.os_lock import FileLock
from pos_tui.store.shared import LOCK_NAME, SharedBusy, SharedMissing, SharedStore
from pos_tui.store.storage import StoreError
from pos_tui.store.sync import pending, signed_record, sync
from tests.helpers.bank import Bank, open_bank
from tests.helpers.kinds import is_pg, read_record, rows, state
from tests.helpers.visits import save_answer, save_sign

ROOT = Path(__file__).resolve().parents[2]


def index_files(shared: Path) -> dict[str, bytes]:
    """Every file of the shared index as it lies (shards, journals, an old index.json)."""
    found = {
        path.name: path.read_bytes() for path in (shared / "index").rglob("*") if path.is_file()
    }
    if (shared / "index.json").exists():
        found["index.json"] = (shared / "index.json").read_bytes()
    return found


def signed_visit(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], note: str
) -> Session:
    session = Session.start(info, checklists)
    store.create(session)
    save_answer(store, session, "card", "void", Outcome.FAIL, note=note)
    save_sign(store, session, info.technician, "王老板")
    return session


@pytest.fixture
def bank(tmp_path: Path, shared_target: Path | str) -> Bank:
    """A bank's store of either kind: the semantic tests run against a folder and a database."""
    return open_bank(tmp_path, reviewer_name="李主管", shared=shared_target)


@pytest.fixture
def target(bank: Bank) -> Path | str:
    return bank.shared


@pytest.fixture
def folder_bank(tmp_path: Path) -> Bank:
    return open_bank(tmp_path, reviewer_name="李主管")


@pytest.fixture
def shared_dir(folder_bank: Bank) -> Path:
    """For the tests of a folder's own faults (a share unplugged, a full disk, its lock)."""
    assert isinstance(folder_bank.shared, Path)
    return folder_bank.shared


def test_signed_visits_sync_and_drafts_stay(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], target: Path | str
) -> None:
    signed = signed_visit(store, info, checklists, "打印机缺纸")
    draft = Session.start(info, checklists)
    store.create(draft)
    report = sync(store, target, create=True)
    assert report.pushed.added == [signed.uuid]
    [row] = rows(target)
    assert (row["uuid"], row["revision"], row["status"]) == (signed.uuid, signed.revision, "signed")
    assert row["content_sha256"] == signed.content_sha256
    record = read_record(target, row)
    assert record["visit"]["answers"][0]["note"] == "打印机缺纸"
    assert [e["what"] for e in record["events"]] == ["created", "answered", "signed"]
    assert {s.uuid: s.status for s in store.summaries()} == {
        signed.uuid: Status.SYNCED,
        draft.uuid: Status.DRAFT,
    }
    assert pending(store, target) == []


def test_a_second_sync_adds_nothing(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], target: Path | str
) -> None:
    for n in range(3):
        signed_visit(store, info, checklists, f"第{n}次")
    sync(store, target, create=True)
    before = state(target)
    assert len(rows(target)) == 3
    again = sync(store, target)
    assert (again.pushed.added, again.pushed.conflicts) == ([], [])
    assert state(target) == before


def test_resending_the_same_version_is_a_no_op(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], target: Path | str
) -> None:
    signed_visit(store, info, checklists, "ok")
    sync(store, target, create=True)
    before = state(target)
    (store.folder / "sync-ledger.json").unlink()  # the laptop forgot what it sent
    again = sync(store, target)
    assert len(again.pushed.unchanged) == 1 and again.pushed.added == []
    assert len(rows(target)) == 1
    if is_pg(target):  # the folder writes no batch either, tested above
        assert state(target) == before


def test_same_version_with_other_content_is_kept_as_a_conflict(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], target: Path | str
) -> None:
    session = signed_visit(store, info, checklists, "原始说明")
    sync(store, target, create=True)
    path = store.visit_path(session.uuid)
    path.write_text(path.read_text("utf-8").replace("原始说明", "改过的说明"), "utf-8")
    (store.folder / "sync-ledger.json").unlink()
    report = sync(store, target)
    assert report.pushed.conflicts == [session.uuid]
    found = rows(target)
    assert len(found) == 2 and all(row["conflict"] for row in found)
    notes = sorted(read_record(target, row)["visit"]["answers"][0]["note"] for row in found)
    assert notes == ["原始说明", "改过的说明"]


def test_review_decisions_come_back_and_are_not_sent_again(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], target: Path | str, bank: Bank
) -> None:
    session = signed_visit(store, info, checklists, "撤销失败")
    sync(store, target, create=True)
    bank.decide(session.uuid, "has_issues", "请补拍小票")
    report = sync(store, target)
    assert report.reviews_applied == 1
    reviewed = store.load(session.uuid)
    assert reviewed.status is Status.REVIEWED
    assert reviewed.revision == session.revision + 1
    assert reviewed.events[-1].detail["comment"] == "请补拍小票"
    assert reviewed.events[-1].who == "李主管"
    # The decision is the shared store's own news: the signed record there stays the one.
    assert pending(store, target) == []
    before = state(target)
    again = sync(store, target)
    assert (again.reviews_applied, again.pushed.added, again.pushed.batch) == (0, [], None)
    assert state(target) == before
    [row] = rows(target)
    assert row["revision"] == session.revision
    assert (row["status"], row["superseded"]) == ("signed", False)


def test_a_reviewed_visit_sent_again_is_its_signed_record(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], target: Path | str, bank: Bank
) -> None:
    session = signed_visit(store, info, checklists, "x")
    other = signed_visit(store, info, checklists, "y")
    sync(store, target, create=True)
    signed_bytes = store.read_raw(session.uuid)
    # Decisions come back by what is new since the last sync: each one once.
    for decision in ("has_issues", "approved"):
        bank.decide(session.uuid, decision, "已核对")
        assert sync(store, target).reviews_applied == 1
    bank.decide(other.uuid, "approved", "已核对")
    assert sync(store, target).reviews_applied == 1
    assert store.load(session.uuid).revision == session.revision + 2
    assert store.load(other.uuid).revision == other.revision + 1
    assert signed_record(store.read_raw(session.uuid)) == signed_bytes
    (store.folder / "sync-ledger.json").unlink()  # the laptop forgot what it sent
    assert len(pending(store, target)) == 2
    again = sync(store, target)
    assert sorted(again.pushed.unchanged) == sorted([session.uuid, other.uuid])
    assert again.pushed.added == []
    # Read again from the start of the log, the decisions already applied change nothing.
    assert store.load(session.uuid).revision == session.revision + 2
    assert len(rows(target)) == 2 and pending(store, target) == []


def test_a_later_revision_supersedes_the_earlier(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], target: Path | str
) -> None:
    session = signed_visit(store, info, checklists, "第一版")
    sync(store, target, create=True)
    path = store.visit_path(session.uuid)
    document = json.loads(path.read_text("utf-8"))
    document["visit"]["1"]["revision"] += 1
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    (store.folder / "sync-ledger.json").unlink()
    store.close()
    (store.folder / "index.json").unlink()
    with LocalStore.open(store.folder) as reopened:  # the index is rebuilt from the file
        assert sync(reopened, target).pushed.added == [session.uuid]
    found = sorted(rows(target), key=lambda row: row["revision"])
    assert [(row["revision"], row["superseded"]) for row in found] == [
        (session.revision, True),
        (session.revision + 1, False),
    ]


def test_missing_target_is_a_clear_error_and_nothing_changes(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], tmp_path: Path
) -> None:
    signed_visit(store, info, checklists, "x")
    with pytest.raises(SharedMissing, match="is not there"):
        sync(store, tmp_path / "not-mounted", create=True)
    assert not (tmp_path / "not-mounted").exists()
    assert len(pending(store, tmp_path / "not-mounted")) == 1


def test_target_that_disappears_mid_sync(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], shared_dir: Path
) -> None:
    for n in range(3):
        signed_visit(store, info, checklists, f"{n}")
    sync(store, shared_dir, create=True)
    for n in range(3):
        signed_visit(store, info, checklists, f"new {n}")
    away = shared_dir.with_name("unplugged")

    def pull_the_stick(stage: str, done: int, total: int) -> None:
        if stage == "reading" and done == 2:
            shared_dir.rename(away)

    with pytest.raises(StoreError):
        sync(store, shared_dir, pull_the_stick)
    away.rename(shared_dir)
    assert len(SharedStore.open(shared_dir).rows()) == 3
    assert len(pending(store, shared_dir)) == 3
    assert len(sync(store, shared_dir).pushed.added) == 3
    assert len(SharedStore.open(shared_dir).rows()) == 6


def test_a_busy_shared_store_gives_up_with_a_message(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], shared_dir: Path
) -> None:
    signed_visit(store, info, checklists, "x")
    sync(store, shared_dir, create=True)
    signed_visit(store, info, checklists, "y")
    with FileLock(shared_dir / LOCK_NAME), pytest.raises(SharedBusy, match="busy"):
        sync(store, shared_dir, lock_timeout=0.2)
    assert len(pending(store, shared_dir)) == 1


def python(script: str, *args: str, limit: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


FILL_AND_SYNC = """
import sys
from pathlib import Path
from pos_tui.demo import demo_sessions
from pos_tui.domain.loader import load_checklists
from pos_tui.store.local import LocalStore
from pos_tui.store.os_lock import FileLock
from pos_tui.store.sync import sync
folder, shared, count, seed, rounds = Path(sys.argv[1]), Path(sys.argv[2]), *map(int, sys.argv[3:6])
checklists = load_checklists([Path("tests/fixtures/checklists")]).checklists
sessions = demo_sessions(checklists, count * rounds, seed=seed)
with LocalStore.open(folder) as store:
    for _ in range(rounds):
        store.bulk_add(next(sessions) for _ in range(count))
        report = sync(store, shared, lock_timeout=60)
        print("synced", len(report.pushed.added), flush=True)
"""


def test_two_laptops_syncing_at_once_both_land_everything(tmp_path: Path, shared_dir: Path) -> None:
    laptops = [
        python(FILL_AND_SYNC, str(tmp_path / f"laptop{n}"), str(shared_dir), "5", str(n), "20")
        for n in (1, 2)
    ]
    for laptop in laptops:
        out, err = laptop.communicate(timeout=300)
        assert laptop.returncode == 0, err
        assert out.count("synced 5") == 20
    rows = SharedStore.open(shared_dir).rows()
    assert len(rows) == 200
    assert len({row["uuid"] for row in rows}) == 200
    for n in (1, 2):
        with LocalStore.open(tmp_path / f"laptop{n}", read_only=True) as store:
            assert pending(store, shared_dir) == []


def test_full_disk_on_the_share_loses_nothing(tmp_path: Path, shared_dir: Path) -> None:
    laptop = tmp_path / "laptop"
    first = python(FILL_AND_SYNC, str(laptop), str(shared_dir), "3", "1", "1")
    assert first.wait(timeout=120) == 0
    index_before = index_files(shared_dir)
    script = """
    import resource, signal, sys
    from pathlib import Path
    from pos_tui.demo import demo_sessions
    from pos_tui.domain.loader import load_checklists
    from pos_tui.store.local import LocalStore
    from pos_tui.store.storage import StoreError
    from pos_tui.store.sync import sync
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    checklists = load_checklists([Path("tests/fixtures/checklists")]).checklists
    with LocalStore.open(Path(sys.argv[1])) as store:
        store.bulk_add(demo_sessions(checklists, 30, seed=9))
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        try:
            sync(store, Path(sys.argv[2]))
        except StoreError as error:
            print(error)
            raise SystemExit(3)
    """
    full = python(script, str(laptop), str(shared_dir))
    out, err = full.communicate(timeout=120)
    assert full.returncode == 3, err
    assert "Could not save" in out and "disk is full" in out
    assert index_files(shared_dir) == index_before  # no journal left either
    assert not list(shared_dir.rglob(".*.tmp"))
    with LocalStore.open(laptop) as store:
        assert len(pending(store, shared_dir)) == 30
        assert len(sync(store, shared_dir).pushed.added) == 30


def test_sync_killed_at_random_moments_loses_nothing(tmp_path: Path, shared_dir: Path) -> None:
    laptop = tmp_path / "laptop"
    rng = random.Random(5)
    expected = 0
    for trial in range(12):
        process = python(FILL_AND_SYNC, str(laptop), str(shared_dir), "4", str(100 + trial), "1")
        assert process.stdout is not None
        if rng.random() < 0.7:
            # Kill somewhere between start-up and the end of the sync.
            process.stdout.read(rng.randrange(0, 3))
            os.kill(process.pid, signal.SIGKILL)
        _out, err = process.communicate(timeout=120)
        assert "Traceback" not in err, err
        SharedStore.open(shared_dir).rows()  # every index file readable
        expected = len(SyncLedger(laptop).history()) if laptop.exists() else 0
    with LocalStore.open(laptop) as store:
        made = len(store.summaries())
        sync(store, shared_dir)
        assert pending(store, shared_dir) == []
    rows = SharedStore.open(shared_dir).rows()
    assert len({row["uuid"] for row in rows}) == made >= expected
    shared = SharedStore.open(shared_dir)
    for row in rows:
        assert shared.read_record(row)["visit"]["uuid"] == row["uuid"]


def test_sync_command_reports_and_status_lists_pending(
    tmp_path: Path,
    store: LocalStore,
    info: VisitInfo,
    checklists: list[Checklist],
    shared_dir: Path,
) -> None:
    signed_visit(store, info, checklists, "x")
    store.close()
    command = [sys.executable, "-m", "pos_tui", "sync", "--data-dir", str(store.folder)]
    status = subprocess.run(
        [*command, "--to", str(shared_dir), "--status"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert status.returncode == 0, status.stderr
    assert f"1 visit(s) not yet synced to {shared_dir}" in status.stdout
    env = dict(os.environ, POS_TUI_SHARED_STORE=str(shared_dir))
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr
    said, asked = done.stdout.strip().splitlines()
    assert said == f"Sync complete: 1 visit synced ({shared_dir})."
    # The first sync into a store with a keyring asks for this laptop to be trusted.
    assert asked.startswith("Asked the shared store's administrator to trust this laptop")
    missing = subprocess.run(
        [*command, "--to", str(tmp_path / "gone")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1
    assert "is not there" in missing.stderr and "Traceback" not in missing.stderr
    assert SharedStore.open(shared_dir).rows()
    shutil.rmtree(shared_dir / "batches")


def test_sync_status_after_a_decision_lists_nothing_and_sync_sends_nothing(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], target: Path | str, bank: Bank
) -> None:
    session = signed_visit(store, info, checklists, "x")
    store.close()
    command = [sys.executable, "-m", "pos_tui", "--data-dir", str(store.folder), "sync"]
    command += ["--to", str(target)]

    def run(*extra: str) -> str:
        done = subprocess.run(
            [*command, *extra], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert run().startswith("Sync complete: 1 visit synced")
    bank.decide(session.uuid, "approved", "已核对小票")
    assert "1 review decision(s) received" in run()
    assert run("--status").startswith(f"0 visit(s) not yet synced to {target}")
    before = state(target)
    assert run() == f"Sync complete: 0 visits synced ({target}).\n"
    assert state(target) == before
    with LocalStore.open(store.folder, read_only=True) as reopened:
        assert [s.status for s in reopened.summaries()] == [Status.REVIEWED]
    both = subprocess.run(
        [*command, "--status", "--repair"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert both.returncode == 1 and "without --repair" in both.stderr
