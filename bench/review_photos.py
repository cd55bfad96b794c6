"""Review detail ready with 10 photos of about 5 MB each, against the same visit without.

    python bench/review_photos.py [--runs 9] [--mb 5] [--photos 10]

Builds a bank's shared store (`open_bank`, a trusted laptop, sync) with two visits of the
same answers: one with `--photos` different real JPEGs of about `--mb` each
(`tests/helpers/photos.big_jpeg`, noise, which compresses as badly as a 12 MP photo),
attached through the one intake; one with none. Then, in-process (`run_test`, 120x40),
once the list's background pass has finished, each run opens a fresh detail screen and
takes the time from pushing it to:
- `record_ms`: the record's details and answers drawn (files hashed, for integrity);
- `evidence_ms`: the evidence list with its warnings drawn;
- `picture_ms`: the first picture drawn (read, verified and decoded on the worker);
and, for the visit without photos, `plain_ms`: its record drawn. Each as p50 and p95 over
the runs, and `ratio_p50`: picture_ms over plain_ms at the median. The UI thread's
longest stall while the detail loads (`ui_stall_ms_max`) shows whether the photos block
it: a timer ticks every 10 ms and the biggest gap between ticks is kept, beside the same
for the visit without photos (`plain_ui_stall_ms_max`). The files are in
the page cache after the first run, as they are when a supervisor goes back and forth.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pos_tui.domain.loader import load_checklists  # noqa: E402
from pos_tui.domain.session import Outcome, Session  # noqa: E402
from pos_tui.domain.visit_info import VisitInfo  # noqa: E402
from pos_tui.services.review import ReviewServices  # noqa: E402
from pos_tui.store.keys import DEVICE, ensure_key  # noqa: E402
from pos_tui.store.local import LocalStore  # noqa: E402
from pos_tui.store.sources import SharedSource  # noqa: E402
from pos_tui.store.sync import sync  # noqa: E402
from pos_tui.ui.app import make_app  # noqa: E402
from pos_tui.ui.screens.review_detail import ReviewDetailScreen  # noqa: E402
from pos_tui.ui.screens.review_list import ReviewListScreen  # noqa: E402
from tests.helpers.bank import open_bank  # noqa: E402
from tests.helpers.photos import big_jpeg  # noqa: E402
from tests.helpers.visits import save_answer, save_attach, save_sign  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SLOTS = (("storefront", 3), ("serial-plate", 5), ("parameter-slip", 2))
"""Where the photos go: the fixture checklist's items and how many each takes."""
WITH, WITHOUT = "40000001", "40000002"


def build(home: Path, photos: int, megabytes: float) -> tuple[Path, Path, float]:
    loaded = load_checklists([FIXTURES / "evidence", FIXTURES / "checklists"])
    assert loaded.ok, loaded.problems
    info = VisitInfo(
        merchant_name="上海老王面馆",
        merchant_number="310104000000001",
        terminal_number=WITH,
        technician="张伟",
        capabilities=("chip", "pinpad", "printer"),
        latitude="31.230400",
        longitude="121.473700",
    )
    bank = open_bank(home)
    data = home / "data"
    pictures = [big_jpeg(megabytes, seed=n) for n in range(photos)]
    with LocalStore.open(data) as store:
        laptop = ensure_key(data, DEVICE)[0]
        for terminal in (WITH, WITHOUT):
            session = Session.start(replace(info, terminal_number=terminal), loaded.checklists)
            store.create(session)
            if terminal == WITH:
                left = list(enumerate(pictures))
                for item, room in SLOTS:
                    taken, left = left[:room], left[room:]
                    if taken:
                        files = [(f"IMG_{n:04d}.jpg", data) for n, data in taken]
                        save_attach(store, session, "site-photos", item, files)
            save_answer(store, session, "card", "void", Outcome.FAIL, note="撤销后没有打印小票")
            save_answer(store, session, "receipt", "masked", Outcome.PASS)
            save_sign(store, session, info.technician, "王老板", signer=laptop)
    bank.trust_laptop(data)
    with LocalStore.open(data) as store:
        sync(store, bank.shared)
    assert isinstance(bank.shared, Path)  # a folder store, made by `open_bank`
    return bank.shared, bank.reviewer, sum(map(len, pictures)) / len(pictures) / 2**20


class Clock:
    """The times a detail reached each step, from `push`; and the UI's longest stall."""

    def __init__(self) -> None:
        self.start = 0.0
        self.marks: dict[str, float] = {}
        self.ticks: list[float] = []


def hooked(clock: Clock) -> type[ReviewDetailScreen]:
    class Timed(ReviewDetailScreen):
        # A subclass's relative CSS_PATH would be read beside this file.
        CSS_PATH = str(ROOT / "pos_tui" / "ui" / "screens" / "review.tcss")

        def _mark(self, name: str) -> None:
            # After the refresh: drawn, not merely asked for.
            self.call_after_refresh(
                lambda: clock.marks.setdefault(name, time.perf_counter() - clock.start)
            )

        def record_shown(self) -> None:
            self._mark("record")

        def evidence_shown(self) -> None:
            self._mark("evidence")

        def picture_shown(self) -> None:
            self._mark("picture")

    return Timed


async def measure(shared: Path, reviewer: Path, runs: int) -> dict[str, list[float]]:
    services = ReviewServices(SharedSource(shared, reviewer))
    app = make_app(None, "en", review=services)
    found: dict[str, list[float]] = {"record": [], "evidence": [], "picture": [], "plain": []}
    stalls: dict[str, list[float]] = {WITH: [], WITHOUT: []}
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReviewListScreen)
        while not (screen.loaded and screen.integrity_done):
            await pilot.pause(0.05)
        rows = {row.terminal_number: row for row in screen.rows}
        for _ in range(runs):
            for terminal, wanted in ((WITH, "picture"), (WITHOUT, "record")):
                clock = Clock()
                ticking = app.set_interval(
                    0.01, lambda c=clock: c.ticks.append(time.perf_counter())
                )
                detail = hooked(clock)(rows[terminal], screen.decided)
                clock.start = time.perf_counter()
                clock.ticks.append(clock.start)
                await app.push_screen(detail)
                while wanted not in clock.marks:
                    await pilot.pause(0.005)
                ticking.stop()
                gaps = [b - a for a, b in zip(clock.ticks, clock.ticks[1:], strict=False)]
                stalls[terminal].append(max(gaps, default=0.0) * 1000)
                if terminal == WITH:
                    for name in ("record", "evidence", "picture"):
                        found[name].append(clock.marks[name] * 1000)
                else:
                    found["plain"].append(clock.marks["record"] * 1000)
                app.pop_screen()
                await pilot.pause()
        found["stall"], found["plain_stall"] = stalls[WITH], stalls[WITHOUT]
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--photos", type=int, default=10)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pos-tui-bench-") as folder:
        shared, reviewer, size = build(Path(folder), options.photos, options.mb)
        found = asyncio.run(measure(shared, reviewer, options.runs))
    figures: dict[str, Any] = {
        "photos": options.photos,
        "photo_mb": round(size, 2),
        "runs": options.runs,
    }
    for name in ("record", "evidence", "picture", "plain"):
        figures[f"{name}_ms_p50"] = round(statistics.median(found[name]), 1)
        figures[f"{name}_ms_p95"] = round(percentile(found[name], 0.95), 1)
    figures["ratio_p50"] = round(figures["picture_ms_p50"] / figures["plain_ms_p50"], 2)
    figures["ui_stall_ms_max"] = round(max(found["stall"]), 1)
    figures["plain_ui_stall_ms_max"] = round(max(found["plain_stall"]), 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
