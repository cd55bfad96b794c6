"""Damaged and hostile store files, on real files: a plain error naming the file, never a
traceback or a hang, and one bad row does not hide the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.safe_read import FileTooLarge, RefusedFile, read_regular_file, read_slice
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store import checklist_copies
from pos_tui.store.ledger import LEDGER_NAME, SyncLedger
from pos_tui.store.local import INDEX_NAME, LocalStore
from pos_tui.store.schema import MAX_DEPTH, parse_json, too_deep
from pos_tui.store.shared import BATCHES_DIR, REVIEWS_NAME, SharedStore
from pos_tui.store.sources import SharedSource, open_source
from pos_tui.store.storage import StoreDamaged, read_json_document
from pos_tui.store.sync import sync

ROOT = Path(__file__).resolve().parents[2]
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_DOCUMENT = b'{"visits": {"1": {"uuid": ' + DEEP + b"}}}"

Change = Callable[[dict[str, Any]], object]
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
needs_dev_zero = pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")


@dataclass
class Stores:
    root: Path
    local: Path
    shared: Path
    uuids: list[str]
    """The signed visits, synced to `shared`."""


@pytest.fixture(scope="module")
def shipped() -> list[Checklist]:
    loaded = load_checklists([shipped_checklists_dir()])
    assert loaded.ok
    return loaded.checklists


@pytest.fixture
def stores(tmp_path: Path, shipped: list[Checklist]) -> Stores:
    local, shared = tmp_path / "data", tmp_path / "shared"
    shared.mkdir()
    with LocalStore.open(local) as store:
        store.bulk_add(signed_visits(shipped, 3))
        uuids = sorted(summary.uuid for summary in store.summaries())
        sync(store, shared, create=True)
    return Stores(tmp_path, local, shared, uuids)


INFO = VisitInfo(
    merchant_name="上海老王面馆",
    merchant_number="310104000000001",
    terminal_number="20240001",
    technician="张伟",
    capabilities=("chip", "pinpad", "printer"),
)


def signed_visits(shipped: list[Checklist], count: int) -> Iterator[Session]:
    for number in range(count):
        session = Session.start(replace(INFO, terminal_number=f"2024{number:04d}"), shipped)
        for checklist in shipped:
            for item in checklist.items:
                # Items that need photos are left open: these visits keep no files.
                needs_files = item.evidence is not None and item.evidence.needed > 0
                if session.applies(item) and not item.fields and not needs_files:
                    session.record(checklist.id, item.id, Outcome.PASS)
        session.sign(INFO.technician, "王老板")
        yield session


def add_draft(folder: Path, shipped: list[Checklist]) -> Session:
    session = Session.start(INFO, shipped)
    with LocalStore.open(folder) as store:
        store.create(session)
    return session


def edit_json(path: Path, change: Change) -> None:
    document = json.loads(path.read_text("utf-8"))
    change(document)
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")


def first_row(document: dict[str, Any], table: str) -> dict[str, Any]:
    return next(iter(document[table].values()))


def pos_tui(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command, pointed at this test's folders; a hang fails the test."""
    env = {
        **os.environ,
        "POS_TUI_DATA_DIR": str(root / "data"),
        "POS_TUI_CONFIG_FILE": str(root / "config.toml"),
        "POS_TUI_SHARED_STORE": str(root / "shared"),
        "POS_TUI_REPORTS_DIR": str(root / "reports"),
    }
    return subprocess.run(
        [sys.executable, "-m", "pos_tui", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_plain_failure(done: subprocess.CompletedProcess[str], path: Path) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert done.returncode == 1, done.stderr
    assert str(path) in done.stderr, done.stderr


# -- reading any file safely ---------------------------------------------------------------


def test_json_nesting_is_measured_without_recursion() -> None:
    assert too_deep(DEEP)
    assert not too_deep(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    assert too_deep(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    # Brackets inside strings, escaped quotes and backslashes are text, not nesting.
    text = json.dumps({"note": "[[[[" * 100 + '\\"{{{' + "\\" * 3}).encode()
    assert not too_deep(text)
    assert parse_json(text)["note"].startswith("[[[[")
    # A truncated file is not mistaken for a deep one: it gets the line and column.
    with pytest.raises(ValueError, match="not valid JSON at line 1"):
        parse_json(b'{"visits": {"1": {"uuid": "a", "x": [[[')


def test_huge_numbers_and_empty_text_are_damage_not_errors() -> None:
    with pytest.raises(ValueError, match="too long"):
        parse_json(b"[" + b"1" * 5000 + b"]")
    with pytest.raises(ValueError, match="empty"):
        parse_json(b" \n")


def test_oversized_file_is_refused_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "index.json"
    path.write_bytes(b"{}" + b" " * 5000)
    with pytest.raises(FileTooLarge, match="over the limit of 1 KiB"):
        read_regular_file(path, 1024)
    with pytest.raises(StoreDamaged, match=f"{path} is damaged.*over the limit"):
        read_json_document(path, limit=1024)


@needs_fifo
def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "index.json"
    os.mkfifo(fifo)
    with pytest.raises(RefusedFile, match="FIFO"):
        read_regular_file(fifo, 1024)
    with pytest.raises(RefusedFile, match="FIFO"):
        read_slice(fifo, 0, 10)
    with pytest.raises(StoreDamaged, match="FIFO"):
        read_json_document(fifo)


@needs_dev_zero
def test_a_link_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "index.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(RefusedFile, match="character device"):
        read_regular_file(link, 1024)  # followed: still not a regular file
    with pytest.raises(StoreDamaged, match="symbolic link"):
        read_json_document(link)  # a store file is never a link


def test_a_folder_in_place_of_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "index.json").mkdir()
    with pytest.raises(StoreDamaged, match="a folder"):
        read_json_document(tmp_path / "index.json")


# -- the local store -----------------------------------------------------------------------


@pytest.mark.parametrize("read_only", [True, False])
def test_deep_index_is_damage_naming_the_file(stores: Stores, read_only: bool) -> None:
    index = stores.local / INDEX_NAME
    index.write_bytes(DEEP_DOCUMENT)
    with pytest.raises(StoreDamaged, match=f"{index} is damaged .nested deeper than 64"):
        LocalStore.open(stores.local, read_only=read_only)
    assert index.read_bytes() == DEEP_DOCUMENT


def test_deep_visit_file_is_damage_and_the_others_still_load(stores: Stores) -> None:
    first, *others = stores.uuids
    with LocalStore.open(stores.local, read_only=True) as store:
        store.visit_path(first).write_bytes(b'{"visit": {"1": ' + DEEP + b"}}")
        with pytest.raises(StoreDamaged, match=str(store.visit_path(first))):
            store.load(first)
        assert [store.load(uuid).uuid for uuid in others] == others


def test_a_damaged_draft_is_listed_from_its_row_and_reported_on_open(
    stores: Stores,
    shipped: list[Checklist],
) -> None:
    draft = add_draft(stores.local, shipped)
    path = stores.local / "visits" / f"{draft.uuid}.json"
    path.write_bytes(b'{"visit": {"1": ' + DEEP + b"}}")
    with LocalStore.open(stores.local) as store:
        assert [error.path for error in store.report.damaged] == [path]
        assert draft.uuid in {summary.uuid for summary in store.summaries()}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda row: row.update(uuid=12345), "'uuid' is a number, not an id"),
        (lambda row: row.update(revision="7"), "'revision' is '7', not a whole number"),
        (lambda row: row.update(status=["signed"]), "'status' is a list, not one of draft"),
        (lambda row: row.update(checklist_ids="card"), "'checklist_ids' is 'card', not a list"),
        (lambda row: row.pop("updated_at"), "has no 'updated_at'"),
        (lambda row: row.update(uuid="../../../etc/passwd"), "'uuid' is '../../../etc/passwd'"),
    ],
)
def test_a_bad_index_row_is_left_out_and_reported_the_others_listed(
    stores: Stores,
    change: Change,
    reason: str,
) -> None:
    index = stores.local / INDEX_NAME
    edit_json(index, lambda document: change(first_row(document, "visits")))
    with LocalStore.open(stores.local, read_only=True) as store:
        listed = store.summaries()
        assert len(listed) == len(stores.uuids) - 1
        [problem] = store.report.damaged
        assert problem.path == index
        assert "row 1 of 'visits'" in str(problem) and reason in str(problem)
        store.summaries()
        assert len(store.report.damaged) == 1  # said once, not once per listing


