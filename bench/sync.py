"""Time and peak memory of a sync into shared stores of growing size.

    python bench/sync.py [--kinds share] [--stored 1000,10000,100000] [--new 1,1000]

For each kind of shared store, each stored size and each number of new visits, one child
process opens a laptop holding the new visits and syncs them (`pos_tui.store.sync.sync`),
timing the sync alone and taking the high-water mark of its memory (ru_maxrss) before and
after it: `peak_growth_mb` is what the sync needed beyond the process that made it. One
JSON line per case; `ratio_*` compare each case with the same one into the smallest store.

The stores are built directly, not by syncing 100,000 visits one by one: a few dozen real
records (synced once from demo visits) are written again under new uuids into batch
files of 1,000 and into the index shards, in bulk (`fill_share`).

A kind is a `Kind` in `KINDS`: how to build a store of N visits and what `target` a sync
is given. A PostgreSQL kind (pos_tui/store/pg, same `push()` signature) adds one entry:
its `build` fills the tables in bulk, its `target` is what `sync` opens it by.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pos_tui.demo import demo_sessions  # noqa: E402
from pos_tui.domain.loader import load_checklists  # noqa: E402
from pos_tui.domain.safe_read import read_slice  # noqa: E402
from pos_tui.locations import shipped_checklists_dir  # noqa: E402
from pos_tui.store.checklist_copies import CHECKLISTS_DIR  # noqa: E402
from pos_tui.store.local import LocalStore  # noqa: E402
from pos_tui.store.shared import BATCHES_DIR, SharedStore  # noqa: E402
from pos_tui.store.shared_index import TABLE, index_dir, shard_name, shard_path  # noqa: E402
from pos_tui.store.storage import write_json_atomically  # noqa: E402
from pos_tui.store.sync import sync  # noqa: E402

TEMPLATES = 40
BATCH_SIZE = 1000

CHILD = """
import json, resource, sys, time
from pathlib import Path
from pos_tui.store.local import LocalStore
from pos_tui.store.sync import sync
laptop, target = Path(sys.argv[1]), Path(sys.argv[2])
def rss_mb():
    # The high-water mark of this process alone: ru_maxrss would carry the parent's from
    # the fork (Linux keeps it across exec), so VmHWM after resetting it, where there is one.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
try:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
except OSError:
    pass
with LocalStore.open(laptop) as store:
    before = rss_mb()
    started = time.perf_counter()
    report = sync(store, target)
    seconds = time.perf_counter() - started
    after = rss_mb()
print(json.dumps({"seconds": seconds, "rss_before_mb": before, "rss_after_mb": after,
                  "added": len(report.pushed.added)}))
"""


@dataclass(frozen=True)
class Kind:
    build: Callable[[Path, int, list[tuple[dict[str, Any], bytes]]], Path]
    """(scratch folder, visits, template records) -> the target a sync is given."""


def checklists() -> list[Any]:
    return load_checklists([shipped_checklists_dir()]).checklists


def laptop_with(folder: Path, count: int, seed: int) -> Path:
    with LocalStore.open(folder) as store:
        store.bulk_add(demo_sessions(checklists(), count, seed=seed))
    return folder


def template_records(scratch: Path) -> list[tuple[dict[str, Any], bytes]]:
    """A few dozen real records with their index rows, as a sync lays them in a share
    (whose checklist copies `fill_share` takes too)."""
    laptop = laptop_with(scratch / "templates-laptop", TEMPLATES, seed=7)
    share = scratch / "templates-share"
    share.mkdir()
    with LocalStore.open(laptop) as store:
        sync(store, share, create=True)
    return [
        (row, read_slice(share / BATCHES_DIR / row["batch"], row["offset"], row["length"]))
        for row in SharedStore.open(share).rows()
    ]


def fill_share(folder: Path, count: int, templates: list[tuple[dict[str, Any], bytes]]) -> Path:
    """A shared store of `count` visits, written directly: batches of 1,000 records, then
    each index shard once. `folder` is two levels under the scratch folder."""
    (folder / BATCHES_DIR).mkdir(parents=True)
    shards: dict[str, dict[str, Any]] = {}
    for start in range(0, count, BATCH_SIZE):
        name = f"20260101T000000-bench-{start // BATCH_SIZE:08x}.jsonl"
        offset = 0
        with open(folder / BATCHES_DIR / name, "wb") as batch:
            for n in range(start, min(count, start + BATCH_SIZE)):
                row, line = templates[n % len(templates)]
                uuid = str(uuid_module.uuid4())
                line = line.replace(row["uuid"].encode(), uuid.encode())
                batch.write(line + b"\n")
                table = shards.setdefault(shard_name(uuid), {})
                table[str(len(table) + 1)] = row | {
                    "uuid": uuid,
                    "batch": name,
                    "offset": offset,
                    "length": len(line),
                    "record_hash": hashlib.sha256(line).hexdigest(),
                }
                offset += len(line) + 1
    index_dir(folder).mkdir()
    for shard, table in shards.items():
        write_json_atomically(shard_path(folder, shard), {TABLE: table}, durable=False)
    # The checklists the records name, as the first sync of a real store left them.
    shutil.copytree(
        folder.parent.parent / "templates-share" / CHECKLISTS_DIR, folder / CHECKLISTS_DIR
    )
    # On disk before anything is timed: the writeback of a fresh fill would slow the
    # fsyncs of the first case.
    os.sync()
    return folder


def build_share(scratch: Path, count: int, templates: list[tuple[dict[str, Any], bytes]]) -> Path:
    return fill_share(scratch / f"share-{count}", count, templates)


KINDS: dict[str, Kind] = {"share": Kind(build_share)}


def run_case(laptop: Path, target: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(laptop), str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return dict(json.loads(done.stdout.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--kinds", default="share", help=f"of {', '.join(KINDS)}")
    parser.add_argument("--stored", default="1000,10000,100000")
    parser.add_argument("--new", default="1,1000")
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    if unknown := [kind for kind in kinds if kind not in KINDS]:
        parser.error(f"no such kind: {', '.join(unknown)}")
    stored = [int(n) for n in args.stored.split(",")]
    new = [int(n) for n in args.new.split(",")]
    with tempfile.TemporaryDirectory() as name:
        scratch = Path(name)
        templates = template_records(scratch)
        laptops = {
            count: laptop_with(scratch / f"laptop-{count}", count, seed=count) for count in new
        }
        for kind in kinds:
            first: dict[int, dict[str, Any]] = {}
            for visits in stored:
                started = time.perf_counter()
                target = KINDS[kind].build(scratch / kind, visits, templates)
                build_s = time.perf_counter() - started
                for count in new:
                    laptop = scratch / "case-laptop"
                    shutil.rmtree(laptop, ignore_errors=True)
                    shutil.copytree(laptops[count], laptop)
                    got = run_case(laptop, target)
                    assert got["added"] == count, got
                    line = {
                        "kind": kind,
                        "stored": visits,
                        "synced": count,
                        "sync_s": round(got["seconds"], 4),
                        "peak_mb": round(got["rss_after_mb"], 1),
                        "peak_growth_mb": round(got["rss_after_mb"] - got["rss_before_mb"], 1),
                        "build_s": round(build_s, 1),
                    }
                    base = first.setdefault(count, line)
                    line["ratio_s"] = round(line["sync_s"] / base["sync_s"], 2)
                    line["ratio_peak"] = round(line["peak_mb"] / base["peak_mb"], 2)
                    print(json.dumps(line), flush=True)
                shutil.rmtree(scratch / kind, ignore_errors=True)


if __name__ == "__main__":
    main()
