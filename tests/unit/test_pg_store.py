"""The PostgreSQL shared store against a real server: the folder store's semantics.

Records are built as sync builds them (`sync._outgoing` on a real LocalStore in tmp_path);
the server is the one `tests/pg_server.py` starts, a fresh database per test (`pg_url`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid as uuid_module
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.decisions import GAP_BEFORE, check_log, decision_hash
from pos_tui.domain.integrity import ALTERED, EVIDENCE_REPLACED, VERIFIED
from pos_tui.domain.keyring import Keyring
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.signatures import encode
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.evidence_files import MISSING, REPLACED, EvidenceFiles
from pos_tui.store.keys import DEVICE, REVIEWER, ensure_key
from pos_tui.store.local import LocalStore
from pos_tui.store.pg import is_pg_url, paging
from pos_tui.store.pg.connect import BadUrl, CannotConnect, PasswordInUrl, parameters
from pos_tui.store.pg.evidence import CHUNK, part_tag
from pos_tui.store.pg.migrations import (
    LATEST,
    MIGRATIONS,
    NotAStore,
    SchemaTooNew,
    SchemaTooOld,
    migrate,
)
from pos_tui.store.pg.reading import PgReadFailed
from pos_tui.store.pg.store import PgSharedStore, PgWriteFailed, insert_rows
from pos_tui.store.shared import Outgoing
from pos_tui.store.sources import SharedSource, VisitRecord
from pos_tui.store.storage import StoreError
from pos_tui.store.sync import _checklist_files, _outgoing
from tests.helpers.photos import jpeg
from tests.helpers.visits import laptop_key, save_answer, save_attach, save_sign

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg(pg_url: str) -> Iterator[PgSharedStore]:
    with PgSharedStore.init(pg_url) as store:
        yield store


def signed(store: LocalStore, info: VisitInfo, checklists: list[Checklist], note: str) -> Outgoing:
    """A visit signed on the laptop, as sync would send it."""
    session = Session.start(info, checklists)
    store.create(session)
    save_answer(store, session, "card", "void", Outcome.FAIL, note=note)
    save_sign(store, session, info.technician, "王老板", signer=laptop_key(store))
    return outgoing(store, session.uuid)


def outgoing(store: LocalStore, uuid: str) -> Outgoing:
    [summary] = [s for s in store.summaries() if s.uuid == uuid]
    return _outgoing(store, summary)


def variant(
    record: Outgoing,
    uuid: str | None = None,
    revision: int | None = None,
    pad: int = 0,
    **summary: object,
) -> Outgoing:
    """Another record from a real one: under another uuid, and/or other bytes for the same
    content (spaces between JSON tokens), and/or a row saying another revision."""
    raw = record.raw if uuid is None else record.raw.replace(record.uuid.encode(), uuid.encode())
    raw = raw[:1] + b" " * pad + raw[1:]
    row = dict(record.row) | ({"uuid": uuid} if uuid else {}) | summary
    if revision is not None:
        row["revision"] = revision
    return Outgoing(row, raw, record.files)


def sql(store: PgSharedStore, query: str, *params: object) -> list[tuple[object, ...]]:
    cursor = store.conn.execute(query, params or None)
    return cursor.fetchall() if cursor.description else []


def end_backend(store: PgSharedStore, by: PgSharedStore) -> None:
    """The server ends `store`'s connection, as a restart or an administrator would."""
    [(pid,)] = sql(store, "SELECT pg_backend_pid()")
    sql(by, "SELECT pg_terminate_backend(%s)", pid)


# -- the address ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["postgresql://clerk:s3cret@db.bank/pos", "postgresql:///pos?host=/run&password=s3cret"]
)
def test_an_address_with_a_password_is_refused_in_a_plain_sentence(url: str) -> None:
    with pytest.raises(PasswordInUrl) as refused:
        parameters(url)
    said = str(refused.value)
    assert "s3cret" not in said
    assert "PGPASSWORD" in said and "~/.pgpass" in said


