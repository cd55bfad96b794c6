"""Sync carries evidence files into the shared store, and the shared store keeps them.

Real pictures (Pillow), real stores on disk, a real `shared init` store, real processes
killed with SIGKILL: no mocks of our store. A killed copy is cut off by the sync's own
progress callback in the child, at seeded random byte counts, so no test waits on a clock.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.evidence import EvidenceRef
from pos_tui.domain.integrity import ALTERED, EVIDENCE_MISSING, EVIDENCE_REPLACED, VERIFIED
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.evidence_files import PARTS_DIR, EvidenceFiles, evidence_parts
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.local import LocalStore
from pos_tui.store.os_lock import FileLock
from pos_tui.store.shared import LOCK_NAME, SharedBusy, SharedStore
from pos_tui.store.shared_check import check_store
from pos_tui.store.sources import SharedSource
from pos_tui.store.sync import SyncReport, pending, sync
from tests.helpers.bank import Bank, open_bank
from tests.helpers.kinds import opened, sql, stored_files
from tests.helpers.photos import big_jpeg, jpeg
from tests.helpers.visits import save_answer, save_attach, save_sign

ROOT = Path(__file__).resolve().parents[2]
KILLS = 6


@pytest.fixture
def bank(tmp_path: Path) -> Bank:
    return open_bank(tmp_path, reviewer_name="李主管")


@pytest.fixture
def kind_bank(tmp_path: Path, shared_target: Path | str) -> Bank:
    """A store of either kind, for what both must do with photos."""
    return open_bank(tmp_path, reviewer_name="李主管", shared=shared_target)


def whole_in_store(bank: Bank, refs: list[EvidenceRef]) -> list[str | None]:
    """What the store's own check says of each file (None: there, whole, its hash)."""
    with opened(bank.shared) as shared:
        return [shared.files.check(ref.sha256, ref.size) for ref in refs]


def store_ok(bank: Bank) -> bool:
    if isinstance(bank.shared, str):
        with opened(bank.shared) as shared:
            return shared.damaged_rows() == []
    return check_store(bank.shared).ok


def parts_left(bank: Bank) -> list[object]:
    """Files begun and not finished: a folder's parts, a database's chunks of a writer."""
    if isinstance(bank.shared, str):
        return sql(bank.shared, "SELECT sha256 FROM evidence_chunks WHERE writer <> ''")
    return list(evidence_parts(bank.shared))


def signed_with(
    store: LocalStore,
    info: VisitInfo,
    checklists: list[Checklist],
    storefront: list[bytes],
    plate: tuple[bytes, ...] = (),
) -> tuple[Session, list[EvidenceRef]]:
    """A visit signed by the laptop's key, its photos attached through the one intake."""
    session = Session.start(info, checklists)
    store.create(session)
    refs = list(
        save_attach(
            store,
            session,
            "site-photos",
            "storefront",
            [(f"门头{n}.jpg", data) for n, data in enumerate(storefront)],
        )
    )
    save_answer(store, session, "site-photos", "storefront", Outcome.PASS)
    if plate:
        refs += save_attach(
            store,
            session,
            "site-photos",
            "serial-plate",
            [(f"plate{n}.jpg", data) for n, data in enumerate(plate)],
        )
        save_answer(store, session, "site-photos", "serial-plate", Outcome.PASS)
    save_sign(store, session, "张伟", "王老板", signer=ensure_key(store.folder, DEVICE)[0])
    return session, refs


def unlocked(path: Path) -> Path:
    """Kept files are read-only (0444): a test that damages one has to say so first."""
    os.chmod(path, 0o644)
    return path


def flip_last_bytes(path: Path) -> None:
    data = bytearray(unlocked(path).read_bytes())
    data[-10] ^= 0xFF  # the same size: only the hash can tell
    path.write_bytes(bytes(data))


