"""`pos-tui shared check` finds every lost or damaged record and names its laptop;
`pos-tui sync --repair` on that laptop sends it again. Real stores, real processes."""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import BATCHES_DIR, SharedStore
from pos_tui.store.shared_index import PREFIX
from pos_tui.store.sync import sync
from tests.helpers.bank import Bank, open_bank
from tests.helpers.visits import save_answer, save_sign

ROOT = Path(__file__).resolve().parents[2]
HOST = socket.gethostname()


def pos_tui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_tui", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def laptop_with_visits(
    folder: Path, info: VisitInfo, checklists: list[Checklist], device: str, count: int
) -> list[str]:
    made = []
    with LocalStore.open(folder) as store:
        for n in range(count):
            session = Session.start(dataclasses.replace(info, device_id=device), checklists)
            store.create(session)
            save_answer(store, session, "card", "void", Outcome.FAIL, note=f"{device} {n}")
            save_sign(store, session, info.technician, "王老板")
            made.append(session.uuid)
    return made


@dataclasses.dataclass
class Two:
    shared: Path
    north: Path
    south: Path
    north_visits: list[str]
    south_visits: list[str]
    bank: Bank
    """Whose store it is: its supervisor decides there."""

    def rows(self) -> list[dict[str, Any]]:
        return SharedStore.open(self.shared).rows()

    def row_of(self, uuid: str) -> dict[str, Any]:
        [row] = [row for row in self.rows() if row["uuid"] == uuid]
        return row

    def batch_of(self, uuid: str) -> Path:
        return self.shared / BATCHES_DIR / self.row_of(uuid)["batch"]

    def edit_index(self, change: Callable[[dict[str, Any]], None]) -> None:
        """`change` is given each index file (a shard) as a TinyDB document, by hand."""
        for path in sorted((self.shared / "index").glob("*.json")):
            document = json.loads(path.read_text("utf-8"))
            change(document)
            path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")


@pytest.fixture
def two(tmp_path: Path, info: VisitInfo, checklists: list[Checklist]) -> Two:
    """Two laptops, each with its own batch in one shared store."""
    bank = open_bank(tmp_path, reviewer_name="李主管")
    shared = bank.shared
    found = Two(
        shared,
        tmp_path / "north",
        tmp_path / "south",
        laptop_with_visits(tmp_path / "north", info, checklists, "laptop-north", 3),
        laptop_with_visits(tmp_path / "south", info, checklists, "laptop-south", 2),
        bank,
    )
    for folder in (found.north, found.south):
        with LocalStore.open(folder) as store:
            sync(store, shared, create=True)
    return found


def check(shared: Path) -> subprocess.CompletedProcess[str]:
    return pos_tui("shared", "check", str(shared))


def repair(laptop: Path, shared: Path) -> subprocess.CompletedProcess[str]:
    return pos_tui("--data-dir", str(laptop), "sync", "--to", str(shared), "--repair")


def truncate_the_batch(two: Two) -> list[str]:
    """Cut the north batch inside its last record: that record is lost, the others not."""
    last = max(two.north_visits, key=lambda uuid: two.row_of(uuid)["offset"])
    batch = two.batch_of(last)
    batch.write_bytes(batch.read_bytes()[: two.row_of(last)["offset"] + 40])
    return [last]


