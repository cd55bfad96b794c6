"""How long a 5 MB photo takes from the phone's upload to its showing in the item.

    python bench/phone_upload.py --runs 10

Prints one JSON line: {"photo_mb", "runs", "p50_ms", "p95_ms", "max_ms", "loop_lag_max_ms"}.

The real app runs headless on the runner; each run opens the QR code (`q`) on the
storefront item of a new visit, on the loopback interface, and a real aiohttp client
uploads a different 5 MB JPEG over TLS, as a phone's browser posts it. The time is from
the start of the POST until its answer: the server answers only after the intake on the
worker (content check, EXIF, perceptual hash, kept by hash with fsync, the visit saved) and
after the runner has redrawn the item's count, so it bounds "shown in the item". Loopback
leaves out the Wi-Fi: a phone's uplink adds roughly 5 MB / its speed. A ticker on the event
loop records how late it wakes meanwhile, to show the upload does not block the UI; the
client runs in a thread of its own, as the phone is another machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from pos_tui.config import Settings
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.phone import interfaces
from pos_tui.services.technician import Services
from pos_tui.store.local import LocalStore
from pos_tui.ui.app import make_app
from pos_tui.ui.screens.phone_qr import PhoneScreen
from pos_tui.ui.screens.runner import RunnerScreen
from tests.helpers.photos import big_jpeg

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
STOREFRONT = ("site-photos", "storefront")


async def measure(runs: int, folder: Path) -> dict[str, float]:
    loopback = interfaces.Interface("lo", "127.0.0.1")
    interfaces.ipv4_interfaces = lambda: [loopback]
    interfaces.default_interface = lambda found: found[0]  # type: ignore[assignment]
    loaded = load_checklists([FIXTURES / "evidence", FIXTURES / "checklists"])
    info = VisitInfo(
        merchant_name="上海老王面馆",
        merchant_number="310104000000001",
        terminal_number="20240001",
        technician="张伟",
        capabilities=("chip", "pinpad", "printer"),
    )
    photos = [big_jpeg(5.0, seed=100 + run) for run in range(runs)]
    times: list[float] = []
    lags: list[float] = []
    with LocalStore.open(folder / "data") as store:
        settings = Settings(technician="张伟", device_id="laptop-1")
        services = Services(store, loaded.checklists, settings, settings_path=folder / "s.json")
        app = make_app(services, "en")
        async with app.run_test(size=(110, 36)) as pilot:
            for photo in photos:
                session = Session.start(info, loaded.checklists)
                store.create(session)
                await app.push_screen(RunnerScreen(session, start_at=STOREFRONT))
                await pilot.pause()
                await pilot.press("q")
                await asyncio.to_thread(services.worker.flush)
                await pilot.pause()
                screen = app.screen
                assert isinstance(screen, PhoneScreen)
                await asyncio.wait_for(screen.serving.wait(), timeout=30)
                url = screen.url
                assert url is not None and screen.certificate is not None
                tls = ssl.create_default_context(cafile=str(screen.certificate.cert_path))
                stop = asyncio.Event()
                ticker = asyncio.create_task(tick(stop, lags))
                # The phone is another machine: its side of TLS and the upload run in a
                # thread with a loop of its own, so the lag measured is the app's alone.
                started = time.perf_counter()
                status, body = await asyncio.to_thread(upload, url + "photo", photo, tls)
                assert status == 200, body
                times.append((time.perf_counter() - started) * 1000)
                stop.set()
                await ticker
                await pilot.press("escape")
                assert screen.server is not None
                await screen.server.stopped.wait()
                runner = app.screen
                assert isinstance(runner, RunnerScreen)
                assert len(runner.session.evidence_of(*STOREFRONT)) == 1
                app.pop_screen()
                await pilot.pause()
    ordered = sorted(times)
    return {
        "photo_mb": round(len(photos[0]) / (1024 * 1024), 2),
        "runs": runs,
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max_ms": round(ordered[-1], 1),
        "loop_lag_max_ms": round(max(lags, default=0.0), 1),
    }


def upload(url: str, photo: bytes, tls: ssl.SSLContext) -> tuple[int, str]:
    async def post() -> tuple[int, str]:
        async with aiohttp.ClientSession() as client:
            form = aiohttp.FormData()
            form.add_field("photo", photo, filename="IMG.jpg", content_type="image/jpeg")
            async with client.post(url, data=form, ssl=tls) as answer:
                return answer.status, await answer.text()

    return asyncio.run(post())


async def tick(stop: asyncio.Event, lags: list[float]) -> None:
    """Asks to wake every 10 ms, records how late it woke."""
    for _ in range(100_000):
        if stop.is_set():
            return
        asked = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append((time.perf_counter() - asked - 0.01) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = asyncio.run(measure(arguments.runs, Path(folder)))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
