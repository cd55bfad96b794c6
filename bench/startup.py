"""Time from process start to the home screen being ready, against a minimal Textual app.

    python bench/startup.py [--visits N [N ...]] [--runs 5]

Both run in a real pseudo-terminal, as a technician starts them. "Ready" is the first
refresh after the home screen has listed the visits (for pos-tui) or mounted its one
label (for the minimal app). Prints one JSON line per store size with medians in seconds,
the ratio to the minimal app, and, when several sizes are given, the ratio to the first
(`--visits 0 10000 50000`: each size against an empty store, measured in the same run).

Stores are filled by `_fill.py` (visit files and index rows in bulk, nearly all synced,
a few signed and three drafts), as a laptop that has recorded that many visits is.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fill import fill
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = Path(home) / "settings.json"
        settings.write_text(json.dumps({"technician": "张伟", "language": "zh"}), encoding="utf-8")
        env = probe_env(POS_TUI_CONFIG_FILE=str(settings), COLUMNS="80", LINES="24")
        folders = []
        for count in args.visits:
            folder = Path(home) / f"data-{count}"
            fill(folder, count)
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
    minimal_s = statistics.median(minimal)
    first_s = statistics.median(pos[0])
    for count, times in zip(args.visits, pos, strict=True):
        pos_s = statistics.median(times)
        print(
            json.dumps(
                {
                    "visits": count,
                    "pos_tui_s": round(pos_s, 3),
                    "minimal_textual_s": round(minimal_s, 3),
                    "ratio": round(pos_s / minimal_s, 3),
                    f"ratio_to_{args.visits[0]}_visits": round(pos_s / first_s, 3),
                }
            )
        )


if __name__ == "__main__":
    main()
