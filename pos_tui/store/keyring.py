"""The keyring's file in the shared store, and the administrator fingerprints a machine pins.

    keyring.jsonl   one signed entry per line, appended under the shared lock, never rewritten

A line cut short by a crash (no newline at its end) is not an entry yet: it is ignored,
and the next append starts on a new line. What the entries mean is `domain/keyring.py`.

Each machine remembers, per store id, the administrator key it first saw
(`trust/admins.json` in its data folder). A folder whose keyring later names another
administrator is refused: replacing the whole keyring is the one forgery that signatures
alone cannot show.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid as uuid_module
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pos_tui.domain.keyring import GENESIS, Keyring, replay, signed_entry
from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.domain.signatures import Signer, canonical, sign
from pos_tui.store.schema import ShapeError, parse_json
from pos_tui.store.storage import (
    StoreDamaged,
    StoreError,
    StoreWriteFailed,
    fsync_folder,
    write_json_atomically,
)

KEYRING_NAME = "keyring.jsonl"
KEYRING_LIMIT = 64 * 1024 * 1024
PINS = Path("trust") / "admins.json"
PINS_LIMIT = 1024 * 1024


class AdminChanged(StoreError):
    def __init__(self, folder: object, ring_problem: str) -> None:
        super().__init__(
            f"The shared store at {folder} cannot be trusted: {ring_problem}. Nothing was"
            " read from it or sent to it; ask the store's administrator.",
            f"共享存储 {folder} 不可信：{ring_problem}。未从中读取或向其发送任何内容；"
            "请联系存储的管理员。",
        )


@runtime_checkable
class KeyringLog(Protocol):
    """Where a shared store that is not a folder (PostgreSQL) keeps its keyring: the same
    entries, appended only, read back in order."""

    def keyring_entries(self) -> list[dict[str, Any]]:
        """Every entry as written, in order; an unreadable one as {"entry": None}."""

    def append_keyring_entry(self, line: dict[str, Any]) -> None:
        """Add one signed entry after the others, durably."""


Place = Path | KeyringLog
"""A shared store's folder, or a store that keeps its keyring itself."""


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def keyring_path(folder: Path) -> Path:
    return folder / KEYRING_NAME


def raw_lines(folder: Path) -> list[bytes]:
    """The lines of a folder's `keyring.jsonl` as written, in order: blank lines skipped, a
    last line a crash cut short (no newline at its end) not an entry yet."""
    path = keyring_path(folder)
    try:
        raw = read_regular_file(path, KEYRING_LIMIT, follow_links=False)
    except FileNotFoundError:
        return []
    except RefusedFile as refused:
        raise StoreDamaged(path, refused.reason) from None
    except OSError as error:
        raise StoreError(f"Cannot read {path}: {error.strerror or error}.") from None
    lines = raw.split(b"\n")
    if lines and lines[-1]:
        lines.pop()  # cut short by a crash: not an entry yet
    return [line for line in lines if line.strip()]


def read_lines(place: Place) -> list[dict[str, Any]]:
    """The keyring's entries as written; [] when the store has no keyring."""
    if isinstance(place, KeyringLog):
        return place.keyring_entries()
    entries: list[dict[str, Any]] = []
    for line in raw_lines(place):
        try:
            value = parse_json(line)
        except ShapeError:
            # A line a crash cut short, finished by the next append's line end: replay
            # lists it as "not an entry"; the chain goes on from the entry before it.
            value = None
        entries.append(value if isinstance(value, dict) else {"entry": None})
    return entries


def load_keyring(place: Place, pinned_admin: str = "") -> Keyring:
    return replay(read_lines(place), pinned_admin)


def append(place: Place, entry: dict[str, Any], signer: Signer, ring: Keyring) -> dict[str, Any]:
    """Sign `entry` after the ring's head and add it; the caller holds the shared lock and
    has just read `ring`, so nobody has appended since."""
    body = {"prev": ring.head, "at": now(), **entry}
    line = signed_entry(body, sign(signer, canonical(body)))
    if isinstance(place, KeyringLog):
        place.append_keyring_entry(line)
        return line
    folder = place
    path = keyring_path(folder)
    data = json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            # A line left unfinished by a crash gets its own line end first.
            if os.fstat(fd).st_size and not _ends_with_newline(path):
                data = b"\n" + data
            os.write(fd, data + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_folder(folder)
    except OSError as error:
        raise StoreWriteFailed(path, error) from None
    return line


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as file:
        file.seek(-1, os.SEEK_END)
        return file.read(1) == b"\n"


def create_genesis(place: Place, admin: Signer, name: str, store_id: str = "") -> str:
    """The first entry of a new store's keyring; returns the store's id."""
    if read_lines(place) or (isinstance(place, Path) and keyring_path(place).exists()):
        raise StoreError(f"{place} already has a keyring: it is a shared store already.")
    store_id = store_id or uuid_module.uuid4().hex[:16]
    append(place, {"action": GENESIS, "store_id": store_id, "name": name}, admin, Keyring())
    return store_id


# -- pins on this machine ---------------------------------------------------------------


def _pins(data_folder: Path) -> dict[str, str]:
    path = data_folder / PINS
    try:
        document = parse_json(read_regular_file(path, PINS_LIMIT, follow_links=False))
    except FileNotFoundError:
        return {}
    except (RefusedFile, ShapeError) as error:
        raise StoreDamaged(path, str(getattr(error, "reason", error))) from None
    except OSError as error:
        raise StoreError(f"Cannot read {path}: {error.strerror or error}.") from None
    table = document.get("admins") if isinstance(document, dict) else None
    if not isinstance(table, dict):
        raise StoreDamaged(path, "it holds no table of administrator keys")
    return {str(k): str(v) for k, v in table.items()}


def pinned_admin(data_folder: Path, store_id: str) -> str:
    return _pins(data_folder).get(store_id, "")


def pin_admin(data_folder: Path, store_id: str, fingerprint: str) -> None:
    pins = _pins(data_folder)
    if pins.get(store_id) == fingerprint:
        return
    pins[store_id] = fingerprint
    path = data_folder / PINS
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreWriteFailed(path, error) from None
    write_json_atomically(path, {"admins": pins})


def trusted_keyring(place: Place, data_folder: Path | None) -> Keyring:
    """The store's keyring, checked against the administrator this machine pinned (and
    pinned now, on first sight). Raises AdminChanged when the keyring was replaced."""
    lines = read_lines(place)
    first = replay(lines[:1])
    if not first.admin:
        return replay(lines)  # no keyring (a store from before keys): nothing is trusted
    pinned = pinned_admin(data_folder, first.store_id) if data_folder is not None else ""
    ring = replay(lines, pinned)
    if not ring.admin:
        raise AdminChanged(place, ring.problems[0] if ring.problems else "no genesis")
    if data_folder is not None and not pinned:
        with contextlib.suppress(StoreError):  # a read-only data folder: pin next time
            pin_admin(data_folder, ring.store_id, ring.admin)
    return ring
