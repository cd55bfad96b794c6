"""The phone as camera and GPS, on the real app and a real store, over real TLS.

Each test opens the QR code from the runner, reads the served address from the screen, and
talks to it with aiohttp's client, verifying the app's own certificate (the one the QR
screen fingerprints) for 127.0.0.1: the tests choose the loopback interface. Nothing
sleeps: every wait is on the server's own events or on the HTTP answer, which comes only
once the photo is in the visit.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from textual.pilot import Pilot

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Session
from pos_tui.phone import interfaces
from pos_tui.phone.interfaces import Interface
from pos_tui.phone.server import MAX_UPLOAD_BYTES
from pos_tui.store.local import LocalStore
from pos_tui.ui.app import PosApp
from pos_tui.ui.screens.attach import AttachScreen
from pos_tui.ui.screens.phone_qr import PhoneScreen
from pos_tui.ui.screens.runner import RunnerScreen
from tests.helpers.photos import jpeg
from tests.helpers.ui import key_bar_text, settle, static_text, technician_app

STOREFRONT = ("site-photos", "storefront")
CHIP = ("card", "chip-pin")
LOOPBACK = Interface("lo", "127.0.0.1")
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The phone page on 127.0.0.1: the tests' phone is on this machine."""
    monkeypatch.setattr(interfaces, "ipv4_interfaces", lambda: [LOOPBACK])
    monkeypatch.setattr(interfaces, "default_interface", lambda found: found[0])


def make(store: LocalStore, checklists: list[Checklist], tmp_path: Path) -> PosApp:
    settings = Settings(technician="张伟", device_id="laptop-1")
    return technician_app(store, checklists, tmp_path, "en", settings=settings)


async def open_phone(
    app: PosApp, pilot: Pilot[None], session: Session, key: tuple[str, str]
) -> PhoneScreen:
    await app.push_screen(RunnerScreen(session, start_at=key))
    await pilot.pause()
    assert "q Phone" in key_bar_text(app.screen)
    await pilot.press("q")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, PhoneScreen)
    await asyncio.wait_for(screen.serving.wait(), timeout=20)
    await pilot.pause()
    return screen


def client_tls(screen: PhoneScreen) -> ssl.SSLContext:
    """Trusts exactly the app's certificate, with the host name checked, as a phone would
    after the technician compared the fingerprint."""
    assert screen.certificate is not None
    return ssl.create_default_context(cafile=str(screen.certificate.cert_path))


def photo_form(data: bytes, name: str = "门头.jpg", media_type: str = "image/jpeg") -> Any:
    form = aiohttp.FormData()
    form.add_field("photo", data, filename=name, content_type=media_type)
    return form


def shown_url(screen: PhoneScreen) -> str:
    """The address as the screen prints it, beside the QR code."""
    info = static_text(screen, "#phone-info")
    line = next(line for line in info.splitlines() if line.startswith("Address: "))
    return line.removeprefix("Address: ").strip()


async def test_a_photo_from_the_phone_lands_in_the_item_and_on_disk(
    store, evidence_checklists, photo_session, tmp_path, loopback
):
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await open_phone(app, pilot, photo_session, STOREFRONT)
        url = shown_url(screen)
        assert url == screen.url and url.startswith("https://127.0.0.1:")
        assert screen.certificate is not None
        assert screen.certificate.fingerprint[:47] in static_text(screen, "#phone-info")
        assert "█" in static_text(screen, "#phone-qr")
        tls = client_tls(screen)
        async with aiohttp.ClientSession() as client:
            async with client.get(url, ssl=tls) as page:
                assert page.status == 200
                assert page.headers["Cache-Control"] == "no-store"
                assert page.headers["X-Content-Type-Options"] == "nosniff"
                assert "default-src 'self'" in page.headers["Content-Security-Policy"]
                assert 'capture="environment"' in await page.text()
            # Pinned by the fingerprint the screen shows, as the technician compares it.
            pinned = aiohttp.Fingerprint(
                bytes.fromhex(screen.certificate.fingerprint.replace(":", ""))
            )
            async with client.get(url, ssl=pinned) as again:
                assert again.status == 200
            photo = jpeg(seed=3, taken_at=datetime.now().astimezone())
            async with client.post(url + "photo", data=photo_form(photo), ssl=tls) as answer:
                assert answer.status == 200, await answer.text()
                assert (await answer.json())["ok"] is True
        await pilot.pause()
        refs = store.load(photo_session.uuid).evidence_of(*STOREFRONT)
        assert [(ref.name, ref.source) for ref in refs] == [("门头.jpg", "phone")]
        kept = store.folder / "evidence" / refs[0].sha256[:2] / refs[0].sha256
        assert kept.read_bytes() == photo
        assert "Received 门头.jpg" in static_text(screen, "#phone-arrivals")
        assert "photos 1 of 1 needed" in static_text(screen, "#phone-arrivals")
        await pilot.press("escape")
        assert screen.server is not None
        await asyncio.wait_for(screen.server.stopped.wait(), timeout=10)
        runner = app.screen
        assert isinstance(runner, RunnerScreen)
        assert static_text(runner, "#detail-evidence-title") == "photos 1 of 1 needed"
        async with aiohttp.ClientSession() as client:
            with pytest.raises(aiohttp.ClientConnectorError):
                await client.get(url, ssl=tls)


