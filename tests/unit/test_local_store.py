"""The local store on real files: persistence, one writer, damage, recovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.redact import CardDataError
from pos_tui.domain.session import Outcome, Session, Status, VisitError
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import LocalStore, recover_file
from pos_tui.store.storage import StoreDamaged, StoreError, StoreWriteFailed
from pos_tui.store.writer_lock import StoreLocked
from tests.helpers.visits import save_answer, save_sign, save_undo

CHIP_VALUES = {"reference": "000012345678", "amount": "0.01", "last4": "1234"}


def test_answers_survive_closing_and_reopening(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        session = Session.start(info, checklists)
        store.create(session)
        save_answer(store, session, "card", "chip-pin", Outcome.PASS, values=CHIP_VALUES)
        save_answer(store, session, "card", "void", Outcome.FAIL, note="撤销后小票未打印")
        save_answer(store, session, "receipt", "clock", Outcome.NA, note="终端无时钟显示")
    with LocalStore.open(folder) as store:
        reopened = store.load(session.uuid)
        [draft] = store.drafts()
    assert reopened.answers == session.answers
    assert reopened.answer("card", "void").note == "撤销后小票未打印"  # type: ignore[union-attr]
    assert [e.what for e in reopened.events] == ["created", "answered", "answered", "answered"]
    assert reopened.position == ("receipt", "clock")
    assert reopened.checklists == session.checklists
    assert (draft.uuid, draft.answered, draft.failures) == (session.uuid, 3, 1)


def test_files_are_utf8_json_with_chinese_as_text(store: LocalStore, session: Session) -> None:
    save_answer(store, session, "card", "void", Outcome.FAIL, note="打印机卡纸")
    raw = store.visit_path(session.uuid).read_bytes()
    assert "打印机卡纸".encode() in raw
    assert b"\\u" not in raw
    assert json.loads(raw.decode("utf-8"))["visit"]["1"]["uuid"] == session.uuid


def test_a_visit_reopens_after_its_checklist_files_change(tmp_path: Path, info: VisitInfo) -> None:
    source = tmp_path / "mine.yaml"
    source.write_text(
        'id: mine\nversion: "1"\ntitle: Mine\nitems:\n  - {id: a, title: A, severity: minor}\n',
        encoding="utf-8",
    )
    from pos_tui.domain.loader import load_checklist

    with LocalStore.open(tmp_path / "data") as store:
        session = Session.start(info, [load_checklist(source)])
        store.create(session)
        source.write_text("now broken", encoding="utf-8")
        assert store.load(session.uuid).checklists[0].item("a").title.en == "A"


def test_signed_visit_is_indexed_and_read_only(store: LocalStore, session: Session) -> None:
    for checklist_id, item_id, values in [
        ("card", "chip-pin", CHIP_VALUES),
        ("card", "void", {}),
        ("receipt", "masked", {}),
        ("receipt", "clock", {}),
    ]:
        save_answer(store, session, checklist_id, item_id, Outcome.PASS, values=values)
    save_sign(store, session, "张伟", "王老板")
    [summary] = store.summaries([Status.SIGNED])
    assert (summary.verdict, summary.content_sha256) == ("pass", session.content_sha256)
    reopened = store.load(session.uuid)
    assert reopened.status is Status.SIGNED and not reopened.altered
    with pytest.raises(VisitError):
        save_answer(store, reopened, "receipt", "clock", Outcome.FAIL, note="late")
    assert store.load(session.uuid).answer("receipt", "clock").outcome is Outcome.PASS  # type: ignore[union-attr]


def test_undo_is_saved(store: LocalStore, session: Session) -> None:
    save_answer(store, session, "card", "void", Outcome.PASS)
    save_answer(store, session, "card", "void", Outcome.FAIL, note="second try failed")
    assert save_undo(store, session) == ("card", "void")
    assert store.load(session.uuid).answer("card", "void").outcome is Outcome.PASS  # type: ignore[union-attr]
    save_undo(store, session)
    assert store.load(session.uuid).answer("card", "void") is None
    assert save_undo(store, session) is None


def test_card_numbers_are_masked_before_they_reach_the_file(
    store: LocalStore, session: Session
) -> None:
    save_answer(
        store, session, "card", "void", Outcome.FAIL, note="卡号 6222 0212 3456 7890 128 撤销失败"
    )
    raw = store.visit_path(session.uuid).read_text(encoding="utf-8")
    assert "****0128" in raw
    assert "6222" not in raw and "7890" not in raw


def test_track_data_is_refused_and_nothing_is_written(store: LocalStore, session: Session) -> None:
    before = store.visit_path(session.uuid).read_bytes()
    with pytest.raises(CardDataError):
        save_answer(
            store,
            session,
            "card",
            "void",
            Outcome.FAIL,
            note=";4111111111111111=25121010000000000?",
        )
    assert store.visit_path(session.uuid).read_bytes() == before
    assert session.answer("card", "void") is None


def test_second_writer_in_another_process_is_refused_with_our_pid(
    store: LocalStore, session: Session
) -> None:
    before = {p.name: p.read_bytes() for p in store.folder.rglob("*.json")}
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from pos_tui.store.local import LocalStore
        from pos_tui.store.storage import StoreError
        try:
            LocalStore.open(Path({str(store.folder)!r}))
        except StoreError as error:
            print(error)
            raise SystemExit(3)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 3, done.stderr
    assert f"in use by process {os.getpid()}" in done.stdout
    assert "nothing was changed" in done.stdout
    assert {p.name: p.read_bytes() for p in store.folder.rglob("*.json")} == before


def test_second_writer_in_this_process_is_refused(store: LocalStore) -> None:
    with pytest.raises(StoreLocked, match="is in use by process"):
        LocalStore.open(store.folder)


def test_reading_is_allowed_while_a_writer_works(store: LocalStore, session: Session) -> None:
    with LocalStore.open(store.folder, read_only=True) as reader:
        assert [s.uuid for s in reader.drafts()] == [session.uuid]
        save_answer(store, session, "card", "void", Outcome.PASS)
        assert reader.load(session.uuid).answer("card", "void") is not None
        before = {p: p.read_bytes() for p in store.folder.rglob("*") if p.is_file()}
        with pytest.raises(StoreError, match="read-only"):
            reader.create(Session.start(session.info, session.checklists))
        assert {p: p.read_bytes() for p in store.folder.rglob("*") if p.is_file()} == before


def test_a_killed_writer_leaves_the_folder_usable(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    script = (
        "import os, sys; from pathlib import Path; from pos_tui.store.local import LocalStore;"
        f"LocalStore.open(Path({str(folder)!r})); print('open', flush=True); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, capture_output=True)
    with LocalStore.open(folder) as store:
        assert store.summaries() == []


KILLED_MID_WRITE = """
import os, signal, sys
from pathlib import Path
from pos_tui.store.local import LocalStore
folder, uuid = Path(sys.argv[1]), sys.argv[2]
store = LocalStore.open(folder)
# What a write cut off by the kill leaves: its temporary file, named with its pid.
pid = os.getpid()
for path in (folder / f".index.json.{pid}.tmp", folder / "visits" / f".{uuid}.json.{pid}.tmp"):
    path.write_text('{"half', encoding="utf-8")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_stray_temp_files_are_removed_on_start(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        session = Session.start(info, checklists)
        store.create(session)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_MID_WRITE, str(folder), session.uuid],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    assert len(list(folder.rglob(".*.tmp"))) == 2
    with LocalStore.open(folder) as store:
        assert store.report.removed_temp_files == 2
    assert not list(folder.rglob(".*.tmp"))