def test_opening_for_writing_rebuilds_bad_index_rows_from_the_visit_files(
    stores: Stores,
) -> None:
    edit_json(stores.local / INDEX_NAME, lambda d: first_row(d, "visits").update(revision="x"))
    with LocalStore.open(stores.local) as store:
        assert store.report.reindexed >= 1
        assert sorted(summary.uuid for summary in store.summaries()) == stores.uuids
        assert store.report.damaged == ()


def test_an_index_whose_table_is_a_list_is_damage(stores: Stores) -> None:
    index = stores.local / INDEX_NAME
    index.write_text('{"visits": [{"uuid": "a"}]}', "utf-8")
    with pytest.raises(StoreDamaged, match="not a TinyDB store"):
        LocalStore.open(stores.local, read_only=True)


def test_record_ids_must_be_numbers_as_tinydb_insists(stores: Stores) -> None:
    edit_json(stores.local / INDEX_NAME, lambda d: d["visits"].update(x=first_row(d, "visits")))
    with pytest.raises(StoreDamaged, match="record id 'x' is not a number"):
        LocalStore.open(stores.local, read_only=True)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: first_row(d, "events").pop("at"), "event 1 has no 'at'"),
        (lambda d: first_row(d, "visit").update(revision="3"), "'revision' is '3'"),
        (lambda d: first_row(d, "visit").pop("uuid"), "the visit record has no 'uuid'"),
        (
            lambda d: first_row(d, "visit")["answers"][0].update(outcome="maybe"),
            "answers[0]: 'outcome' is 'maybe', not one of pass, fail, na",
        ),
        (
            lambda d: first_row(d, "visit")["checklists"][0].update(sha256="../../x"),
            "checklists[0]: 'sha256' is '../../x', not a sha256",
        ),
        (lambda d: first_row(d, "visit")["info"].update(capabilities=[1]), "'capabilities'"),
        (lambda d: first_row(d, "visit").update(signoff={"x": 1}), "signoff has no"),
        (lambda d: d.update(visit={}), "the visit record is missing"),
    ],
)
def test_a_visit_file_of_the_wrong_shape_is_damage_naming_it(
    stores: Stores,
    change: Change,
    reason: str,
) -> None:
    uuid = stores.uuids[0]
    with LocalStore.open(stores.local, read_only=True) as store:
        path = store.visit_path(uuid)
        edit_json(path, change)
        with pytest.raises(StoreDamaged, match=str(path)) as raised:
            store.load(uuid)
        assert reason in str(raised.value)
        with pytest.raises(StoreDamaged):
            store.read_record(uuid)


