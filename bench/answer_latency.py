"""How long saving one answer takes, in an empty store and in one holding N visits.

    python bench/answer_latency.py --sessions 10000

Prints one JSON line: {"sessions", "p50_ms", "p95_ms", "empty_p95_ms", "ratio"}.
Each save is the services' path: the domain records on a copy of the visit, the store writes
the visit file (temp file,
fsync, atomic replace, backup link, folder fsync), return.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pos_tui.demo import SMART_TERMINAL, demo_sessions
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Answer, Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store.local import LocalStore


def answer_times(folder: Path, checklists: list, answers: int) -> list[float]:
    info = VisitInfo(
        merchant_name="上海老王面馆",
        merchant_number="310104000000001",
        terminal_number="20240001",
        technician="张伟",
        capabilities=SMART_TERMINAL,
    )
    with LocalStore.open(folder) as store:
        session = Session.start(info, checklists)
        store.create(session)
        keys = [(c.id, i.id) for c, i in session.all_items() if session.applies(i)]
        times = []
        for n in range(answers):
            checklist_id, item_id = keys[n % len(keys)]
            item = session.item(checklist_id, item_id)
            # n/a where a pass needs more than the answer: a required value or a photo.
            needs_more = item.evidence is not None or any(f.required for f in item.fields)
            outcome = Outcome.NA if needs_more else Outcome.PASS
            started = time.perf_counter()
            answer = partial(_answer, checklist_id, item_id, outcome, f"第{n}次")
            done = session.changed(answer)
            store.save(done.session)
            session = done.session
            times.append((time.perf_counter() - started) * 1000)
    return times


def _answer(checklist_id: str, item_id: str, outcome: Outcome, note: str, draft: Session) -> Answer:
    return draft.record(checklist_id, item_id, outcome, note=note)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--answers", type=int, default=300)
    args = parser.parse_args()
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    with tempfile.TemporaryDirectory() as empty_dir, tempfile.TemporaryDirectory() as full_dir:
        empty = answer_times(Path(empty_dir), checklists, args.answers)
        if args.sessions:
            with LocalStore.open(Path(full_dir)) as store:
                store.bulk_add(demo_sessions(checklists, args.sessions))
        full = answer_times(Path(full_dir), checklists, args.answers)
    result = {
        "sessions": args.sessions,
        "p50_ms": round(statistics.median(full), 3),
        "p95_ms": round(p95(full), 3),
        "empty_p95_ms": round(p95(empty), 3),
        "ratio": round(p95(full) / p95(empty), 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