def damage(path: Path, how: str) -> None:
    if how == "truncated":
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    elif how == "garbage":
        path.write_bytes(b"\x93\xffnot json at all")
    elif how == "wrong shape":
        path.write_text('[{"uuid": 1}]', encoding="utf-8")
    elif how == "empty":
        path.write_bytes(b"")


DAMAGE = ["truncated", "garbage", "wrong shape", "empty"]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_index_is_named_left_untouched_and_recoverable(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist], how: str
) -> None:
    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        for _ in range(2):
            store.create(Session.start(info, checklists))
    index = folder / "index.json"
    damage(index, how)
    damaged_bytes = index.read_bytes()
    with pytest.raises(StoreDamaged) as raised:
        LocalStore.open(folder)
    assert str(index) in str(raised.value)
    assert "pos-tui recover" in str(raised.value)
    assert index.read_bytes() == damaged_bytes
    aside = recover_file(index)
    assert aside.read_bytes() == damaged_bytes
    with LocalStore.open(folder) as store:
        # The backup was one generation behind; the visit files put the index right.
        assert len(store.summaries()) == 2
        assert store.report.reindexed == 1


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_visit_file_is_reported_not_overwritten(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist], how: str
) -> None:
    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        session = Session.start(info, checklists)
        store.create(session)
        save_answer(store, session, "card", "void", Outcome.PASS)
    path = folder / "visits" / f"{session.uuid}.json"
    damage(path, how)
    damaged_bytes = path.read_bytes()
    with LocalStore.open(folder) as store:
        [problem] = store.report.damaged
        assert problem.path == path
        with pytest.raises(StoreDamaged, match=str(path)):
            store.load(session.uuid)
    assert path.read_bytes() == damaged_bytes
    recover_file(path)
    with LocalStore.open(folder) as store:
        # The previous generation: the visit as created, before the answer.
        assert store.load(session.uuid).answers == {}


