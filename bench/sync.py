"""Time and peak memory of a sync into shared stores of growing size.

    python bench/sync.py [--kinds share,pg] [--stored 1000,10000,100000] [--new 1,1000]

For each kind of shared store, each stored size and each number of new visits, a child
process (one per run; the median of `--runs` for 10 visits or fewer) opens a laptop
holding the new visits and syncs them (`pos_tui.store.sync.sync`),
timing the sync alone and taking the high-water mark of its memory (ru_maxrss) before and
after it: `peak_growth_mb` is what the sync needed beyond the process that made it. One
JSON line per case; `ratio_*` compare each case with the same one into the smallest store.

The stores are built directly, not by syncing 100,000 visits one by one: a few dozen real
records (synced once from demo visits) are written again under new uuids into batch
files of 1,000 and into the index shards, in bulk (`fill_share`).

A kind is a `Kind` in `KINDS`: how to build a store of N visits and what `target` a sync
is given. `share`: a folder. `pg`: a database of a throw-away server (tests/pg_server.py,
fsync off: what is timed is the store's work, not this machine's disk), filled by COPY
(`bench/_pg_fill.py`), synced by its `postgresql://` URL; the server is started once for
all its cases and stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _share_fill import Templates, fill_share, laptop_with, template_records  # noqa: E402

CHILD = """
import json, resource, sys, time
from pathlib import Path
from pos_tui.store.local import LocalStore
from pos_tui.store.sync import sync
from pos_tui.store.targets import target_of
laptop, target = Path(sys.argv[1]), target_of(sys.argv[2])
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
    build: Callable[[Path, int, Templates], Path | str]
    """(scratch folder, visits, template records) -> the target a sync is given."""
    remove: Callable[[Path | str], None]
    """Done with a target: its files or its database go."""
    stop: Callable[[], None] = field(default=lambda: None)
    """After all the kind's cases."""


def build_share(scratch: Path, count: int, templates: Templates) -> Path:
    return fill_share(scratch / "share" / f"share-{count}", count, templates, scratch)


class _Pg:
    """One throw-away server for every case of the pg kind, started on first use."""

    server: Any = None

    @classmethod
    def build(cls, scratch: Path, count: int, templates: Templates) -> str:
        from _pg_fill import PgServer, fill_pg

        if cls.server is None:
            cls.server = PgServer.start()
        return fill_pg(cls.server, f"sync_{count}", count, templates, scratch)

    @classmethod
    def remove(cls, target: Path | str) -> None:
        from urllib.parse import urlsplit

        cls.server.drop_database(urlsplit(str(target)).path.strip("/"))

    @classmethod
    def stop(cls) -> None:
        if cls.server is not None:
            cls.server.stop()
            cls.server = None


KINDS: dict[str, Kind] = {
    "share": Kind(build_share, lambda target: shutil.rmtree(target, ignore_errors=True)),
    "pg": Kind(_Pg.build, _Pg.remove, _Pg.stop),
}


def run_case(laptop: Path, target: Path | str) -> dict[str, Any]:
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
    parser.add_argument("--kinds", default="share,pg", help=f"of {', '.join(KINDS)}")
    parser.add_argument("--stored", default="1000,10000,100000")
    parser.add_argument("--new", default="1,1000")
    parser.add_argument(
        "--runs", type=int, default=5, help="syncs per case of 10 visits or fewer (median)"
    )
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    if unknown := [kind for kind in kinds if kind not in KINDS]:
        parser.error(f"no such kind: {', '.join(unknown)}")
    stored = [int(n) for n in args.stored.split(",")]
    new = [int(n) for n in args.new.split(",")]
    runs = {count: args.runs if count <= 10 else 1 for count in new}
    with tempfile.TemporaryDirectory() as name:
        scratch = Path(name)
        templates = template_records(scratch)
        # Each run its own visits: a second sync of the same ones would be a no-op.
        laptops = {
            (count, run): laptop_with(scratch / f"laptop-{count}-{run}", count, seed=count + run)
            for count in new
            for run in range(runs[count])
        }
        for kind in kinds:
            try:
                run_kind(kind, stored, new, runs, scratch, templates, laptops)
            finally:
                KINDS[kind].stop()


def run_kind(
    kind: str,
    stored: list[int],
    new: list[int],
    runs: dict[int, int],
    scratch: Path,
    templates: Templates,
    laptops: dict[tuple[int, int], Path],
) -> None:
    first: dict[int, dict[str, Any]] = {}
    for visits in stored:
        started = time.perf_counter()
        target = KINDS[kind].build(scratch, visits, templates)
        build_s = time.perf_counter() - started
        for count in new:
            got = []
            for run in range(runs[count]):
                laptop = scratch / "case-laptop"
                shutil.rmtree(laptop, ignore_errors=True)
                shutil.copytree(laptops[count, run], laptop)
                got.append(run_case(laptop, target))
                assert got[-1]["added"] == count, got[-1]
            seconds = sorted(case["seconds"] for case in got)
            line = {
                "kind": kind,
                "stored": visits,
                "synced": count,
                "sync_s": round(seconds[len(seconds) // 2], 4),
                "runs_s": [round(second, 3) for second in seconds],
                "peak_mb": round(max(case["rss_after_mb"] for case in got), 1),
                "peak_growth_mb": round(
                    max(case["rss_after_mb"] - case["rss_before_mb"] for case in got), 1
                ),
                "build_s": round(build_s, 1),
            }
            base = first.setdefault(count, line)
            line["ratio_s"] = round(line["sync_s"] / base["sync_s"], 2)
            line["ratio_peak"] = round(line["peak_mb"] / base["peak_mb"], 2)
            print(json.dumps(line), flush=True)
        KINDS[kind].remove(target)


if __name__ == "__main__":
    main()