def flip_a_byte(two: Two) -> list[str]:
    middle = sorted(two.north_visits, key=lambda uuid: two.row_of(uuid)["offset"])[1]
    row = two.row_of(middle)
    batch = two.batch_of(middle)
    data = bytearray(batch.read_bytes())
    data[row["offset"] + row["length"] // 2] ^= 0x20
    batch.write_bytes(bytes(data))
    return [middle]


def remove_the_batch(two: Two) -> list[str]:
    two.batch_of(two.north_visits[0]).unlink()
    return list(two.north_visits)


def point_past_the_end(two: Two) -> list[str]:
    uuid = two.north_visits[0]
    size = two.batch_of(uuid).stat().st_size

    def change(document: dict[str, Any]) -> None:
        for row in document["visits"].values():
            if row["uuid"] == uuid:
                row["offset"] = size - 10

    two.edit_index(change)
    return [uuid]


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (truncate_the_batch, "ends at byte"),
        (flip_a_byte, "does not match its record hash"),
        (remove_the_batch, "is missing"),
        (point_past_the_end, "points past its end"),
    ],
)
def test_check_names_each_damaged_record_and_its_laptop_and_repair_restores_it(
    two: Two, damage: Callable[[Two], list[str]], said: str
) -> None:
    assert check(two.shared).returncode == 0
    hurt = damage(two)
    found = check(two.shared)
    assert found.returncode == 1, found.stdout
    assert "Traceback" not in found.stderr
    lines = found.stdout.splitlines()
    assert lines[0] == f"The shared store at {two.shared} has {len(hurt)} problem(s):"
    for uuid in hurt:
        [line] = [line for line in lines if uuid in line]
        assert f"from laptop laptop-north on host {HOST}" in line
        assert said in line
    assert not any(uuid in found.stdout for uuid in two.south_visits)
    assert f"on laptop laptop-north on host {HOST}; it sends its {len(hurt)} record(s)" in (
        found.stdout
    )
    assert "laptop-south" not in found.stdout

    # The other laptop cannot mend what it never sent.
    assert repair(two.south, two.shared).returncode == 0
    assert check(two.shared).returncode == 1

    batches = {path.name: path.read_bytes() for path in (two.shared / BATCHES_DIR).iterdir()}
    mended = repair(two.north, two.shared)
    assert mended.returncode == 0, mended.stderr
    assert f"{len(hurt)} missing or damaged record(s) sent again" in mended.stdout
    after = check(two.shared)
    assert after.returncode == 0, after.stdout
    assert after.stdout.startswith(f"The shared store at {two.shared} is sound: 5 record(s)")
    # Never overwritten: every batch that was there still holds what it held.
    for name, data in batches.items():
        assert (two.shared / BATCHES_DIR / name).read_bytes() == data
    shared = SharedStore.open(two.shared)
    assert len(shared.rows()) == 5
    for row in shared.rows():
        assert shared.read_record(row)["visit"]["uuid"] == row["uuid"]
    with LocalStore.open(two.north) as store:
        again = sync(store, two.shared, repair=True)
    assert (again.pushed.repointed, again.pushed.added, again.pushed.batch) == ([], [], None)


def test_repair_rebuilds_the_signed_record_of_a_reviewed_visit(two: Two) -> None:
    uuid = two.north_visits[0]
    two.bank.decide(uuid, "approved", "已核对")
    with LocalStore.open(two.north) as store:
        assert sync(store, two.shared).reviews_applied == 1
    hurt = flip_a_byte(two) + remove_the_batch(two)
    assert check(two.shared).returncode == 1
    assert repair(two.north, two.shared).returncode == 0
    assert check(two.shared).returncode == 0
    assert len(SharedStore.open(two.shared).rows()) == 5
    assert uuid in hurt


def test_an_index_row_of_the_wrong_shape_is_said_and_replaced_by_repair(two: Two) -> None:
    uuid = two.north_visits[1]

    def spoil(document: dict[str, Any]) -> None:
        for row in document["visits"].values():
            if row["uuid"] == uuid:
                row["offset"] = "far"

    two.edit_index(spoil)
    found = check(two.shared)
    assert found.returncode == 1
    [line] = [line for line in found.stdout.splitlines() if uuid in line]
    assert "its index row is damaged" in line and "laptop-north" in line
    assert repair(two.north, two.shared).returncode == 0
    assert check(two.shared).returncode == 0
    assert len(SharedStore.open(two.shared).rows()) == 5


