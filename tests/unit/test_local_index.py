"""The laptop index split (#17): a small active index.json, an archive by month, a journal.

Real stores on disk, real SIGKILLs. Many visits are made by writing one signed demo visit
again under new ids and times (`LocalStore.bulk_add_files`), as building and signing
hundreds would take minutes.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid as uuid_module
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session, Status, local_now
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import ARCHIVE_DIR, INDEX_NAME, LocalStore
from pos_tui.store.local_index import EVICT_AT, KEEP_SETTLED
from pos_tui.store.local_journal import JOURNAL_NAME
from pos_tui.store.storage import read_json_document
from tests.helpers.visits import save_answer, save_sign

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 9, 0).astimezone()
SETTLED = EVICT_AT + 150
CHIP_VALUES = {"reference": "000012345678", "amount": "0.01", "last4": "1234"}


def signed(info: VisitInfo, checklists: list[Checklist], at: datetime | None = None) -> Session:
    session = Session.start(info, checklists, clock=(lambda: at) if at else local_now)
    for checklist_id, item_id in [("card", "void"), ("receipt", "masked"), ("receipt", "clock")]:
        session.record(checklist_id, item_id, Outcome.PASS)
    session.record("card", "chip-pin", Outcome.FAIL, note="密码键盘无响应")
    session.sign("张伟", "王老板")
    return session


def clones(
    template: Session, count: int, first: datetime, **changes: Any
) -> Iterator[tuple[dict[str, Any], bytes]]:
    """`count` copies of the template's file, a day apart from `first`, each its own id."""
    visit = template.to_dict() | {"_key": "visit"}
    document = {
        "visit": {"1": visit},
        "events": {str(i): e.to_dict() for i, e in enumerate(template.events, 1)},
    }
    for number in range(count):
        at = (first + timedelta(days=number)).isoformat(timespec="seconds")
        record = json.loads(json.dumps(visit)) | {"uuid": str(uuid_module.uuid4())}
        record |= {"created_at": at, **changes}
        record["signoff"]["at"] = at
        for answer in record["answers"]:
            answer["at"] = at
        text = json.dumps(document | {"visit": {"1": record}}, ensure_ascii=False)
        yield record, text.encode("utf-8")


def synced_store(
    folder: Path, info: VisitInfo, checklists: list[Checklist], count: int = SETTLED
) -> list[str]:
    """`count` visits signed and synced over the months before NOW; their ids, oldest first."""
    with LocalStore.open(folder) as store:
        template = signed(info, checklists)
        store.keep_checklists(checklists)
        files = list(clones(template, count, NOW - timedelta(days=count)))
        store.bulk_add_files(files)
        uuids = [record["uuid"] for record, _raw in files]
        store.mark_synced(uuids)
    return uuids


def archived_uuids(folder: Path) -> dict[str, set[str]]:
    return {
        path.name: {row["uuid"] for row in (read_json_document(path) or {})["visits"].values()}
        for path in sorted((folder / ARCHIVE_DIR).glob("*.json"))
    }


def active_uuids(folder: Path) -> set[str]:
    document = read_json_document(folder / INDEX_NAME) or {}
    return {row["uuid"] for row in document["visits"].values()}


