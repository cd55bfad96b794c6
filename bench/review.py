"""The review side on a big shared store: time to a ready list, and time per filter keystroke.

    python bench/review.py [--sessions 10000] [--runs 5] [--store SHARED] [--compare-unsigned]
    python bench/review.py --kind pg [--visits 1000,100000] [--runs 5]

Builds a shared store of N demo visits (`pos-tui shared init`, `pos-tui demo` into a local
store, then `pos-tui sync`; about a minute for 10,000), unless `--store` names one already
made. The visits are signed with the demo laptop's key, as real ones are. Then:
- `review_s`: process start to the review list showing the visits ("ready": the first
  refresh after `ReviewListScreen.list_ready`), `pos-tui review` in a real pseudo-terminal;
- `minimal_textual_s`: the same for a one-label Textual app, in the same run;
- `ratio` of the two (target: at most 3);
- `peak_rss_mb`: the review process's peak memory (ru_maxrss), median of the runs;
- `keystroke_ms_median` / `_p90` / `_max`: in-process (`run_test`, 120x36), the time from
  a key pressed in the filter box to the refilled table drawn, over a mix of typing and
  deleting Chinese and digits (target: at most 100 ms).
With `--compare-unsigned`, the same store is also built with visits signed off without a
key (as before signatures) and measured in the same run: `unsigned_review_s` and
`signed_over_unsigned` (target: at most 1.2).
Prints one JSON line.

With `--kind pg`, the same on PostgreSQL stores of each size of `--visits`, in a throw-away
server (`tests/pg_server.py`), filled by COPY with copies of real demo records under new
uuids (`bench/_pg_fill.py`; a copy's signature no longer matches, so it shows as altered),
its keyring made by `shared init`. The list holds one page, the database filters it: the
keystroke time is from the key to the table drawn with the database's page (the query, on
the worker, included). Figures per size, and `peak_rss_over_first` (target: at most 1.2)
and the ratio to the minimal app (target: at most 2).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _probe import probe_env, run_probe  # noqa: E402
from startup import MINIMAL_PROBE  # noqa: E402

from pos_tui.store.shared import SharedStore  # noqa: E402
from tests.helpers.commands import pos_tui  # noqa: E402

REVIEW_PROBE = """
import importlib.machinery, sys, time

def ready(self):
    def report():
        with open(sys.argv[1], "w") as out:
            out.write(repr(time.time()))
        self.app.exit()
    self.call_after_refresh(report)