def test_an_address_without_a_password_asks_for_tls_when_offered_and_names_the_program() -> None:
    params = parameters("postgresql://clerk@db.bank/pos")
    assert params["sslmode"] == "prefer" and params["application_name"] == "pos-tui"
    assert parameters("postgresql://clerk@db.bank/pos?sslmode=verify-full")["sslmode"] == (
        "verify-full"
    )
    assert parameters("postgresql:///pos?host=/run/pg")["host"] == "/run/pg"
    with pytest.raises(BadUrl, match="postgresql://user@host/database"):
        parameters("postgresql://clerk@db.bank/pos?colour=blue")
    assert is_pg_url("postgresql://x/y") and not is_pg_url("/mnt/share")


def test_psycopg_stays_off_the_start_up_path() -> None:
    script = (
        "import json, sys, pos_tui.store.pg, pos_tui.cli, pos_tui.ui.app;"
        " print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert "psycopg" not in json.loads(done.stdout)


@pytest.mark.parametrize(
    ("required", "outcome"), [({}, "1 skipped"), ({"POS_TUI_REQUIRE_PG": "1"}, "1 error")]
)
def test_without_a_server_the_tests_skip_saying_why_but_fail_where_it_is_required(
    tmp_path: Path, required: dict[str, str], outcome: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "POS_TUI_REQUIRE_PG")}
    env |= {"POS_TUI_PG_BINDIR": str(tmp_path)} | required
    test = (
        "tests/unit/test_pg_store.py"
        "::test_a_database_without_the_schema_is_refused_and_init_makes_it_once"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            test,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert outcome in done.stdout, done.stdout
    assert "No PostgreSQL server binaries" in done.stdout


def test_a_server_that_is_not_there_is_said_in_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(CannotConnect, match="Cannot connect to the PostgreSQL store"):
        PgSharedStore.open(f"postgresql:///pos?host={tmp_path}")


# -- the schema -----------------------------------------------------------------------------


def test_a_database_without_the_schema_is_refused_and_init_makes_it_once(pg_url: str) -> None:
    with pytest.raises(NotAStore, match="shared init"):
        PgSharedStore.open(pg_url)
    with PgSharedStore.init(pg_url) as store:
        assert migrate(store.conn, pg_url) == []  # a second init changes nothing
        assert sql(store, "SELECT max(version) FROM schema_version") == [(LATEST,)]
    PgSharedStore.open(pg_url).close()


def test_a_schema_newer_than_this_program_is_refused_to_open_and_to_migrate(
    pg: PgSharedStore, pg_url: str
) -> None:
    sql(pg, "INSERT INTO schema_version (version, what) VALUES (%s, 'from the future')", LATEST + 1)
    with pytest.raises(SchemaTooNew, match="newer than this pos-tui knows") as refused:
        PgSharedStore.open(pg_url)
    assert "update pos-tui" in str(refused.value)
    with pytest.raises(SchemaTooNew):
        PgSharedStore.init(pg_url)


_V3 = MIGRATIONS[2][2]
OLDER_SCHEMAS = {
    # The store as a program of schema 2 left it: no index of words.
    2: [
        "DROP INDEX visits_search_grams, visits_search_attention",
        "DROP FUNCTION pos_tui_grams",
        "DELETE FROM schema_version WHERE version >= 3",
    ],
    # Schema 3: the grams a stored column of every row, its index on that column.
    3: [
        "DROP INDEX visits_search_grams, visits_search_attention",
        _V3[_V3.index("ALTER TABLE") :],
        "DELETE FROM schema_version WHERE version >= 4",
    ],
}


@pytest.mark.parametrize("older", sorted(OLDER_SCHEMAS))
def test_init_brings_an_older_store_with_visits_up_to_date_and_its_search_finds_them(
    store: LocalStore,
    info: VisitInfo,
    checklists: list[Checklist],
    pg: PgSharedStore,
    pg_url: str,
    older: int,
) -> None:
    """Migrations 3 and 4 (the index of the search box's words) on a store that already
    holds visits: until `shared init` it is refused with the command to run; after it, a
    search goes through the index and finds what was there before."""
    base = signed(store, info, checklists, "迁移")
    names = ["上海老王面馆", "北京烤鸭店", "王记面馆"]
    records = [
        variant(base, uuid=str(uuid_module.UUID(int=n + 1)), merchant_name=name)
        for n, name in enumerate(names)
    ]
    pg.push(records, {})
    for statement in OLDER_SCHEMAS[older]:
        sql(pg, statement)
    with pytest.raises(SchemaTooOld, match="shared init"):
        PgSharedStore.open(pg_url)
    with PgSharedStore.init(pg_url) as migrated:
        assert sql(migrated, "SELECT max(version) FROM schema_version") == [(LATEST,)]
        columns = sql(
            migrated,
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'visits'",
        )
        assert ("search_grams",) not in columns  # no longer in every row
        for word, found in (("面馆", [0, 2]), ("王", [0, 2]), ("烤鸭", [1]), ("馆面", [])):
            rows, matched = migrated.list_page({"text": word}, "merchant", False, 0, 10)
            assert sorted(names.index(row["merchant_name"]) for row in rows) == found, word
            assert matched == len(found)
        # Every row written before the migration has its grams, cut as `grams_of` cuts.
        grams = sql(migrated, f"SELECT merchant_name, {paging.GRAMS} FROM visits")
        for name, kept in grams:
            assert set(paging.grams_of(name.lower())) <= set(kept)  # type: ignore[arg-type]
        assert paging.grams_of("面馆") == ["面馆"] and paging.grams_of("a") == []
        assert paging.grams_of("王") == ["王"] and paging.grams_of("abc") == ["ab", "bc"]


def test_a_search_is_answered_by_the_index_of_grams_as_the_query_names_it(
    pg: PgSharedStore,
) -> None:
    """`paging.GRAMS` is the index's expression word for word: were the two to drift apart,
    every search would read the whole table, and still find the right rows."""
    # Every visit, superseded too: no other index has a condition to answer.
    query, params = paging.count_query(paging.Filters(text="面馆", superseded=None))
    # An empty table, which the planner would rather read whole but for these.
    sql(pg, "SET enable_seqscan = off")
    sql(pg, "SET enable_indexscan = off")
    plan = sql(pg, "EXPLAIN " + query.as_string(pg.conn), *params)
    assert any("visits_search_grams" in str(line) for (line,) in plan), plan


# -- pushing --------------------------------------------------------------------------------


def test_a_push_lands_its_records_byte_for_byte_and_a_second_push_adds_nothing(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], pg: PgSharedStore
) -> None:
    records = [signed(store, info, checklists, f"第{n}次") for n in range(3)]
    origin = {"device_id": "laptop-1"}
    steps: list[tuple[int, int]] = []
    report = pg.push(records, origin, lambda *step: steps.append(step), _checklist_files(store))
    assert report.added == [r.uuid for r in records] and steps[-1] == (3, 3)
    again = pg.push(records, origin, checklists=_checklist_files(store))
    assert (again.added, again.unchanged) == ([], [r.uuid for r in records])
    rows = pg.rows()
    assert [row["uuid"] for row in rows] == [r.uuid for r in records]
    for row, record in zip(rows, records, strict=True):
        assert row["record_hash"] == record.digest
        assert (row["conflict"], row["superseded"]) == (False, False)
        assert row["status"] == "signed" and row["revision"] == record.row["revision"]
        assert row["merchant_name"] == "上海老王面馆" and row["host"] and row["synced_at"]
        assert type(row["id"]) is int and "batch" not in row
    [(stored,)] = sql(
        pg, "SELECT record FROM visit_bodies WHERE record_hash = %s", rows[0]["record_hash"]
    )
    assert hashlib.sha256(bytes(stored)).hexdigest() == records[0].digest
    assert pg.read_record(rows[1])["visit"]["answers"][0]["note"] == "第1次"
    assert pg.damaged_rows() == []
    # The checklists' exact words came along, once.
    for sha256, path in _checklist_files(store):
        assert pg.checklists.load(sha256).id in {c.id for c in checklists}
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    assert sql(pg, "SELECT count(*) FROM checklists") == [(len(_checklist_files(store)),)]


