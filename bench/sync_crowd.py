"""Many laptops syncing one visit each at the same moment into one shared store.

    python bench/sync_crowd.py [--kind share|pg] [--laptops 30] [--stored 50000] [--lock-timeout S]

Each laptop is a child process that opens its own store (one signed visit), says it is
ready, and waits on its standard input; when all are ready the parent writes one byte to
each, and they sync together. Each child times its waits for the shared lock and how long
it held it (by timing `FileLock` itself, on `.shared.lock` only: a sync may take it more
than once, for its index write and for the decision log), and the whole sync. Prints one
JSON line per laptop that failed, then one summary line: failures, the longest wait, the
longest hold.
`--lock-timeout` gives the children another wait than the store's default
(`pos_tui.store.shared.LOCK_TIMEOUT_S`), e.g. 30 to see what the earlier default did.

`--kind pg`: the same into a PostgreSQL store of a throw-away server (`bench/_pg_fill.py`);
a wait is then a statement that takes a lock, a hold the push's transaction
(`bench/_pg_timing.py`), and a sampler of `pg_locks` watches from outside.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _share_fill import fill_share, laptop_with, template_records  # noqa: E402

SHARE_TIMING = """
from pos_tui.store import os_lock

waits, holds, writes = [], [], []
acquire, release = os_lock.FileLock.acquire, os_lock.FileLock.release

def timed_acquire(self):
    if self.path.name != ".shared.lock":  # the laptop's own writer lock, say
        return acquire(self)
    started = time.perf_counter()
    try:
        acquire(self)
    finally:
        waits.append(time.perf_counter() - started)
    self._held_since = time.perf_counter()

def timed_release(self):
    if self._fd is not None and self.path.name == ".shared.lock":
        holds.append(time.perf_counter() - self._held_since)
    release(self)

os_lock.FileLock.acquire, os_lock.FileLock.release = timed_acquire, timed_release
"""

LAPTOP = """
import json, sys, time
from pathlib import Path
from pos_tui.store.local import LocalStore
from pos_tui.store.storage import StoreError
from pos_tui.store.sync import sync
from pos_tui.store.targets import target_of

laptop, target, timeout = Path(sys.argv[1]), target_of(sys.argv[2]), sys.argv[3]
with LocalStore.open(laptop) as store:
    print("ready", flush=True)
    sys.stdin.read(1)  # the barrier: every laptop is released by the same byte
    started = time.perf_counter()
    error = ""
    try:
        report = sync(store, target, lock_timeout=float(timeout) if timeout else None)
        added = len(report.pushed.added)
    except StoreError as failed:
        error, added = str(failed), 0
    seconds = time.perf_counter() - started
print(json.dumps({"laptop": laptop.name, "sync_s": seconds, "waits": waits, "holds": holds,
                  "added": added, "error": error}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--kind", choices=["share", "pg"], default="share")
    parser.add_argument("--laptops", type=int, default=30)
    parser.add_argument("--stored", type=int, default=50_000)
    parser.add_argument(
        "--lock-timeout", default="", help="seconds; the store's default if not given (share)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, contextlib.ExitStack() as stack:
        scratch = Path(name)
        started = time.perf_counter()
        templates = template_records(scratch)
        sampler = None
        if args.kind == "pg":
            from _pg_fill import PgServer, fill_pg
            from _pg_timing import CHILD_TIMING, LockSampler

            server = stack.enter_context(PgServer.start())
            target: Path | str = fill_pg(server, "crowd", args.stored, templates, scratch)
            timing = CHILD_TIMING
            sampler = LockSampler(str(target))
        else:
            target = fill_share(scratch / "share", args.stored, templates, scratch)
            timing = SHARE_TIMING
        build_s = time.perf_counter() - started
        laptops = [
            laptop_with(scratch / f"laptop-{n:02d}", 1, seed=1000 + n) for n in range(args.laptops)
        ]
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    timing + LAPTOP,
                    str(laptop),
                    str(target),
                    args.lock_timeout,
                ],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for laptop in laptops
        ]
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise SystemExit(child.communicate()[1])
        with sampler or contextlib.nullcontext():
            released = time.perf_counter()
            for child in children:
                assert child.stdin is not None
                child.stdin.write("go")
                child.stdin.flush()
            results: list[dict[str, Any]] = []
            for child in children:
                out, err = child.communicate(timeout=900)
                if child.returncode != 0:
                    error = err.strip().splitlines()[-1:]
                    results.append({"error": error, "waits": [], "holds": []})
                    continue
                results.append(json.loads(out.splitlines()[-1]))
            all_done_s = time.perf_counter() - released
        rows = _row_count(target)
    failures = [result for result in results if result.get("error")]
    for failure in failures:
        print(json.dumps({"failed": failure.get("laptop"), "error": failure["error"]}))
    waits = [wait for result in results for wait in result["waits"]]
    holds = [hold for result in results for hold in result["holds"]]
    summary = {
        "kind": args.kind,
        "laptops": args.laptops,
        "stored": args.stored,
        "failures": len(failures),
        "longest_wait_s": round(max(waits, default=0), 3),
        "median_wait_s": round(sorted(waits)[len(waits) // 2], 3) if waits else 0,
        "longest_hold_s": round(max(holds, default=0), 3),
        "median_hold_s": round(sorted(holds)[len(holds) // 2], 3) if holds else 0,
        "longest_sync_s": round(max((r.get("sync_s", 0) for r in results), default=0), 3),
        "all_done_s": round(all_done_s, 3),
        "rows_after": rows,
        "build_s": round(build_s, 1),
    }
    if sampler is not None:
        summary["server_side"] = sampler.figures()
    print(json.dumps(summary))


def _row_count(target: Path | str) -> int:
    from pos_tui.store.targets import open_shared

    store = open_shared(target)
    try:
        return len(store.rows())
    finally:
        store.close()


if __name__ == "__main__":
    main()
