"""A sync killed anywhere is put right by the next one: statuses follow the ledger, orphan
batches are taken in, temporary files go, and the shared store passes its check.

Real processes killed with SIGKILL; no mocks. The kill points are chosen by seeded random
waits, and, for the deterministic tests, by the sync's own progress callback in the child
(it kills itself at a named stage)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pos_tui.demo import demo_sessions
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Status
from pos_tui.store.ledger import SyncLedger
from pos_tui.store.local import LocalStore
from pos_tui.store.os_lock import FileLock
from pos_tui.store.shared import BATCHES_DIR, LOCK_NAME, Outgoing, SharedBusy, SharedStore
from pos_tui.store.shared_check import check_store, orphan_batches, temp_files
from pos_tui.store.shared_index import journal_names, merged_document, shard_name, shard_names
from pos_tui.store.sync import apply_review, pending, sync
from pos_tui.store.targets import open_shared
from tests.helpers.bank import Bank, open_bank

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_CHECKLISTS = ROOT / "tests" / "fixtures" / "checklists"
KILLS = 32
MAX_TRIALS = 80


@pytest.fixture
def fixture_checklists() -> list[Checklist]:
    return load_checklists([FIXTURE_CHECKLISTS]).checklists


@pytest.fixture
def bank(tmp_path: Path) -> Bank:
    return open_bank(tmp_path, reviewer_name="李主管")


@pytest.fixture
def shared_dir(bank: Bank) -> Path:
    assert isinstance(bank.shared, Path)
    return bank.shared


@pytest.fixture
def kind_bank(tmp_path: Path, shared_target: Path | str) -> Bank:
    """For the faults of the laptop's side, which either kind of store must put right."""
    return open_bank(tmp_path, reviewer_name="李主管", shared=shared_target)


def add_visits(laptop: Path, checklists: list[Checklist], count: int, seed: int) -> None:
    with LocalStore.open(laptop) as store:
        store.bulk_add(demo_sessions(checklists, count, seed=seed))


def temp_files_anywhere(*folders: Path) -> list[Path]:
    return [path for folder in folders for path in folder.rglob(f".*{'.tmp'}")]


def assert_all_put_right(laptop: Path, shared: Path | str) -> None:
    with LocalStore.open(laptop, read_only=True) as store:
        statuses = {summary.status for summary in store.summaries()}
        assert pending(store, shared) == []
    assert statuses <= {Status.SYNCED, Status.REVIEWED}, statuses
    if isinstance(shared, str):  # a database: no files of its own, its records whole
        from pos_tui.store.pg.store import PgSharedStore

        with PgSharedStore.open(shared) as store:
            assert store.damaged_rows() == []
        assert temp_files_anywhere(laptop) == []
        return
    assert temp_files_anywhere(laptop, shared) == []
    assert orphan_batches(shared / BATCHES_DIR, merged_document(shared)) == []
    assert journal_names(shared) == []
    checked = check_store(shared)
    assert checked.ok, checked.lines()