def test_damage_without_a_backup_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "index.json").write_text("{", encoding="utf-8")
    with pytest.raises(StoreDamaged, match="No previous version exists"):
        LocalStore.open(folder)
    with pytest.raises(StoreError, match="no previous version"):
        recover_file(folder / "index.json")


KILLED_CREATE = """
import os, signal, sys
from pathlib import Path
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import LocalStore
folder, checklists, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
store = LocalStore.open(folder)
info = VisitInfo(merchant_name="面馆", merchant_number="310104000000001",
                 terminal_number="20240001", technician="张伟")
session = Session.start(info, load_checklists([checklists]).checklists)
calls = 0
def killing(real):
    # SIGKILL on the kill_at-th call that makes a file durable or renames one.
    def call(*args, **kwargs):
        global calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return call
for name in ("fsync", "replace"):
    setattr(os, name, killing(getattr(os, name)))
print(session.uuid, flush=True)
store.create(session)
print("created", flush=True)
"""


def test_a_kill_between_the_visit_file_and_the_index_is_mended_on_the_next_open(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    """A real SIGKILL at each durable write of starting a visit, in turn."""
    from tests.unit.test_kill import FIXTURE_CHECKLISTS, ROOT

    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        kept = Session.start(info, checklists)
        store.create(kept)
    seen = set()
    for kill_at in range(1, 40):
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                KILLED_CREATE,
                str(folder),
                str(FIXTURE_CHECKLISTS),
                str(kill_at),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "Traceback" not in done.stderr, done.stderr
        uuid = done.stdout.split()[0]
        with LocalStore.open(folder) as store:
            listed = {s.uuid for s in store.drafts()}
            on_disk = store.visit_path(uuid).exists()
            assert store.report.rescanned == ""  # only the visit in question was read
            # Listed exactly when its file is there: the index follows the visit files.
            assert (uuid in listed) == on_disk, kill_at
            assert kept.uuid in listed
            if on_disk:
                assert store.load(uuid).uuid == uuid
            seen.add((on_disk, store.report.reindexed))
        if done.returncode == 0:
            assert "created" in done.stdout
            break
        assert done.returncode == -9
    else:
        pytest.fail("the visit was never created")
    # Killed before its file, between its file and its row (mended: one row written by
    # the next open), and after both.
    assert {(False, 0), (True, 1), (True, 0)} <= seen


def test_an_index_put_back_by_hand_is_mended_by_a_rescan(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    """What no journal saw (files copied by hand) is for an explicit rescan, which lists
    every visit file: an ordinary open reads only the visits in question."""
    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        kept = Session.start(info, checklists)
        store.create(kept)
        index_before = (folder / "index.json").read_bytes()
        lost = Session.start(info, checklists)
        store.create(lost)
    (folder / "index.json").write_bytes(index_before)
    with LocalStore.open(folder) as store:
        assert {s.uuid for s in store.drafts()} == {kept.uuid}
        report = store.rescan()
        assert report.reindexed == 1
        assert {s.uuid for s in store.drafts()} == {kept.uuid, lost.uuid}


def run_with_file_size_limit(folder: Path, limit: int) -> subprocess.CompletedProcess[str]:
    """A writer whose files cannot grow past `limit` bytes: a full disk, as the writer sees it."""
    script = textwrap.dedent(
        f"""
        import resource, signal
        from pathlib import Path
        from pos_tui.config import Settings
        from pos_tui.services.technician import Services
        from pos_tui.store.local import LocalStore
        from pos_tui.store.storage import StoreWriteFailed
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        with LocalStore.open(Path({str(folder)!r})) as store:
            services = Services(store, [], Settings())
            [summary] = store.drafts()
            session = services.load(summary.uuid).result()
            resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
            try:
                services.record(session, "card", "void", "fail", note="纸" * 5000).result()
            except StoreWriteFailed as error:
                print(error)
                print("in memory:", session.answer("card", "void"))
                raise SystemExit(3)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )


def test_full_disk_keeps_the_previous_version_and_the_session(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        session = Session.start(info, checklists)
        store.create(session)
        save_answer(store, session, "card", "void", Outcome.PASS)
    path = folder / "visits" / f"{session.uuid}.json"
    before = path.read_bytes()
    done = run_with_file_size_limit(folder, len(before) + 100)
    assert done.returncode == 3, done.stderr
    assert "Could not save" in done.stdout and "The previous version is intact" in done.stdout
    assert (
        "in memory: Answer(checklist_id='card', item_id='void', outcome=<Outcome.PASS"
        in done.stdout
    )
    assert path.read_bytes() == before
    assert not list(path.parent.glob(".*.tmp"))
    with LocalStore.open(folder) as store:
        assert store.load(session.uuid).answer("card", "void").outcome is Outcome.PASS  # type: ignore[union-attr]


def test_write_failure_message_for_full_disk() -> None:
    error = StoreWriteFailed(Path("/x/visit.json"), OSError(28, "No space left on device"))
    assert (
        str(error)
        == "Could not save /x/visit.json: the disk is full. The previous version is intact."
    )


@pytest.mark.parametrize(
    ("errno_value", "reason"),
    [(30, "the folder cannot be written to"), (13, "the folder cannot be written to")],
)
def test_write_failure_message_for_a_read_only_target(errno_value: int, reason: str) -> None:
    error = StoreWriteFailed(Path("/mnt/share/index.json"), OSError(errno_value, "denied"))
    assert (
        str(error)
        == f"Could not save /mnt/share/index.json: {reason}. The previous version is intact."
    )


def test_a_backup_that_is_already_the_file_leaves_no_staged_link(tmp_path: Path) -> None:
    """A writer killed between linking the backup and replacing the file: the two are one."""
    from pos_tui.store.storage import backup_path, write_json_atomically

    path = tmp_path / "index.json"
    write_json_atomically(path, {"visits": {}})
    backup_path(path).unlink(missing_ok=True)
    os.link(path, backup_path(path))
    write_json_atomically(path, {"visits": {"1": {"uuid": "a"}}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.json", "index.json.bak"]
    assert json.loads(backup_path(path).read_text("utf-8")) == {"visits": {}}


SIGN_WITH_A_FULL_INDEX = """
import resource, signal, sys
from pathlib import Path
from pos_tui.config import Settings
from pos_tui.services.technician import Services
from pos_tui.store.local import LocalStore
from pos_tui.store.storage import StoreWriteFailed
folder, limit = Path(sys.argv[1]), int(sys.argv[2])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
with LocalStore.open(folder) as store:
    services = Services(store, [], Settings())
    [draft] = store.drafts()
    session = services.load(draft.uuid).result()
    services.device_key()
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        services.sign(session, "张伟", "王老板").result()
    except StoreWriteFailed as error:
        print("refused:", error)
        raise SystemExit(3)
"""


def test_a_sign_off_the_index_cannot_take_is_undone_whole(
    tmp_path: Path, info: VisitInfo, checklists: list[Checklist]
) -> None:
    """The visit file fits on the disk but the index does not: all or nothing."""
    from pos_tui.demo import demo_sessions

    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        store.bulk_add(demo_sessions(checklists, 40))
        session = Session.start(info, checklists)
        store.create(session)
        save_answer(store, session, "card", "void", Outcome.PASS)
    visit_file = folder / "visits" / f"{session.uuid}.json"
    index_size = (folder / "index.json").stat().st_size
    limit = visit_file.stat().st_size + 4096
    assert limit < index_size  # the visit file can be written, the index cannot
    done = subprocess.run(
        [sys.executable, "-c", SIGN_WITH_A_FULL_INDEX, str(folder), str(limit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "index.json" in done.stdout
    with LocalStore.open(folder) as store:
        reopened = store.load(session.uuid)
        assert reopened.status is Status.DRAFT and reopened.signoff is None
        assert [e.what for e in reopened.events] == ["created", "answered"]
        assert [s.uuid for s in store.drafts()] == [session.uuid]
        # Carrying on after the failure: the log holds no "signed" event left behind.
        save_answer(store, reopened, "receipt", "masked", Outcome.PASS)
        assert [e.what for e in store.load(session.uuid).events] == [
            "created",
            "answered",
            "answered",
        ]


def reviewed(store: LocalStore, uuids: list[str]) -> list[Session]:
    """The visits loaded and given a decision, unsaved."""
    sessions = [store.load(uuid) for uuid in uuids]
    for number, session in enumerate(sessions):
        detail = {"decision_id": f"{number:032x}", "decision": "has_issues", "comment": "补拍"}
        session.mark(Status.REVIEWED, "王主管", detail)
    return sessions


def test_save_many_writes_byte_for_byte_what_a_save_each_writes(
    tmp_path: Path, checklists: list[Checklist]
) -> None:
    """What sync's decisions depend on: `signed_record` rebuilds the signed bytes from the
    visit file, so saving together must write the very bytes saving one by one does."""
    import shutil

    from pos_tui.demo import demo_sessions

    each, together = tmp_path / "each", tmp_path / "together"
    with LocalStore.open(each) as store:
        store.bulk_add(demo_sessions(checklists, 6, seed=8))
        uuids = sorted(summary.uuid for summary in store.summaries())
    shutil.copytree(each, together)
    with LocalStore.open(each) as one_by_one, LocalStore.open(together) as at_once:
        sessions = reviewed(one_by_one, uuids[:4])
        for session in sessions:
            one_by_one.save(session)
        at_once.save_many(sessions)
        assert one_by_one.summaries() == at_once.summaries()
        assert one_by_one.counts() == at_once.counts() == {"reviewed": 4, "signed": 2}
    for uuid in uuids:
        for name in (f"{uuid}.json", f"{uuid}.json.bak"):
            mine = each / "visits" / name
            assert mine.exists() == (together / "visits" / name).exists(), name
            if mine.exists():
                assert mine.read_bytes() == (together / "visits" / name).read_bytes(), name
    assert sorted(p.name for p in (together / "visits").iterdir()) == sorted(
        p.name for p in (each / "visits").iterdir()
    )
    with LocalStore.open(together) as store:
        assert not store.report.reindexed and not store.report.rescanned
        assert [e.what for e in store.load(uuids[0]).events][-2:] == ["signed", "reviewed"]


SAVE_MANY_WITH_A_FULL_INDEX = """
import resource, signal, sys
from pathlib import Path
from pos_tui.domain.session import Status
from pos_tui.store.local import LocalStore
from pos_tui.store.storage import StoreWriteFailed
folder, limit = Path(sys.argv[1]), int(sys.argv[2])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
with LocalStore.open(folder) as store:
    sessions = [store.load(summary.uuid) for summary in store.summaries()]
    for session in sessions:
        session.mark(Status.REVIEWED, "王主管", {"decision": "approved", "comment": ""})
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        store.save_many(sessions)
    except StoreWriteFailed as error:
        print("refused:", error)
        raise SystemExit(3)
"""


@pytest.mark.parametrize("full", ["index", "visit files"])
def test_save_many_the_disk_cannot_take_changes_no_visit(
    tmp_path: Path, checklists: list[Checklist], full: str
) -> None:
    """The visit files fit on the disk but the index does not, or the visit files do not
    fit: none of them stays changed, as when a sign-off's index write fails."""
    from pos_tui.demo import demo_sessions

    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        store.bulk_add(demo_sessions(checklists, 40, seed=9))
    files = sorted((folder / "visits").glob("*.json"))
    before = {path: path.read_bytes() for path in files}
    sizes = sorted(path.stat().st_size for path in files)
    # The journal's 40 lines fit in either; a decision makes every visit file grow.
    limit = sizes[-1] + 4096 if full == "index" else sizes[0] + 20
    assert limit < (folder / "index.json").stat().st_size
    done = subprocess.run(
        [sys.executable, "-c", SAVE_MANY_WITH_A_FULL_INDEX, str(folder), str(limit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert ("index.json" if full == "index" else "/visits/") in done.stdout
    assert "The previous version is intact" in done.stdout
    assert {path: path.read_bytes() for path in files} == before
    assert not list((folder / "visits").glob(".*.tmp"))
    with LocalStore.open(folder) as store:
        assert store.counts() == {"signed": 40}
        assert all(s.status == Status.SIGNED for s in store.summaries())
