"""One-time upload tokens: one per QR code shown, for one visit and one item.

A token is the only thing that makes a request reach the visit, so it is long and random
(`secrets.token_urlsafe`), compared in constant time, and short-lived: it ends when the QR
code is closed (the item left), when the visit is signed, or after `TOKEN_LIFETIME`. An
ended token is remembered so a phone that kept the old page is told plainly that it ended,
and can never be used again, not even by the one who held it.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

TOKEN_LIFETIME = 5 * 60.0
"""Seconds: long enough to walk to the storefront and take three photos, short enough that a
photographed screen is of no use by the time anyone tries it."""
TOKEN_BYTES = 24
"""192 random bits: not guessable within any number of requests the rate limit lets in."""
MAX_ENDED = 64
"""Ended tokens remembered, the oldest forgotten first (then they are simply unknown)."""

Clock = Callable[[], float]


class Refusal(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a token lets the phone do: photos for one item (None: the position only)."""

    token: str
    visit_uuid: str
    item: tuple[str, str] | None
    expires_at: float


class TokenBook:
    """The live token (at most one: one QR code is open at a time) and the ended ones."""

    def __init__(self, clock: Clock = time.monotonic, lifetime: float = TOKEN_LIFETIME) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.live: Ticket | None = None
        self.ended: list[str] = []

    def issue(self, visit_uuid: str, item: tuple[str, str] | None) -> Ticket:
        """A new token; the one before it ends."""
        self.end()
        ticket = Ticket(
            secrets.token_urlsafe(TOKEN_BYTES), visit_uuid, item, self.clock() + self.lifetime
        )
        self.live = ticket
        return ticket

    def end(self) -> None:
        if self.live is not None:
            self.ended.append(self.live.token)
            del self.ended[:-MAX_ENDED]
            self.live = None

    def remaining(self) -> float:
        """Seconds the live token has left (0 when there is none or it has run out)."""
        if self.live is None:
            return 0.0
        return max(0.0, self.live.expires_at - self.clock())

    def check(self, token: str) -> Ticket | Refusal:
        live = self.live
        if live is not None and hmac.compare_digest(live.token, token):
            if self.clock() >= live.expires_at:
                self.end()
                return Refusal.EXPIRED
            return live
        if any(hmac.compare_digest(old, token) for old in self.ended):
            return Refusal.ENDED
        return Refusal.UNKNOWN


class TokenBucket:
    """Requests per client: `capacity` at once, then `rate` a second (10 in 10 s)."""

    def __init__(
        self, capacity: float = 10.0, rate: float = 1.0, clock: Clock = time.monotonic
    ) -> None:
        self.capacity = capacity
        self.rate = rate
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str) -> bool:
        now = self.clock()
        level, then = self.buckets.get(client, (self.capacity, now))
        level = min(self.capacity, level + (now - then) * self.rate)
        if len(self.buckets) > 1024:
            # A flood from many addresses must not grow this without end: forget them all.
            self.buckets.clear()
        if level < 1.0:
            self.buckets[client] = (level, now)
            return False
        self.buckets[client] = (level - 1.0, now)
        return True