def test_a_push_cut_off_from_the_server_says_so_and_lands_nothing(
    store: LocalStore,
    info: VisitInfo,
    checklists: list[Checklist],
    pg: PgSharedStore,
    pg_url: str,
) -> None:
    record = signed(store, info, checklists, "断线")
    with PgSharedStore.open(pg_url) as cut:
        end_backend(cut, by=pg)
        with pytest.raises(PgWriteFailed, match="Nothing was changed"):
            cut.push([record], {})
    assert pg.rows() == []
    assert pg.push([record], {}).added == [record.uuid]


def test_a_read_cut_off_from_the_server_says_so_and_the_next_one_reconnects(
    store: LocalStore,
    info: VisitInfo,
    checklists: list[Checklist],
    pg: PgSharedStore,
    pg_url: str,
) -> None:
    """A review session outlives its connection: the read that finds it gone is said in a
    sentence (a `StoreError`, never the driver's traceback), the next read and the next
    write reconnect; evidence reads too."""
    record = signed(store, info, checklists, "断线")
    pg.push([record], {})
    photo = pg.files.keep(b"\xff\xd8 a photo")

    with PgSharedStore.open(pg_url) as reader:
        reads = [
            lambda: reader.list_page({}, "attention", False, 0, 10)[0],
            lambda: list(reader.iter_rows()),
            lambda: reader.files.read(photo),
            lambda: reader.versions_of([record.uuid]),
        ]
        for read in reads:
            end_backend(reader, by=pg)
            with pytest.raises(PgReadFailed, match="try again") as said:
                read()
            assert isinstance(said.value, StoreError) and "psycopg" not in str(said.value)
            assert read()  # reconnected
        end_backend(reader, by=pg)
        with contextlib.suppress(PgReadFailed):
            reader.count()
        again = variant(record, revision=record.row["revision"] + 1, pad=1)
        assert reader.push([again], {}).added == [record.uuid]  # a write reconnects too
    assert len(pg.rows()) == 2