def pos_tui_sync(laptop: Path, shared: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pos_tui", "--data-dir", str(laptop), "sync", "--to", str(shared)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def what_the_kill_left(laptop: Path, shared: Path) -> set[str]:
    left = set()
    index = merged_document(shared)
    if journal_names(shared):
        left.add("journal")
    if orphan_batches(shared / BATCHES_DIR, index):
        left.add("batch in no row")
    if temp_files_anywhere(laptop, shared):
        left.add("temporary file")
    indexed = {row["uuid"] for row in (index.get("visits") or {}).values()}
    ledger = SyncLedger(laptop, read_only=True)
    landed = ledger.landed(shared)
    with LocalStore.open(laptop, read_only=True) as store:
        for summary in store.summaries():
            known = landed.get(summary.uuid)
            if summary.uuid in indexed and known is None:
                left.add("indexed, not in the ledger")
            if known is not None and summary.status == Status.SIGNED:
                left.add("in the ledger, still signed")
            if known is not None and known.revision < summary.revision:
                left.add("decision not in the ledger")
    return left


def test_pos_tui_sync_killed_at_random_moments_is_put_right(
    tmp_path: Path, shared_dir: Path, fixture_checklists: list[Checklist], bank: Bank
) -> None:
    laptop = tmp_path / "laptop"
    rng = random.Random(20261201)
    kills = trials = 0
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    while kills < KILLS and trials < MAX_TRIALS:
        trials += 1
        add_visits(laptop, fixture_checklists, 2, seed=1000 + trials)
        shared = SharedStore.open(shared_dir)
        synced = sorted(row["uuid"] for row in shared.rows())
        if synced:
            bank.decide(rng.choice(synced), "approved", "已核对")
        process = pos_tui_sync(laptop, shared_dir)
        assert process.stderr is not None
        mode = rng.random()
        if mode < 0.8:
            # Once it says it is reading visits, the batch and index writes follow within
            # a few milliseconds, then the ledger, the laptop's index and the decisions.
            process.stderr.readline()
            time.sleep(rng.uniform(0, 0.008 if mode < 0.4 else 0.06))
        else:
            time.sleep(rng.uniform(0, 0.25))  # anywhere, start-up included
        os.kill(process.pid, signal.SIGKILL)
        _out, err = process.communicate(timeout=60)
        assert "Traceback" not in err, err
        if process.returncode == -signal.SIGKILL:
            kills += 1
            for left in what_the_kill_left(laptop, shared_dir) or {"nothing to mend"}:
                outcomes[left] = outcomes.get(left, 0) + 1
        else:
            assert process.returncode == 0, err
            outcomes["finished first"] = outcomes.get("finished first", 0) + 1
        with LocalStore.open(laptop) as store:
            sync(store, shared_dir)
        assert_all_put_right(laptop, shared_dir)
    elapsed = time.monotonic() - started
    print(f"\n{kills} kills in {trials} trials, {elapsed:.1f} s; after a kill: {outcomes}")
    assert kills >= 30
    checked = subprocess.run(
        [sys.executable, "-m", "pos_tui", "shared", "check", str(shared_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    status = subprocess.run(
        [
            *(sys.executable, "-m", "pos_tui", "--data-dir", str(laptop)),
            *("sync", "--to", str(shared_dir), "--status"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert status.stdout.startswith(f"0 visit(s) not yet synced to {shared_dir}"), status.stdout


KILL_ITSELF_AT = """
import os, signal, sys
from pathlib import Path
from pos_tui.store.local import LocalStore
from pos_tui.store.sync import sync
from pos_tui.store.targets import target_of
folder, shared, stage = Path(sys.argv[1]), target_of(sys.argv[2]), sys.argv[3]

def progress(at: str, done: int, total: int) -> None:
    if at == stage:
        os.kill(os.getpid(), signal.SIGKILL)

with LocalStore.open(folder) as store:
    sync(store, shared, progress)
"""


def sync_killed_at(laptop: Path, shared: Path | str, stage: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILL_ITSELF_AT), str(laptop), str(shared), stage],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


def test_a_batch_written_without_its_index_is_taken_in_by_the_next_sync(
    tmp_path: Path, shared_dir: Path, fixture_checklists: list[Checklist]
) -> None:
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 3, seed=1)
    sync_killed_at(laptop, shared_dir, "writing")  # the batch is written; no index yet
    [orphan] = orphan_batches(shared_dir / BATCHES_DIR, {})
    assert shard_names(shared_dir) == [] and len(journal_names(shared_dir)) == 1
    with LocalStore.open(laptop) as store:
        assert len(pending(store, shared_dir)) == 3
        report = sync(store, shared_dir)
    # The records of the orphan are indexed where they lie, and nothing is written twice.
    assert (report.pushed.adopted, len(report.pushed.unchanged), report.pushed.batch) == (
        3,
        3,
        None,
    )
    assert [path.name for path in (shared_dir / BATCHES_DIR).iterdir()] == [orphan]
    assert {row["batch"] for row in SharedStore.open(shared_dir).rows()} == {orphan}
    assert_all_put_right(laptop, shared_dir)


def test_a_sync_killed_after_the_database_committed_is_taken_as_landed_by_the_next(
    tmp_path: Path, pg_url: str, fixture_checklists: list[Checklist]
) -> None:
    """PostgreSQL's equivalent of the batch without its index: the records are in, the
    laptop's ledger is not written; the next sync finds them there and sends nothing."""
    bank = open_bank(tmp_path, reviewer_name="李主管", shared=pg_url)
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 3, seed=1)
    sync_killed_at(laptop, bank.shared, "writing")  # called once the push has committed
    with contextlib.closing(open_shared(pg_url)) as shared:
        assert len(shared.rows()) == 3
    with LocalStore.open(laptop) as store:
        assert len(pending(store, pg_url)) == 3
        report = sync(store, pg_url)
    assert (report.pushed.added, len(report.pushed.unchanged)) == ([], 3)
    with contextlib.closing(open_shared(pg_url)) as shared:
        assert len(shared.rows()) == 3
    assert_all_put_right(laptop, pg_url)


def test_a_copy_of_an_indexed_batch_is_left_by_a_sync_and_removed_by_adopt(
    tmp_path: Path, shared_dir: Path, fixture_checklists: list[Checklist]
) -> None:
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 2, seed=2)
    with LocalStore.open(laptop) as store:
        sync(store, shared_dir)
    [batch] = (shared_dir / BATCHES_DIR).iterdir()
    copy = batch.with_name("20200101T000000-copy-00000000.jsonl")
    copy.write_bytes(batch.read_bytes())
    add_visits(laptop, fixture_checklists, 1, seed=3)
    with LocalStore.open(laptop) as store:
        report = sync(store, shared_dir)
    # A sync costs what it sends: it does not compare every batch with the whole index.
    assert (report.pushed.adopted, report.pushed.removed_orphans) == (0, 0)
    assert check_store(shared_dir).orphans == [copy.name]
    adopted = SharedStore.open(shared_dir).adopt()
    assert (adopted.adopted, adopted.removed_orphans) == (0, 1)
    assert not copy.exists()
    assert_all_put_right(laptop, shared_dir)


def test_a_sync_killed_after_its_ledger_leaves_no_visit_signed(
    tmp_path: Path, kind_bank: Bank, fixture_checklists: list[Checklist]
) -> None:
    shared_dir = kind_bank.shared
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 2, seed=4)
    with LocalStore.open(laptop) as store:
        outgoing = [Outgoing(s.to_row(), store.read_raw(s.uuid)) for s in store.summaries()]
        with contextlib.closing(open_shared(shared_dir)) as shared:
            shared.push(outgoing, {"device_id": "laptop"})
        SyncLedger(laptop).add(
            shared_dir, [(o.row["uuid"], o.row["revision"], o.digest) for o in outgoing]
        )
        # Killed here, before the index said synced: the ledger already says it.
        assert {s.status for s in store.summaries()} == {Status.SIGNED}
        assert pending(store, shared_dir) == []
        report = sync(store, shared_dir)
        assert {s.status for s in store.summaries()} == {Status.SYNCED}
    assert report.settled == 2 and report.pushed.batch is None and report.pushed.added == []
    assert "2 visit(s) sent by an interrupted sync marked synced" in report.sentence()


def test_a_decision_applied_but_not_in_the_ledger_is_not_pending(
    tmp_path: Path, kind_bank: Bank, fixture_checklists: list[Checklist]
) -> None:
    bank, shared_dir = kind_bank, kind_bank.shared
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 2, seed=5)
    with LocalStore.open(laptop) as store:
        sync(store, shared_dir)
        uuid = store.summaries()[0].uuid
        decision = bank.decide(uuid, "has_issues", "补拍") | {"reviewer": "李主管"}
        assert apply_review(store, decision) is not None  # killed before the ledger row
        assert SyncLedger(laptop).synced(shared_dir)[uuid] < store.summaries()[0].revision
        assert pending(store, shared_dir) == []
        report = sync(store, shared_dir)
        assert report.pushed.batch is None and report.reviews_applied == 0
        assert report.pushed.added == []
        assert SyncLedger(laptop).synced(shared_dir)[uuid] == store.load(uuid).revision
    assert_all_put_right(laptop, shared_dir)


def stale_temp_files(shared: Path) -> list[Path]:
    (shared / "checklists").mkdir(exist_ok=True)
    (shared / "index" / "journal").mkdir(parents=True, exist_ok=True)
    made = [
        shared / ".index.json.4242.tmp",
        shared / ".index.json.bak.4242.tmp",
        shared / ".reviews.json.4242.tmp",
        shared / "index" / "journal" / ".3fa.json.4242.tmp",
        shared / "index" / "journal" / ".3fa.json.bak.4242.tmp",
        shared / "index" / "journal" / ".20260101T000000-laptop-0000aaaa.jsonl.4242.tmp",
        shared / "index" / "journal" / ".20260101T000000-0000.json.4242.tmp",
        shared / "checklists" / f".{'0' * 64}.yaml.4242.tmp",
    ]
    for path in made:
        path.write_bytes(b'{"half": ')
    return made


def test_temporary_files_left_by_killed_writers_are_removed_under_the_lock(
    tmp_path: Path, shared_dir: Path, fixture_checklists: list[Checklist]
) -> None:
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 1, seed=6)
    made = stale_temp_files(shared_dir)
    # While another laptop holds the lock its temporary files may be live: none is touched.
    with (
        FileLock(shared_dir / LOCK_NAME),
        LocalStore.open(laptop) as store,
        pytest.raises(SharedBusy),
    ):
        sync(store, shared_dir, lock_timeout=0.2)
    assert all(path.exists() for path in made)
    with LocalStore.open(laptop) as store:
        report = sync(store, shared_dir)
    assert report.pushed.removed_temp_files == len(made)
    assert temp_files(shared_dir) == []
    assert_all_put_right(laptop, shared_dir)


