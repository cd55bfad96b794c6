"""Seconds to sync 1,000 visits into a shared store that already holds 10,000.

    python bench/sync.py [--existing 10000] [--new 1000]

Compared in the same run with one plain JSON load and dump of the shared store's index
file, the one file every sync rewrites. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pos_tui.demo import demo_sessions
from pos_tui.domain.loader import load_checklists
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import INDEX_NAME
from pos_tui.store.sync import sync


def fill(folder: Path, count: int, seed: int) -> LocalStore:
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    store = LocalStore.open(folder)
    store.bulk_add(demo_sessions(checklists, count, seed=seed))
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--existing", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        shared = root / "shared"
        shared.mkdir()
        with fill(root / "old", args.existing, seed=1) as old:
            sync(old, shared, create=True)
        with fill(root / "new", args.new, seed=2) as new:
            started = time.perf_counter()
            report = sync(new, shared)
            sync_s = time.perf_counter() - started
        assert len(report.pushed.added) == args.new, report.sentence()
        index = shared / INDEX_NAME
        started = time.perf_counter()
        data = json.loads(index.read_text(encoding="utf-8"))
        index.with_suffix(".copy").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        plain_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "existing": args.existing,
                "synced": args.new,
                "sync_s": round(sync_s, 3),
                "plain_json_load_dump_s": round(plain_s, 3),
                "ratio": round(sync_s / plain_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
