"""The phone page's pieces on their own: tokens, the rate limit, positions, the server's
refusals with a receiver that records what reaches it."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import pytest

from pos_tui.domain.checklist import Text
from pos_tui.phone.page import page_html
from pos_tui.phone.server import Fix, PhoneServer, Received, _fix_of
from pos_tui.phone.tls import ensure_certificate
from pos_tui.phone.tokens import Refusal, Ticket, TokenBook, TokenBucket
from tests.helpers.photos import jpeg


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_expires_ends_and_is_never_live_again() -> None:
    clock = Clock()
    book = TokenBook(clock, lifetime=60)
    ticket = book.issue("visit", ("a", "b"))
    assert book.check(ticket.token) == ticket
    assert book.check("x" * len(ticket.token)) is Refusal.UNKNOWN
    clock.now += 61
    assert book.check(ticket.token) is Refusal.EXPIRED
    assert book.check(ticket.token) is Refusal.ENDED
    fresh = book.issue("visit", ("a", "b"))
    assert fresh.token != ticket.token and len(fresh.token) >= 32
    book.end()
    assert book.check(fresh.token) is Refusal.ENDED


def test_the_bucket_lets_ten_through_then_one_a_second() -> None:
    clock = Clock()
    bucket = TokenBucket(clock=clock)
    assert [bucket.allow("phone") for _ in range(11)] == [True] * 10 + [False]
    assert bucket.allow("other")
    clock.now += 1.0
    assert bucket.allow("phone") and not bucket.allow("phone")


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b'{"latitude": 91, "longitude": 0}',
        b'{"latitude": "NaN", "longitude": 0}',
        b'{"latitude": 1, "longitude": 2, "accuracy": -1}',
        b'{"latitude": 1, "longitude": 2, "at": "yesterday"}',
    ],
)
def test_a_position_that_is_not_one_is_refused(raw: bytes) -> None:
    assert _fix_of(raw) is None


def test_a_checklist_title_is_escaped_in_the_page() -> None:
    page = page_html(Text("<script>x</script>", '"><img src=x>'), "shop", photos=True)
    assert b"<script>x" not in page and b"<img src=x>" not in page


class Recorder:
    def __init__(self) -> None:
        self.photos: list[tuple[str, int]] = []

    async def photo(self, ticket: Ticket, name: str, data: bytes) -> Received:
        self.photos.append((name, len(data)))
        return Received(True)

    async def position(self, ticket: Ticket, fix: Fix) -> Received:
        return Received(True, recorded=True)

    def page(self, ticket: Ticket) -> bytes:
        return b"<p>page</p>"


async def test_the_server_answers_only_under_the_token(tmp_path: Path) -> None:
    certificate = ensure_certificate(tmp_path, [])
    assert (tmp_path / "phone" / "key.pem").stat().st_mode & 0o777 == 0o600
    assert ensure_certificate(tmp_path, []).fingerprint == certificate.fingerprint
    recorder, book = Recorder(), TokenBook()
    server = PhoneServer(recorder, certificate, book, TokenBucket(capacity=100))
    ticket = book.issue("visit", ("a", "b"))
    await server.start("127.0.0.1")
    tls = ssl.create_default_context(cafile=str(certificate.cert_path))
    url = server.url(ticket)
    try:
        async with aiohttp.ClientSession() as client:
            for path in (
                "/",
                "/p/",
                f"/p/{ticket.token}/../../etc/passwd",
                f"/p/{ticket.token}/static",
            ):
                async with client.get(f"https://127.0.0.1:{server.port}{path}", ssl=tls) as r:
                    assert r.status == 404, path
                    assert r.headers["Cache-Control"] == "no-store"
                    assert r.headers["Server"] == "pos-tui"
            async with client.get(url + "page.js", ssl=tls) as r:
                assert r.status == 200 and r.content_type == "text/javascript"
            form = aiohttp.FormData()
            form.add_field("photo", jpeg(1), filename="a.jpg", content_type="image/jpeg")
            async with client.post(url + "photo", data=form, ssl=tls) as r:
                assert r.status == 200

            async def chunked():  # no Content-Length: refused before anything is read
                yield b"--b\r\n"

            headers = {"Content-Type": "multipart/form-data; boundary=b"}
            async with client.post(url + "photo", data=chunked(), headers=headers, ssl=tls) as r:
                assert r.status == 411
    finally:
        await server.stop()
    assert recorder.photos == [("a.jpg", len(jpeg(1)))]
    assert server.stopped.is_set()
