"""The phone's QR code: scan it, take the photos, they land in the item.

Opening this starts the phone page's server (pos_tui/phone) on one network interface with
a new one-time token; closing it ends the token and stops the server, so nothing listens
on the shop's network while the technician does anything else. The screen shows the
address, the certificate's fingerprint (to compare with what the phone shows), the
interface (i chooses another), the time left (r makes a new code) and each photo as it
arrives. Without a network it says so: the attach dialog (a) works all the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from pos_tui.domain.checklist import Text
from pos_tui.domain.session import Session
from pos_tui.store.storage import StoreError
from pos_tui.ui.i18n import evidence_count
from pos_tui.ui.screens.base import PosModal
from pos_tui.ui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from pos_tui.phone.interfaces import Interface
    from pos_tui.phone.server import PhoneServer
    from pos_tui.phone.tls import Certificate
    from pos_tui.phone.visit_link import Arrival

Key = tuple[str, str]

TITLE = Text("手机拍照：{title}", "Phone camera: {title}")
POSITION_TITLE = Text("手机定位：本次访问的位置", "Phone position: the visit's own")
STARTING = Text("正在启动...", "Starting...")
SCAN = Text(
    "用手机扫描二维码，拍照后照片直接进入此项。",
    "Scan with the phone; its photos go straight into this item.",
)
SCAN_POSITION = Text(
    "用手机扫描二维码，发送手机的位置。", "Scan with the phone to send its position."
)
ADDRESS = Text("地址", "Address")
FINGERPRINT = Text(
    "证书指纹（手机首次会警告：核对后继续）",
    "Certificate (the phone warns once: compare, then go on)",
)
INTERFACE = Text("网络：{name} {address}（i 换网络）", "Network: {name} {address} (i: another)")
LEFT = Text("二维码 {minutes}:{seconds:02d} 后失效", "The code ends in {minutes}:{seconds:02d}")
EXPIRED = Text("二维码已失效：按 r 生成新的", "The code has ended: r makes a new one")
NO_NETWORK = Text(
    "这台电脑没有连接网络（Wi-Fi 或手机热点），手机无法连接。"
    "请连接网络后按 i；或按 Esc 返回，用 a 附加文件。",
    "This laptop is on no network (Wi-Fi or the phone's hotspot), so the phone cannot reach it. "
    "Join one and press i; or Esc, then a attaches files as before.",
)
CANNOT_START = Text("无法在 {address} 上启动：{reason}", "Cannot serve on {address}: {reason}")
NONE_YET = Text("尚未收到照片。", "No photos yet.")
RECEIVED = Text("已收到 {name}", "Received {name}")
REFUSED = Text("未收 {name}：{reason}", "Refused {name}: {reason}")
SHOWN_ARRIVALS = 6


class PhoneScreen(PosModal[None]):
    CSS_PATH = "phone_qr.tcss"
    BINDINGS = [
        Binding("r", "renew", "New code", id="phone.renew"),
        Binding("i", "interface", "Network", id="phone.interface"),
        Binding("escape", "close", "Close", id="phone.close"),
    ]

    def __init__(
        self, session: Session, key: Key | None, changed: Callable[[Session], None]
    ) -> None:
        super().__init__()
        self.session = session
        self.key = key
        """The item the photos are for; None: the visit's position only."""
        self.changed = changed
        from pos_tui.phone.tokens import TokenBook

        self.book = TokenBook()
        self.server: PhoneServer | None = None
        self.certificate: Certificate | None = None
        self.interfaces: list[Interface] = []
        self.interface: Interface | None = None
        self.problem: Text | None = None
        self.arrivals: list[Arrival] = []
        self.serving = asyncio.Event()
        """Set once the server answers on the chosen interface, or it is known it will not."""

    def compose(self) -> ComposeResult:
        with Vertical(id="phone-box", classes="dialog"):
            yield Static(id="phone-title", classes="dialog-title", markup=False)
            with Horizontal(id="phone-body"):
                yield Static(id="phone-qr", markup=False)
                with Vertical(id="phone-side"):
                    yield Static(id="phone-info", markup=False)
                    yield Static(id="phone-arrivals", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        super().on_mount()
        folder = self.services.store.folder
        job = self.services.worker.submit(_prepare, folder)
        self.when_done(job, self._prepared, self._not_prepared)
        self.set_interval(1.0, self._tick)

    # -- the server --------------------------------------------------------------------

    def _prepared(self, found: tuple[list[Interface], Certificate]) -> None:
        from pos_tui.phone.interfaces import default_interface

        self.interfaces, self.certificate = found
        chosen = default_interface(self.interfaces)
        if chosen is None:
            self.problem = NO_NETWORK
            self.serving.set()
            self._draw()
            return
        self.serve_on(chosen)

    def _not_prepared(self, error: BaseException) -> None:
        self.problem = Text(str(error), str(error))
        self.serving.set()
        self._draw()

    def serve_on(self, interface: Interface) -> None:
        """Serve on `interface` alone, with a new token (the server before it stops)."""
        self.interface = interface
        self.problem = None
        self.serving.clear()
        self.run_worker(self._serve(interface), group="phone", exclusive=True)

    async def _serve(self, interface: Interface) -> None:
        from pos_tui.phone.server import PhoneServer
        from pos_tui.phone.visit_link import VisitLink

        if self.server is not None:
            await self.server.stop()
        assert self.certificate is not None
        link = VisitLink(self.services, self.session, self.key, self._changed, self._arrived)
        self.server = PhoneServer(link, self.certificate, self.book)
        self.book.issue(self.session.uuid, self.key)
        try:
            await self.server.start(interface.address)
        except OSError as error:
            self.book.end()
            reason = error.strerror or str(error)
            self.problem = Text(
                CANNOT_START.zh.format(address=interface.address, reason=reason),
                CANNOT_START.en.format(address=interface.address, reason=reason),
            )
        self.serving.set()
        self._draw()

    @property
    def url(self) -> str | None:
        """The page's address with the live token; None when nothing is served."""
        live = self.book.live
        if self.server is None or self.server.runner is None or live is None:
            return None
        return self.server.url(live)

    def _changed(self, session: Session) -> None:
        self.session = session
        self.changed(session)
        if self.is_attached:
            self._draw()

    def _arrived(self, arrival: Arrival) -> None:
        self.arrivals.append(arrival)
        if self.is_attached:
            self._draw()

    def on_unmount(self) -> None:
        self.book.end()
        if self.server is not None:
            # The app's worker, not this screen's: the stop must finish after it is gone.
            self.app.run_worker(self.server.stop(), group="phone-stop")

    # -- drawing -----------------------------------------------------------------------

    def apply_language(self, lang: str) -> None:
        self._draw()

    def _tick(self) -> None:
        if self.book.live is not None and self.book.remaining() <= 0:
            self.book.end()
            self._draw()
        elif self.book.live is not None:
            self._show_info()

    def _draw(self) -> None:
        from pos_tui.phone.qr import qr_text

        lang = self.lang
        if self.key is None:
            title = POSITION_TITLE.get(lang)
        else:
            item = self.session.item(*self.key).title.get(lang)
            title = TITLE.get(lang).format(title=item)
        self.query_one("#phone-title", Static).update(title)
        url = self.url
        code = self.query_one("#phone-qr", Static)
        code.display = url is not None
        code.update(qr_text(url) if url else "")
        self._show_info()
        self._show_arrivals()
        self.refresh_bindings()

    def _show_info(self) -> None:
        lang = self.lang
        lines: list[str] = []
        url = self.url
        if self.problem is not None:
            lines.append(self.problem.get(lang))
        elif self.certificate is None or (url is None and self.book.live is not None):
            lines.append(STARTING.get(lang))
        elif url is None:
            lines.append(EXPIRED.get(lang))
        else:
            lines.append((SCAN_POSITION if self.key is None else SCAN).get(lang))
            lines += ["", f"{ADDRESS.get(lang)}: {url}"]
            left = int(self.book.remaining())
            lines.append(LEFT.get(lang).format(minutes=left // 60, seconds=left % 60))
        if self.certificate is not None:
            pairs = self.certificate.fingerprint
            lines += ["", FINGERPRINT.get(lang), pairs[:47], pairs[48:]]
        if self.interface is not None:
            shown = INTERFACE.get(lang).format(
                name=self.interface.name, address=self.interface.address
            )
            lines += ["", shown]
        self.query_one("#phone-info", Static).update("\n".join(lines))

    def _show_arrivals(self) -> None:
        lang = self.lang
        lines: list[str] = []
        if self.key is not None:
            rule = self.session.item(*self.key).evidence
            count = len(self.session.evidence_of(*self.key))
            if rule is not None:
                lines.append(evidence_count(rule, count).get(lang))
            if not self.arrivals:
                lines.append(NONE_YET.get(lang))
        for arrival in self.arrivals[-SHOWN_ARRIVALS:]:
            if arrival.added:
                lines.append(RECEIVED.get(lang).format(name=arrival.name))
            else:
                reason = arrival.reason.get(lang) if arrival.reason else ""
                lines.append(REFUSED.get(lang).format(name=arrival.name, reason=reason))
        arrivals = self.query_one("#phone-arrivals", Static)
        arrivals.update("\n".join(lines))
        arrivals.display = bool(lines)

    # -- keys --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "renew":
            return self.server is not None and self.server.runner is not None
        if action == "interface":
            return len(self.interfaces) > 1 or (self.interface is None and bool(self.interfaces))
        return True

    def action_renew(self) -> None:
        if self.server is not None and self.server.runner is not None:
            self.book.issue(self.session.uuid, self.key)
            self._draw()

    def action_interface(self) -> None:
        if not self.interfaces:
            return
        index = self.interfaces.index(self.interface) if self.interface in self.interfaces else -1
        self.serve_on(self.interfaces[(index + 1) % len(self.interfaces)])

    def action_close(self) -> None:
        self.dismiss(None)


def _prepare(folder: Path) -> tuple[list[Interface], Certificate]:
    """On the worker: the interfaces, and the certificate (made and written on first use)."""
    from pos_tui.phone.interfaces import ipv4_interfaces
    from pos_tui.phone.tls import ensure_certificate

    interfaces = ipv4_interfaces()
    addresses = [interface.address for interface in interfaces]
    try:
        return interfaces, ensure_certificate(folder, addresses)
    except (OSError, ValueError) as error:
        raise StoreError(f"cannot make the phone page's certificate: {error}") from None
