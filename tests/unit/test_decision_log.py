"""The shared store's decision log: one file per decision, a head, the old reviews.json read
as its start; appended under the lock, read from a sequence number on, damage left out and
said, a writer killed anywhere leaving a whole decision or none.

Every store is real (`shared init`, a trusted reviewer, real Ed25519 signatures); the
killed writers are real processes killed with SIGKILL.
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
from tinydb import TinyDB

from pos_tui.demo import demo_sessions
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.decisions import (
    GAP_BEFORE,
    VALID,
    check_log,
    decision_hash,
    has_gap,
    record_sha256,
    signed_part,
)
from pos_tui.domain.signatures import canonical, sign
from pos_tui.store.decision_log import DecisionLog
from pos_tui.store.keyring import trusted_keyring
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.ledger import SyncLedger
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import SharedStore
from pos_tui.store.sources import SharedSource
from pos_tui.store.storage import AtomicJSONStorage
from pos_tui.store.sync import sync
from tests.helpers.bank import Bank, open_bank

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bank(tmp_path: Path) -> Bank:
    return open_bank(tmp_path)


def body(uuid: str, decision: str = "approved", comment: str = "") -> dict[str, Any]:
    return {"uuid": uuid, "decision": decision, "comment": comment, "record_sha256": "r" * 64}


def log_of(bank: Bank) -> DecisionLog:
    return SharedStore.open(bank.shared).decision_log


def append(bank: Bank, count: int, uuid: str = "v" * 32) -> list[dict[str, Any]]:
    log = log_of(bank)
    return [log.append(body(uuid, comment=f"第{n}条"), bank.reviewer_key) for n in range(count)]


def checked(bank: Bank, rows: list[dict[str, Any]], prev: str = "") -> list[Any]:
    return check_log(rows, trusted_keyring(bank.shared, bank.reviewer), prev)


def rows(entries: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [row for _seq, row in entries]


def head(bank: Bank) -> dict[str, Any]:
    return json.loads((bank.shared / "decisions" / "head.json").read_text("utf-8"))


# -- appending and reading ---------------------------------------------------------------


def test_each_decision_is_a_file_of_its_own_chained_to_the_one_before(bank: Bank) -> None:
    made = append(bank, 3)
    log = log_of(bank)
    for seq, decision in enumerate(made, start=1):
        assert json.loads(log.path_of(seq).read_text("utf-8")) == decision
    assert log.path_of(3) == bank.shared / "decisions" / "000000" / "000000003.json"
    assert [d["prev"] for d in made] == ["", decision_hash(made[0]), decision_hash(made[1])]
    assert head(bank) == {"seq": 3, "hash": decision_hash(made[2])}
    assert rows(log.all()) == made
    assert [c.state for c in checked(bank, made)] == [VALID] * 3
    assert not has_gap(checked(bank, made))


def test_after_gives_only_what_follows_and_its_chain_goes_on(bank: Bank) -> None:
    made = append(bank, 4)
    log = log_of(bank)
    assert log.after(4) == []
    later = log.after(2)
    assert [seq for seq, _row in later] == [3, 4]
    assert not has_gap(checked(bank, rows(later), prev=decision_hash(made[1])))
    assert has_gap(checked(bank, rows(later), prev=decision_hash(made[0])))


def test_after_reads_only_the_buckets_from_its_own_on(bank: Bank) -> None:
    append(bank, 1)
    # A head further on, as after 1,499 decisions: the next one opens bucket 1.
    (bank.shared / "decisions" / "head.json").write_text('{"seq": 1499, "hash": ""}', "utf-8")
    [late] = append(bank, 1)
    log = log_of(bank)
    assert log.path_of(1500) == bank.shared / "decisions" / "000001" / "000001500.json"
    log.path_of(1).write_bytes(b"{not json")  # in bucket 0, which after(1499) never opens
    assert log.after(1499) == [(1500, late)] and not log.damaged
    assert rows(log.all()) == [late]
    assert [damage.path for damage in log.damaged] == [log.path_of(1)]


def test_the_store_reads_and_writes_decisions_through_the_log(bank: Bank) -> None:
    store = SharedStore.open(bank.shared)
    made = store.add_review(body("a" * 32), bank.reviewer_key)
    assert store.reviews() == [made]
    assert not store.reviews_path.exists()  # the old file is never made again


# -- the reviews.json of an earlier version ----------------------------------------------


def old_reviews(bank: Bank, count: int) -> list[dict[str, Any]]:
    """Decisions as an earlier version wrote them: signed, chained, in reviews.json."""
    made: list[dict[str, Any]] = []
    db = TinyDB(bank.shared / "reviews.json", storage=AtomicJSONStorage)
    try:
        for n in range(count):
            row = body("o" * 32, "has_issues", f"旧的{n}")
            row |= {"id": f"{n:032x}", "at": f"2026-01-0{n + 1}T09:00:00+08:00"}
            row["prev"] = decision_hash(made[-1]) if made else ""
            row["signature"] = sign(bank.reviewer_key, canonical(signed_part(row))).to_dict()
            db.table("reviews").insert(row)
            made.append(row)
    finally:
        db.close()
    return made


def test_an_old_reviews_json_is_the_start_of_the_chain_and_is_never_rewritten(
    bank: Bank,
) -> None:
    old = old_reviews(bank, 2)
    kept = (bank.shared / "reviews.json").read_bytes()
    new = append(bank, 2)
    assert new[0]["prev"] == decision_hash(old[-1])
    log = log_of(bank)
    assert [seq for seq, _row in log.all()] == [0, 0, 1, 2]
    every = checked(bank, rows(log.all()))
    assert [c.state for c in every] == [VALID] * 4 and not has_gap(every)
    assert (bank.shared / "reviews.json").read_bytes() == kept
    assert log.after(0) == list(zip([1, 2], new, strict=True))


# -- damaged and hostile files -------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_damaged_and_hostile_decision_files_are_left_out_and_said(bank: Bank) -> None:
    made = append(bank, 8)
    log = log_of(bank)
    log.path_of(2).write_bytes(b'{"id": "cut sho')
    log.path_of(3).write_text(json.dumps({"decision": "approved"}), "utf-8")  # no id
    log.path_of(4).write_bytes(b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    log.path_of(5).write_bytes(b" " * (1024 * 1024 + 1))
    log.path_of(6).unlink()
    log.path_of(6).symlink_to(log.path_of(1))  # a link, even to a real decision
    log.path_of(7).unlink()
    os.mkfifo(log.path_of(7))
    bucket = log.path_of(1).parent
    (bucket / "000005001.json").write_text(json.dumps(made[0]), "utf-8")  # wrong bucket
    (bucket / "notes.txt").write_text("not a decision", "utf-8")  # not named like one
    found = log.all()
    assert rows(found) == [made[0], made[7]]
    said = {damage.path.name: damage.reason for damage in log.damaged}
    assert set(said) == {f"00000000{n}.json" for n in range(2, 8)} | {"000005001.json"}
    assert "symbolic link" in said["000000006.json"] and "limit" in said["000000005.json"]
    assert "nested deeper" in said["000000004.json"] and "FIFO" in said["000000007.json"]
    assert "no 'id'" in said["000000003.json"]
    # The decisions around the damage still count; the one after it says the gap.
    last = checked(bank, rows(found))[-1]
    assert last.state == VALID and last.reasons == (GAP_BEFORE,)
    store = SharedStore.open(bank.shared)
    assert len(store.reviews()) == len(found)
    assert {d.path for d in store.damaged} == {d.path for d in log.damaged}


def test_a_decisions_folder_that_is_a_link_is_refused_not_followed(
    bank: Bank, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "000000").mkdir(parents=True)
    (bank.shared / "decisions").symlink_to(elsewhere)
    log = log_of(bank)
    assert log.all() == [] and [d.path for d in log.damaged] == [log.root]
    with pytest.raises(Exception, match="not a folder of decisions"):
        append(bank, 1)
    assert list((elsewhere / "000000").iterdir()) == []


def test_a_file_put_under_the_next_name_is_never_replaced(bank: Bank) -> None:
    made = append(bank, 1)
    log = log_of(bank)
    planted = json.dumps(body("x" * 32, "approved", "planted")).encode()
    # Planted, then the head put back: the next append must go past it, not over it.
    log.path_of(2).write_bytes(planted)
    (bank.shared / "decisions" / "head.json").write_text(
        json.dumps({"seq": 1, "hash": decision_hash(made[0])}), "utf-8"
    )
    [new] = append(bank, 1)
    assert log.path_of(2).read_bytes() == planted
    assert json.loads(log.path_of(3).read_text("utf-8")) == new
    assert head(bank)["seq"] == 3


def test_without_hard_links_a_decision_is_renamed_into_place_never_over_a_file(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A FAT stick has no hard links: os.link fails with EPERM there."""
    import errno

    def no_links(*_args: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    made = append(bank, 2)
    log = log_of(bank)
    assert rows(log.all()) == made and not list(log.root.rglob(".*.tmp"))
    planted = b'{"id": "planted", "uuid": "p", "decision": "approved"}'
    log.path_of(3).write_bytes(planted)
    (bank.shared / "decisions" / "head.json").write_text(
        json.dumps({"seq": 2, "hash": decision_hash(made[1])}), "utf-8"
    )
    append(bank, 1)
    assert log.path_of(3).read_bytes() == planted and log.path_of(4).exists()


def test_a_lost_or_garbled_head_is_rebuilt_from_the_files(bank: Bank) -> None:
    made = append(bank, 2)
    head_path = bank.shared / "decisions" / "head.json"
    head_path.unlink()
    [third] = append(bank, 1)
    assert third["prev"] == decision_hash(made[1])
    head_path.write_bytes(b"\x00garbage")
    [fourth] = append(bank, 1)
    assert fourth["prev"] == decision_hash(third)
    assert not has_gap(checked(bank, rows(log_of(bank).all())))


# -- killed writers --------------------------------------------------------------------------


def run_writer(bank: Bank, count: int, kill_at: str = "") -> subprocess.CompletedProcess[str]:
    """A real process appending `count` decisions; `kill_at` names a step at which it sends
    itself SIGKILL: "link" (its file written, not yet named) or "head" (named, head not
    yet written)."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from pos_tui.store import decision_log
        from pos_tui.store.keys import REVIEWER, ensure_key
        from pos_tui.store.shared import SharedStore

        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)

        if {kill_at!r} == "link":
            decision_log.os.link = die
        elif {kill_at!r} == "head":
            decision_log.DecisionLog._write_head = die
        key = ensure_key(Path({str(bank.reviewer)!r}), REVIEWER)[0]
        log = SharedStore.open(Path({str(bank.shared)!r})).decision_log
        for n in range({count}):
            log.append({{"uuid": "k" * 32, "decision": "approved", "comment": str(n)}}, key)
            print(n, flush=True)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def assert_whole_chain(bank: Bank, count: int) -> None:
    log = log_of(bank)
    found = log.all()
    assert not log.damaged
    assert [seq for seq, _row in found] == list(range(1, count + 1))
    every = checked(bank, rows(found))
    assert [c.state for c in every] == [VALID] * count and not has_gap(every)
    assert list(log.root.rglob(".*.tmp")) == []


def test_killed_between_its_file_and_the_head_the_next_append_goes_on_from_the_file(
    bank: Bank,
) -> None:
    append(bank, 2)
    done = run_writer(bank, 1, kill_at="head")
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert head(bank)["seq"] == 2 and log_of(bank).path_of(3).exists()
    append(bank, 1)
    assert head(bank)["seq"] == 4
    assert_whole_chain(bank, 4)


def test_killed_before_naming_its_file_it_leaves_nothing_but_a_temporary_file(
    bank: Bank,
) -> None:
    append(bank, 1)
    done = run_writer(bank, 1, kill_at="link")
    assert done.returncode == -signal.SIGKILL, done.stderr
    log = log_of(bank)
    assert not log.path_of(2).exists()
    assert len(list(log.root.rglob(".*.tmp"))) == 1
    assert [seq for seq, _row in log.all()] == [1] and not log.damaged
    append(bank, 1)  # under the lock: the killed writer's temporary file goes
    assert_whole_chain(bank, 2)


def test_a_writer_killed_at_random_moments_leaves_whole_decisions_only(bank: Bank) -> None:
    """SIGKILL as soon as the writer reports a number of appends (seeded): the kill lands
    somewhere inside the next one."""
    import random

    rng = random.Random(17)
    for _round in range(4):
        child = subprocess.Popen(
            [sys.executable, "-c", writer_loop(bank)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        wanted = rng.randrange(1, 6)
        for _ in range(wanted):
            assert child.stdout.readline(), child.stderr.read() if child.stderr else ""
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        if child.stderr:
            child.stderr.close()
        log = log_of(bank)
        log.all()
        assert not log.damaged  # every named file is a whole decision
    append(bank, 1)
    count = len(log_of(bank).all())
    assert_whole_chain(bank, count)


def writer_loop(bank: Bank) -> str:
    return textwrap.dedent(
        f"""
        from pathlib import Path
        from pos_tui.store.keys import REVIEWER, ensure_key
        from pos_tui.store.shared import SharedStore

        key = ensure_key(Path({str(bank.reviewer)!r}), REVIEWER)[0]
        log = SharedStore.open(Path({str(bank.shared)!r})).decision_log
        n = 0
        while True:
            log.append({{"uuid": "k" * 32, "decision": "approved", "comment": str(n)}}, key)
            n += 1
            print(n, flush=True)
        """
    )


# -- the laptop's sync: only what is new ----------------------------------------------------


@pytest.fixture
def laptop(bank: Bank, tmp_path: Path, checklists: list[Checklist]) -> Path:
    """A trusted laptop with four signed visits, synced."""
    data = tmp_path / "laptop"
    bank.trust_laptop(data)
    key = ensure_key(data, DEVICE)[0]
    with LocalStore.open(data) as store:
        store.bulk_add(demo_sessions(checklists, 4, seed=3, signer=key))
        sync(store, bank.shared)
    return data


def decide_all(bank: Bank, comment: str) -> None:
    source = SharedSource(bank.shared, bank.reviewer)
    store = source.store
    for row in source.rows():
        record = source.record(row, {})
        decided = body(row["uuid"], "has_issues", comment)
        decided["record_sha256"] = record_sha256(record.session)
        store.add_review(decided, bank.reviewer_key)


def test_a_sync_reads_the_decisions_after_those_it_read_and_only_those(
    bank: Bank, laptop: Path
) -> None:
    decide_all(bank, "第一轮")
    with LocalStore.open(laptop) as store:
        first = sync(store, bank.shared)
        assert first.reviews_applied == 4 and not first.decision_log_gap
        assert {s.status for s in store.summaries()} == {"reviewed"}
    mark = SyncLedger(laptop).decision_mark(bank.shared)
    assert mark is not None and mark.seq == 4
    log = log_of(bank)
    assert mark.hash == decision_hash(log.read(4) or {})
    # Damage to what was read already is not read again...
    log.path_of(2).write_bytes(b"{garbled")
    decide_all(bank, "第二轮")
    with LocalStore.open(laptop) as store:
        later = sync(store, bank.shared)
        again = sync(store, bank.shared)
    assert (later.reviews_applied, later.damaged_decisions, later.decision_log_gap) == (
        4,
        [],
        False,
    )
    assert (again.reviews_applied, again.forged_decisions) == (0, 0)
    assert SyncLedger(laptop).decision_mark(bank.shared).seq == 8  # type: ignore[union-attr]


def test_a_decision_removed_after_the_mark_is_a_gap_and_the_rest_still_apply(
    bank: Bank, laptop: Path
) -> None:
    with LocalStore.open(laptop) as store:
        sync(store, bank.shared)
    decide_all(bank, "有问题")
    log_of(bank).path_of(2).unlink()
    with LocalStore.open(laptop) as store:
        report = sync(store, bank.shared)
    assert report.reviews_applied == 3 and report.decision_log_gap
    assert "decision log has a gap" in report.sentence()


def test_the_decision_last_read_altered_means_everything_is_read_again(
    bank: Bank, laptop: Path
) -> None:
    decide_all(bank, "第一轮")
    with LocalStore.open(laptop) as store:
        sync(store, bank.shared)
    log = log_of(bank)
    for seq in (3, 4):
        log.path_of(seq).unlink()
    (bank.shared / "decisions" / "head.json").unlink()
    decide_all(bank, "第二轮")  # seq 3 and on again: the mark's 4 is another now
    with LocalStore.open(laptop) as store:
        report = sync(store, bank.shared)
    assert report.decision_log_gap
    assert report.reviews_applied == 4  # none of the second round missed


KILLED_SYNC = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from pos_tui.store import sync as sync_module
    from pos_tui.store.local import LocalStore

    # Killed at the n-th rename once decisions are being applied: every durable step of
    # the laptop's writes (journal, staged visit files, backups, index, ledger) is one.
    kill_at, renames = int(sys.argv[3]), []
    replace, pull = os.replace, sync_module.pull_reviews
    def counted(*args, **kwargs):
        renames.append(args[1])
        if len(renames) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return replace(*args, **kwargs)
    def counting_pull(*args, **kwargs):
        os.replace = counted
        return pull(*args, **kwargs)
    sync_module.pull_reviews = counting_pull
    with LocalStore.open(Path(sys.argv[1])) as store:
        sync_module.sync(store, Path(sys.argv[2]))
    """
)


