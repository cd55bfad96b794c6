"""What the start-up benches share: running a probe in a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE_TIMEOUT_S = 120.0


def probe_env(**extra: str) -> dict[str, str]:
    """The environment of a probe: a real terminal type, and bytecode written and reused.

    An installed pos-tui has its bytecode compiled by pip; without this a shell that sets
    PYTHONDONTWRITEBYTECODE would make every start compile pos_tui again, and the bench
    would measure the compiler, not the app.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"TERM": "xterm-256color"} | extra


def run_probe(probe: str, *args: str, env: dict[str, str]) -> tuple[float, float]:
    """(seconds from start to ready, peak RSS in MB) of one run in a pseudo-terminal."""
    with tempfile.TemporaryDirectory() as scratch:
        marker = Path(scratch) / "ready"
        master, slave = pty.openpty()
        started = time.time()
        process = subprocess.Popen(
            [sys.executable, "-c", probe, str(marker), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        deadline = started + PROBE_TIMEOUT_S
        while True:  # keep the terminal drained so the app never blocks; EIO once it exits
            if not select.select([master], [], [], 1.0)[0]:
                if time.time() > deadline:
                    process.kill()
                continue
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
        # wait4, not Popen.wait: it gives this child's own peak memory (ru_maxrss, in KiB).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        os.close(master)
        if not marker.exists():
            raise SystemExit(f"the probe exited with {process.returncode} before it was ready")
        return float(marker.read_text()) - started, usage.ru_maxrss / 1024
