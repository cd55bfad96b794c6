"""The shared index in shards: a sync touches only the shards of what it sends, a journal
applied twice is applied once, an old single index.json is read and moved into shards.

Real stores on disk; the kill of a migration is a real process killed with SIGKILL."""

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

from pos_tui.demo import demo_sessions
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import SharedStore
from pos_tui.store.shared_check import check_store
from pos_tui.store.shared_index import (
    Change,
    apply,
    journal_dir,
    journal_names,
    recover,
    shard_name,
    shard_names,
    shard_path,
)
from pos_tui.store.storage import StoreDamaged, write_json_atomically
from pos_tui.store.sync import pending, sync
from tests.helpers.bank import Bank, open_bank
from tests.helpers.visits import save_answer, save_sign

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_CHECKLISTS = ROOT / "tests" / "fixtures" / "checklists"
DEEP = b"[" * 200 + b"]" * 200


@pytest.fixture
def fixture_checklists() -> list[Checklist]:
    return load_checklists([FIXTURE_CHECKLISTS]).checklists


@pytest.fixture
def bank(tmp_path: Path) -> Bank:
    return open_bank(tmp_path, reviewer_name="李主管")


def add_visits(laptop: Path, checklists: list[Checklist], count: int, seed: int) -> set[str]:
    with LocalStore.open(laptop) as store:
        made = list(demo_sessions(checklists, count, seed=seed))
        store.bulk_add(made)
    return {session.uuid for session in made}


def signed_visit(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], prefix: str = ""
) -> str:
    """A signed visit, its uuid starting with `prefix` (so in that shard) when given."""
    session = Session.start(info, checklists)
    if prefix:
        session.uuid = prefix + session.uuid[len(prefix) :]
    store.create(session)
    save_answer(store, session, "card", "void", Outcome.FAIL, note="x")
    save_sign(store, session, info.technician, "王老板")
    return session.uuid


def synced_laptop(tmp_path: Path, shared: Path, checklists: list[Checklist], count: int) -> Path:
    laptop = tmp_path / "laptop"
    add_visits(laptop, checklists, count, seed=21)
    with LocalStore.open(laptop) as store:
        sync(store, shared)
    return laptop


def index_state(shared: Path) -> dict[str, tuple[int, bytes]]:
    return {
        path.name: (path.stat().st_ino, path.read_bytes())
        for path in sorted((shared / "index").glob("*.json"))
    }


def test_a_row_lives_in_the_shard_of_its_uuids_first_three_hex_digits() -> None:
    assert shard_name("3fa85f64-5717-4562-b3fc-2c963f66afa6") == "3fa"
    for odd in ("", "x", "ab", "ZZ99", "3F00", 7, None):
        assert shard_name(odd) == "other"


def test_a_sync_rewrites_only_the_shards_of_the_visits_it_sends(
    tmp_path: Path, bank: Bank, fixture_checklists: list[Checklist]
) -> None:
    laptop = synced_laptop(tmp_path, bank.shared, fixture_checklists, 8)
    before = index_state(bank.shared)
    [new] = add_visits(laptop, fixture_checklists, 1, seed=22)
    with LocalStore.open(laptop) as store:
        assert sync(store, bank.shared).pushed.added == [new]
    after = index_state(bank.shared)
    mine = shard_path(bank.shared, shard_name(new)).name
    assert {name for name in after if after[name] != before.get(name)} == {mine}
    assert journal_names(bank.shared) == []
    assert len(SharedStore.open(bank.shared).rows()) == 9


def test_a_journal_applied_twice_is_applied_once(tmp_path: Path) -> None:
    change = Change(
        batch=None,
        put=[("abc", "3", {"uuid": "abc-1", "n": 1}), ("cde", "1", {"uuid": "cde-1"})],
        update=[("abc", "1", {"conflict": True}), ("abc", "9", {"conflict": True})],
        remove=[("abc", "2")],
    )
    (tmp_path / "index").mkdir()
    write_json_atomically(
        shard_path(tmp_path, "abc"), {"visits": {"1": {"uuid": "abc-0"}, "2": {"uuid": "bad"}}}
    )
    apply(tmp_path, change)
    once = {name: shard_path(tmp_path, name).read_bytes() for name in ("abc", "cde")}
    apply(tmp_path, change)
    assert {name: shard_path(tmp_path, name).read_bytes() for name in ("abc", "cde")} == once
    assert json.loads(once["abc"]) == {
        "visits": {"1": {"uuid": "abc-0", "conflict": True}, "3": {"uuid": "abc-1", "n": 1}}
    }


def test_a_journal_whose_batch_never_landed_is_dropped_and_one_whose_batch_did_is_applied(
    tmp_path: Path,
) -> None:
    (tmp_path / "batches").mkdir()
    (tmp_path / "batches" / "20260101T000000-a-00000001.jsonl").write_bytes(b"{}\n")
    journal_dir(tmp_path).mkdir(parents=True)
    landed = Change("20260101T000000-a-00000001.jsonl", put=[("abc", "1", {"uuid": "abc"})])
    lost = Change("20260101T000000-a-00000002.jsonl", put=[("cde", "1", {"uuid": "cde"})])
    write_json_atomically(journal_dir(tmp_path) / "1-landed.json", landed.to_json())
    write_json_atomically(journal_dir(tmp_path) / "2-lost.json", lost.to_json())
    done = recover(tmp_path, tmp_path / "batches")
    assert (done.rows, done.dropped) == (1, 1)
    assert shard_names(tmp_path) == ["abc"] and journal_names(tmp_path) == []


