"""Laptops syncing into PostgreSQL together, round after round: nothing lost or
duplicated, and no sync waiting on another for longer than its own write.

    python bench/sync_rounds.py [--laptops 20] [--rounds 10] [--per-round 1] [--stored 10000]

A throw-away server (tests/pg_server.py) holds a store of `--stored` visits (COPY,
`bench/_pg_fill.py`). Each laptop is a child process with its own store; each round it
signs `--per-round` new demo visits, says it is ready, and waits; when all are ready the
parent releases them with one line each and they sync together with the real
`store.sync.sync(local, url)`. Each child times (`bench/_pg_timing.py`) every statement
that takes a lock as a wait and its push's transaction as a hold; its own write is the
hold less the waits in it. A sampler of `pg_locks` / `pg_stat_activity` watches each round
from outside, for waits no statement of ours announced (a unique key another transaction
is inserting).

After the last round every visit a laptop made must be in the store exactly once, under
its uuid, with no conflict flag, and the store must hold the stored visits plus those.
The server also logs every lock wait longer than 5 ms with its length (`log_lock_waits`),
and each laptop names the backends it used: the server's account of each sync's waits,
beside the laptops' own (which counts the lock statement's round trip too, an upper bound).
Prints one JSON line per round, then a summary line; exit 1 when something was lost or
duplicated, a sync failed, or by the server's account a sync waited longer than its own
write.
"""

from __future__ import annotations

import argparse
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

from _pg_fill import PgServer, fill_pg  # noqa: E402
from _pg_timing import CHILD_TIMING, LockSampler, log_lock_waits, logged_waits  # noqa: E402
from _share_fill import template_records  # noqa: E402

LAPTOP = """
import json, sys, time
from pathlib import Path
from pos_tui.demo import demo_sessions
from pos_tui.domain.loader import load_checklists
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store.local import LocalStore
from pos_tui.store.storage import StoreError
from pos_tui.store.sync import sync

laptop, url, rounds, per_round, seed = (
    Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
)
checklists = load_checklists([shipped_checklists_dir()]).checklists
with LocalStore.open(laptop) as store:
    for round_no in range(rounds):
        sessions = list(demo_sessions(checklists, per_round, seed=seed * 1000 + round_no))
        store.bulk_add(sessions)
        made = [session.uuid for session in sessions]
        print("ready", flush=True)
        sys.stdin.readline()  # the barrier: every laptop is released at the same moment
        first_wait, first_write, first_pid = len(waits), len(writes), len(pids)
        started = time.perf_counter()
        error, added = "", []
        try:
            report = sync(store, url)
            added = list(report.pushed.added)
        except StoreError as failed:
            error = str(failed)
        seconds = time.perf_counter() - started
        print(json.dumps({
            "laptop": laptop.name, "round": round_no, "made": made, "added": added,
            "error": error, "sync_s": seconds, "waits": waits[first_wait:],
            "writes": writes[first_write:], "pids": pids[first_pid:],
        }), flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--laptops", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=1, help="new visits per laptop")
    parser.add_argument("--stored", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, PgServer.start() as server:
        scratch = Path(name)
        url = fill_pg(server, "rounds", args.stored, template_records(scratch), scratch)
        log_lock_waits(server)
        results = run_rounds(args, scratch, url)
        check = check_store(url, results, args.stored)
        by_backend, still_waiting = logged_waits(server)
    for result in results:
        result["server_wait_s"] = sum(by_backend.get(pid, 0.0) for pid in result["pids"])
        result["server_still_waiting"] = any(pid in still_waiting for pid in result["pids"])
    summary = summarize(args, results, check)
    print(json.dumps(summary))
    wrong = ["lost", "duplicated", "flagged", "failures", "not_reported_added"]
    wrong.append("server_waited_longer")
    if any(summary[name] for name in wrong) or summary["rows_after"] != summary["rows_expected"]:
        raise SystemExit(1)


def run_rounds(args: argparse.Namespace, scratch: Path, url: str) -> list[dict[str, Any]]:
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD_TIMING + LAPTOP,
                str(scratch / f"laptop-{n:02d}"),
                url,
                str(args.rounds),
                str(args.per_round),
                str(100 + n),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(args.laptops)
    ]
    results: list[dict[str, Any]] = []
    try:
        for round_no in range(args.rounds):
            for child in children:
                _expect(child, "ready")
            sampler = LockSampler(url)
            with sampler:
                released = time.perf_counter()
                for child in children:
                    assert child.stdin is not None
                    child.stdin.write("go\n")
                    child.stdin.flush()
                got = [json.loads(_expect(child, None)) for child in children]
                took = time.perf_counter() - released
            results += got
            print(json.dumps(round_line(round_no, got, took, sampler)), flush=True)
    finally:
        for child in children:
            if child.stdin is not None:
                child.stdin.close()
        for child in children:
            child.wait(timeout=120)
    return results


def _expect(child: subprocess.Popen[str], line: str | None) -> str:
    """The child's next line (`line` exactly, when given); its error output if it died."""
    assert child.stdout is not None
    got = child.stdout.readline()
    if not got or (line is not None and got.strip() != line):
        child.kill()
        raise SystemExit(f"a laptop stopped: {got!r}\n{child.communicate()[1][-3000:]}")
    return got