def pos_tui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_tui", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_photos_land_in_the_share_under_their_hashes_and_a_second_sync_copies_nothing(
    store: LocalStore, info: VisitInfo, evidence_checklists: list[Checklist], kind_bank: Bank
) -> None:
    bank = kind_bank
    session, refs = signed_with(
        store, info, evidence_checklists, [jpeg(1), jpeg(2)], plate=(jpeg(3),)
    )
    progress: list[tuple[str, int, int]] = []
    report = sync(store, bank.shared, lambda *step: progress.append(step))
    assert report.pushed.added == [session.uuid]
    assert whole_in_store(bank, refs) == [None, None, None]
    assert stored_files(bank.shared) == {ref.sha256 for ref in refs}
    if isinstance(bank.shared, Path):
        shared_files = EvidenceFiles(bank.shared)
        for ref in refs:
            assert shared_files.path(ref.sha256).parent.name == ref.sha256[:2]
    total = sum(ref.size for ref in refs)
    assert (report.pushed.files_copied, report.pushed.bytes_copied) == (3, total)
    assert ("files", 3, 3) in progress and ("bytes", total, total) in progress
    assert "3 evidence file(s) copied" in report.sentence()
    # Files before the record: the last evidence step comes before the batch is written.
    stages = [stage for stage, _done, _total in progress]
    assert stages.index("writing") > max(i for i, s in enumerate(stages) if s == "files")
    again = sync(store, bank.shared)
    assert (again.pushed.files_copied, again.pushed.bytes_copied, again.pushed.batch) == (
        0,
        0,
        None,
    )
    assert store_ok(bank) and parts_left(bank) == []


def test_a_photo_the_share_already_has_is_not_copied_again(
    tmp_path: Path, info: VisitInfo, evidence_checklists: list[Checklist], kind_bank: Bank
) -> None:
    bank = kind_bank
    storefront = jpeg(11)

    def as_kept() -> object:
        sha256 = EvidenceFiles(tmp_path / "north").keep(storefront)
        if isinstance(bank.shared, str):
            return sql(bank.shared, "SELECT * FROM evidence_files WHERE sha256 = %s", sha256)
        found = EvidenceFiles(bank.shared).path(sha256).stat()
        return found.st_ino, found.st_mtime_ns

    with LocalStore.open(tmp_path / "north") as north:
        signed_with(north, info, evidence_checklists, [storefront])
        sync(north, bank.shared)
    before = as_kept()
    with LocalStore.open(tmp_path / "south") as south:
        # The reused-storefront case: another laptop, another visit, the very same photo.
        _session, refs = signed_with(south, info, evidence_checklists, [storefront, jpeg(12)])
        report = sync(south, bank.shared)
    assert (report.pushed.files_copied, report.pushed.bytes_copied) == (1, refs[1].size)
    assert as_kept() == before


KILL_AFTER_BYTES = """
import os, signal, sys
from pathlib import Path
from pos_tui.store.local import LocalStore
from pos_tui.store.sync import sync
folder, shared, at = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])

def progress(stage: str, done: int, total: int) -> None:
    if stage == "bytes" and done >= at:
        os.kill(os.getpid(), signal.SIGKILL)

with LocalStore.open(folder) as store:
    sync(store, shared, progress)
"""


