"""How long attaching a 5 MB photo takes, and that the counter screen keeps answering meanwhile.

    python bench/attach_latency.py --runs 20

Prints one JSON line: {"photo_mb", "runs", "p50_ms", "p95_ms", "ui_runs",
"loop_idle_p95_ms", "loop_attach_p95_ms", "loop_attach_max_ms", "loop_ratio",
"redraw_after_attach_p50_ms", "redraw_after_answer_p50_ms"}.

The attach is the services' path, timed from the call to its result: the worker reads the
file (bounded), checks its content, reads its EXIF, computes its perceptual hash, keeps it
under its SHA-256 (temp file, fsync, atomic rename), attaches it on a copy of the visit and
saves the visit file. Each run is another photo, so no run is a file the store already has.

Then the app runs headless on the runner, and a photo is pasted onto it as a terminal
pastes a dropped file. A ticker on the event loop asks to wake every 10 ms and records how
late it woke (a key pressed then waits just as long): while the worker attaches (from the
paste until the result reaches the screen), and for a while with nothing attaching; the
ratio compares the two. The redraw once the result is there is the runner's usual redraw
of an item, measured after an answer's save too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pos_tui.config import Settings
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.locations import shipped_checklists_dir
from pos_tui.services.technician import Services
from pos_tui.store.local import LocalStore
from tests.helpers.photos import big_jpeg

INFO = VisitInfo(
    merchant_name="上海老王面馆",
    merchant_number="310104000000001",
    terminal_number="20240001",
    technician="张伟",
    capabilities=("chip", "pinpad", "printer"),
)
STOREFRONT = ("preflight", "storefront-photo")
CABLING = ("preflight", "cabling")
TICK = 0.010


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def photos(folder: Path, runs: int, megabytes: float) -> list[Path]:
    paths = []
    for n in range(runs):
        path = folder / f"IMG_{n:04d}.jpg"
        path.write_bytes(big_jpeg(megabytes, seed=100 + n))
        paths.append(path)
    return paths


def attach_times(folder: Path, checklists: list, pictures: list[Path]) -> list[float]:
    times = []
    with LocalStore.open(folder) as store:
        services = Services(store, checklists, Settings(technician="张伟", device_id="bench"))
        try:
            for picture in pictures:
                # A visit per photo: the storefront item takes three at most.
                session = services.start_visit(INFO, checklists).result()
                started = time.perf_counter()
                attached = services.attach(session, *STOREFRONT, paths=[picture]).result()
                times.append((time.perf_counter() - started) * 1000)
                assert len(attached.added) == 1, attached.refused
        finally:
            services.close()
    return times


async def ticker(woken: list[tuple[float, float]], stop: asyncio.Event) -> None:
    """Wake every 10 ms; record when each wake came and how late (ms)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + TICK
        await asyncio.sleep(TICK)
        woken.append((loop.time(), (loop.time() - due) * 1000))


async def responsiveness(folder: Path, checklists: list, pictures: list[Path]) -> dict[str, float]:
    from textual import events

    from pos_tui.domain.session import Outcome
    from pos_tui.ui.app import make_app
    from pos_tui.ui.screens.runner import RunnerScreen

    idle: list[float] = []
    during: list[float] = []
    redraw_attach: list[float] = []
    redraw_answer: list[float] = []
    with LocalStore.open(folder) as store:
        services = Services(store, checklists, Settings(technician="张伟", device_id="bench"))
        app = make_app(services, "en")
        loop = asyncio.get_running_loop()
        async with app.run_test(size=(80, 24)) as pilot:
            for picture in pictures:
                session = await asyncio.wrap_future(services.start_visit(INFO, checklists))
                runner = RunnerScreen(session, start_at=STOREFRONT)
                arrived: list[float] = []
                # The bench's own probe: when each result reaches the screen, so the wait
                # for the worker and the redraw that follows are told apart.
                for name in ("_pasted", "_recorded"):
                    shown = getattr(runner, name)

                    def probe(*args: object, shown=shown, arrived=arrived) -> None:  # type: ignore[no-untyped-def]
                        arrived.append(loop.time())
                        shown(*args)

                    setattr(runner, name, probe)
                await app.push_screen(runner)
                await pilot.pause()
                for what, act in (
                    ("idle", None),
                    ("attach", lambda p=picture: app.post_message(events.Paste(str(p)))),
                    ("answer", lambda r=runner: r.record(CABLING, Outcome.PASS, "", {}, False)),
                ):
                    woken: list[tuple[float, float]] = []
                    stop = asyncio.Event()
                    task = asyncio.create_task(ticker(woken, stop))
                    arrived.clear()
                    await asyncio.sleep(0.05)
                    if act is None:
                        await asyncio.sleep(0.3)
                    else:
                        act()
                        while not arrived:
                            await asyncio.sleep(0.005)
                        await asyncio.sleep(0.1)
                    stop.set()
                    await task
                    if act is None:
                        idle.extend(late for _at, late in woken)
                        continue
                    before = [late for at, late in woken if at < arrived[0]]
                    after = max(late for at, late in woken if at >= arrived[0])
                    if what == "attach":
                        during.extend(before)
                        redraw_attach.append(after)
                    else:
                        redraw_answer.append(after)
                assert runner.session.evidence_of(*STOREFRONT), "the paste attached nothing"
                app.pop_screen()
                await pilot.pause()
        services.close()
    return {
        "ui_runs": len(pictures),
        "loop_idle_p95_ms": round(p95(idle), 3),
        "loop_attach_p95_ms": round(p95(during), 3),
        "loop_attach_max_ms": round(max(during), 3),
        "loop_ratio": round(p95(during) / max(p95(idle), 0.001), 2),
        "redraw_after_attach_p50_ms": round(statistics.median(redraw_attach), 3),
        "redraw_after_answer_p50_ms": round(statistics.median(redraw_answer), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--ui-runs", type=int, default=10)
    parser.add_argument("--megabytes", type=float, default=5.0)
    args = parser.parse_args()
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "photos").mkdir()
        pictures = photos(root / "photos", max(args.runs, args.ui_runs), args.megabytes)
        size = statistics.mean(path.stat().st_size for path in pictures) / (1024 * 1024)
        times = attach_times(root / "store", checklists, pictures[: args.runs])
        ui = asyncio.run(responsiveness(root / "ui-store", checklists, pictures[: args.ui_runs]))
    result = {
        "photo_mb": round(size, 2),
        "runs": args.runs,
        "p50_ms": round(statistics.median(times), 3),
        "p95_ms": round(p95(times), 3),
        **ui,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
