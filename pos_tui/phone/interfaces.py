"""The laptop's IPv4 addresses, to choose the one network the phone page is served on.

The page is never served on every address at once: only on the interface the phone can
reach (the shop's Wi-Fi, or the phone's own hotspot), chosen on the QR screen; by default
the first that is not loopback. On Linux the addresses come from the kernel per interface
(SIOCGIFADDR); elsewhere from the address a UDP socket would use for the default route
(connect() on UDP sends nothing), so no network traffic is ever made to find them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import sys
from dataclasses import dataclass

MAX_INTERFACES = 64
_SIOCGIFADDR = 0x8915


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    address: str

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback


def ipv4_interfaces() -> list[Interface]:
    """Every interface with an IPv4 address, those that are not loopback first."""
    found: list[Interface] = []
    if sys.platform.startswith("linux"):
        found = _linux()
    if not any(not interface.loopback for interface in found):
        found += _default_route()
    if not found:
        found = [Interface("lo", "127.0.0.1")]
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda interface: interface.loopback)


def default_interface(interfaces: list[Interface]) -> Interface | None:
    """The first that a phone could reach; None when there is no network at all."""
    return next((interface for interface in interfaces if not interface.loopback), None)


def _linux() -> list[Interface]:
    import fcntl

    found: list[Interface] = []
    try:
        names = socket.if_nameindex()[:MAX_INTERFACES]
    except OSError:
        return found
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _index, name in names:
            packed = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, packed)
            except OSError:  # down, or no IPv4 address
                continue
            found.append(Interface(name, socket.inet_ntoa(answer[20:24])))
    return found


def _default_route() -> list[Interface]:
    with (
        contextlib.suppress(OSError),
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe,
    ):
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
        address = str(probe.getsockname()[0])
        if address != "0.0.0.0":
            return [Interface("default", address)]
    return []
