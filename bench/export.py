"""Time and peak memory of exporting N visits (default 10,000) with `pos-tui export`.

    python bench/export.py [--visits 10000] [--format csv|json|xlsx] [--store local|shared]

Builds a store of demo visits, then runs the real command in a child process and reads
its peak RSS (`getrusage(RUSAGE_CHILDREN).ru_maxrss`). The baseline is a child that
imports the command line and exits, so the difference is what the export itself holds.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pos_tui.demo import demo_sessions
from pos_tui.domain.loader import load_checklists
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store.local import LocalStore
from pos_tui.store.sync import sync

ROOT = Path(__file__).resolve().parent.parent


# Run from a small launcher, not from this process: on Linux a child's peak RSS starts at
# its parent's size when it forks, and this process holds the store it just built.
LAUNCHER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": done.returncode, "seconds": seconds, "peak": peak,
                  "errors": done.stderr.decode(errors="replace")[-2000:]}))
"""


def run_child(args: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS in MB of one child process, which must succeed."""
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(launched.stdout)
    if result["code"] != 0:
        raise SystemExit(f"{' '.join(args)} failed ({result['code']}): {result['errors']}")
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return result["seconds"], result["peak"] / scale


def count_rows(out: Path, fmt: str) -> int:
    """Rows of the CSV, visits of the JSON, answer rows of the workbook (all its sheets)."""
    if fmt == "xlsx":
        import openpyxl

        # Read-only: the size each sheet declares, without loading millions of cells.
        workbook = openpyxl.load_workbook(out, read_only=True)
        try:
            return sum(
                (sheet.max_row or 1) - 1
                for sheet in workbook.worksheets
                if sheet.title.startswith("answers")
            )
        finally:
            workbook.close()
    with open(out, encoding="utf-8-sig", newline="") as file:
        if fmt == "csv":
            return sum(1 for _ in csv.reader(file)) - 1
        return len(json.load(file))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--format", choices=["csv", "json", "xlsx"], default="csv")
    parser.add_argument("--store", choices=["local", "shared"], default="local")
    args = parser.parse_args()
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        folder = root / "data"
        with LocalStore.open(folder) as store:
            store.bulk_add(demo_sessions(checklists, args.visits, seed=3))
            if args.store == "shared":
                (root / "shared").mkdir()
                sync(store, root / "shared", create=True)
                folder = root / "shared"
        _, baseline_mb = run_child([sys.executable, "-c", "import pos_tui.cli"])
        out = root / f"visits.{args.format}"
        command = [sys.executable, "-m", "pos_tui", "export", "--format", args.format]
        seconds, peak_mb = run_child([*command, "--store", str(folder), "--out", str(out)])
        size_mb = out.stat().st_size / 1e6
        # What grows with the store besides the output: its index, which is read whole.
        index_files = (
            [folder / "index.json"]
            if args.store == "local"
            else [
                *(folder / "index").glob("*.json")  # the shared index's shards
            ]
        )
        index_mb = sum(path.stat().st_size for path in index_files) / 1e6
        store_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
        rows = count_rows(out, args.format)
    print(
        json.dumps(
            {
                "visits": args.visits,
                "format": args.format,
                "store": args.store,
                "rows": rows,
                "seconds": round(seconds, 2),
                "peak_rss_mb": round(peak_mb, 1),
                "baseline_rss_mb": round(baseline_mb, 1),
                "output_mb": round(size_mb, 1),
                "store_mb": round(store_mb, 1),
                "store_index_mb": round(index_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
