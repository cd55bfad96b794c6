"""The phone page's HTTPS server, run inside the app's own event loop while a QR code is open.

Only five things answer, all under the token's path: the page, its script, its styles, the
photo upload and the position. Anything else is 404 (no listing, no files by path, no other
method); every answer says no-store, nosniff, no referrer, and a policy that lets the page
load nothing but itself. A request is refused before its body is read when it is too large
(Content-Length), not multipart, or not declared an image; the body is then read in chunks
up to the evidence limit and its first bytes must be a JPEG, PNG or HEIC. Whatever passes
still goes through the one intake (`Services.attach`, on the worker), as a file on the
laptop would. Each client has a token bucket; past it, 429 with Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

from pos_tui.domain.checklist import Text
from pos_tui.domain.evidence import HEIC, JPEG, PNG
from pos_tui.domain.media import MAX_EVIDENCE_BYTES, sniff
from pos_tui.phone.page import STATIC, asset
from pos_tui.phone.tokens import Refusal, Ticket, TokenBook, TokenBucket

if TYPE_CHECKING:
    from aiohttp import web

    from pos_tui.phone.tls import Certificate

MAX_UPLOAD_BYTES = MAX_EVIDENCE_BYTES + 64 * 1024
"""One photo at the evidence limit and its multipart framing; a larger request is refused
by its Content-Length, before a byte of it is read."""
MAX_POSITION_BYTES = 1024
CHUNK = 256 * 1024
UPLOADS_AT_ONCE = 2
"""Bodies held in memory at once (each up to 25 MB); the others wait their turn."""
PICTURES = frozenset({JPEG, PNG, HEIC})
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "geolocation=(self), camera=(self)",
    "Server": "pos-tui",  # not the library's name and version
}


@dataclass(frozen=True, slots=True)
class Received:
    """The laptop's answer to one upload or position, sent to the phone as JSON."""

    ok: bool
    status: int = 200
    message: Text | None = None
    recorded: bool = False
    """For a position: True when it became the visit's (False: it had one already)."""


@dataclass(frozen=True, slots=True)
class Fix:
    """A position as the phone's browser gave it."""

    latitude: float
    longitude: float
    accuracy_m: float
    at: str


class Receiver(Protocol):
    """Where what the phone sends goes: the visit, through the services."""

    async def photo(self, ticket: Ticket, name: str, data: bytes) -> Received: ...

    async def position(self, ticket: Ticket, fix: Fix) -> Received: ...

    def page(self, ticket: Ticket) -> bytes: ...


def refused(status: int, zh: str, en: str) -> web.Response:
    from aiohttp import web

    body = {"ok": False, "message": {"zh": zh, "en": en}}
    return web.json_response(body, status=status)