def a_second_visit_in_a_shard(two: Two, info: VisitInfo, checklists: list[Checklist]) -> str:
    """A north visit whose uuid shares its shard with an indexed one, synced: that shard
    has now been written twice."""
    with LocalStore.open(two.north) as store:
        session = Session.start(dataclasses.replace(info, device_id="laptop-north"), checklists)
        session.uuid = two.north_visits[0][:PREFIX] + session.uuid[PREFIX:]
        store.create(session)
        save_answer(store, session, "card", "void", Outcome.FAIL, note="same shard")
        save_sign(store, session, info.technician, "王老板")
        assert sync(store, two.shared).pushed.added == [session.uuid]
    return session.uuid


def test_each_shard_of_the_index_keeps_its_previous_generation(
    two: Two, info: VisitInfo, checklists: list[Checklist]
) -> None:
    uuid = a_second_visit_in_a_shard(two, info, checklists)
    shard = SharedStore.open(two.shared).shard_path(uuid)
    before = json.loads(shard.with_name(shard.name + ".bak").read_text("utf-8"))
    after = json.loads(shard.read_text("utf-8"))
    assert [row["uuid"] for row in before["visits"].values()] == [two.north_visits[0]]
    assert [row["uuid"] for row in after["visits"].values()] == [two.north_visits[0], uuid]


def test_a_shard_set_back_to_its_previous_generation_gets_its_records_back_by_adopt(
    two: Two, info: VisitInfo, checklists: list[Checklist]
) -> None:
    uuid = a_second_visit_in_a_shard(two, info, checklists)
    shard = SharedStore.open(two.shared).shard_path(uuid)
    shard.write_bytes(shard.with_name(shard.name + ".bak").read_bytes())
    assert uuid not in {row["uuid"] for row in two.rows()}
    found = check(two.shared)
    assert found.returncode == 0  # what the index names is sound; one batch is in none
    assert "Note: 1 batch file(s) are in no index row" in found.stdout
    assert f"pos-tui shared check --adopt {two.shared}" in found.stdout
    # A sync costs what it sends: it does not look for such batches. The laptop that sent
    # the record thinks it sent, so only adopting brings it back.
    laptop_with_visits(two.south, info, checklists, "laptop-south", 1)
    with LocalStore.open(two.south) as store:
        report = sync(store, two.shared)
    assert (len(report.pushed.added), report.pushed.adopted) == (1, 0)
    adopted = pos_tui("shared", "check", "--adopt", str(two.shared))
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert adopted.stdout.startswith("Took 1 record(s) of batch files in no index row")
    assert "Note" not in adopted.stdout
    assert uuid in {row["uuid"] for row in two.rows()}
    assert len(two.rows()) == 7


def test_check_of_a_missing_share_is_one_sentence(tmp_path: Path) -> None:
    done = check(tmp_path / "not-mounted")
    assert done.returncode == 1
    assert "is not there" in done.stderr and "Traceback" not in done.stderr


def test_list_and_export_say_each_entry_they_skip(two: Two) -> None:
    uuid = two.south_visits[0]

    def spoil(document: dict[str, Any]) -> None:
        for row in document["visits"].values():
            if row["uuid"] == uuid:
                row["revision"] = "two"

    two.edit_index(spoil)
    exported = pos_tui("export", "--format", "json", "--store", str(two.shared))
    assert exported.returncode == 0, exported.stderr
    assert len(json.loads(exported.stdout)) == 4
    [line] = exported.stderr.splitlines()
    shard = SharedStore(two.shared).shard_path(uuid)
    assert line.startswith(f"pos-tui: skipped a damaged entry of {shard}:")
    assert "'revision' is 'two'" in line

    local_index = two.south / "index.json"
    document = json.loads(local_index.read_text("utf-8"))
    next(iter(document["visits"].values()))["status"] = "lost"
    local_index.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    listed = pos_tui("--data-dir", str(two.south), "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 1
    [line] = listed.stderr.splitlines()
    assert line.startswith(f"pos-tui: skipped a damaged entry of {local_index}:")
    assert "'status' is 'lost'" in line
