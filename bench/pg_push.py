"""Seconds to push one visit, and 1,000, into a PostgreSQL store of 1,000 and 100,000.

Also the review list's queries on each store: the first page of 100, a merchant filter's
count and page (what one keystroke asks), the figures.

    python bench/pg_push.py [--sizes 1000,100000] [--repeat 5]

Starts a throw-away server (tests/pg_server.py: Debian's postgresql binaries, fsync off),
fills each store by COPY (`pos_tui/store/pg/bulk.py`) with copies of real demo visits
under new uuids, then times `PgSharedStore.push` of real visits built as sync builds them.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pos_tui.demo import demo_sessions
from pos_tui.domain.loader import load_checklists
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store.local import LocalStore
from pos_tui.store.pg.bulk import copy_records
from pos_tui.store.pg.store import PgSharedStore
from pos_tui.store.shared import Outgoing
from pos_tui.store.sync import _outgoing
from tests.pg_server import PgServer


def laptop_records(folder: Path, count: int, seed: int) -> list[Outgoing]:
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    with LocalStore.open(folder) as store:
        store.bulk_add(demo_sessions(checklists, count, seed=seed))
        return [_outgoing(store, summary) for summary in store.summaries()]


def copies(templates: list[Outgoing], count: int):  # type: ignore[no-untyped-def]
    for n in range(count):
        template = templates[n % len(templates)]
        new = str(uuid.uuid4())
        yield (
            dict(template.row) | {"uuid": new},
            template.line.replace(template.uuid.encode(), new.encode()),
        )


def timed_push(store: PgSharedStore, records: list[Outgoing]) -> tuple[float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    report = store.push(records, {"device_id": "bench"})
    took = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(report.added) == len(records), report
    return took, peak


def timed_review(store: PgSharedStore) -> dict[str, float]:
    """What the review list asks of the database: the first page, a filter's count and
    page (one keystroke), the figures."""
    calls = {
        "page_s": lambda: store.page(limit=100),
        "filter_count_and_page_s": lambda: (
            store.count({"merchant": "面"}),
            store.page({"merchant": "面"}, limit=100),
        ),
        "stats_s": lambda: store.stats(),
    }
    took = {}
    for name, call in calls.items():
        times = []
        for _ in range(3):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        took[name] = round(min(times), 4)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch, PgServer.start() as server:
        templates = laptop_records(Path(scratch) / "templates", 50, seed=1)
        fresh = laptop_records(Path(scratch) / "laptop", args.repeat + 1000, seed=2)
        for size in sizes:
            name = f"bench_{size}"
            with PgSharedStore.init(server.create_database(name)) as store:
                started = time.perf_counter()
                copy_records(store, copies(templates, size))
                filled = time.perf_counter() - started
                ones = [timed_push(store, [fresh[n]]) for n in range(args.repeat)]
                thousand = timed_push(store, fresh[args.repeat : args.repeat + 1000])
                review = timed_review(store)
                figures[str(size)] = review | {
                    "fill_s": round(filled, 2),
                    "push_1_median_s": round(statistics.median(t for t, _ in ones), 4),
                    "push_1_peak_kib": round(max(p for _, p in ones) / 1024),
                    "push_1000_s": round(thousand[0], 3),
                    "push_1000_peak_mib": round(thousand[1] / 2**20, 1),
                }
            server.drop_database(name)
    print(json.dumps({"bench": "pg_push", "stores": figures}))


if __name__ == "__main__":
    main()