def test_a_journal_that_is_not_one_is_set_aside_and_the_sync_goes_on(
    tmp_path: Path, bank: Bank, fixture_checklists: list[Checklist]
) -> None:
    laptop = synced_laptop(tmp_path, bank.shared, fixture_checklists, 2)
    journal_dir(bank.shared).mkdir(parents=True, exist_ok=True)
    hostile = journal_dir(bank.shared) / "20260101T000000-x.json"
    hostile.write_text(json.dumps({"put": [["../../etc", "1", {}]]}), "utf-8")
    if hasattr(os, "mkfifo"):
        os.mkfifo(journal_dir(bank.shared) / "20260101T000001-fifo.json")
    add_visits(laptop, fixture_checklists, 1, seed=23)
    with LocalStore.open(laptop) as store:
        assert len(sync(store, bank.shared).pushed.added) == 1
    assert journal_names(bank.shared) == []
    assert hostile.with_name(hostile.name + ".damaged").exists()
    assert not (bank.shared / "etc").exists()
    assert len(SharedStore.open(bank.shared).rows()) == 3


def test_a_deep_shard_is_damage_and_a_sync_into_other_shards_still_lands(
    tmp_path: Path, bank: Bank, info: VisitInfo, checklists: list[Checklist]
) -> None:
    laptop = tmp_path / "laptop"
    with LocalStore.open(laptop) as store:
        first = signed_visit(store, info, checklists)
        sync(store, bank.shared)
        spoiled = shard_path(bank.shared, "fff" if shard_name(first) != "fff" else "ffe")
        spoiled.write_bytes(b'{"visits": ' + DEEP + b"}")
        with pytest.raises(StoreDamaged, match=str(spoiled)):
            SharedStore.open(bank.shared).rows()  # a full read
        # A sync reads only the shards of what it sends.
        elsewhere = signed_visit(store, info, checklists, prefix=shard_name(first))
        assert sync(store, bank.shared).pushed.added == [elsewhere]
        inside = signed_visit(store, info, checklists, prefix=spoiled.stem)
        with pytest.raises(StoreDamaged, match=str(spoiled)):
            sync(store, bank.shared)
        assert [s.uuid for s in pending(store, bank.shared)] == [inside]  # nothing half-sent
    assert journal_names(bank.shared) == []


def make_legacy(shared: Path) -> list[dict[str, Any]]:
    """The index as a store made before the shards held it: one index.json."""
    rows = SharedStore.open(shared).rows()
    (shared / "index.json").write_text(
        json.dumps({"visits": {str(n): row for n, row in enumerate(rows, start=1)}}), "utf-8"
    )
    for path in (shared / "index").glob("*.json*"):
        path.unlink()
    return rows


def test_an_old_single_index_is_read_and_moved_into_shards_by_the_first_write(
    tmp_path: Path, bank: Bank, fixture_checklists: list[Checklist]
) -> None:
    laptop = synced_laptop(tmp_path, bank.shared, fixture_checklists, 5)
    rows = make_legacy(bank.shared)
    assert shard_names(bank.shared) == []
    assert SharedStore.open(bank.shared).rows() == rows
    assert check_store(bank.shared).ok and check_store(bank.shared).records == 5
    with LocalStore.open(laptop) as store:
        assert pending(store, bank.shared) == []
    add_visits(laptop, fixture_checklists, 1, seed=25)
    with LocalStore.open(laptop) as store:
        assert len(sync(store, bank.shared).pushed.added) == 1
    assert not (bank.shared / "index.json").exists()
    assert (bank.shared / "index.json.migrated").exists()
    after = SharedStore.open(bank.shared).rows()
    assert len(after) == 6 and all(row in after for row in rows)
    checked = check_store(bank.shared)
    assert checked.ok and checked.records == 6 and checked.orphans == []


KILL_IN_MIGRATION = """
import os, signal, sys
from pathlib import Path
from typing import Any
from pos_tui.store import shared_index
from pos_tui.store.local import LocalStore
from pos_tui.store.sync import sync

def hook(at: str) -> None:
    if at == "shard":
        os.kill(os.getpid(), signal.SIGKILL)

shared_index.stage_hook = hook
with LocalStore.open(Path(sys.argv[1])) as store:
    sync(store, Path(sys.argv[2]))
"""


def test_a_migration_killed_between_shards_shows_each_row_once_and_is_finished(
    tmp_path: Path, bank: Bank, fixture_checklists: list[Checklist]
) -> None:
    laptop = synced_laptop(tmp_path, bank.shared, fixture_checklists, 6)
    rows = make_legacy(bank.shared)
    assert len({shard_name(row["uuid"]) for row in rows}) >= 2
    new = add_visits(laptop, fixture_checklists, 1, seed=26)
    killed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILL_IN_MIGRATION), str(laptop), str(bank.shared)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(shard_names(bank.shared)) == 1 and (bank.shared / "index.json").exists()
    # Half moved: a reader sees the rows of the moved shard once, not twice.
    assert sorted(r["uuid"] for r in SharedStore.open(bank.shared).rows()) == sorted(
        r["uuid"] for r in rows
    )
    with LocalStore.open(laptop) as store:
        report = sync(store, bank.shared)
    assert [*report.pushed.added] == [*new]
    after = SharedStore.open(bank.shared).rows()
    assert sorted(r["uuid"] for r in after) == sorted([*(r["uuid"] for r in rows), *new])
    assert not (bank.shared / "index.json").exists() and journal_names(bank.shared) == []
    assert check_store(bank.shared).ok