def test_a_different_record_under_the_same_revision_is_kept_beside_it_both_flagged(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], pg: PgSharedStore
) -> None:
    record = signed(store, info, checklists, "打印机缺纸")
    other = variant(record, pad=1)
    assert other.digest != record.digest
    pg.push([record], {})
    report = pg.push([other], {})
    assert report.conflicts == [record.uuid]
    rows = pg.rows()
    assert {row["record_hash"] for row in rows} == {record.digest, other.digest}
    assert all(row["conflict"] for row in rows)
    assert all(pg.read_record(row)["visit"]["uuid"] == record.uuid for row in rows)


def test_a_later_revision_supersedes_the_earlier_which_is_kept(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], pg: PgSharedStore
) -> None:
    first = signed(store, info, checklists, "拒绝交易 05")
    session = store.load(first.uuid)
    session.amend("张伟", "复测通过")
    save_answer(store, session, "card", "void", Outcome.PASS)
    save_sign(store, session, "张伟", "王老板", signer=laptop_key(store))
    amended = outgoing(store, first.uuid)
    assert amended.row["revision"] > first.row["revision"]
    pg.push([first], {})
    assert pg.push([amended], {}).added == [first.uuid]
    by_revision = {row["revision"]: row for row in pg.rows()}
    assert by_revision[first.row["revision"]]["superseded"] is True
    assert by_revision[amended.row["revision"]]["superseded"] is False
    assert not any(row["conflict"] for row in by_revision.values())
    # An earlier revision arriving late is kept, already superseded.
    late = variant(first, revision=first.row["revision"] - 1, pad=2)
    pg.push([late], {})
    assert {r["revision"]: r["superseded"] for r in pg.rows()}[late.row["revision"]] is True


def photo_visit(
    store: LocalStore, info: VisitInfo, evidence_checklists: list[Checklist], photos: list[bytes]
) -> Outgoing:
    session = Session.start(info, evidence_checklists)
    store.create(session)
    save_attach(
        store,
        session,
        "site-photos",
        "storefront",
        [(f"门头{n}.jpg", data) for n, data in enumerate(photos)],
    )
    save_answer(store, session, "site-photos", "storefront", Outcome.PASS)
    save_sign(store, session, "张伟", "王老板", signer=laptop_key(store))
    return outgoing(store, session.uuid)


