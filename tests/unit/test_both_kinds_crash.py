"""PostgreSQL's own faults, with real processes and a real server: a laptop's sync killed
(SIGKILL) while it pushes many visits with photos, and twenty laptops syncing at once.

The folder's equivalents are in test_sync.py, test_sync_faults.py and
test_sync_evidence.py, where the kill lands between the files the folder writes; a
database has no such files, so what is asserted is the transaction: the records of one
push are all there or none are, and the next sync completes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.keys import KeyFile
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import SharedSource
from pos_tui.store.storage import StoreError
from pos_tui.store.sync import pending, sync
from tests.helpers.bank import Bank, open_bank
from tests.helpers.kinds import rows, sql, stored_files
from tests.helpers.photos import jpeg
from tests.helpers.visits import save_answer, save_attach, save_sign

ROOT = Path(__file__).resolve().parents[2]

SYNC_SAYING_HOW_FAR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pos_tui.store.local import LocalStore
    from pos_tui.store.sync import sync

    def progress(stage, done, total):
        print(stage, done, total, flush=True)

    with LocalStore.open(Path(sys.argv[1])) as store:
        report = sync(store, sys.argv[2], progress)
    print("done", len(report.pushed.added), flush=True)
    """
)


@pytest.fixture
def bank(tmp_path: Path, pg_url: str) -> Bank:
    return open_bank(tmp_path, reviewer_name="李主管", shared=pg_url)


def photo_visits(
    store: LocalStore,
    info: VisitInfo,
    checklists: list[Checklist],
    key: KeyFile,
    count: int,
    seed: int,
) -> list[Session]:
    made = []
    for n in range(count):
        session = Session.start(info, checklists)
        store.create(session)
        photo = jpeg(seed + n)
        save_attach(store, session, "site-photos", "storefront", [(f"门头{n}.jpg", photo)])
        save_answer(store, session, "site-photos", "storefront", Outcome.PASS)
        save_sign(store, session, "张伟", "王老板", signer=key)
        made.append(session)
    return made


