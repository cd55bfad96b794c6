"""Time from process start to the home screen being ready, against a minimal Textual app.

    python bench/startup.py [--visits N [N ...]] [--runs 5] [--photos N]

Both run in a real pseudo-terminal, as a technician starts them. "Ready" is the first
refresh after the home screen has listed the visits (for pos-tui) or mounted its one
label (for the minimal app). Prints one JSON line per store size with medians in seconds,
the ratio to the minimal app, and, when several sizes are given, the ratio to the first
(`--visits 0 10000 50000`: each size against an empty store, measured in the same run).

Stores are filled by `_fill.py` (visit files and index rows in bulk, nearly all synced,
a few signed and three drafts), as a laptop that has recorded that many visits is.
`--photos N` puts N evidence files in each store besides: opening the store for writing
looks for parts left behind in `evidence/.parts/` alone, so start-up should not grow with
them; each line then also gives what listing every bucket for them took, as opening did
before (`bucket_scan_ms`), against the listing done now (`parts_scan_ms`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fill import fill, fill_photos
from _probe import probe_env, run_probe

POS_PROBE = """
import sys, time
from pos_tui.ui import app as app_module

def ready(self):
    def report():
        with open(sys.argv[1], "w") as out:
            out.write(repr(time.time()))
        self.exit()
    self.call_after_refresh(report)

app_module.PosApp.home_ready = ready
from pos_tui.cli import main
main(["--data-dir", sys.argv[2], "run"])
"""

MINIMAL_PROBE = """
import sys, time
from textual.app import App
from textual.widgets import Footer, Label

class Minimal(App):
    def compose(self):
        yield Label("ready")
        yield Footer()

    def on_mount(self):
        def report():
            with open(sys.argv[1], "w") as out:
                out.write(repr(time.time()))
            self.exit()
        self.call_after_refresh(report)

Minimal().run()
"""


def time_to_ready(probe: str, *args: str, env: dict[str, str]) -> float:
    return run_probe(probe, *args, env=env)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--visits", "--sessions", type=int, nargs="+", default=[0], help="visits stored first"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--photos", type=int, default=0, help="evidence files in each store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = Path(home) / "settings.json"
        settings.write_text(json.dumps({"technician": "张伟", "language": "zh"}), encoding="utf-8")
        env = probe_env(POS_TUI_CONFIG_FILE=str(settings), COLUMNS="80", LINES="24")
        folders = []
        for count in args.visits:
            folder = Path(home) / f"data-{count}"
            fill(folder, count)
            fill_photos(folder, args.photos)
            folders.append(folder)
        # One untimed start of each first: it compiles bytecode, migrates nothing (the
        # stores are new) and warms the file cache, as a laptop's second start of the day.
        for folder in folders:
            time_to_ready(POS_PROBE, str(folder), env=env)
        time_to_ready(MINIMAL_PROBE, env=env)
        # Interleaved, so that a busy moment of the machine weighs on every size alike.
        pos: list[list[float]] = [[] for _ in folders]
        minimal = []
        for _ in range(args.runs):
            for times, folder in zip(pos, folders, strict=True):
                times.append(time_to_ready(POS_PROBE, str(folder), env=env))
            minimal.append(time_to_ready(MINIMAL_PROBE, env=env))
        scans = [parts_scans(folder) if args.photos else {} for folder in folders]
    minimal_s = statistics.median(minimal)
    first_s = statistics.median(pos[0])
    for count, times, scan in zip(args.visits, pos, scans, strict=True):
        pos_s = statistics.median(times)
        line = {
            "visits": count,
            "pos_tui_s": round(pos_s, 3),
            "minimal_textual_s": round(minimal_s, 3),
            "ratio": round(pos_s / minimal_s, 3),
            f"ratio_to_{args.visits[0]}_visits": round(pos_s / first_s, 3),
        }
        print(json.dumps(line | ({"photos": args.photos} | scan if args.photos else {})))


def parts_scans(folder: Path) -> dict[str, float]:
    """Median ms of the bucket listing opening did before, and of today's (warm cache)."""
    from pos_tui.store.evidence_files import evidence_parts

    def timed(earlier_layout: bool) -> float:
        found = []
        for _ in range(5):
            started = time.perf_counter()
            evidence_parts(folder, earlier_layout)
            found.append(time.perf_counter() - started)
        return round(statistics.median(found) * 1000, 2)

    return {"bucket_scan_ms": timed(True), "parts_scan_ms": timed(False)}


if __name__ == "__main__":
    main()