def test_evidence_goes_first_and_a_repair_gives_back_a_changed_record_and_a_replaced_file(
    store: LocalStore, info: VisitInfo, evidence_checklists: list[Checklist], pg: PgSharedStore
) -> None:
    record = photo_visit(store, info, evidence_checklists, [jpeg(1), jpeg(2)])
    assert len(record.files) == 2
    laptop = EvidenceFiles(store.folder)
    steps: list[tuple[str, int, int]] = []
    report = pg.push(
        [record],
        {"device_id": "laptop-1"},
        evidence=laptop,
        file_progress=lambda *step: steps.append(step),
    )
    assert report.added == [record.uuid] and report.files_copied == 2
    assert steps[-1] == ("files", 2, 2)
    assert all(pg.files.check(f.sha256, f.size) is None for f in record.files)
    assert pg.push([record], {}, evidence=laptop).files_copied == 0

    # Someone changes the record's bytes and one photo's bytes, sizes kept.
    [row] = pg.rows()
    sql(
        pg,
        "UPDATE visit_bodies SET record = %s WHERE record_hash = %s",
        record.line.replace(b"\x22", b"'", 1),
        row["record_hash"],
    )
    photo = record.files[0]
    [(data,)] = sql(
        pg, "SELECT data FROM evidence_chunks WHERE sha256 = %s AND n = 0", photo.sha256
    )
    flipped = bytearray(bytes(data))
    flipped[-10] ^= 0xFF
    sql(
        pg,
        "UPDATE evidence_chunks SET data = %s WHERE sha256 = %s AND n = 0",
        bytes(flipped),
        photo.sha256,
    )
    assert [r["uuid"] for r in pg.damaged_rows()] == [record.uuid]
    assert pg.files.quick_check(photo.sha256, photo.size) is None  # only a hash can tell
    assert pg.files.check(photo.sha256, photo.size) == REPLACED
    # A plain push only looks at sizes, as on a share: nothing sent, nothing mended.
    assert pg.push([record], {}, evidence=laptop).unchanged == [record.uuid]

    mended = pg.repair([record], {"device_id": "laptop-1"}, evidence=laptop)
    assert mended.repointed == [record.uuid] and mended.files_copied == 1
    assert pg.damaged_rows() == []
    assert pg.files.check(photo.sha256, photo.size) is None
    assert pg.files.read(photo.sha256) == laptop.read(photo.sha256)
    assert len(pg.rows()) == 1  # records are rows: mended in place, never a second one
    assert pg.repair([record], {}, evidence=laptop).unchanged == [record.uuid]


def test_a_record_read_back_verifies_as_signed_and_a_replaced_photo_shows(
    tmp_path: Path,
    store: LocalStore,
    info: VisitInfo,
    evidence_checklists: list[Checklist],
    pg: PgSharedStore,
    pg_url: str,
) -> None:
    admin = ensure_key(tmp_path / "admin", DEVICE)[0]
    pg.create_genesis(admin, "系统管理员")
    trusted = {"role": "technician", "name": "张伟", "employee_no": ""}
    pg.append_keyring(
        {"action": "trust", "public_key": encode(laptop_key(store).public_key), **trusted}, admin
    )
    record = photo_visit(store, info, evidence_checklists, [jpeg(5)])
    laptop = EvidenceFiles(store.folder)
    pg.push([record], {}, checklists=_checklist_files(store), evidence=laptop)
    source = SharedSource(pg_url, tmp_path / "supervisor")
    try:
        [row] = source.rows()
        assert source.record(row).integrity.state == VERIFIED
        [(data,)] = sql(pg, "SELECT data FROM evidence_chunks WHERE n = 0")
        sql(pg, "UPDATE evidence_chunks SET data = %s WHERE n = 0", bytes(data)[:-1] + b"!")
        shown = source.record(row).integrity
        assert shown.state == ALTERED and EVIDENCE_REPLACED in shown.reasons
        assert [type(found) for found in source.revisions(record.uuid)] == [VisitRecord]
    finally:
        source.close()


def test_a_visit_whose_photo_is_replaced_on_the_laptop_is_refused_the_others_go(
    store: LocalStore, info: VisitInfo, evidence_checklists: list[Checklist], pg: PgSharedStore
) -> None:
    broken = photo_visit(store, info, evidence_checklists, [jpeg(3)])
    fine = photo_visit(store, info, evidence_checklists, [jpeg(4)])
    path = EvidenceFiles(store.folder).path(broken.files[0].sha256)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    report = pg.push([broken, fine], {}, evidence=EvidenceFiles(store.folder))
    assert report.added == [fine.uuid]
    [(uuid, why)] = report.refused
    assert uuid == broken.uuid and "no longer hashes to its name" in why
    assert pg.files.quick_check(broken.files[0].sha256, broken.files[0].size) == MISSING