def test_a_visit_file_holding_another_visit_is_damage(stores: Stores) -> None:
    first, second, *_ = stores.uuids
    with LocalStore.open(stores.local, read_only=True) as store:
        store.visit_path(first).write_bytes(store.visit_path(second).read_bytes())
        with pytest.raises(StoreDamaged, match=f"holds the visit {second}"):
            store.load(first)


@needs_fifo
def test_a_fifo_as_visit_file_does_not_block_sync_or_load(stores: Stores) -> None:
    uuid = stores.uuids[0]
    with LocalStore.open(stores.local, read_only=True) as store:
        path = store.visit_path(uuid)
        path.unlink()
        os.mkfifo(path)
        with pytest.raises(StoreDamaged, match="FIFO"):
            store.load(uuid)
        with pytest.raises(StoreDamaged, match="FIFO"):
            store.read_raw(uuid)


def test_a_deep_ledger_is_damage_and_bad_ledger_rows_only_look_pending(
    stores: Stores,
) -> None:
    ledger = SyncLedger(stores.local)
    assert len(ledger.synced(stores.shared)) == 3
    edit_json(ledger.path, lambda d: first_row(d, "synced").update(revision=None))
    assert len(ledger.synced(stores.shared)) == 2
    assert ledger.skipped == ["row 1 of 'synced': 'revision' is null, not a whole number"]
    ledger.path.write_bytes(b'{"synced": {"1": ' + DEEP + b"}}")
    with pytest.raises(StoreDamaged, match=str(ledger.path)):
        ledger.synced(stores.shared)


