"""Time and peak memory of exporting N visits with `pos-tui export`.

    python bench/export.py [--visits 10000,100000] [--format csv|json|xlsx]
                           [--store local|shared|pg] [--stop-after S]

Builds a store of each size, then runs the real command in a child process and reads its
peak RSS (`getrusage(RUSAGE_CHILDREN).ru_maxrss`); only the export is timed. The baseline
is a child that imports the command line and exits, so the difference is what the export
itself holds. One JSON line per size; `ratio_peak` compares each with the first.

`local`: a laptop of demo visits. `shared`: a share filled in bulk (`bench/_share_fill.py`:
a few dozen real records written again under new uuids). `pg`: the same records COPYed
into a database of a throw-away server (`bench/_pg_fill.py`), exported by its URL.

`--stop-after S` stops each export after S seconds (an export of 100,000 visits takes the
better part of an hour on a small machine) and reports its peak so far and the rows it had
written: the first pass, over every row of the store, is over by then, and what an export
holds after it is one visit at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pos_tui.demo import demo_sessions
from pos_tui.domain.loader import load_checklists
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store.local import LocalStore

ROOT = Path(__file__).resolve().parent.parent


# Run from a small launcher, not from this process: on Linux a child's peak RSS starts at
# its parent's size when it forks, and this process holds the store it just built.
LAUNCHER = """
import json, resource, subprocess, sys, time
limit = float(sys.argv[1])
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
try:
    _, errors = child.communicate(timeout=limit or None)
    code = child.returncode
except subprocess.TimeoutExpired:
    child.kill()  # SIGKILL: its temporary output stays, to be counted
    _, errors = child.communicate()
    code = "stopped"
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "seconds": seconds, "peak": peak,
                  "errors": errors.decode(errors="replace")[-2000:]}))
"""


def run_child(
    args: list[str], env: dict[str, str] | None = None, limit_s: float = 0
) -> tuple[float, float, bool]:
    """Seconds and peak RSS in MB of one child process, which must succeed, and whether
    it was stopped after `limit_s` seconds (0: never)."""
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(limit_s), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(launched.stdout)
    stopped = result["code"] == "stopped"
    if result["code"] != 0 and not stopped:
        raise SystemExit(f"{' '.join(args)} failed ({result['code']}): {result['errors']}")
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return result["seconds"], result["peak"] / scale, stopped


def count_rows(out: Path, fmt: str, whole: bool = True) -> int:
    """Rows of the CSV, visits of the JSON, answer rows of the workbook (all its sheets);
    of an export stopped part way (`whole` False), the lines written whole."""
    if fmt == "xlsx":
        if not whole:
            return 0  # a workbook is written at its close: nothing to count before
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
    with open(out, encoding="utf-8-sig", newline="", errors="replace") as file:
        if not whole:
            # One visit a line in the JSON; a CSV row may hold a quoted line break: near.
            return max(sum(1 for _ in file) - 2, 0)
        if fmt == "csv":
            return sum(1 for _ in csv.reader(file)) - 1
        return len(json.load(file))


def build(kind: str, visits: int, root: Path, templates: Any, server: Any) -> Path | str:
    """A store of `visits` visits of the kind asked for: its folder or URL."""
    if kind == "shared":
        from _share_fill import fill_share

        return fill_share(root / f"shared-{visits}", visits, templates, root)
    if kind == "pg":
        from _pg_fill import fill_pg

        return fill_pg(server, f"export_{visits}", visits, templates, root)
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    folder = root / f"data-{visits}"
    with LocalStore.open(folder) as store:
        store.bulk_add(demo_sessions(checklists, visits, seed=3))
    return folder


def store_size(target: Path | str, server: Any) -> tuple[float, float]:
    """The store's size and its index's, in MB (a database: its size on the server)."""
    if isinstance(target, str):
        import psycopg

        with psycopg.connect(target) as conn:
            row = conn.execute(
                "SELECT pg_database_size(current_database()), pg_total_relation_size('visits')"
            ).fetchone()
        assert row is not None
        return row[0] / 1e6, row[1] / 1e6
    local = (target / "index.json").exists()
    index_files = [target / "index.json"] if local else [*(target / "index").glob("*.json")]
    index_mb = sum(path.stat().st_size for path in index_files) / 1e6
    store_mb = sum(p.stat().st_size for p in target.rglob("*") if p.is_file()) / 1e6
    return store_mb, index_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", default="10000", help="sizes, comma-separated")
    parser.add_argument("--format", choices=["csv", "json", "xlsx"], default="csv")
    parser.add_argument("--store", choices=["local", "shared", "pg"], default="local")
    parser.add_argument(
        "--stop-after",
        type=float,
        default=0,
        metavar="S",
        help="stop an export after S seconds and report its peak so far and the rows it"
        " wrote (csv, json): the first pass over every row is done by then",
    )
    args = parser.parse_args()
    sizes = [int(n) for n in args.visits.split(",")]
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as stack:
        root = Path(scratch)
        server = templates = None
        if args.store != "local":
            from _share_fill import template_records

            templates = template_records(root)
        if args.store == "pg":
            from _pg_fill import PgServer

            server = stack.enter_context(PgServer.start())
        # The laptop's data folder of the child: its own, never this machine's.
        env = os.environ | {"POS_TUI_DATA_DIR": str(root / "child-data")}
        _, baseline_mb, _ = run_child([sys.executable, "-c", "import pos_tui.cli"], env)
        first = None
        for visits in sizes:
            target = build(args.store, visits, root, templates, server)
            out = root / f"visits.{args.format}"
            command = [sys.executable, "-m", "pos_tui", "export", "--format", args.format]
            seconds, peak_mb, stopped = run_child(
                [*command, "--store", str(target), "--out", str(out)], env, args.stop_after
            )
            store_mb, index_mb = store_size(target, server)
            if stopped:
                # What the killed export had written: its temporary file, cut mid-line.
                (partial,) = root.glob(f".{out.name}.*.tmp")
                partial.rename(out)
            line = {
                "visits": visits,
                "format": args.format,
                "store": args.store,
                "stopped_after_s": round(seconds) if stopped else None,
                "rows": count_rows(out, args.format, whole=not stopped),
                "seconds": round(seconds, 2),
                "peak_rss_mb": round(peak_mb, 1),
                "baseline_rss_mb": round(baseline_mb, 1),
                "output_mb": round(out.stat().st_size / 1e6, 1),
                "store_mb": round(store_mb, 1),
                "store_index_mb": round(index_mb, 1),
            }
            first = first or line
            line["ratio_peak"] = round(line["peak_rss_mb"] / first["peak_rss_mb"], 2)
            print(json.dumps(line), flush=True)
            out.unlink()
            if isinstance(target, Path):
                shutil.rmtree(target)
            elif server is not None:
                server.drop_database(f"export_{visits}")


if __name__ == "__main__":
    main()
