"""Running the real `pos-tui` command line, as a user's shell runs it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pos_tui(*args: str, env: Mapping[str, str]) -> None:
    """`python -m pos_tui ARGS` from the checkout; its output kept, a failure raised."""
    subprocess.run(
        [sys.executable, "-m", "pos_tui", *args],
        cwd=ROOT,
        env=dict(env),
        check=True,
        capture_output=True,
    )