# -- the shared store ----------------------------------------------------------------------


def test_deep_shared_index_and_reviews_are_damage(stores: Stores) -> None:
    shared = SharedStore.open(stores.shared)
    shared.reviews_path.write_bytes(b'{"reviews": {"1": ' + DEEP + b"}}")
    with pytest.raises(StoreDamaged, match=str(shared.reviews_path)):
        shared.reviews()
    shared.index_path.write_bytes(DEEP_DOCUMENT)
    with pytest.raises(StoreDamaged, match=str(shared.index_path)):
        shared.rows()


def test_bad_shared_rows_and_decisions_are_left_out_and_said(stores: Stores) -> None:
    shared = SharedStore.open(stores.shared)
    edit_json(
        shared.shard_path(stores.uuids[0]),
        lambda d: first_row(d, "visits").update(batch="../../x.jsonl"),
    )
    shared.reviews_path.write_text(
        json.dumps(
            {"reviews": {"1": {"id": "a" * 32, "uuid": stores.uuids[0], "decision": "approved"}}}
        ),
        "utf-8",
    )
    edit_json(shared.reviews_path, lambda d: d["reviews"].update({"2": {"decision": "approved"}}))
    assert len(shared.rows()) == 2
    assert len(shared.reviews()) == 1
    assert [(error.path, error.reason) for error in shared.damaged] == [
        (
            shared.shard_path(stores.uuids[0]),
            "row 1 of 'visits': 'batch' is '../../x.jsonl', not a batch file name",
        ),
        (shared.reviews_path, "row 2 of 'reviews' has no 'id'"),
    ]
    source = SharedSource(stores.shared)
    assert len(source.rows()) == 2
    [kept] = source.checked_decisions()
    assert kept.uuid == stores.uuids[0] and kept.state == "unsigned"
    assert source.decisions_by_visit() == {}  # written by hand: read, shown, not counted
    assert len(source.damaged) == 2


def test_a_row_handed_back_by_a_caller_is_checked_again(stores: Stores) -> None:
    shared = SharedStore.open(stores.shared)
    row = dict(shared.rows()[0], batch="../../../etc/passwd", length=10)
    with pytest.raises(StoreDamaged, match=r"'batch' is '\.\./\.\./\.\./etc/passwd'"):
        shared.read_record(row)
    with pytest.raises(StoreDamaged, match="'length'"):
        shared.read_record(dict(shared.rows()[0], length=10**12))