def test_a_shard_staged_beside_the_index_by_an_earlier_version_is_removed_by_adopt(
    tmp_path: Path, shared_dir: Path, fixture_checklists: list[Checklist]
) -> None:
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 1, seed=8)
    (shared_dir / "index").mkdir(exist_ok=True)
    # Shards are staged in the journal's folder now: index/, of thousands of files, is
    # listed only by a full pass.
    stale = shared_dir / "index" / ".3fa.json.4242.tmp"
    stale.write_bytes(b'{"half": ')
    with LocalStore.open(laptop) as store:
        sync(store, shared_dir)
    assert stale.exists()
    SharedStore.open(shared_dir).adopt()
    assert not stale.exists() and temp_files(shared_dir) == []


def test_a_temporary_batch_of_an_earlier_version_is_removed_by_adopt(
    tmp_path: Path, shared_dir: Path, fixture_checklists: list[Checklist]
) -> None:
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 1, seed=7)
    # Earlier versions staged their batch in batches/, which a sync no longer lists.
    stale = shared_dir / BATCHES_DIR / ".20260101T000000-laptop-0000aaaa.jsonl.4242.tmp"
    stale.write_bytes(b'{"half": ')
    with LocalStore.open(laptop) as store:
        sync(store, shared_dir)
    assert temp_files(shared_dir) == [stale]
    assert SharedStore.open(shared_dir).adopt().removed_temp_files == 1
    assert_all_put_right(laptop, shared_dir)