class PhoneServer:
    def __init__(
        self,
        receiver: Receiver,
        certificate: Certificate,
        book: TokenBook,
        limiter: TokenBucket | None = None,
    ) -> None:
        self.receiver = receiver
        self.certificate = certificate
        self.book = book
        self.limiter = limiter or TokenBucket()
        self.host = ""
        self.port = 0
        self.runner: web.AppRunner | None = None
        self.stopped = asyncio.Event()
        """Set once the socket is closed: nothing answers on the address any more."""
        self.uploads = asyncio.Semaphore(UPLOADS_AT_ONCE)

    def url(self, ticket: Ticket) -> str:
        return f"https://{self.host}:{self.port}/p/{ticket.token}/"

    async def start(self, host: str, port: int = 0) -> None:
        from aiohttp import web

        app = web.Application(
            client_max_size=MAX_UPLOAD_BYTES, middlewares=[self._limit, self._only_ours]
        )
        app.on_response_prepare.append(_secure_headers)
        app.router.add_get("/p/{token}/", self._page)
        app.router.add_get("/p/{token}/{asset:page\\.(?:js|css)}", self._asset)
        app.router.add_post("/p/{token}/photo", self._photo)
        app.router.add_post("/p/{token}/position", self._position)
        # No access log: it would write the token, and the terminal is the app's.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        # Kept at once: a start cancelled half-way (the QR closed) is still cleaned up.
        self.runner = runner
        site = web.TCPSite(
            runner, host, port, ssl_context=self.certificate.server_context(), backlog=16
        )
        try:
            await site.start()
        except OSError:
            await self.stop()
            raise
        self.host = host
        self.port = _bound_port(runner, port)
        self.stopped.clear()

    async def stop(self) -> None:
        runner, self.runner = self.runner, None
        if runner is not None:
            await runner.cleanup()
        self.stopped.set()

    # -- what every request goes through ---------------------------------------------

    @property
    def _limit(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        from aiohttp import web

        @web.middleware
        async def limit(request: web.Request, handler: Any) -> web.StreamResponse:
            if not self.limiter.allow(request.remote or "?"):
                response = refused(429, "请求太多，请稍候", "too many requests: wait a moment")
                response.headers["Retry-After"] = str(math.ceil(1 / self.limiter.rate))
                return response
            result: web.StreamResponse = await handler(request)
            return result

        return limit

    @property
    def _only_ours(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        from aiohttp import web

        @web.middleware
        async def only_ours(request: web.Request, handler: Any) -> web.StreamResponse:
            try:
                result: web.StreamResponse = await handler(request)
            except web.HTTPMethodNotAllowed:
                # Not even which methods exist: anything but ours is simply not there.
                raise web.HTTPNotFound() from None
            return result

        return only_ours

    def _ticket(self, request: web.Request) -> Ticket:
        from aiohttp import web

        found = self.book.check(request.match_info["token"])
        if isinstance(found, Ticket):
            return found
        if found is Refusal.UNKNOWN:
            raise web.HTTPNotFound()
        raise web.HTTPGone(
            text=json.dumps({"ok": False, "message": _ENDED}), content_type="application/json"
        )

    # -- the five answers -------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.Response:
        from aiohttp import web

        ticket = self._ticket(request)
        body = self.receiver.page(ticket)
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    async def _asset(self, request: web.Request) -> web.Response:
        from aiohttp import web

        self._ticket(request)
        name = request.match_info["asset"]
        return web.Response(body=asset(name), content_type=STATIC[name], charset="utf-8")

    async def _photo(self, request: web.Request) -> web.Response:
        from aiohttp import BodyPartReader, web

        ticket = self._ticket(request)
        if ticket.item is None:
            raise web.HTTPNotFound()
        length = request.content_length
        if length is None:
            return refused(411, "须注明大小", "the size must be given (Content-Length)")
        if length > MAX_UPLOAD_BYTES:
            return _too_large()
        if request.content_type != "multipart/form-data":
            return _not_a_picture()
        async with self.uploads:
            reader = await request.multipart()
            part = await reader.next()
            if not isinstance(part, BodyPartReader) or part.name != "photo":
                return refused(400, "没有照片", "no photo in the request")
            declared = part.headers.get("Content-Type", "")
            if not declared.startswith("image/"):
                return _not_a_picture()
            data = await _read_picture(part)
            if isinstance(data, int):
                return _too_large() if data == 413 else _not_a_picture()
            # Browsers send the name as UTF-8; some clients percent-encode it. Either way it
            # is only shown (shown_name cleans it), never used as a path.
            name = unquote(part.filename or "") or "photo.jpg"
            received = await self.receiver.photo(ticket, name, data)
        return _answer(received)

    async def _position(self, request: web.Request) -> web.Response:
        ticket = self._ticket(request)
        length = request.content_length
        if length is None or length > MAX_POSITION_BYTES:
            return _too_large()
        fix = _fix_of(await request.read())
        if fix is None:
            return refused(400, "位置无效", "not a position")
        return _answer(await self.receiver.position(ticket, fix))


_ENDED = {
    "zh": "此二维码已失效：请在电脑上重新打开",
    "en": "this QR code has ended: open it again on the laptop",
}


async def _secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked


def _too_large() -> web.Response:
    limit = MAX_EVIDENCE_BYTES // (1024 * 1024)
    return refused(413, f"照片超过 {limit} MB 的上限", f"the photo is over the limit of {limit} MB")


def _not_a_picture() -> web.Response:
    return refused(415, "不是照片（JPEG、PNG、HEIC）", "not a photo (JPEG, PNG, HEIC)")


async def _read_picture(part: Any) -> bytes | int:
    """The part's bytes, or 413 past the limit, or 415 when it does not start like a photo;
    either way reading stops there, one chunk past the limit at most."""
    chunks: list[bytes] = []
    total = 0
    checked = False
    while total <= MAX_EVIDENCE_BYTES:  # each pass reads more, or ends on an empty chunk
        chunk = await part.read_chunk(CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if not checked and total >= 16:
            checked = True
            if sniff(b"".join(chunks)[:16]) not in PICTURES:
                return 415
    if total > MAX_EVIDENCE_BYTES:
        return 413
    data = b"".join(chunks)
    if not checked and sniff(data) not in PICTURES:
        return 415
    return data


def _fix_of(raw: bytes) -> Fix | None:
    try:
        data = json.loads(raw)
        latitude, longitude = float(data["latitude"]), float(data["longitude"])
        accuracy = float(data.get("accuracy", 0.0))
        at = str(data.get("at", ""))[:40]
        if at:
            datetime.fromisoformat(at)
    except (ValueError, TypeError, KeyError):
        return None
    numbers = (latitude, longitude, accuracy)
    if not all(math.isfinite(n) for n in numbers):
        return None
    if abs(latitude) > 90 or abs(longitude) > 180 or not 0 <= accuracy <= 100_000:
        return None
    return Fix(latitude, longitude, accuracy, at)


def _answer(received: Received) -> web.Response:
    from aiohttp import web

    body: dict[str, Any] = {"ok": received.ok, "recorded": received.recorded}
    if received.message is not None:
        body["message"] = {"zh": received.message.zh, "en": received.message.en}
    return web.json_response(body, status=received.status)