def sync_killed_after(laptop: Path, shared: Path, written: int) -> None:
    script = textwrap.dedent(KILL_AFTER_BYTES)
    done = subprocess.run(
        [sys.executable, "-c", script, str(laptop), str(shared), str(written)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def still_to_send(shared: Path, refs: list[EvidenceRef]) -> int:
    """Bytes a sync carrying on from the parts left should write."""
    files = EvidenceFiles(shared)
    left = 0
    for ref in refs:
        if files.has(ref.sha256, ref.size):
            continue
        [*parts] = (shared / "evidence" / PARTS_DIR).glob(f"{ref.sha256}*.part")
        assert len(parts) <= 1, parts  # one laptop, one part
        left += ref.size - (parts[0].stat().st_size if parts else 0)
    return left


def assert_no_half_file_under_a_final_name(shared: Path) -> None:
    files = EvidenceFiles(shared)
    for sha256 in files.stored():
        assert files.check(sha256) is None, sha256


def test_a_sync_killed_while_copying_large_photos_is_carried_on_from_the_part(
    tmp_path: Path, info: VisitInfo, evidence_checklists: list[Checklist], bank: Bank
) -> None:
    laptop = tmp_path / "laptop"
    rng = random.Random(20261214)
    resumed = 0
    for trial in range(KILLS):
        photos = [big_jpeg(2.5, seed=100 + 2 * trial), big_jpeg(2.5, seed=101 + 2 * trial)]
        with LocalStore.open(laptop) as store:
            session, refs = signed_with(store, info, evidence_checklists, photos)
        total = sum(ref.size for ref in refs)
        sync_killed_after(laptop, bank.shared, rng.randrange(1, total))
        assert_no_half_file_under_a_final_name(bank.shared)
        # The record waits for its files: no row names it yet.
        assert session.uuid not in {row["uuid"] for row in SharedStore.open(bank.shared).rows()}
        expected = still_to_send(bank.shared, refs)
        resumed += expected < total - sum(
            ref.size for ref in refs if EvidenceFiles(bank.shared).has(ref.sha256, ref.size)
        )
        with LocalStore.open(laptop) as store:
            report = sync(store, bank.shared)
            assert pending(store, bank.shared) == []
        assert report.pushed.added == [session.uuid]
        assert report.pushed.bytes_copied == expected
        for ref in refs:
            assert EvidenceFiles(bank.shared).check(ref.sha256, ref.size) is None
        assert evidence_parts(bank.shared) == []
    assert resumed >= KILLS // 2, "most kills fall inside a photo, and are carried on"
    checked = check_store(bank.shared)
    assert checked.ok, checked.lines()


def test_a_photo_replaced_or_lost_on_the_laptop_is_refused_and_the_other_visits_go(
    store: LocalStore, info: VisitInfo, evidence_checklists: list[Checklist], kind_bank: Bank
) -> None:
    bank = kind_bank
    replaced, [bad] = signed_with(store, info, evidence_checklists, [jpeg(21)])
    lost, [gone] = signed_with(store, info, evidence_checklists, [jpeg(22)])
    fine, [good] = signed_with(store, info, evidence_checklists, [jpeg(23)])
    laptop_files = EvidenceFiles(store.folder)
    flip_last_bytes(laptop_files.path(bad.sha256))
    laptop_files.path(gone.sha256).unlink()
    report = sync(store, bank.shared)
    assert report.pushed.added == [fine.uuid]
    assert dict(report.refused).keys() == {replaced.uuid, lost.uuid}
    said = "\n".join(report.refusals())
    assert f"Visit {replaced.uuid} was not sent: its evidence file {bad.sha256[:12]}…" in said
    assert "on this laptop no longer hashes to its name" in said
    assert f"{gone.sha256[:12]}… (门头0.jpg) is missing on this laptop" in said
    assert "its record would be altered" in said
    assert "2 not sent" in report.sentence()
    assert {s.uuid for s in pending(store, bank.shared)} == {replaced.uuid, lost.uuid}
    assert stored_files(bank.shared) == {good.sha256}
    assert parts_left(bank) == []
    folder = store.folder
    store.close()
    cli = pos_tui("--data-dir", str(folder), "sync", "--to", str(bank.shared))
    assert cli.returncode == 1 and "Traceback" not in cli.stderr, cli.stderr
    assert f"Visit {replaced.uuid} was not sent" in cli.stderr


def test_a_record_naming_a_path_instead_of_a_hash_is_refused_with_a_sentence(
    store: LocalStore, info: VisitInfo, evidence_checklists: list[Checklist], bank: Bank
) -> None:
    session, _refs = signed_with(store, info, evidence_checklists, [jpeg(31)])
    path = store.visit_path(session.uuid)
    folder = store.folder
    store.close()
    document = json.loads(path.read_text(encoding="utf-8"))
    [visit] = document["visit"].values()
    visit["evidence"][0]["files"][0]["sha256"] = "../../../../etc/passwd"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    with LocalStore.open(folder) as reopened:
        report: SyncReport = sync(reopened, bank.shared)
    [(uuid, why)] = report.refused
    assert uuid == session.uuid
    assert "'../../../../etc/passwd', which is not the SHA-256 of a file" in why
    cli = pos_tui("--data-dir", str(folder), "sync", "--to", str(bank.shared))
    assert cli.returncode == 1 and "Traceback" not in cli.stderr, cli.stderr
    assert "which is not the SHA-256 of a file" in cli.stderr


def shared_integrity(bank: Bank, uuid: str) -> tuple[str, tuple[str, ...]]:
    source = SharedSource(bank.shared, bank.reviewer)
    [row] = [row for row in source.rows() if row["uuid"] == uuid]
    verdict = source.record(row).integrity
    return verdict.state, verdict.reasons


def test_shared_check_names_a_replaced_or_missing_photo_and_repair_sends_it_again(
    store: LocalStore, info: VisitInfo, evidence_checklists: list[Checklist], bank: Bank
) -> None:
    bank.trust_laptop(store.folder)
    session, [first, second] = signed_with(store, info, evidence_checklists, [jpeg(41), jpeg(42)])
    sync(store, bank.shared)
    folder = store.folder
    store.close()
    assert shared_integrity(bank, session.uuid) == (VERIFIED, ())
    shared_files = EvidenceFiles(bank.shared)
    flip_last_bytes(shared_files.path(first.sha256))
    assert shared_integrity(bank, session.uuid) == (ALTERED, (EVIDENCE_REPLACED,))
    shared_files.path(second.sha256).unlink()
    state, reasons = shared_integrity(bank, session.uuid)
    assert (state, set(reasons)) == (ALTERED, {EVIDENCE_REPLACED, EVIDENCE_MISSING})
    said = check_store(bank.shared)
    assert not said.ok
    text = "\n".join(said.lines())
    assert f"Visit {session.uuid} (revision {session.revision}), from laptop" in text
    assert f"its evidence file {first.sha256[:12]}… (门头0.jpg) no longer hashes" in text
    assert f"its evidence file {second.sha256[:12]}… (门头1.jpg) is missing." in text
    cli = pos_tui("shared", "check", str(bank.shared))
    assert cli.returncode == 1 and "has 2 problem(s)" in cli.stdout, cli.stdout + cli.stderr
    assert "sync --repair" in cli.stdout
    repaired = pos_tui("--data-dir", str(folder), "sync", "--to", str(bank.shared), "--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "2 evidence file(s) copied" in repaired.stdout
    assert check_store(bank.shared).ok
    assert shared_integrity(bank, session.uuid) == (VERIFIED, ())


def test_stray_parts_of_kept_files_go_and_a_copy_s_part_is_kept_to_carry_on(
    tmp_path: Path, info: VisitInfo, evidence_checklists: list[Checklist], bank: Bank
) -> None:
    laptop = tmp_path / "laptop"
    sha = "ab" * 32
    with LocalStore.open(laptop) as store:
        signed_with(store, info, evidence_checklists, [jpeg(51)])
    parts = laptop / "evidence" / PARTS_DIR
    killed_keep = parts / f".{sha}.4242.part"
    copy_part = parts / f"{sha}.part"
    for path in (killed_keep, copy_part):
        path.write_bytes(b"half a photo")
    # Parts are looked for in evidence/.parts/ alone, not in the buckets of every photo
    # kept: one beside the files is not seen by an ordinary open.
    bucket = laptop / "evidence" / "ab"
    bucket.mkdir(parents=True)
    beside = bucket / f".{sha}.4243.part"
    beside.write_bytes(b"half")
    with LocalStore.open(laptop) as store:
        assert store.report.removed_temp_files == 1
        assert not killed_keep.exists() and copy_part.exists() and beside.exists()
        # On the share, under the lock: another process's keep part is stale; a copy's part
        # waits for its laptop, unless its file has landed since.
        share_parts = bank.shared / "evidence" / PARTS_DIR
        share_parts.mkdir(parents=True)
        (share_parts / f".{sha}.4242.part").write_bytes(b"half")
        (share_parts / f"{sha}.laptop-2.part").write_bytes(b"half")
        [landed] = [next(EvidenceFiles(laptop).stored())]
        landed_part = EvidenceFiles(bank.shared).copy_part(landed, "laptop-3")
        landed_part.write_bytes(b"")  # another laptop's, whose file lands now
        noted = check_store(bank.shared)
        assert any("partly copied by an interrupted sync" in line for line in noted.lines())
        assert sum(1 for p in noted.temp_files if p.name.endswith(".part")) == 1
        report = sync(store, bank.shared)
    assert report.pushed.files_copied == 1
    assert [p.name for p in evidence_parts(bank.shared)] == [f"{sha}.laptop-2.part"]
    assert check_store(bank.shared).ok


def test_parts_an_earlier_version_left_in_the_buckets_are_looked_for_once(
    tmp_path: Path, info: VisitInfo, evidence_checklists: list[Checklist], bank: Bank
) -> None:
    """Before evidence/.parts/, parts lay beside the files: the laptop's first open by this
    version lists the buckets once; on the share, `shared check --adopt` does."""
    laptop = tmp_path / "laptop"
    sha = "cd" * 32
    with LocalStore.open(laptop) as store:
        signed_with(store, info, evidence_checklists, [jpeg(52)])
        sync(store, bank.shared)
    shutil.rmtree(laptop / "evidence" / PARTS_DIR)  # as an earlier version left the store
    bucket = laptop / "evidence" / "cd"
    bucket.mkdir()
    (bucket / f".{sha}.4242.part").write_bytes(b"half")
    (bucket / f"{sha}.part").write_bytes(b"half")  # a copy's, not this laptop's to remove
    with LocalStore.open(laptop) as store:
        assert store.report.removed_temp_files == 1
    assert sorted(p.name for p in bucket.iterdir()) == [f"{sha}.part"]
    assert (laptop / "evidence" / PARTS_DIR).is_dir()
    share_bucket = bank.shared / "evidence" / "cd"
    share_bucket.mkdir()
    (share_bucket / f".{sha}.4242.part").write_bytes(b"half")
    with LocalStore.open(laptop) as store:
        sync(store, bank.shared)
    assert (share_bucket / f".{sha}.4242.part").exists()  # a sync lists .parts/ alone
    assert pos_tui("shared", "check", str(bank.shared), "--adopt").returncode == 0
    assert not any(share_bucket.iterdir())


def test_photos_are_copied_while_another_laptop_holds_the_lock_and_wait_for_nothing(
    store: LocalStore, info: VisitInfo, evidence_checklists: list[Checklist], bank: Bank
) -> None:
    # Photos are most of what a sync sends: they go in before the lock is taken, so a
    # laptop uploading a day of them never keeps another waiting for the index.
    session, refs = signed_with(store, info, evidence_checklists, [jpeg(1), jpeg(2)])
    with FileLock(bank.shared / LOCK_NAME), pytest.raises(SharedBusy):
        sync(store, bank.shared, lock_timeout=0.2)
    shared_files = EvidenceFiles(bank.shared)
    assert all(shared_files.check(ref.sha256, ref.size) is None for ref in refs)
    assert evidence_parts(bank.shared) == []
    assert [s.uuid for s in pending(store, bank.shared)] == [session.uuid]
    report = sync(store, bank.shared)
    assert report.pushed.added == [session.uuid]
    assert report.pushed.files_copied == 0