# -- the sharded index: a write killed between its journal, its batch and its shards ----

KILL_AT_INDEX_STAGE = """
import os, signal, sys
from pathlib import Path
from pos_tui.store import shared_index
from pos_tui.store.local import LocalStore
from pos_tui.store.sync import sync
folder, shared, stage, nth = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
seen = []

def hook(at: str) -> None:
    seen.append(at)
    if seen.count(stage) == nth:
        os.kill(os.getpid(), signal.SIGKILL)

shared_index.stage_hook = hook
with LocalStore.open(folder) as store:
    sync(store, shared)
"""


def sync_killed_at_index_stage(laptop: Path, shared: Path, stage: str, nth: int = 1) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-c", textwrap.dedent(KILL_AT_INDEX_STAGE)),
            *(str(laptop), str(shared), stage, str(nth)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


def uuids_over_shards(laptop: Path) -> tuple[set[str], set[str]]:
    with LocalStore.open(laptop, read_only=True) as store:
        uuids = {summary.uuid for summary in store.summaries()}
    return uuids, {shard_name(uuid) for uuid in uuids}


def assert_each_once(shared: Path, uuids: set[str]) -> None:
    rows = SharedStore.open(shared).rows()
    assert sorted(row["uuid"] for row in rows) == sorted(uuids)  # nothing lost or doubled


def test_killed_between_journal_and_batch_the_journal_is_dropped_and_all_sent_again(
    tmp_path: Path, shared_dir: Path, fixture_checklists: list[Checklist]
) -> None:
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 6, seed=11)
    uuids, _shards = uuids_over_shards(laptop)
    sync_killed_at_index_stage(laptop, shared_dir, "journal")
    assert len(journal_names(shared_dir)) == 1
    assert list((shared_dir / BATCHES_DIR).iterdir()) == []
    with LocalStore.open(laptop) as store:
        report = sync(store, shared_dir)
    assert (len(report.pushed.added), report.pushed.adopted) == (6, 0)
    assert len(list((shared_dir / BATCHES_DIR).iterdir())) == 1
    assert_each_once(shared_dir, uuids)
    assert_all_put_right(laptop, shared_dir)