def batch_of(shared: SharedStore) -> tuple[dict[str, Any], Path]:
    row = shared.rows()[0]
    return row, shared.folder / BATCHES_DIR / row["batch"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"visit": {"1": ' + DEEP + b"}}", "nested deeper than 64 levels"),
        (b"[1, 2, 3]", "not a TinyDB store"),
        (b'{"visit": {"1": {"uuid": "x"}}}', "the visit record has no 'created_at'"),
        (b'{"visit": {"1": {"uuid": "x"}}', "not valid JSON"),
        (b"\xff\xfe", "not UTF-8 text"),
    ],
)
def test_a_batch_record_of_the_wrong_shape_is_damage(
    stores: Stores, line: bytes, reason: str
) -> None:
    shared = SharedStore.open(stores.shared)
    row, batch = batch_of(shared)
    batch.write_bytes(line + b"\n")
    row = dict(row, offset=0, length=len(line))
    with pytest.raises(StoreDamaged, match=str(batch)) as raised:
        shared.read_record(row)
    assert reason in str(raised.value)


def test_a_cut_short_batch_is_damage(stores: Stores) -> None:
    shared = SharedStore.open(stores.shared)
    row, batch = batch_of(shared)
    batch.write_bytes(batch.read_bytes()[: row["offset"] + 10])
    with pytest.raises(StoreDamaged, match="cut short"):
        shared.read_record(row)


@needs_dev_zero
def test_a_batch_linked_to_dev_zero_is_refused(stores: Stores) -> None:
    shared = SharedStore.open(stores.shared)
    row, batch = batch_of(shared)
    batch.unlink()
    batch.symlink_to("/dev/zero")
    with pytest.raises(StoreDamaged, match="symbolic link"):
        shared.read_record(row)


def test_a_sync_into_an_index_with_bad_rows_still_lands(
    stores: Stores,
    shipped: list[Checklist],
) -> None:
    shared = SharedStore.open(stores.shared)
    edit_json(
        shared.shard_path(stores.uuids[0]), lambda d: first_row(d, "visits").pop("record_hash")
    )
    with LocalStore.open(stores.local) as store:
        store.bulk_add(signed_visits(shipped, 1))
        report = sync(store, stores.shared)
    assert len(report.pushed.added) == 1


def test_a_shared_checklist_copy_replaced_by_a_fifo_or_dev_zero_is_refused(
    stores: Stores,
) -> None:
    source = open_source(stores.shared)
    row = source.rows()[0]
    copy = checklist_copies.copy_path(
        stores.shared, source.store.read_record(row)["visit"]["checklists"][0]["sha256"]
    )
    copy.unlink()
    if hasattr(os, "mkfifo"):
        os.mkfifo(copy)
        checklist_copies._parsed.cache_clear()
        with pytest.raises(StoreDamaged, match="FIFO"):
            source.record(row)
        copy.unlink()
    copy.write_bytes(b"id: x\n" + b"#" * (2 * 1024 * 1024))
    checklist_copies._parsed.cache_clear()
    with pytest.raises(StoreDamaged, match="over the limit"):
        source.record(row)
    copy.write_text("id: [\n", "utf-8")
    checklist_copies._parsed.cache_clear()
    with pytest.raises(StoreDamaged, match="not a valid checklist: line"):
        source.record(row)


def test_the_review_list_loads_beside_bad_rows_and_decisions(stores: Stores) -> None:
    from pos_tui.services.review import ReviewServices

    shared = SharedStore.open(stores.shared)
    edit_json(shared.shard_path(stores.uuids[0]), lambda d: first_row(d, "visits").update(uuid=7))
    shared.reviews_path.write_text('{"reviews": {"1": {"decision": "approved"}}}', "utf-8")
    services = ReviewServices(SharedSource(stores.shared))
    try:
        assert len(services.rows().result(timeout=30)) == 2
    finally:
        services.close()


# -- the real command line -----------------------------------------------------------------


def test_cli_list_and_app_start_on_a_deep_index(stores: Stores) -> None:
    index = stores.local / INDEX_NAME
    index.write_bytes(DEEP_DOCUMENT)
    assert_plain_failure(pos_tui(stores.root, "list"), index)
    assert_plain_failure(pos_tui(stores.root, "run"), index)
    assert_plain_failure(pos_tui(stores.root, "sync"), index)