def test_a_sync_killed_at_every_write_of_applying_is_finished_by_the_next_and_nothing_twice(
    bank: Bank, laptop: Path
) -> None:
    """The decisions are saved together (`save_many`) and the mark written after them:
    killed at each of those writes in turn, the next sync reads the same decisions again,
    skips those applied already, applies the others, and the ledger ends with every
    revision; no temporary file is left beside the visit files."""
    kill_at = 0
    while True:
        kill_at += 1
        decide_all(bank, f"第{kill_at}轮")
        done = subprocess.run(
            [sys.executable, "-c", KILLED_SYNC, str(laptop), str(bank.shared), str(kill_at)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode == 0:
            break  # past the last write: every one of them has been a kill point
        assert done.returncode == -signal.SIGKILL, done.stderr
        with LocalStore.open(laptop) as store:
            report = sync(store, bank.shared)
            assert report.reviews_applied <= 4
            assert {s.status for s in store.summaries()} == {"reviewed"}
            for summary in store.summaries():
                comments = [e.detail.get("comment") for e in store.load(summary.uuid).events]
                assert comments.count(f"第{kill_at}轮") == 1, (kill_at, comments)  # none twice
            assert sync(store, bank.shared).reviews_applied == 0
            ledger = SyncLedger(laptop).synced(bank.shared)
            assert all(ledger[s.uuid] == s.revision for s in store.summaries())
        assert not list((laptop / "visits").glob(".*.tmp")), kill_at
    assert kill_at > 10, "the journal, four visit files, the index and the ledger were cut"


def test_the_review_list_refreshed_checks_only_the_decisions_appended_since(bank: Bank) -> None:
    append(bank, 2)
    source = SharedSource(bank.shared, bank.reviewer)
    assert [c.state for c in source.checked_decisions()] == [VALID] * 2
    log = log_of(bank)
    log.path_of(1).write_bytes(b"{garbled")  # read already: a refresh does not read it again
    append(bank, 1)
    refreshed = source.checked_decisions(fresh=True)
    assert [c.state for c in refreshed] == [VALID] * 3 and not has_gap(refreshed)
    assert not source.damaged
    # The last one read is gone: everything is read again, and the damage shows.
    log.path_of(3).unlink()
    again = source.checked_decisions(fresh=True)
    assert [c.row["comment"] for c in again] == ["第1条"]
    assert [d.path for d in source.damaged] == [log.path_of(1)]
    assert has_gap(again)


def test_a_decision_an_earlier_version_writes_to_reviews_json_still_reaches_the_laptop(
    bank: Bank, laptop: Path
) -> None:
    decide_all(bank, "第一轮")
    with LocalStore.open(laptop) as store:
        assert sync(store, bank.shared).reviews_applied == 4
        uuid = store.summaries()[0].uuid
        record = record_sha256(store.load(uuid))
    # An app not yet updated appends to reviews.json, chained to what it sees there (none).
    row = body(uuid, "approved", "旧版本写的") | {"id": "e" * 32, "at": "2026-12-02T09:00:00+08:00"}
    row |= {"record_sha256": record, "prev": ""}
    row["signature"] = sign(bank.reviewer_key, canonical(signed_part(row))).to_dict()
    (bank.shared / "reviews.json").write_text(json.dumps({"reviews": {"1": row}}), "utf-8")
    with LocalStore.open(laptop) as store:
        report = sync(store, bank.shared)
        assert report.reviews_applied == 1
        assert store.load(uuid).review is not None
    assert report.decision_log_gap  # the first file no longer follows the old file's last