async def test_wrong_expired_and_reused_tokens_are_refused(
    store, evidence_checklists, photo_session, tmp_path, loopback
):
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await open_phone(app, pilot, photo_session, STOREFRONT)
        first = shown_url(screen)
        tls = client_tls(screen)
        base = first.rsplit("/p/", 1)[0]
        async with aiohttp.ClientSession() as client:
            for wrong in (f"{base}/p/not-the-token/", f"{base}/", f"{base}/p/", f"{base}/etc"):
                async with client.get(wrong, ssl=tls) as answer:
                    assert answer.status == 404, wrong
            async with client.put(first + "photo", ssl=tls) as answer:
                assert answer.status == 404  # no other method, not even a 405 saying so
            await pilot.press("r")  # a new code: the one before it has ended
            second = shown_url(screen)
            assert second != first
            async with client.post(first + "photo", data=photo_form(jpeg(1)), ssl=tls) as old:
                assert old.status == 410
            async with client.get(second, ssl=tls) as page:
                assert page.status == 200
            # The clock runs past the code's lifetime: the token has expired.
            started = screen.book.clock()
            screen.book.clock = lambda: started + screen.book.lifetime + 1
            async with client.get(second, ssl=tls) as expired:
                assert expired.status == 410
            await pilot.pause()
        assert store.load(photo_session.uuid).evidence_of(*STOREFRONT) == ()


async def test_a_non_image_and_an_oversized_upload_are_refused_before_the_intake(
    store, evidence_checklists, photo_session, tmp_path, loopback
):
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await open_phone(app, pilot, photo_session, STOREFRONT)
        url, tls = shown_url(screen), client_tls(screen)
        async with aiohttp.ClientSession() as client:
            text = photo_form(b"not a photo at all, just words", "x.jpg", "image/jpeg")
            async with client.post(url + "photo", data=text, ssl=tls) as answer:
                assert answer.status == 415
            declared = photo_form(jpeg(2), "notes.txt", "text/plain")
            async with client.post(url + "photo", data=declared, ssl=tls) as answer:
                assert answer.status == 415
            pdf = photo_form(b"%PDF-1.4\n%%EOF\n" * 4, "slip.jpg", "image/jpeg")
            async with client.post(url + "photo", data=pdf, ssl=tls) as answer:
                assert answer.status == 415
            # Refused by its Content-Length: the server answers before reading the body.
            reader, writer = await asyncio.open_connection(
                "127.0.0.1",
                screen.server.port if screen.server else 0,
                ssl=tls,
                server_hostname="127.0.0.1",
            )
            path = url.split("127.0.0.1", 1)[1].split("/", 1)[1]
            writer.write(
                f"POST /{path}photo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {MAX_UPLOAD_BYTES + 1}\r\n\r\n".encode()
            )
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), timeout=10)
            assert status.split()[1] == b"413"
            writer.close()
        await pilot.pause()
        assert store.load(photo_session.uuid).evidence_of(*STOREFRONT) == ()
        assert screen.arrivals == []


