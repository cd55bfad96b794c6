"""Exports stream from a shared store of either kind: the rows come a shard or a cursor's
chunk at a time (`iter_rows`), in the store's order, and the export holds what the rows
hold (bench/export.py measures the memory)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pos_tui.cli import main
from pos_tui.demo import demo_sessions
from pos_tui.domain.loader import load_checklists
from pos_tui.locations import shipped_checklists_dir
from pos_tui.reports.export import CSV_COLUMNS
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import SharedSource
from pos_tui.store.sync import sync
from pos_tui.store.targets import Target
from tests.helpers.kinds import init_empty

VISITS = 9


@pytest.fixture
def synced(shared_target: Target, tmp_path: Path) -> tuple[Target, Path, list[str]]:
    """A shared store of either kind holding the visits of a laptop; the laptop; their uuids."""
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    laptop = tmp_path / "data"
    init_empty(shared_target)
    with LocalStore.open(laptop) as store:
        store.bulk_add(demo_sessions(checklists, VISITS, seed=5))
        uuids = [summary.uuid for summary in store.summaries()]
        assert len(sync(store, shared_target).pushed.added) == VISITS
    return shared_target, laptop, uuids


def export(store: Target | Path, fmt: str, *extra: str) -> str:
    done = CliRunner().invoke(main, ["export", "--store", str(store), "--format", fmt, *extra])
    assert done.exit_code == 0, done.output
    return done.stdout


def test_iter_rows_gives_the_current_rows_of_rows(synced: tuple[Target, Path, list[str]]) -> None:
    target, _laptop, uuids = synced
    source = SharedSource(target)
    try:
        streamed = list(source.iter_rows())
        assert sorted(map(json.dumps, streamed)) == sorted(map(json.dumps, source.rows()))
        assert sorted(row["uuid"] for row in streamed) == sorted(uuids)
        assert source.damaged == ()
    finally:
        source.close()


def test_pg_rows_come_through_the_cursor_in_chunks(pg_url: str, tmp_path: Path) -> None:
    from pos_tui.store.pg.store import PgSharedStore

    checklists = load_checklists([shipped_checklists_dir()]).checklists
    init_empty(pg_url)
    with LocalStore.open(tmp_path / "data") as laptop:
        laptop.bulk_add(demo_sessions(checklists, 5, seed=2))
        sync(laptop, pg_url)
    with PgSharedStore.open(pg_url) as store:
        # Two rows a chunk: a store far larger than a chunk is read the same way.
        assert [row["id"] for row in store.iter_rows(chunk=2)] == [r["id"] for r in store.rows()]


def test_a_bad_row_of_a_shard_is_said_once_the_shard_is_read(tmp_path: Path) -> None:
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    share = tmp_path / "shared"
    init_empty(share)
    with LocalStore.open(tmp_path / "data") as laptop:
        laptop.bulk_add(demo_sessions(checklists, 3, seed=4))
        sync(laptop, share)
    shard = sorted((share / "index").glob("*.json"))[0]
    document = json.loads(shard.read_text("utf-8"))
    document["visits"]["999"] = {"uuid": shard.stem + "-bad"}  # no batch, no hash
    shard.write_text(json.dumps(document), "utf-8")
    source = SharedSource(share)
    try:
        assert len(list(source.iter_rows())) == 3
        assert [getattr(error, "path", None) for error in source.damaged] == [shard]
    finally:
        source.close()


def test_an_export_of_either_kind_writes_every_visit_in_the_store_order(
    synced: tuple[Target, Path, list[str]],
) -> None:
    target, laptop, uuids = synced
    table = list(csv.reader(io.StringIO(export(target, "csv").lstrip("\ufeff"))))
    header, lines = table[0], table[1:]
    visits = list(dict.fromkeys(line[0] for line in lines))
    assert sorted(visits) == sorted(uuids)
    source = SharedSource(target)
    try:
        assert visits == [row["uuid"] for row in source.iter_rows()]
    finally:
        source.close()
    # The value: columns come from the store's checklist copies, a database's as a folder's:
    # the laptop's own export, from its copies of the same checklists, has the same header.
    local = next(csv.reader(io.StringIO(export(laptop, "csv").lstrip("\ufeff"))))
    assert header == local and len(header) > len(CSV_COLUMNS)
    documents = json.loads(export(target, "json"))
    assert [document["uuid"] for document in documents] == visits