def test_settled_visits_go_to_the_archive_and_every_visit_is_listed_once(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    uuids = synced_store(folder, info, checklists)
    archived = archived_uuids(folder)
    in_archive = set().union(*archived.values())
    active = active_uuids(folder)
    assert len(archived) > 3  # one file per month of creation
    assert not in_archive & active
    assert len(active) == KEEP_SETTLED
    # The newest stay active, the older are archived.
    assert active == set(uuids[-KEEP_SETTLED:])
    with LocalStore.open(folder, read_only=True) as store:
        listed = store.summaries()
        assert sorted(s.uuid for s in listed) == sorted(uuids)
        assert {s.status for s in listed} == {Status.SYNCED}
        assert store.counts() == {"synced": SETTLED}


def test_home_gets_from_the_active_part_what_the_full_listing_would_show(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    synced_store(folder, info, checklists)
    template = signed(info, checklists)
    long_ago = NOW - timedelta(days=2 * SETTLED)
    with LocalStore.open(folder) as store:
        # Under way however old: signed and never synced, and sent back by a supervisor.
        store.bulk_add_files(clones(template, 4, long_ago))
        sent_back = {"decision": "has_issues", "comment": "重做撤销", "items": []}
        store.bulk_add_files(clones(template, 2, long_ago, status="reviewed", review=sent_back))
        drafts = [Session.start(info, checklists) for _ in range(3)]
        for draft in drafts:
            store.create(draft)
        discarded = Session.start(info, checklists)
        store.create(discarded)
        discarded.discard("张伟", "商户改期")
        store.save(discarded)
        shown = store.active(50)
        everything = store.summaries()
        counts = store.counts()
    assert counts == Counter(s.status for s in everything)
    assert counts["draft"] == 3 and counts["signed"] == 4 and counts["reviewed"] == 2
    # What home.py shows: drafts, the sent back, and the 50 newest finished visits.
    listed = [s for s in everything if s.status != Status.DISCARDED]
    expected = {s.uuid for s in listed if s.status == Status.DRAFT}
    expected |= {s.uuid for s in listed if s.review_decision == "has_issues"}
    expected |= {s.uuid for s in [s for s in listed if s.status != Status.DRAFT][:50]}
    got = {s.uuid for s in shown}
    assert expected <= got
    assert discarded.uuid not in got
    assert len(got) <= 3 + 4 + 2 + 50
    assert [s.uuid for s in shown] == [s.uuid for s in everything if s.uuid in got]


def test_open_reads_only_the_visits_in_question_and_a_rescan_finds_the_rest(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    """Constant cost, shown by what an open does not see: a visit file no row and no
    journal entry names (a listing of visits/ would find it), and archived visit files
    turned to garbage (reading them would report them)."""
    folder = tmp_path / "data"
    uuids = synced_store(folder, info, checklists)
    visits = folder / "visits"
    stowaway = str(uuid_module.uuid4())
    text = (visits / f"{uuids[0]}.json").read_text("utf-8").replace(uuids[0], stowaway)
    (visits / f"{stowaway}.json").write_text(text, "utf-8")
    for uuid in uuids[:100]:
        (visits / f"{uuid}.json").write_bytes(b"\x93 not json")
    with LocalStore.open(folder) as store:
        assert store.report.rescanned == ""
        assert store.report.damaged == ()
        assert stowaway not in {s.uuid for s in store.summaries()}
        report = store.rescan()
        assert report.reindexed == 1
        assert stowaway in {s.uuid for s in store.summaries()}
    assert not (folder / JOURNAL_NAME).exists() or json.loads(
        (folder / JOURNAL_NAME).read_text("utf-8")
    ) == {"changing": {}, "rescan": {}}


def test_marking_synced_leaves_the_archive_untouched(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    synced_store(folder, info, checklists)
    archive = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (folder / ARCHIVE_DIR).iterdir()}
    with LocalStore.open(folder) as store:
        fresh = list(clones(signed(info, checklists), 3, NOW))
        store.bulk_add_files(fresh)
    archive = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (folder / ARCHIVE_DIR).iterdir()}
    with LocalStore.open(folder) as store:
        store.mark_synced([record["uuid"] for record, _raw in fresh])
        assert {s.status for s in store.summaries()} == {Status.SYNCED}
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (folder / ARCHIVE_DIR).iterdir()}
    assert after == archive


def test_an_archived_visit_amended_comes_back_to_the_active_part_and_leaves_the_archive(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        # A real visit, whose signed content hash is right, older than all the others.
        old = signed(info, checklists, at=NOW - timedelta(days=3 * 365))
        store.bulk_add([old])
        store.mark_synced([old.uuid])
    uuids = synced_store(folder, info, checklists, count=EVICT_AT + 10)
    assert old.uuid not in active_uuids(folder)
    assert any(old.uuid in held for held in archived_uuids(folder).values())
    with LocalStore.open(folder) as store:
        assert {s.uuid for s in store.summaries()} == {old.uuid, *uuids}
        session = store.load(old.uuid)
        session.amend("张伟", "补拍门头照")
        store.save(session)
        assert old.uuid in active_uuids(folder)
        assert all(old.uuid not in held for held in archived_uuids(folder).values())
        [draft] = store.drafts()
        assert draft.uuid == old.uuid and draft.amendment == 1
        save_answer(store, session, "card", "chip-pin", Outcome.PASS, values=CHIP_VALUES)
        save_sign(store, session, "张伟", "王老板")
        store.mark_synced([old.uuid])
        assert [s.status for s in store.summaries() if s.uuid == old.uuid] == [Status.SYNCED]
        # Its sign-off is new: it stays with the newest, in the active part.
        assert old.uuid in active_uuids(folder)
    assert listing(folder).keys() == {old.uuid, *uuids}


KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from pos_tui.store.local import LocalStore

    folder, kill_at, what = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    calls = 0

    def killing(real):
        # SIGKILL on the kill_at-th call that makes a file durable, renames or removes one.
        def call(*args, **kwargs):
            global calls
            calls += 1
            if calls == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        return call

    if what == "open":
        for name in ("fsync", "replace", "unlink"):
            setattr(os, name, killing(getattr(os, name)))
    store = LocalStore.open(folder)
    if what == "sync":
        signed = [s.uuid for s in store.summaries(["signed"])]
        for name in ("fsync", "replace", "unlink"):
            setattr(os, name, killing(getattr(os, name)))
        store.mark_synced(signed)
    print("done", flush=True)
    """
)


def killed(folder: Path, kill_at: int, what: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-c", KILLED, str(folder), str(kill_at), what],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done


def as_old_layout(folder: Path) -> None:
    """What pos-tui wrote before the split: one index.json of every row, no archive."""
    with LocalStore.open(folder, read_only=True) as store:
        rows = [summary.to_row() for summary in store.summaries()]
    (folder / INDEX_NAME).write_text(
        json.dumps({"visits": {str(i): row for i, row in enumerate(rows, 1)}}), "utf-8"
    )
    shutil.rmtree(folder / ARCHIVE_DIR, ignore_errors=True)
    (folder / JOURNAL_NAME).unlink(missing_ok=True)


def listing(folder: Path) -> dict[str, str]:
    with LocalStore.open(folder, read_only=True) as store:
        summaries = store.summaries()
        assert len(summaries) == len({s.uuid for s in summaries})
        return {s.uuid: s.status for s in summaries}


def test_an_old_single_index_is_split_once_on_opening_and_loses_nothing(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    synced_store(folder, info, checklists)
    with LocalStore.open(folder) as store:
        draft = Session.start(info, checklists)
        store.create(draft)
        save_answer(store, draft, "card", "void", Outcome.PASS)
    before = listing(folder)
    as_old_layout(folder)
    # The old layout's own crash: a visit file written, its row not. Its first open
    # listed visits/ to find it; the migration still does, once.
    unindexed = Session.start(info, checklists)
    with LocalStore.open(tmp_path / "elsewhere") as other:
        other.create(unindexed)
    shutil.copy(other.visit_path(unindexed.uuid), folder / "visits")
    assert listing(folder) == before  # read-only, the old layout reads as it is
    heard: list[tuple[int, int]] = []
    with LocalStore.open(folder, progress=lambda done, total: heard.append((done, total))) as store:
        assert "single-file layout" in store.report.rescanned
        assert store.report.reindexed == 1
        [drafted] = [s for s in store.drafts() if s.uuid == draft.uuid]
        assert drafted.answered == 1
    assert heard and heard[-1] == (len(before) + 1, len(before) + 1)
    assert listing(folder) == before | {unindexed.uuid: Status.DRAFT}
    assert len(active_uuids(folder)) <= KEEP_SETTLED + 2
    with LocalStore.open(folder) as store:
        assert store.report.rescanned == ""


def test_a_migration_killed_anywhere_loses_nothing_and_is_done_again(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    synced_store(folder, info, checklists)
    before = listing(folder)
    as_old_layout(folder)
    for kill_at in range(1, 80):
        done = killed(folder, kill_at, "open")
        assert listing(folder) == before, kill_at
        if done.returncode == 0:
            break
    else:
        pytest.fail("the migration never finished")
    assert kill_at > 5  # it was cut off at several of its writes first
    with LocalStore.open(folder) as store:
        assert store.report.rescanned == ""
    assert not set().union(*archived_uuids(folder).values()) & active_uuids(folder)


def test_rows_moving_into_the_archive_killed_anywhere_are_put_right_on_the_next_open(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    """A sync marking visits synced moves older rows into the archive: several files."""
    folder = tmp_path / "data"
    uuids = synced_store(folder, info, checklists, count=KEEP_SETTLED)
    template = signed(info, checklists)
    with LocalStore.open(folder) as store:
        store.bulk_add_files(clones(template, EVICT_AT - KEEP_SETTLED + 20, NOW))
    signed_ones = {uuid for uuid, status in listing(folder).items() if status == Status.SIGNED}
    outcomes = set()
    for kill_at in range(1, 60):
        done = killed(folder, kill_at, "sync")
        with LocalStore.open(folder) as store:
            assert store.report.rescanned == ""
            statuses = {s.uuid: s.status for s in store.summaries()}
        assert statuses.keys() == set(uuids) | signed_ones
        outcomes.add(tuple(sorted(Counter(statuses[uuid] for uuid in signed_ones).items())))
        assert not set().union(*archived_uuids(folder).values()) & active_uuids(folder)
        assert len(listing(folder)) == len(statuses)
        if done.returncode == 0:
            break
    assert set(statuses.values()) == {Status.SYNCED}
    assert archived_uuids(folder)
    assert outcomes >= {((Status.SIGNED, len(signed_ones)),), ((Status.SYNCED, len(signed_ones)),)}


def test_a_bad_archive_row_is_reported_and_its_visit_indexed_again_by_the_next_rescan(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    uuids = synced_store(folder, info, checklists)
    oldest = sorted((folder / ARCHIVE_DIR).glob("*.json"))[0]
    document = json.loads(oldest.read_text("utf-8"))
    bad_row = next(iter(document["visits"].values()))
    bad_uuid, bad_row["revision"] = bad_row["uuid"], "x"
    oldest.write_text(json.dumps(document), "utf-8")
    with LocalStore.open(folder, read_only=True) as store:
        assert bad_uuid not in {s.uuid for s in store.summaries()}
        [problem] = store.report.damaged
        assert problem.path == oldest and "'revision' is 'x'" in str(problem)
    # A visit signed long ago and synced only now settles into that same month's file.
    late = signed(info, checklists, at=datetime.fromisoformat(bad_row["created_at"]))
    with LocalStore.open(folder) as store:
        store.create(late)
        store.mark_synced([late.uuid])
    assert late.uuid in archived_uuids(folder)[oldest.name]
    with LocalStore.open(folder) as store:
        assert "bad rows" in store.report.rescanned
        listed = {s.uuid: s.status for s in store.summaries()}
        assert store.report.damaged == ()
    # Rebuilt from its file, which keeps what was signed: the next sync settles it again.
    assert listed.keys() == {*uuids, late.uuid}
    assert listed[bad_uuid] == Status.SIGNED