async def test_a_burst_of_requests_is_rate_limited(
    store, evidence_checklists, photo_session, tmp_path, loopback
):
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await open_phone(app, pilot, photo_session, STOREFRONT)
        url, tls = shown_url(screen), client_tls(screen)
        statuses: list[int] = []
        async with aiohttp.ClientSession() as client:
            for _ in range(15):
                async with client.get(url + "page.css", ssl=tls) as answer:
                    statuses.append(answer.status)
                    if answer.status == 429:
                        assert int(answer.headers["Retry-After"]) >= 1
        assert statuses[:5] == [200] * 5
        assert 429 in statuses
        await pilot.pause()


async def test_the_phone_gives_the_visit_its_position_once(
    store, evidence_checklists, photo_session, tmp_path, loopback
):
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await open_phone(app, pilot, photo_session, CHIP)
        assert screen.key is None  # chip and PIN takes no photos: the position only
        url, tls = shown_url(screen), client_tls(screen)
        fix = {
            "latitude": 31.2304,
            "longitude": 121.4737,
            "accuracy": 12.5,
            "at": "2025-05-01T10:00:00Z",
        }
        async with aiohttp.ClientSession() as client:
            async with client.post(url + "photo", data=photo_form(jpeg(1)), ssl=tls) as answer:
                assert answer.status == 404
            async with client.post(url + "position", json=fix, ssl=tls) as answer:
                assert answer.status == 200 and (await answer.json())["recorded"] is True
            later = fix | {"latitude": 22.5}
            async with client.post(url + "position", json=later, ssl=tls) as answer:
                assert answer.status == 200 and (await answer.json())["recorded"] is False
            async with client.post(url + "position", data=b"{]", ssl=tls) as answer:
                assert answer.status == 400
        saved = store.load(photo_session.uuid)
        assert (saved.info.latitude, saved.info.longitude, saved.info.accuracy_m) == (
            "31.230400",
            "121.473700",
            "12",
        )
        event = [e for e in saved.events if e.what == "position_recorded"]
        assert len(event) == 1 and event[0].detail["measured_at"] == "2025-05-01T10:00:00Z"
        assert event[0].detail["source"] == "phone"


async def test_without_a_network_it_says_so_and_files_still_attach(
    store, evidence_checklists, photo_session, tmp_path, monkeypatch
):
    monkeypatch.setattr(interfaces, "ipv4_interfaces", lambda: [LOOPBACK])
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await open_phone(app, pilot, photo_session, STOREFRONT)
        assert screen.server is None and screen.url is None
        assert "on no network" in static_text(screen, "#phone-info")
        assert not static_text(screen, "#phone-qr")
        await pilot.press("escape")
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, AttachScreen)


async def chromium(*arguments: str) -> str:
    done = await asyncio.create_subprocess_exec(
        str(CHROMIUM),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--ignore-certificate-errors",
        "--window-size=390,844",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(done.communicate(), timeout=60)
    return out.decode("utf-8", "replace")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not at /usr/bin/chromium")
async def test_the_phone_page_in_a_real_browser_at_a_phones_size(
    store, evidence_checklists, photo_session, tmp_path, loopback
):
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await open_phone(app, pilot, photo_session, STOREFRONT)
        url = shown_url(screen)
        # The browser runs while the app's loop serves it: awaited, never blocking.
        chinese = await chromium("--lang=zh-CN", "--accept-lang=zh-CN", "--dump-dom", url)
        assert "拍照" in chinese and "发送本机位置" in chinese, chinese
        assert 'accept="image/*"' in chinese and "multiple" in chinese
        english = await chromium("--lang=en-US", "--accept-lang=en-US", "--dump-dom", url)
        assert "Take photos" in english and "Share this phone's position" in english
        shot = Path(os.environ.get("POS_TUI_PHONE_SCREENSHOT", tmp_path / "phone-page.png"))
        await chromium("--lang=zh-CN", "--accept-lang=zh-CN", f"--screenshot={shot}", url)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        await pilot.pause()
    assert shutil.which(str(CHROMIUM))
    assert json.dumps(chinese)  # the page is text a phone can show