def test_cli_list_leaves_out_a_bad_row_and_lists_the_rest(stores: Stores) -> None:
    edit_json(stores.local / INDEX_NAME, lambda d: first_row(d, "visits").update(uuid=1))
    done = pos_tui(stores.root, "list", "--json")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == len(stores.uuids) - 1


def test_cli_report_of_a_deep_visit_file(stores: Stores) -> None:
    path = stores.local / "visits" / f"{stores.uuids[0]}.json"
    path.write_bytes(b'{"visit": {"1": ' + DEEP + b"}}")
    assert_plain_failure(pos_tui(stores.root, "report", stores.uuids[0][:8]), path)


def test_cli_sync_on_a_deep_ledger_and_a_deep_shared_index(stores: Stores) -> None:
    ledger = stores.local / LEDGER_NAME
    kept = ledger.read_bytes()
    ledger.write_bytes(b'{"synced": {"1": ' + DEEP + b"}}")
    assert_plain_failure(pos_tui(stores.root, "sync"), ledger)
    ledger.write_bytes(kept)
    (stores.shared / INDEX_NAME).write_bytes(DEEP_DOCUMENT)
    assert_plain_failure(
        pos_tui(stores.root, "export", "--store", str(stores.shared)), stores.shared / INDEX_NAME
    )


def test_cli_export_with_deep_reviews_and_a_bad_batch_line(stores: Stores) -> None:
    reviews = stores.shared / REVIEWS_NAME
    reviews.write_bytes(b'{"reviews": {"1": ' + DEEP + b"}}")
    assert_plain_failure(pos_tui(stores.root, "export", "--store", str(stores.shared)), reviews)
    reviews.unlink()
    shared = SharedStore.open(stores.shared)
    row, batch = batch_of(shared)
    batch.write_bytes(b"[]" * (row["offset"] + row["length"]))
    assert_plain_failure(pos_tui(stores.root, "export", "--store", str(stores.shared)), batch)


@needs_dev_zero
def test_cli_export_with_a_checklist_copy_linked_to_dev_zero(stores: Stores) -> None:
    copies = sorted((stores.shared / "checklists").glob("*.yaml"))
    for copy in copies:
        copy.unlink()
        copy.symlink_to("/dev/zero")
    done = pos_tui(stores.root, "export", "--store", str(stores.shared))
    assert_plain_failure(done, copies[0].parent)
    assert "symbolic link" in done.stderr


@needs_fifo
@needs_dev_zero
def test_cli_validate_reports_each_hostile_file_and_carries_on(tmp_path: Path) -> None:
    folder = tmp_path / "checklists"
    folder.mkdir()
    good = folder / "a-good.yaml"
    good.write_bytes(min(shipped_checklists_dir().glob("*.yaml")).read_bytes())
    os.mkfifo(folder / "fifo.yaml")
    (folder / "zero.yaml").symlink_to("/dev/zero")
    (folder / "huge.yaml").write_bytes(b"a: " + b"x" * (3 * 1024 * 1024))
    (folder / "x.yaml").mkdir()
    done = pos_tui(tmp_path, "validate", str(folder))
    assert "Traceback" not in done.stderr and done.returncode == 1
    assert f"ok  {good}" in done.stdout
    lines = done.stderr.splitlines()
    assert f"{folder / 'fifo.yaml'}:1:1: not a checklist file: it is a FIFO" in done.stderr
    assert f"{folder / 'zero.yaml'}:1:1: not a checklist file: it is a character device" in (
        done.stderr
    )
    assert f"{folder / 'huge.yaml'}:1:1: file is 3072 KiB" in done.stderr
    assert f"{folder / 'x.yaml'}:1:1: not a checklist file: it is a folder" in done.stderr
    assert lines[-1] == "4 problems found."
