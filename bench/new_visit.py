"""Time to start a visit (`LocalStore.create`: its file, its index row, the journal around
them) with 0, 10,000 and 50,000 visits stored: it should not grow with them.

    python bench/new_visit.py [--visits N [N ...]] [--starts 30]

Each store is filled by `_fill.py` (nearly all synced, a few signed, three drafts), then
opened as the app opens it, and `--starts` visits are started in each, in turn, each
timed on its own, durably (fsync) as the app writes. Prints one JSON line per store size:
the median and the slowest start in milliseconds, and the median against the first size's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fill import fill, templates_info

from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Session
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store.local import LocalStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, nargs="+", default=[0, 10_000, 50_000])
    parser.add_argument("--starts", type=int, default=30)
    args = parser.parse_args()
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    with tempfile.TemporaryDirectory() as home, contextlib.ExitStack() as stores:
        opened = []
        for count in args.visits:
            folder = Path(home) / f"data-{count}"
            fill(folder, count)
            opened.append(stores.enter_context(LocalStore.open(folder)))
        times: list[list[float]] = [[] for _ in opened]
        index_kb = [0.0 for _ in opened]
        # Interleaved, a start in each store in turn, so that a busy moment of the machine
        # (fsync waits on other work) weighs on every size alike. The first round is not
        # counted: imports, file cache.
        for round_number in range(args.starts + 1):
            for at, store in enumerate(opened):
                session = Session.start(templates_info(checklists), checklists)
                began = time.perf_counter()
                store.create(session)
                if round_number:
                    times[at].append(time.perf_counter() - began)
                index_kb[at] = (store.folder / "index.json").stat().st_size / 1024
    first = statistics.median(times[0])
    for count, taken, kb in zip(args.visits, times, index_kb, strict=True):
        median = statistics.median(taken)
        print(
            json.dumps(
                {
                    "visits": count,
                    "create_median_ms": round(median * 1000, 2),
                    "create_max_ms": round(max(taken) * 1000, 2),
                    f"ratio_to_{args.visits[0]}_visits": round(median / first, 3),
                    "index_json_kb": round(kb, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
