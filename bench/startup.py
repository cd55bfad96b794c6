"""Time from process start to the home screen being ready, against a minimal Textual app.

    python bench/startup.py [--sessions N] [--runs 5]

Both run in a real pseudo-terminal, as a technician starts them. "Ready" is the first
refresh after the home screen has listed the visits (for pos-tui) or mounted its one
label (for the minimal app). Prints one JSON line with medians in seconds and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _probe import ROOT, probe_env, run_probe

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
    parser.add_argument("--sessions", type=int, default=0, help="visits in the store first")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        data = Path(home) / "data"
        settings = Path(home) / "settings.json"
        settings.write_text(json.dumps({"technician": "张伟", "language": "zh"}), encoding="utf-8")
        env = probe_env(POS_TUI_CONFIG_FILE=str(settings), COLUMNS="80", LINES="24")
        if args.sessions:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pos_tui",
                    "demo",
                    "--sessions",
                    str(args.sessions),
                    "--data-dir",
                    str(data),
                ],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
        # One untimed start of each first: it compiles bytecode and warms the file cache.
        time_to_ready(POS_PROBE, str(data), env=env)
        time_to_ready(MINIMAL_PROBE, env=env)
        # Interleaved, so that a busy moment of the machine weighs on both alike.
        pos, minimal = [], []
        for _ in range(args.runs):
            pos.append(time_to_ready(POS_PROBE, str(data), env=env))
            minimal.append(time_to_ready(MINIMAL_PROBE, env=env))
    pos_s, minimal_s = statistics.median(pos), statistics.median(minimal)
    print(
        json.dumps(
            {
                "sessions": args.sessions,
                "pos_tui_s": round(pos_s, 3),
                "minimal_textual_s": round(minimal_s, 3),
                "ratio": round(pos_s / minimal_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
