"""`pos-tui shared migrate FROM TO` and `pos-tui shared check URL`, against a real server.

The share is a bank's, made as a bank makes one: `shared init`, a trusted reviewer and a
trusted laptop, visits signed and synced by `sync`, one amended after a supervisor sent it
back, one with photos, a conflict (another record under a synced revision), decisions
signed by the reviewer. It is moved into a fresh database (`pg_url`) and read back through
the same `SharedSource` the review screens use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from pos_tui.cli import main
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.decisions import decision_hash
from pos_tui.domain.integrity import VERIFIED
from pos_tui.domain.review_filter import APPROVED, HAS_ISSUES
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.local import LocalStore
from pos_tui.store.migrate import migrate, verify
from pos_tui.store.pg.check import check_database
from pos_tui.store.pg.store import PgSharedStore
from pos_tui.store.shared import Outgoing, SharedStore
from pos_tui.store.sources import SharedSource
from pos_tui.store.storage import StoreError
from pos_tui.store.sync import _outgoing, sync
from tests.helpers.bank import Bank, open_bank
from tests.helpers.photos import jpeg
from tests.helpers.visits import save_answer, save_attach, save_sign


@dataclass
class Share:
    bank: Bank
    laptop: Path
    amended: str
    photos: str
    conflict: str

    @property
    def folder(self) -> Path:
        assert isinstance(self.bank.shared, Path)
        return self.bank.shared


def _signed(store: LocalStore, key_folder: Path, info: VisitInfo, lists: list[Checklist]) -> str:
    session = Session.start(info, lists)
    store.create(session)
    save_answer(store, session, "card", "void", Outcome.FAIL, "撤销失败 / the void was declined")
    save_sign(store, session, "张伟", "王老板", signer=ensure_key(key_folder, DEVICE)[0])
    return session.uuid


def _padded(record: Outgoing) -> Outgoing:
    """The same content in other bytes (a space between JSON tokens): another record
    under the same uuid and revision, which a share keeps beside the first as a conflict."""
    return Outgoing(dict(record.row), record.raw[:1] + b" " + record.raw[1:], record.files)


def make_share(
    root: Path, info: VisitInfo, checklists: list[Checklist], evidence: list[Checklist]
) -> Share:
    root.mkdir(parents=True, exist_ok=True)
    bank = open_bank(root)
    laptop = root / "laptop"
    key = bank.trust_laptop(laptop)
    assert key.fingerprint
    with LocalStore.open(laptop) as store:
        amended = _signed(store, laptop, info, checklists)
        conflict = _signed(store, laptop, info, checklists)
        session = Session.start(info, evidence)
        store.create(session)
        save_attach(
            store,
            session,
            "site-photos",
            "storefront",
            [("门头.jpg", jpeg(1)), ("柜台.jpg", jpeg(2))],
        )
        save_answer(store, session, "site-photos", "storefront", Outcome.PASS)
        save_sign(store, session, "张伟", "王老板", signer=ensure_key(laptop, DEVICE)[0])
        photos = session.uuid
        sync(store, bank.shared)
        [summary] = [s for s in store.summaries() if s.uuid == conflict]
        SharedStore.open(root / "shared").push([_padded(_outgoing(store, summary))], {})
    bank.decide(amended, HAS_ISSUES, "请重做撤销 / redo the void")
    bank.decide(photos, APPROVED, "")
    with LocalStore.open(laptop) as store:
        sync(store, bank.shared)
        session = store.load(amended)
        session.amend("张伟", "撤销重做 / void redone")
        store.save(session)
        save_answer(store, session, "card", "void", Outcome.PASS, "重做成功")
        save_sign(store, session, "张伟", "王老板", signer=ensure_key(laptop, DEVICE)[0])
        sync(store, bank.shared)
    return Share(bank, laptop, amended, photos, conflict)


@pytest.fixture
def share(
    tmp_path: Path,
    info: VisitInfo,
    checklists: list[Checklist],
    evidence_checklists: list[Checklist],
) -> Share:
    return make_share(tmp_path, info, checklists, evidence_checklists)


@pytest.fixture
def empty_pg(pg_url: str) -> str:
    PgSharedStore.init(pg_url).close()
    return pg_url


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("POS_TUI_CONFIG_FILE", str(tmp_path / "settings.json"))
    monkeypatch.delenv("POS_TUI_SHARED_STORE", raising=False)
    yield CliRunner()


def seen(source: SharedSource) -> dict[str, tuple[object, ...]]:
    """Each row as review sees it, by record hash: what it is, its flags, and the verdict."""
    found: dict[str, tuple[object, ...]] = {}
    for row in source.store.rows():  # superseded versions too, which the list leaves out
        record = source.record(row)
        found[row["record_hash"]] = (
            row["uuid"],
            row["revision"],
            row["conflict"],
            row["superseded"],
            row["synced_at"],
            row["host"],
            record.integrity.state,
            record.integrity.reasons,
            len(record.decisions),
        )
    return found


def sql(url: str, query: str, *params: object) -> list[tuple[object, ...]]:
    with PgSharedStore.open(url) as store:
        cursor = store.conn.execute(query, params or None)
        return cursor.fetchall() if cursor.description else []


# -- migrating ---------------------------------------------------------------------------


def test_a_share_moves_into_postgresql_verbatim_and_reads_the_same(
    share: Share, empty_pg: str
) -> None:
    steps: list[tuple[str, int, int]] = []
    done = migrate(share.folder, empty_pg, lambda *step: steps.append(step))
    assert done.verification.ok, done.verification
    assert done.records_added == 5  # 3 visits, an amended revision, a conflicting record
    assert done.files_copied == 2 and steps[-1] == ("files", 2, 2)
    assert done.keyring_added == 5  # genesis, reviewer asked and trusted, laptop asked and trusted
    assert done.decisions_added == 2

    before = SharedSource(share.folder, share.bank.reviewer)
    after = SharedSource(empty_pg, share.bank.reviewer)  # the same pinned administrator
    try:
        old, new = seen(before), seen(after)
        assert new == old
        states = {row[0]: row for row in old.values() if not row[3]}
        assert states[share.photos][6] == VERIFIED and states[share.photos][8] == 1
        assert [row[2] for row in old.values() if row[0] == share.conflict] == [True, True]
        assert sorted(bool(row[3]) for row in old.values() if row[0] == share.amended) == [
            False,
            True,
        ]
        assert [decision_hash(c.row) for c in after.checked_decisions()] == [
            decision_hash(c.row) for c in before.checked_decisions()
        ]
        assert all(c.counts for c in after.checked_decisions())
    finally:
        before.close()
        after.close()
    with PgSharedStore.open(empty_pg) as store:
        assert check_database(store).ok, check_database(store).lines()


def test_a_second_run_adds_nothing_and_one_cut_off_carries_on(share: Share, empty_pg: str) -> None:
    migrate(share.folder, empty_pg)
    again = migrate(share.folder, empty_pg)
    assert (again.records_added, again.files_copied, again.keyring_added) == (0, 0, 0)
    assert again.decisions_added == 0 and again.verification.ok
    # A decision made on the share after the first run: the next run brings only it.
    share.bank.decide(share.conflict, HAS_ISSUES, "两条记录不一致 / two records differ")
    later = migrate(share.folder, empty_pg)
    assert (later.records_added, later.decisions_added) == (0, 1)
    assert later.verification.ok
    assert sql(empty_pg, "SELECT count(*) FROM decisions") == [(3,)]


def test_a_store_holding_another_stores_visits_or_keyring_is_refused(
    share: Share,
    tmp_path: Path,
    pg_url: str,
    info: VisitInfo,
    checklists: list[Checklist],
    evidence_checklists: list[Checklist],
) -> None:
    # `shared init URL` starts a keyring of its own: not the share's.
    open_bank(tmp_path / "other", shared=pg_url)
    with pytest.raises(StoreError, match=r"keyring .* is not the start") as refused:
        migrate(share.folder, pg_url)
    assert "shared init --empty" in str(refused.value)
    assert sql(pg_url, "SELECT count(*) FROM visits") == [(0,)]
    # A store another share filled: its visits are not this share's.
    other = make_share(tmp_path / "third", info, checklists, evidence_checklists)
    target = tmp_path / "target"
    assert migrate(other.folder, target_folder(target)).verification.ok
    with pytest.raises(StoreError, match="already holds 5 visit record"):
        migrate(share.folder, target)


def target_folder(folder: Path) -> Path:
    folder.mkdir()
    (folder / "batches").mkdir()
    return folder


def test_the_check_catches_a_record_changed_in_the_database(share: Share, empty_pg: str) -> None:
    migrate(share.folder, empty_pg)
    [(digest,)] = sql(
        empty_pg,
        "SELECT record_hash FROM visits WHERE uuid = %s AND NOT superseded",
        share.photos,
    )
    sql(
        empty_pg,
        "UPDATE visit_bodies SET record = overlay(record placing 'X'::bytea from 40)"
        " WHERE record_hash = %s",
        digest,
    )
    found = verify(share.folder, empty_pg)
    assert not found.ok
    [difference] = found.differences
    assert share.photos in difference and "bytes were changed" in difference


def test_a_folder_moves_into_another_folder_file_for_file(share: Share, tmp_path: Path) -> None:
    target = target_folder(tmp_path / "copy")
    done = migrate(share.folder, target)
    assert done.verification.ok, done.verification
    assert done.records_added == 5 and done.decisions_added == 2
    assert migrate(share.folder, target).records_added == 0
    before = SharedSource(share.folder, share.bank.reviewer)
    after = SharedSource(target, share.bank.reviewer)
    try:
        assert seen(after) == seen(before)
    finally:
        before.close()
        after.close()
    for name in ("keyring.jsonl", "decisions/head.json"):
        assert (target / name).read_bytes() == (share.folder / name).read_bytes()


def test_a_database_is_not_moved_into_a_folder_and_says_so(
    empty_pg: str, tmp_path: Path, cli: CliRunner
) -> None:
    done = cli.invoke(main, ["shared", "migrate", empty_pg, str(target_folder(tmp_path / "t"))])
    assert done.exit_code == 1
    assert "Moving a PostgreSQL store into a folder (or another database) is not done" in (
        done.output
    )


# -- the command line --------------------------------------------------------------------


def test_the_command_migrates_prints_the_summary_and_exits_1_on_a_difference(
    share: Share, pg_url: str, cli: CliRunner
) -> None:
    not_made = cli.invoke(main, ["shared", "migrate", str(share.folder), pg_url])
    assert not_made.exit_code == 1 and "shared init --empty" in not_made.output
    made = cli.invoke(main, ["shared", "init", "--empty", pg_url])
    assert made.exit_code == 0, made.output
    done = cli.invoke(main, ["shared", "migrate", str(share.folder), pg_url])
    assert done.exit_code == 0, done.output
    assert "Copied 5 record(s), 2 evidence file(s)" in done.output
    assert "Verified:" in done.output and "2 decision(s), in order" in done.output
    sql(pg_url, "UPDATE visits SET superseded = false")
    checked = cli.invoke(main, ["shared", "migrate", "--verify-only", str(share.folder), pg_url])
    assert checked.exit_code == 1
    assert f"visit {share.amended}" in checked.output and "flagged" in checked.output


def test_shared_check_url_finds_a_changed_record_and_a_replaced_photo_chunk(
    share: Share, empty_pg: str, cli: CliRunner
) -> None:
    migrate(share.folder, empty_pg)
    sound = cli.invoke(main, ["shared", "check", empty_pg])
    assert sound.exit_code == 0, sound.output
    assert "is sound: 5 record(s)" in sound.output and "2 evidence file(s)" in sound.output

    [(digest,)] = sql(
        empty_pg,
        "SELECT record_hash FROM visits WHERE uuid = %s AND NOT superseded",
        share.amended,
    )
    sql(
        empty_pg,
        "UPDATE visit_bodies SET record = overlay(record placing 'X'::bytea from 40)"
        " WHERE record_hash = %s",
        digest,
    )
    [(sha256, data)] = sql(
        empty_pg, "SELECT sha256, data FROM evidence_chunks WHERE n = 0 ORDER BY sha256 LIMIT 1"
    )
    assert isinstance(data, bytes)
    flipped = bytearray(data)
    flipped[-10] ^= 0xFF
    sql(empty_pg, "UPDATE evidence_chunks SET data = %s WHERE sha256 = %s", bytes(flipped), sha256)
    found = cli.invoke(main, ["shared", "check", empty_pg])
    assert found.exit_code == 1
    lines = found.output.splitlines()
    assert lines[0].endswith("has 2 problem(s):")
    assert any(share.amended in line and "bytes were changed" in line for line in lines)
    assert any(
        share.photos in line and f"{str(sha256)[:12]}…" in line and "no longer hashes" in line
        for line in lines
    )
    assert any(line.startswith("To mend: run `pos-tui sync --repair --to") for line in lines)


def test_shared_check_url_finds_a_decision_taken_out(share: Share, empty_pg: str) -> None:
    migrate(share.folder, empty_pg)
    # The log refuses DELETE by a trigger: someone who can drop it can still take one out.
    sql(empty_pg, "ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
    sql(empty_pg, "DELETE FROM decisions WHERE seq = 1")
    with PgSharedStore.open(empty_pg) as store:
        report = check_database(store)
    assert not report.ok
    assert any("does not follow the decision before it" in line for line in report.lines())


def test_a_record_damaged_on_the_share_is_not_copied_and_is_said(
    share: Share, empty_pg: str, cli: CliRunner
) -> None:
    [row] = [r for r in SharedStore.open(share.folder).rows() if r["uuid"] == share.photos]
    batch = share.folder / "batches" / row["batch"]
    data = bytearray(batch.read_bytes())
    data[row["offset"] + 40] ^= 0x01
    batch.chmod(0o644)
    batch.write_bytes(bytes(data))
    done = cli.invoke(main, ["shared", "migrate", str(share.folder), empty_pg])
    assert done.exit_code == 1
    assert "Copied 4 record(s)" in done.output
    assert f"The record of visit {share.photos}" in done.output and "not copied" in done.output
    assert sql(empty_pg, "SELECT count(*) FROM visits WHERE uuid = %s", share.photos) == [(0,)]