def test_a_large_file_goes_in_chunks_carries_on_after_a_cut_and_shows_a_replaced_chunk(
    tmp_path: Path, pg: PgSharedStore
) -> None:
    laptop = EvidenceFiles(tmp_path / "laptop")
    data = os.urandom(2 * CHUNK + CHUNK // 2)
    sha256 = laptop.keep(data)
    # A copy cut off after its first chunk: the next one sends only the rest.
    sql(
        pg,
        "INSERT INTO evidence_chunks (sha256, writer, n, data) VALUES (%s, %s, 0, %s)",
        sha256,
        part_tag("laptop-1"),
        data[:CHUNK],
    )
    sent: list[int] = []
    assert pg.files.copy_from(laptop, sha256, len(data), sent.append, "laptop-1") is True
    assert sent == [CHUNK, CHUNK // 2]  # one chunk a statement, never the whole file
    assert sql(
        pg, "SELECT n, octet_length(data) FROM evidence_chunks WHERE writer = '' ORDER BY n"
    ) == [(0, CHUNK), (1, CHUNK), (2, CHUNK // 2)]
    assert pg.files.read(sha256) == data and pg.files.check(sha256, len(data)) is None
    assert pg.files.copy_from(laptop, sha256, len(data)) is False

    sql(
        pg,
        "UPDATE evidence_chunks SET data = %s WHERE sha256 = %s AND n = 1",
        os.urandom(CHUNK),
        sha256,
    )
    assert pg.files.check(sha256, len(data)) == REPLACED
    with pytest.raises(StoreError, match="has been replaced"):
        pg.files.read(sha256)
    sql(pg, "UPDATE evidence_chunks SET data = %s WHERE sha256 = %s AND n = 2", b"short", sha256)
    assert pg.files.quick_check(sha256, len(data)) == REPLACED
    assert pg.files.check("0" * 64) == MISSING and pg.files.check("../../etc/passwd") == MISSING
    # Sent again, the sound copy takes the damaged one's place.
    assert pg.files.copy_from(laptop, sha256, len(data), writer="laptop-2") is True
    assert pg.files.check(sha256, len(data)) is None
    assert sql(pg, "SELECT count(*) FROM evidence_chunks WHERE writer <> ''") == [(0,)]


# -- decisions and the keyring ----------------------------------------------------------------


def test_decisions_are_appended_chained_and_read_from_where_a_reader_left_off(
    tmp_path: Path, pg: PgSharedStore
) -> None:
    reviewer = ensure_key(tmp_path / "supervisor", REVIEWER)[0]
    made = [
        pg.add_review({"uuid": f"visit-{n}", "decision": "approved", "comment": f"{n}"}, reviewer)
        for n in range(3)
    ]
    assert made[0]["prev"] == ""
    assert [d["prev"] for d in made[1:]] == [decision_hash(d) for d in made[:-1]]
    assert pg.reviews() == made
    checked = check_log(pg.reviews(), Keyring())
    assert not any(GAP_BEFORE in c.reasons for c in checked)
    [(first_seq, _first), *later] = pg.decisions_after(0)
    assert [d for _seq, d in pg.decisions_after(first_seq)] == made[1:] == [d for _s, d in later]
    assert pg.decision_hash_at(first_seq) == made[1]["prev"]
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        sql(pg, "DELETE FROM decisions")


def test_the_keyring_is_signed_chained_and_pinned_like_the_folders(
    tmp_path: Path, pg: PgSharedStore
) -> None:
    admin = ensure_key(tmp_path / "admin", DEVICE)[0]
    store_id = pg.create_genesis(admin, "系统管理员")
    with pytest.raises(StoreError, match="already has a keyring"):
        pg.create_genesis(admin, "again")
    reviewer = ensure_key(tmp_path / "supervisor", REVIEWER)[0]
    pg.append_keyring(
        {
            "action": "trust",
            "public_key": encode(reviewer.public_key),
            "role": "reviewer",
            "name": "李主管",
            "employee_no": "",
        },
        admin,
    )
    lines = pg.keyring_entries()
    assert len(lines) == 2
    ring = pg.trusted_keyring(tmp_path / "supervisor")
    assert ring.store_id == store_id and ring.admin == admin.fingerprint and not ring.problems
    assert ring.standing(reviewer.fingerprint, "", "reviewer").state == "trusted"
    # The supervisor's machine pinned the administrator: another genesis is refused.
    sql(pg, "ALTER TABLE keyring DISABLE TRIGGER keyring_append_only")
    sql(pg, "DELETE FROM keyring")
    sql(pg, "ALTER TABLE keyring ENABLE TRIGGER keyring_append_only")
    intruder = ensure_key(tmp_path / "intruder", DEVICE)[0]
    pg.create_genesis(intruder, "系统管理员", store_id)
    with pytest.raises(StoreError, match="cannot be trusted"):
        pg.trusted_keyring(tmp_path / "supervisor")
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        sql(pg, "UPDATE keyring SET line = '{}'")


# -- the review list in the database ----------------------------------------------------------


def test_the_review_list_filters_sorts_pages_and_counts_in_the_database(
    store: LocalStore, info: VisitInfo, checklists: list[Checklist], pg: PgSharedStore
) -> None:
    base = signed(store, info, checklists, "基准")
    records = [
        variant(
            base,
            uuid=str(uuid_module.UUID(int=n + 1)),
            merchant_name=f"商户{n % 3}",
            technician=["张伟", "李娜"][n % 2],
            verdict=["pass", "fail"][n % 2],
        )
        for n in range(12)
    ]
    pg.push(records, {})
    pg.push([variant(records[0], revision=base.row["revision"] + 1, pad=1)], {})
    assert pg.count() == 12  # the current version of each visit
    assert pg.count({"superseded": None}) == 13
    assert pg.count({"technician": "李"}) == 6 and pg.count({"merchant": "户2"}) == 4
    assert pg.count({"verdict": "fail", "merchant": "商户1"}) == 2
    first = pg.page({"technician": "张"}, "merchant_name", 0, 4)
    second = pg.page({"technician": "张"}, "merchant_name", 4, 4)
    names = [row["merchant_name"] for row in first + second]
    assert len(first + second) == 6 and names == sorted(names)
    assert {row["uuid"] for row in first}.isdisjoint(row["uuid"] for row in second)
    newest = pg.page(sort="-synced_at", limit=1)
    assert newest[0]["uuid"] == records[0].uuid  # its amendment came last
    stats = pg.stats()
    assert stats["visits"] == 12 and stats["by_verdict"] == {"pass": 6, "fail": 6}
    assert pg.stats({"technician": "张"})["visits"] == 6
    with pytest.raises(StoreError, match="cannot be sorted by"):
        pg.page(sort="record; DROP TABLE visits")
    with pytest.raises(StoreError, match="no filter named"):
        pg.count({"colour": "red"})


def test_a_push_waits_on_the_visit_another_push_holds_then_sees_its_record(
    store: LocalStore,
    info: VisitInfo,
    checklists: list[Checklist],
    pg: PgSharedStore,
    pg_url: str,
) -> None:
    record = signed(store, info, checklists, "同时")
    other = variant(record, pad=3)
    sql(pg, "INSERT INTO visit_heads (uuid) VALUES (%s)", record.uuid)
    landed: list[object] = []
    with PgSharedStore.open(pg_url) as second, psycopg.connect(pg_url, autocommit=True) as holder:
        with holder.transaction():
            # Another laptop's push, between its lock and its commit.
            holder.execute("SELECT 1 FROM visit_heads WHERE uuid = %s FOR UPDATE", (record.uuid,))
            thread = threading.Thread(target=lambda: landed.append(second.push([other], {})))
            thread.start()
            [(waiting_pid,)] = sql(pg, "SELECT pg_backend_pid()")  # (this one is not it)
            deadline = time.monotonic() + 30
            while not sql(
                pg,
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE %s AND pid <> %s",
                "%visit_heads%FOR UPDATE%",
                waiting_pid,
            ):
                assert time.monotonic() < deadline, "the push never waited for the visit's lock"
                time.sleep(0.01)
            # Meanwhile a push of another visit goes through: nothing locks the table.
            unrelated = variant(record, uuid=str(uuid_module.uuid4()))
            assert pg.push([unrelated], {}).added == [unrelated.uuid]
            row = dict(record.row) | {"record_hash": record.digest, "synced_at": "x", "host": "h"}
            insert_rows(holder.cursor(), [(row, record.line)])
        thread.join(timeout=60)
    [report] = landed
    assert report.conflicts == [record.uuid]  # type: ignore[attr-defined]
    assert [row["conflict"] for row in pg.rows() if row["uuid"] == record.uuid] == [True, True]


# -- many laptops at once ---------------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import base64, json, sys
    from pos_tui.store.keys import REVIEWER, load_key
    from pos_tui.store.pg.store import PgSharedStore
    from pos_tui.store.shared import Outgoing

    url, plan_file, key_folder = sys.argv[1:4]
    rounds = json.loads(open(plan_file, encoding="utf-8").read())
    key = load_key(__import__("pathlib").Path(key_folder), REVIEWER)
    store = PgSharedStore.open(url)
    print("ready", flush=True)
    sys.stdin.readline()
    for number, records in enumerate(rounds):
        outgoing = [Outgoing(r["row"], base64.b64decode(r["raw"])) for r in records]
        report = store.push(outgoing, {"device_id": "laptop"})
        assert sorted(report.landed) == sorted(o.uuid for o in outgoing), report
        store.add_review({"uuid": outgoing[0].uuid, "decision": "approved",
                          "comment": f"{sys.argv[4]}-{number}"}, key)
    store.close()
    """
)


def test_twenty_laptops_pushing_ten_rounds_at_once_lose_and_duplicate_nothing(
    tmp_path: Path,
    store: LocalStore,
    info: VisitInfo,
    checklists: list[Checklist],
    pg: PgSharedStore,
    pg_url: str,
) -> None:
    laptops, rounds = 20, 10
    base = signed(store, info, checklists, "并发")
    everyone = [variant(base, uuid=str(uuid_module.uuid4())) for _ in range(5)]
    contested = str(uuid_module.uuid4())
    amended = str(uuid_module.uuid4())
    own = {
        (p, r): variant(base, uuid=str(uuid_module.uuid4()))
        for p in range(laptops)
        for r in range(rounds)
    }

    def wire(record: Outgoing) -> dict[str, object]:
        return {"row": record.row, "raw": base64.b64encode(record.raw).decode()}

    ensure_key(tmp_path / "supervisor", REVIEWER)
    procs = []
    for p in range(laptops):
        plan = [
            [
                own[p, r],
                *everyone,
                variant(base, uuid=contested, pad=p + 1),  # the same revision, other bytes
                variant(base, uuid=amended, revision=r + 1, pad=r + 1),
            ]
            for r in range(rounds)
        ]
        plan_file = tmp_path / f"plan-{p}.json"
        plan_file.write_text(json.dumps([[wire(o) for o in rnd] for rnd in plan]), encoding="utf-8")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    pg_url,
                    str(plan_file),
                    str(tmp_path / "supervisor"),
                    str(p),
                ],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            pytest.fail(f"a laptop process did not start: {proc.communicate(timeout=60)[1]}")
    for proc in procs:  # all connected: now all at once
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err

    rows = pg.rows()
    assert len({row["record_hash"] for row in rows}) == len(rows)
    per_uuid = Counter(row["uuid"] for row in rows)
    assert all(per_uuid[o.uuid] == 1 for o in own.values())
    assert all(per_uuid[o.uuid] == 1 for o in everyone)
    assert per_uuid[contested] == laptops
    assert per_uuid[amended] == rounds
    assert len(rows) == laptops * rounds + len(everyone) + laptops + rounds
    by_uuid: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_uuid.setdefault(str(row["uuid"]), []).append(row)
    assert all(row["conflict"] for row in by_uuid[contested])
    assert sum(1 for row in rows if row["conflict"]) == laptops
    assert {r["revision"]: r["superseded"] for r in by_uuid[amended]} == {
        n: n < rounds for n in range(1, rounds + 1)
    }
    decisions = pg.reviews()
    assert len(decisions) == laptops * rounds
    assert Counter(d["comment"] for d in decisions) == Counter(
        f"{p}-{r}" for p in range(laptops) for r in range(rounds)
    )
    assert not any(GAP_BEFORE in c.reasons for c in check_log(decisions, Keyring()))