def own_write(result: dict[str, Any]) -> float:
    return sum(write["own_write_s"] for write in result["writes"])


def waited(result: dict[str, Any]) -> float:
    return sum(result["waits"])


def round_line(
    round_no: int, got: list[dict[str, Any]], took: float, sampler: LockSampler
) -> dict[str, Any]:
    return {
        "round": round_no,
        "synced": sum(len(r["added"]) for r in got),
        "failures": sum(1 for r in got if r["error"]),
        "longest_wait_s": round(max(waited(r) for r in got), 4),
        "longest_own_write_s": round(max(own_write(r) for r in got), 4),
        "longest_sync_s": round(max(r["sync_s"] for r in got), 3),
        "all_done_s": round(took, 3),
        "server_side": sampler.figures(),
    }


def check_store(url: str, results: list[dict[str, Any]], stored: int) -> dict[str, Any]:
    """What the store holds of the visits the laptops made."""
    import psycopg

    made = sorted({uuid for result in results for uuid in result["made"]})
    with psycopg.connect(url) as conn:
        counts: dict[str, int] = dict(
            conn.execute(
                "SELECT uuid, count(*) FROM visits WHERE uuid = ANY(%s) GROUP BY uuid", (made,)
            ).fetchall()
        )
        total = conn.execute("SELECT count(*) FROM visits").fetchone()
        flagged = conn.execute(
            "SELECT count(*) FROM visits WHERE uuid = ANY(%s) AND (conflict OR superseded)",
            (made,),
        ).fetchone()
    assert total is not None and flagged is not None
    return {
        "made": len(made),
        "lost": [uuid for uuid in made if uuid not in counts],
        "duplicated": [uuid for uuid, n in counts.items() if n != 1],
        "rows_after": int(total[0]),
        "rows_expected": stored + len(made),
        "flagged": int(flagged[0]),
    }


def summarize(
    args: argparse.Namespace, results: list[dict[str, Any]], check: dict[str, Any]
) -> dict[str, Any]:
    longer = [r for r in results if waited(r) > own_write(r)]
    server_longer = [r for r in results if r["server_wait_s"] > own_write(r)]
    writes = sorted(own_write(r) for r in results)
    waits = sorted(waited(r) for r in results)
    return {
        "laptops": args.laptops,
        "rounds": args.rounds,
        "per_round": args.per_round,
        "stored": args.stored,
        "syncs": len(results),
        "failures": sum(1 for r in results if r["error"]),
        "made": check["made"],
        "lost": len(check["lost"]),
        "duplicated": len(check["duplicated"]),
        "flagged": check["flagged"],
        "rows_after": check["rows_after"],
        "rows_expected": check["rows_expected"],
        "not_reported_added": sum(1 for r in results if sorted(r["added"]) != sorted(r["made"])),
        # The server's account: lock waits it logged (over LOCK_LOG_MS), by the backend of
        # each sync's store.
        "server_logged_waits": sum(1 for r in results if r["server_wait_s"]),
        "server_still_waiting": sum(1 for r in results if r["server_still_waiting"]),
        "server_longest_wait_s": round(max(r["server_wait_s"] for r in results), 4),
        "server_waited_longer": len(server_longer),
        # The laptops' account: the lock statements' whole time, round trip included (an
        # upper bound of the wait, inflated on a machine short of CPU).
        "waited_longer": len(longer),
        "longest_wait_s": round(waits[-1], 4),
        "median_wait_s": round(waits[len(waits) // 2], 4),
        "median_own_write_s": round(writes[len(writes) // 2], 4),
        "shortest_own_write_s": round(writes[0], 4),
        "worst_wait_to_write": round(max(waited(r) / own_write(r) for r in results), 3),
    }


if __name__ == "__main__":
    main()
