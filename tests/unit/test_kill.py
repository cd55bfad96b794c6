"""Kill a recording process with SIGKILL at random moments; nothing reported saved is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from pos_tui.store.local import LocalStore
from pos_tui.store.storage import read_json_document

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_CHECKLISTS = ROOT / "tests" / "fixtures" / "checklists"
TRIALS = 30


def record_then_kill(folder: Path, lines_before_kill: int) -> list[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.helpers.record_forever",
            str(folder),
            str(FIXTURE_CHECKLISTS),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        while len(seen) < lines_before_kill:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line.strip())
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        stderr = process.stderr.read() if process.stderr else ""
        process.stdout.close()
        if process.stderr:
            process.stderr.close()
    assert "Traceback" not in stderr, stderr
    return seen


def test_sigkill_at_random_moments_loses_no_saved_answer(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    rng = random.Random(20261126)
    reported: dict[tuple[str, str], int] = {}
    kills = 0
    for _ in range(TRIALS):
        for line in record_then_kill(folder, rng.randrange(0, 40)):
            if line.startswith("saved "):
                _, checklist_id, item_id, revision = line.split()
                reported[(checklist_id, item_id)] = int(revision)
        kills += 1
        for path in folder.rglob("*.json"):
            read_json_document(path)  # raises StoreDamaged on any unreadable file
    assert kills == TRIALS
    assert reported, "the recorder never got to save anything"
    with LocalStore.open(folder) as store:
        [draft] = store.drafts()
        session = store.load(draft.uuid)
    for key, revision in reported.items():
        answer = session.answers[key]
        stored_revision = int(answer.note.split()[0].removeprefix("rev="))
        # A save may complete after the last line was printed, never before it.
        assert stored_revision >= revision, (key, stored_revision, revision)