def sync_killed(laptop: Path, url: str, stage: str, after: int) -> list[str]:
    """A real `sync` in a child process, killed with SIGKILL once it has said `after`
    lines of `stage` (-1: the last of that stage); what it said before."""
    child = subprocess.Popen(
        [sys.executable, "-c", SYNC_SAYING_HOW_FAR, str(laptop), url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    said: list[str] = []
    seen = 0
    for line in child.stdout:
        said.append(line.strip())
        name, *numbers = line.split()
        if name != stage:
            continue
        seen += 1
        done, total = int(numbers[0]), int(numbers[1])
        if seen == after or (after == -1 and done == total):
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=120)
    child.stdout.close()
    assert child.stderr is not None
    err = child.stderr.read()
    child.stderr.close()
    assert "Traceback" not in err, err
    return said


KILLED_AT = [
    ("reading", -1),  # every visit read, before any photo
    ("files", 1),  # the first photo sent, the others not yet
    ("files", -1),  # every photo sent: the records' transaction is next
    ("writing", 1),  # committed: the laptop's ledger not yet written
]


def test_a_sync_killed_while_it_pushes_visits_with_photos_leaves_all_or_nothing(
    bank: Bank, store: LocalStore, info: VisitInfo, evidence_checklists: list[Checklist]
) -> None:
    key = bank.trust_laptop(store.folder)
    made = photo_visits(store, info, evidence_checklists, key, 3, seed=100)
    sync(store, bank.shared)
    landed = len(made)
    for trial, (stage, after) in enumerate(KILLED_AT):
        # Each kill with new visits to send, and what the kills before left to send again.
        made += photo_visits(store, info, evidence_checklists, key, 6, seed=200 + 10 * trial)
        store.close()
        said = sync_killed(store.folder, str(bank.shared), stage, after)
        assert not any(line.startswith("done") for line in said), "killed too late"
        now = len(rows(bank.shared))
        assert now in (landed, len(made)), f"killed at {stage} {after}: {now} records"
        if stage == "writing":
            assert now == len(made)  # the commit came before the kill
        landed = now
        [(bodies,)] = sql(bank.shared, "SELECT count(*) FROM visit_bodies")
        assert bodies == landed
        # The killed connection's transaction is gone: nothing waits on a lock it held.
        assert sql(bank.shared, "SELECT count(*) FROM pg_locks WHERE NOT granted") == [(0,)]
        store = LocalStore.open(store.folder)

    report = sync(store, bank.shared)
    assert report.refused == []
    assert pending(store, bank.shared) == []
    store.close()
    found = rows(bank.shared)
    assert Counter(row["uuid"] for row in found) == Counter(s.uuid for s in made)
    photos = {ref.sha256 for s in made for _key, ref in s.all_evidence()}
    assert stored_files(bank.shared) == photos
    source = SharedSource(bank.shared, bank.reviewer)
    try:
        states = {source.record(row).integrity.state for row in source.rows()}
    finally:
        source.close()
    assert states == {"verified"}


@pytest.mark.parametrize("stage", ["files", "writing"])
def test_a_sync_whose_connection_is_cut_says_so_lands_nothing_and_the_next_completes(
    bank: Bank,
    store: LocalStore,
    info: VisitInfo,
    evidence_checklists: list[Checklist],
    stage: str,
) -> None:
    """The server ends the sync's session (a restart, a failover, a DBA) while its photos
    go, or once its records have committed ("writing" comes after the commit)."""
    key = bank.trust_laptop(store.folder)
    made = photo_visits(store, info, evidence_checklists, key, 4, seed=300)
    cut: list[object] = []

    def cut_off(at: str, done: int, total: int) -> None:
        if at == stage and not cut:
            cut.append(
                sql(
                    bank.shared,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
            )

    if stage == "files":
        with pytest.raises(StoreError, match="Nothing was changed"):
            sync(store, bank.shared, cut_off)
        assert rows(bank.shared) == []
        assert len(pending(store, bank.shared)) == len(made)
    else:
        # Committed before the cut: what follows (the decisions) fails, said in a sentence.
        with pytest.raises(StoreError, match="Could not read the review decisions"):
            sync(store, bank.shared, cut_off)
        assert len(rows(bank.shared)) == len(made)
    assert cut, "the sync never reached the stage"
    report = sync(store, bank.shared)
    assert pending(store, bank.shared) == []
    # Cut after the commit, the ledger already had them: nothing is sent again.
    assert len(report.pushed.added) == (len(made) if stage == "files" else 0)
    assert Counter(row["uuid"] for row in rows(bank.shared)) == Counter(s.uuid for s in made)
    photos = {ref.sha256 for s in made for _key, ref in s.all_evidence()}
    assert stored_files(bank.shared) == photos


LAPTOP = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pos_tui.demo import demo_sessions
    from pos_tui.domain.loader import load_checklists
    from pos_tui.store.local import LocalStore
    from pos_tui.store.sync import sync

    folder, url, seed, rounds, count = Path(sys.argv[1]), sys.argv[2], *map(int, sys.argv[3:])
    checklists = load_checklists([Path("tests/fixtures/checklists")]).checklists
    sessions = demo_sessions(checklists, rounds * count, seed=seed, failure_rate=0.3)
    with LocalStore.open(folder) as store:
        store.bulk_add(next(sessions) for _ in range(count))
        print("ready", flush=True)
        sys.stdin.readline()
        for round in range(rounds):
            report = sync(store, url)
            print("synced", len(report.pushed.added), report.reviews_applied, flush=True)
            if round + 1 < rounds:
                store.bulk_add(next(sessions) for _ in range(count))
    """
)


def test_twenty_laptops_syncing_rounds_at_once_lose_and_duplicate_nothing(
    tmp_path: Path, bank: Bank
) -> None:
    laptops, rounds, count = 20, 3, 2
    sizes = [str(rounds), str(count)]

    def laptop(n: int) -> list[str]:
        script = [sys.executable, "-c", LAPTOP]
        return [*script, str(tmp_path / f"laptop{n}"), str(bank.shared), str(1000 + n), *sizes]

    children = [
        subprocess.Popen(
            laptop(n),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(laptops)
    ]
    for child in children:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            pytest.fail(f"a laptop did not start: {child.communicate(timeout=60)[1]}")
    for child in children:  # every laptop's visits made: now all at once
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        assert out.splitlines() == [f"synced {count} 0"] * rounds
    found = rows(bank.shared)
    assert len(found) == laptops * rounds * count
    assert len({row["uuid"] for row in found}) == len(found)
    assert not any(row["conflict"] or row["superseded"] for row in found)
    for n in range(laptops):
        with LocalStore.open(tmp_path / f"laptop{n}", read_only=True) as store:
            assert pending(store, bank.shared) == []