class HookTheList:
    # The list's hook is set as the command imports its module, so the probe imports
    # nothing before the command does: the command opens the store while it imports the
    # screens, and importing them first would time a start no supervisor has. A finder
    # needs only `find_spec`: `importlib.abc` would import importlib.resources (45 ms),
    # which the command never does.
    def find_spec(self, name, path=None, target=None):
        if name != "pos_tui.ui.screens.review_list":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            module.ReviewListScreen.list_ready = ready
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, HookTheList())
from pos_tui.cli import main
main(["review", "--store", sys.argv[2]])
"""

KEYS = ["上", "海", "backspace", "backspace", "a", "backspace", "张", "backspace", "7", "1"]
KEYS += ["backspace", "backspace", "面", "馆", "backspace", "backspace"]


def build_store(sessions: int, home: Path, env: dict[str, str], unsigned: bool = False) -> Path:
    data, shared = home / "data", home / "shared"
    demo = ["demo", "--sessions", str(sessions), "--data-dir", str(data)]
    for command in (
        ["shared", "init", str(shared), "--data-dir", str(home / "admin")],
        demo + (["--unsigned"] if unsigned else []),
        ["sync", "--data-dir", str(data), "--to", str(shared)],
    ):
        pos_tui(*command, env=env)
    return shared


async def keystrokes(shared: Path | str, refilled: str = "_refilter") -> list[float]:
    """Milliseconds from each key pressed in the filter to the refilled table drawn.

    "Drawn" is the end of the table's first draw that starts after the list was refiltered,
    so the time includes filtering, refilling the table, laying it out and drawing it.
    `refilled`: the screen's method that ends with the table refilled (`_show` for a store
    whose page comes back from the database after `_refilter` has asked for it).
    """
    from textual.widgets import Input

    from pos_tui.services.review import ReviewServices
    from pos_tui.store.sources import SharedSource
    from pos_tui.ui.app import make_app
    from pos_tui.ui.screens.review_list import ReviewListScreen
    from pos_tui.ui.widgets.review_table import ReviewTable

    draws: list[tuple[float, float]] = []
    refiltered: list[float] = []
    render_lines = ReviewTable.render_lines
    refilter = getattr(ReviewListScreen, refilled)

    drawn = asyncio.Event()

    def timed_draw(self: ReviewTable, crop: Any) -> Any:
        started = time.perf_counter()
        lines = render_lines(self, crop)
        draws.append((started, time.perf_counter()))
        if refiltered and started >= refiltered[-1]:
            drawn.set()
        return lines

    def timed_refilter(self: ReviewListScreen, *args: Any, **kwargs: Any) -> None:
        refilter(self, *args, **kwargs)
        refiltered.append(time.perf_counter())

    services = ReviewServices(SharedSource(shared))
    app = make_app(None, "zh", review=services)
    took: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        for _ in range(1000):  # the first page comes from the worker
            await asyncio.to_thread(services.worker.flush)
            await pilot.pause()
            if isinstance(screen, ReviewListScreen) and screen.loaded:
                break
        assert isinstance(screen, ReviewListScreen) and screen.loaded
        screen.query_one("#filter-text", Input).focus()
        await pilot.pause()
        ReviewTable.render_lines = timed_draw  # type: ignore[method-assign,assignment]
        setattr(ReviewListScreen, refilled, timed_refilter)
        try:
            for key in KEYS * 3:
                draws.clear()
                refiltered.clear()
                drawn.clear()
                pressed = time.perf_counter()
                await pilot.press(key)
                # Waited for, not polled: each of Pilot's pauses has every widget answer a
                # callback, work on the same loop that would hold up what is timed. The
                # draw comes when the screen's own timer draws it, as in a terminal.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(drawn.wait(), timeout=2)
                    end = next(end for start, end in draws if start >= refiltered[-1])
                    took.append((end - pressed) * 1000)
        finally:
            ReviewTable.render_lines = render_lines  # type: ignore[method-assign]
            setattr(ReviewListScreen, refilled, refilter)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--store", type=Path, help="an existing shared store to use instead")
    parser.add_argument("--compare-unsigned", action="store_true")
    parser.add_argument("--kind", choices=("folder", "pg"), default="folder")
    parser.add_argument("--visits", default="1000,100000", help="pg: the store sizes")
    args = parser.parse_args()
    if args.kind == "pg":
        sizes = [int(size) for size in args.visits.split(",")]
        print(json.dumps(pg_figures(sizes, args.runs)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        settings = home / "settings.json"
        settings.write_text(json.dumps({"reviewer": "李主管", "language": "zh"}), encoding="utf-8")
        env = probe_env(POS_TUI_CONFIG_FILE=str(settings), COLUMNS="120", LINES="36")
        shared = args.store or build_store(args.sessions, home, env)
        visits = len(SharedStore(shared).rows())
        # One untimed start of each first (bytecode, file cache); then interleaved runs, so a
        # busy moment of the machine weighs on both alike.
        unsigned = None
        if args.compare_unsigned:
            (home / "unsigned").mkdir()
            unsigned = build_store(args.sessions, home / "unsigned", env, unsigned=True)
        run_probe(REVIEW_PROBE, str(shared), env=env)
        run_probe(MINIMAL_PROBE, env=env)
        review, minimal, plain = [], [], []
        for _ in range(args.runs):
            review.append(run_probe(REVIEW_PROBE, str(shared), env=env))
            minimal.append(run_probe(MINIMAL_PROBE, env=env)[0])
            if unsigned is not None:
                plain.append(run_probe(REVIEW_PROBE, str(unsigned), env=env)[0])
        took = asyncio.run(keystrokes(shared))
    review_s = statistics.median(seconds for seconds, _ in review)
    minimal_s = statistics.median(minimal)
    figures: dict[str, Any] = {
        "visits": visits,
        "review_s": round(review_s, 3),
        "minimal_textual_s": round(minimal_s, 3),
        "ratio": round(review_s / minimal_s, 2),
        "peak_rss_mb": round(statistics.median(rss for _, rss in review), 1),
        "keystroke_ms_median": round(statistics.median(took), 1),
        "keystroke_ms_p90": round(statistics.quantiles(took, n=10)[-1], 1),
        "keystroke_ms_max": round(max(took), 1),
        "keystrokes": len(took),
    }
    if plain:
        figures["unsigned_review_s"] = round(statistics.median(plain), 3)
        figures["signed_over_unsigned"] = round(review_s / statistics.median(plain), 2)
    print(json.dumps(figures))


def pg_figures(sizes: list[int], runs: int) -> dict[str, Any]:
    from _pg_fill import fill_pg
    from _share_fill import template_records

    from pos_tui.services.identity import init_shared_store
    from tests.pg_server import PgServer

    with tempfile.TemporaryDirectory() as scratch, PgServer.start() as server:
        home = Path(scratch)
        settings = home / "settings.json"
        settings.write_text(json.dumps({"reviewer": "李主管", "language": "zh"}), encoding="utf-8")
        env = probe_env(
            POS_TUI_CONFIG_FILE=str(settings),
            POS_TUI_DATA_DIR=str(home / "reviewer"),
            COLUMNS="120",
            LINES="36",
        )
        templates = template_records(home)
        urls = {}
        for size in sizes:
            started = time.perf_counter()
            urls[size] = fill_pg(server, f"review_{size}", size, templates, home)
            init_shared_store(urls[size], home / "admin", "系统管理员")
            print(f"filled {size:,} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for size in sizes:  # untimed: bytecode, the server's cache, the admin key pinned
            run_probe(REVIEW_PROBE, urls[size], env=env)
        run_probe(MINIMAL_PROBE, env=env)
        review: dict[int, list[tuple[float, float]]] = {size: [] for size in sizes}
        minimal = []
        for _ in range(runs):
            for size in sizes:
                review[size].append(run_probe(REVIEW_PROBE, urls[size], env=env))
            minimal.append(run_probe(MINIMAL_PROBE, env=env)[0])
        took = {size: asyncio.run(keystrokes(urls[size], "_show")) for size in sizes}
    minimal_s = statistics.median(minimal)
    stores: dict[str, Any] = {}
    for size in sizes:
        review_s = statistics.median(seconds for seconds, _ in review[size])
        keys = took[size]
        stores[str(size)] = {
            "review_s": round(review_s, 3),
            "ratio": round(review_s / minimal_s, 2),
            "peak_rss_mb": round(statistics.median(rss for _, rss in review[size]), 1),
            "keystroke_ms_median": round(statistics.median(keys), 1),
            "keystroke_ms_p90": round(statistics.quantiles(keys, n=10)[-1], 1),
            "keystroke_ms_max": round(max(keys), 1),
            "keystrokes": len(keys),
        }
    first, last = stores[str(sizes[0])], stores[str(sizes[-1])]
    return {
        "kind": "pg",
        "minimal_textual_s": round(minimal_s, 3),
        "stores": stores,
        "peak_rss_over_first": round(last["peak_rss_mb"] / first["peak_rss_mb"], 2),
    }


if __name__ == "__main__":
    main()
