"""Review decisions: what one costs to write, and what bringing them back to a laptop costs.

    python bench/decisions.py [--decisions 1000,50000] [--visits 2000] [--more 48000]
                              [--no-before] [--photos 20000]

Prints JSON lines:
- "add_review": seconds for one `SharedStore.add_review` into a store whose log holds 1,000
  and 50,000 decisions (median of 5), beside one insert into a `reviews.json` of as many
  rows, which is what every decision cost before the log;
- "first_sync": a laptop with `--visits` reviewed visits bringing every decision back, the
  laptop's saves together (`LocalStore.save_many`); and, in the same run on a copy of the same
  laptop, as before issue #17's change, one `LocalStore.save` per decision ("before_",
  left out with `--no-before`: some 250 s on a busy machine);
- "later_sync": then one new visit and one new decision, synced; again once `--more`
  decisions about other visits have been added to the log and read by a sync (the cost of
  the next one-visit sync must not grow with them). `--photos` evidence files lie in the
  laptop's store and in the share by then: a sync looks for parts left behind in
  `evidence/.parts/` alone, under the share's lock too;
- "parts_scan": what listing every bucket of those photos takes (what opening the laptop's
  store and each sync under the share's lock did before), against the listing done now.

The logs are filled straight into their files (signed and chained as `append` writes them,
without an fsync each) so that 50,000 decisions take seconds to set up, not minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fill import fill_photos
from tinydb import TinyDB

from pos_tui.demo import demo_sessions
from pos_tui.domain.decisions import decision_hash, record_sha256, signed_part
from pos_tui.domain.keyring import REVIEWER, TECHNICIAN
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.signatures import Signer, canonical, sign
from pos_tui.locations import shipped_checklists_dir
from pos_tui.services.identity import init_shared_store, register, register_laptop, trust
from pos_tui.store.evidence_files import evidence_parts
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.keys import REVIEWER as REVIEWER_KEY
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import SharedStore
from pos_tui.store.storage import AtomicJSONStorage
from pos_tui.store.sync import sync


class Bank:
    def __init__(self, root: Path) -> None:
        self.shared = root / "shared"
        self.admin = root / "admin"
        self.reviewer = root / "reviewer"
        init_shared_store(self.shared, self.admin, "系统管理员")
        self.key = ensure_key(self.reviewer, REVIEWER_KEY)[0]
        register(self.shared, self.reviewer, self.key, {"role": "reviewer", "name": "王主管"})
        trust(self.shared, self.admin, self.key.fingerprint, "王主管", REVIEWER)

    def laptop(self, data: Path) -> Signer:
        data.mkdir(parents=True)
        register_laptop(self.shared, data, "张伟", "laptop-1")
        key = ensure_key(data, DEVICE)[0]
        trust(self.shared, self.admin, key.fingerprint, "张伟", TECHNICIAN)
        return key


def decision(uuid: str, record: str, n: int) -> dict[str, Any]:
    return {
        "id": f"{n:032x}",
        "at": "2026-12-01T10:00:00+08:00",
        "uuid": uuid,
        "decision": "has_issues",
        "comment": f"请补拍小票 {n}",
        "record_sha256": record,
    }


def fill_log(shared: Path, bodies: list[dict[str, Any]], signer: Signer) -> None:
    """Append `bodies` after what the log holds, as `append` would, without fsyncs."""
    log = SharedStore.open(shared).decision_log
    head = log._repaired_head()
    seq, prev = head.seq, head.hash
    for body in bodies:
        seq += 1
        row = body | {"prev": prev}
        row["signature"] = sign(signer, canonical(signed_part(row))).to_dict()
        path = log.path_of(seq)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(row, ensure_ascii=False, separators=(",", ":")), "utf-8")
        prev = decision_hash(row)
    log._write_head(type(head)(seq, prev))
    # Written back now, not during what is timed: an fsync there would flush them all.
    os.sync()


def timed(action: Any, times: int = 5) -> float:
    found = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        found.append(time.perf_counter() - started)
    return statistics.median(found)


def add_review_at(root: Path, count: int) -> dict[str, Any]:
    bank = Bank(root)
    fill_log(bank.shared, [decision("a" * 32, "r" * 64, n) for n in range(count)], bank.key)
    store = SharedStore.open(bank.shared)
    body = {"uuid": "b" * 32, "decision": "approved", "comment": "", "record_sha256": "r" * 64}
    seconds = timed(lambda: store.add_review(dict(body), bank.key))
    # What a decision cost before the log: one insert into a TinyDB of `count` rows.
    old = root / "reviews-before.json"
    db = TinyDB(old, storage=AtomicJSONStorage)
    rows = [decision("a" * 32, "r" * 64, n) | {"prev": "", "signature": {}} for n in range(count)]
    with db.storage.batch():  # type: ignore[attr-defined]
        db.table("reviews").insert_multiple(rows)
    before = timed(lambda: db.table("reviews").insert(dict(body)))
    db.close()
    return {
        "bench": "add_review",
        "decisions": count,
        "add_review_s": round(seconds, 4),
        "reviews_json_insert_s": round(before, 4),
    }


def laptop_syncs(
    root: Path, visits: int, more: int, compare: bool, photos: int
) -> list[dict[str, Any]]:
    bank = Bank(root)
    data = root / "laptop"
    key = bank.laptop(data)
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    with LocalStore.open(data) as store:
        store.bulk_add(demo_sessions(checklists, visits, seed=5, signer=key))
        sync(store, bank.shared)
        records = {s.uuid: record_sha256(store.load(s.uuid)) for s in store.summaries()}
    bodies = [decision(uuid, record, n) for n, (uuid, record) in enumerate(records.items())]
    fill_log(bank.shared, bodies, bank.key)
    out = []
    before = root / "laptop-before"
    if compare:
        shutil.copytree(data, before, symlinks=True)
    saving = Saving()
    with LocalStore.open(data) as store, saving.counted():
        started = time.perf_counter()
        report = sync(store, bank.shared)
        first = time.perf_counter() - started
    assert report.reviews_applied == visits, report.sentence()
    line: dict[str, Any] = {
        "bench": "first_sync",
        "reviewed_visits": visits,
        "seconds": round(first, 3),
        "of_which_local_save_s": round(saving.seconds, 3),
    }
    if compare:
        saving = Saving()
        with LocalStore.open(before) as store, saving.counted(one_by_one=True):
            started = time.perf_counter()
            report = sync(store, bank.shared)
            line["before_seconds"] = round(time.perf_counter() - started, 3)
        assert report.reviews_applied == visits, report.sentence()
        line["before_of_which_local_save_s"] = round(saving.seconds, 3)
    out.append(line)
    serial = len(bodies)
    fill_photos(data, photos)
    fill_photos(bank.shared, photos)
    for extra in (0, more):
        others = [decision(f"{n:032x}", "r" * 64, serial + n) for n in range(extra)]
        serial += extra
        fill_log(bank.shared, others, bank.key)
        if others:
            # Read once (they are new to the laptop); what is timed is the sync after.
            with LocalStore.open(data) as store:
                sync(store, bank.shared)
        uuid, record = next(iter(records.items()))
        serial += 1
        SharedStore.open(bank.shared).add_review(
            {"uuid": uuid, "decision": "approved", "comment": "已补拍", "record_sha256": record},
            bank.key,
        )
        with LocalStore.open(data) as store:
            store.bulk_add(demo_sessions(checklists, 1, seed=100 + extra, signer=key))
            started = time.perf_counter()
            report = sync(store, bank.shared)
            later = time.perf_counter() - started
        assert report.reviews_applied == 1 and len(report.pushed.added) == 1, report.sentence()
        # The same with no visit to send: what bringing one decision back costs.
        uuid, record = list(records.items())[1]
        serial += 1
        SharedStore.open(bank.shared).add_review(
            {"uuid": uuid, "decision": "approved", "comment": "好", "record_sha256": record},
            bank.key,
        )
        with LocalStore.open(data) as store:
            started = time.perf_counter()
            report = sync(store, bank.shared)
            alone = time.perf_counter() - started
        assert report.reviews_applied == 1 and not report.pushed.added, report.sentence()
        out.append(
            {
                "bench": "later_sync",
                "decisions_in_store": serial,
                "one_visit_and_one_decision_s": round(later, 3),
                "one_decision_alone_s": round(alone, 3),
                "photos": photos,
            }
        )
    if photos:
        out.append({"bench": "parts_scan", "photos": photos} | parts_scans(data, bank.shared))
    return out


def parts_scans(laptop: Path, shared: Path) -> dict[str, float]:
    """Seconds (median of 5, warm cache) of the two listings, in each store."""
    found = {}
    for name, folder in (("laptop", laptop), ("share", shared)):
        for what, earlier_layout in (("bucket_scan_s", True), ("parts_scan_s", False)):
            seconds = timed(lambda f=folder, e=earlier_layout: evidence_parts(f, e))
            found[f"{name}_{what}"] = round(seconds, 5)
    return found


class Saving:
    """Seconds spent in the laptop store's durable writes of visits and their index rows
    (`LocalStore.save_many`, `save`), to tell them apart from reading and checking
    decisions. `one_by_one`: `save_many` as it was before, one `save` per visit."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextlib.contextmanager
    def counted(self, one_by_one: bool = False) -> Iterator[None]:
        save, save_many = LocalStore.save, LocalStore.save_many

        def timed(write: Any) -> Any:
            def timed_write(store: LocalStore, what: Any) -> None:
                started = time.perf_counter()
                try:
                    write(store, what)
                finally:
                    self.seconds += time.perf_counter() - started

            return timed_write

        def each(store: LocalStore, sessions: Any) -> None:
            for session in sessions:
                save(store, session)

        LocalStore.save = timed(save)  # type: ignore[method-assign]
        LocalStore.save_many = timed(each if one_by_one else save_many)  # type: ignore[method-assign]
        try:
            yield
        finally:
            LocalStore.save, LocalStore.save_many = save, save_many  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", default="1000,50000")
    parser.add_argument("--visits", type=int, default=2000)
    parser.add_argument("--more", type=int, default=48_000)
    parser.add_argument(
        "--no-before", action="store_true", help="leave out the one-save-per-decision run"
    )
    parser.add_argument("--photos", type=int, default=20_000, help="evidence files in each")
    args = parser.parse_args()
    for count in (int(n) for n in args.decisions.split(",")):
        with tempfile.TemporaryDirectory() as scratch:
            print(json.dumps(add_review_at(Path(scratch), count)), flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        for line in laptop_syncs(
            Path(scratch), args.visits, args.more, not args.no_before, args.photos
        ):
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
