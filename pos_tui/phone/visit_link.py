"""What the phone sends, into the visit: photos through `Services.attach` (the one intake,
source "phone"), the position through `Session.record_position`, both on the worker.

The handlers of the server await these in the app's event loop, so the counter keeps
answering keys while a 5 MB photo is checked and kept; the phone hears "received" only
once the photo is on disk and in the visit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pos_tui.domain.checklist import Text
from pos_tui.domain.redact import CardDataError
from pos_tui.domain.session import Session, VisitError
from pos_tui.phone.page import page_html
from pos_tui.phone.server import Fix, Received
from pos_tui.phone.tokens import Ticket
from pos_tui.store.storage import StoreError

if TYPE_CHECKING:
    from pos_tui.services.technician import Attached, Services

PHONE = "phone"
NOT_EDITABLE = Text("此访问已签署，不能再添加", "this visit is signed: nothing more can be added")
ALREADY_THERE = Text("这张照片已在此项中", "this photo is on the item already")


@dataclass(frozen=True, slots=True)
class Arrival:
    """One photo as the terminal lists it: its name, and whether it went in (or why not)."""

    name: str
    added: bool
    reason: Text | None = None


class VisitLink:
    """The server's receiver for one visit and one item (or the visit's position only)."""

    def __init__(
        self,
        services: Services,
        session: Session,
        item: tuple[str, str] | None,
        changed: Callable[[Session], None],
        arrived: Callable[[Arrival], None],
    ) -> None:
        self.services = services
        self.session = session
        self.item = item
        self.changed = changed
        """Told of every save, so the runner shows the item's count even after the QR closed."""
        self.arrived = arrived

    def page(self, ticket: Ticket) -> bytes:
        info = self.session.info
        visit = f"{info.merchant_name} · {info.terminal_number}".strip(" ·")
        if ticket.item is None:
            title = Text("本次访问的位置", "The visit's position")
        else:
            title = self.session.item(*ticket.item).title
        return page_html(title, visit, photos=ticket.item is not None)

    def _ours(self, ticket: Ticket) -> bool:
        return ticket.visit_uuid == self.session.uuid and ticket.item == self.item

    async def photo(self, ticket: Ticket, name: str, data: bytes) -> Received:
        if not self._ours(ticket) or ticket.item is None:
            return Received(False, 404)
        if not self.session.editable:
            return Received(False, 409, NOT_EDITABLE)
        future = self.services.attach(
            self.session, *ticket.item, uploads=[(name, data)], source=PHONE
        )
        try:
            # Shielded: the server stopping (the QR closed) never cancels a save under way.
            attached: Attached = await asyncio.shield(asyncio.wrap_future(future))
        except (VisitError, CardDataError, StoreError) as error:
            text = _text_of(error)
            self.arrived(Arrival(name, False, text))
            return Received(False, 409, text)
        self._saved(attached.session)
        if attached.added:
            for ref in attached.added:
                self.arrived(Arrival(ref.name, True))
            return Received(True)
        if attached.refused:
            shown, reason = attached.refused[0]
            self.arrived(Arrival(shown, False, reason))
            return Received(False, 422, reason)
        self.arrived(Arrival(name, False, ALREADY_THERE))
        return Received(True, message=ALREADY_THERE)

    async def position(self, ticket: Ticket, fix: Fix) -> Received:
        if not self._ours(ticket):
            return Received(False, 404)
        if not self.session.editable:
            return Received(False, 409, NOT_EDITABLE)
        future = self.services.record_position(
            self.session, fix.latitude, fix.longitude, fix.accuracy_m, fix.at, PHONE
        )
        try:
            after, recorded = await asyncio.shield(asyncio.wrap_future(future))
        except (VisitError, CardDataError, StoreError) as error:
            return Received(False, 409, _text_of(error))
        self._saved(after)
        return Received(True, recorded=recorded)

    def _saved(self, session: Session) -> None:
        self.session = session
        self.changed(session)


def _text_of(error: BaseException) -> Text:
    if isinstance(error, VisitError):
        return error.text
    if isinstance(error, CardDataError):
        return Text(error.message_zh, str(error))
    return Text(str(error), str(error))