def test_killed_between_batch_and_shards_the_journal_is_finished(
    tmp_path: Path, shared_dir: Path, fixture_checklists: list[Checklist]
) -> None:
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 6, seed=12)
    uuids, _shards = uuids_over_shards(laptop)
    sync_killed_at_index_stage(laptop, shared_dir, "batch")
    [batch] = (shared_dir / BATCHES_DIR).iterdir()
    assert shard_names(shared_dir) == []
    # Said, not counted as damage or as an orphan: the next write finishes it.
    checked = check_store(shared_dir)
    assert checked.ok and checked.orphans == [] and len(checked.journals) == 1
    with LocalStore.open(laptop) as store:
        report = sync(store, shared_dir)
    assert (report.pushed.adopted, len(report.pushed.unchanged), report.pushed.batch) == (
        6,
        6,
        None,
    )
    assert [path.name for path in (shared_dir / BATCHES_DIR).iterdir()] == [batch.name]
    assert_each_once(shared_dir, uuids)
    assert_all_put_right(laptop, shared_dir)


def test_killed_between_two_shards_the_rest_is_put_in_and_nothing_doubled(
    tmp_path: Path, shared_dir: Path, fixture_checklists: list[Checklist]
) -> None:
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 6, seed=13)
    uuids, shards = uuids_over_shards(laptop)
    assert len(shards) >= 2
    sync_killed_at_index_stage(laptop, shared_dir, "shard")
    assert len(shard_names(shared_dir)) == 1 and len(journal_names(shared_dir)) == 1
    half = SharedStore.open(shared_dir).rows()
    assert 0 < len(half) < 6
    with LocalStore.open(laptop) as store:
        report = sync(store, shared_dir)
    # The journal is applied again whole: the shard written before the kill keeps its rows
    # once (they are put at the ids the journal names), the others get theirs.
    assert (report.pushed.adopted, len(report.pushed.unchanged), report.pushed.batch) == (
        6,
        6,
        None,
    )
    assert sorted(shard_names(shared_dir)) == sorted(shards)
    assert_each_once(shared_dir, uuids)
    assert_all_put_right(laptop, shared_dir)


def test_a_second_sync_killed_between_shards_keeps_the_flags_of_the_first(
    tmp_path: Path, shared_dir: Path, fixture_checklists: list[Checklist], bank: Bank
) -> None:
    laptop = tmp_path / "laptop"
    add_visits(laptop, fixture_checklists, 6, seed=14)
    with LocalStore.open(laptop) as store:
        sync(store, shared_dir)
    uuids, _shards = uuids_over_shards(laptop)
    # A decision makes a new revision of a visit: its next sync marks the earlier superseded.
    decided = sorted(uuids)[0]
    bank.decide(decided, "has_issues", "补拍")
    with LocalStore.open(laptop) as store:
        sync(store, shared_dir)
    add_visits(laptop, fixture_checklists, 4, seed=15)
    uuids, _shards = uuids_over_shards(laptop)
    sync_killed_at_index_stage(laptop, shared_dir, "shard")
    with LocalStore.open(laptop) as store:
        sync(store, shared_dir)
    rows = SharedStore.open(shared_dir).rows()
    assert {row["uuid"] for row in rows} == uuids
    assert len(rows) == len({(row["uuid"], row["revision"]) for row in rows})
    superseded = [row for row in rows if row.get("superseded")]
    assert all(row["uuid"] == decided for row in superseded)
    assert_all_put_right(laptop, shared_dir)
