"""Keys and the keyring, orchestrated: making a shared store, registering, trusting, revoking.

The domain says what an entry means (`domain/keyring.py`), the store keeps the files
(`store/keys.py`, `store/keyring.py`); this is the order things happen in, under the
shared store's lock so that two administrators never append after the same head.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pos_tui.domain.keyring import (
    ADMIN,
    PENDING,
    REVOKE,
    ROLES,
    TRUST,
    KeyEntry,
    Keyring,
)
from pos_tui.domain.redact import guard_text
from pos_tui.domain.signatures import encode, normalise_fingerprint
from pos_tui.store.keyring import append, create_genesis, pin_admin, trusted_keyring
from pos_tui.store.keys import KeyFile, admin_role, ensure_key, load_key
from pos_tui.store.shared import BATCHES_DIR, SharedStore
from pos_tui.store.storage import StoreError, StoreWriteFailed
from pos_tui.store.targets import Target, open_shared

if TYPE_CHECKING:
    from pos_tui.store.pg.store import PgSharedStore


@dataclass(frozen=True, slots=True)
class NewStore:
    folder: Target
    store_id: str
    admin_fingerprint: str
    existed: bool = False
    """A database store that was there already: only its schema was brought up to date."""


def init_shared_store(folder: Target, data_folder: Path, admin_name: str) -> NewStore:
    """A new, empty shared store at `folder`, with this machine's key as its administrator.

    A database (a URL) gets its schema made, or migrated when an earlier version made it;
    its keyring is started only when it has none, so running this again is safe.

    The folder may exist if it is empty (a share's folder made by its owner); a folder
    holding anything else is refused, so an existing store is never started over."""
    if isinstance(folder, str):
        return _init_database(folder, data_folder, admin_name)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise StoreError(
            f"{folder} is not an empty folder: a shared store is made in a new or empty one."
        )
    try:
        folder.mkdir(exist_ok=True)
        (folder / BATCHES_DIR).mkdir()
    except OSError as error:
        raise StoreWriteFailed(folder, error) from None
    import uuid

    store_id = uuid.uuid4().hex[:16]
    admin, _ = ensure_key(data_folder, admin_role(store_id))
    create_genesis(folder, admin, guard_text(admin_name.strip()), store_id)
    pin_admin(data_folder, store_id, admin.fingerprint)
    return NewStore(folder, store_id, admin.fingerprint)


def _init_database(url: str, data_folder: Path, admin_name: str) -> NewStore:
    from pos_tui.domain.keyring import replay
    from pos_tui.store.keyring import read_lines
    from pos_tui.store.pg.store import PgSharedStore

    with PgSharedStore.init(url) as store:
        ring = replay(read_lines(store))
        if ring.admin:
            return NewStore(url, ring.store_id, ring.admin, existed=True)
        import uuid

        store_id = uuid.uuid4().hex[:16]
        admin, _ = ensure_key(data_folder, admin_role(store_id))
        store.create_genesis(admin, guard_text(admin_name.strip()), store_id)
        pin_admin(data_folder, store_id, admin.fingerprint)
        return NewStore(url, store_id, admin.fingerprint)


def keyring(folder: Target, data_folder: Path | None) -> Keyring:
    with _opened(folder) as shared:  # a missing share is said as such
        return trusted_keyring(shared.keyring_place, data_folder)


@contextlib.contextmanager
def _opened(target: Target) -> Iterator[SharedStore | PgSharedStore]:
    shared = open_shared(target)
    try:
        yield shared
    finally:
        shared.close()


def register(folder: Target, data_folder: Path, key: KeyFile, detail: dict[str, str]) -> bool:
    """Ask the store's administrator to trust `key` (a pending entry); False when the
    keyring already knows it, or the store has no keyring to ask in."""
    with _opened(folder) as shared, shared.locked():
        ring = trusted_keyring(shared.keyring_place, data_folder)
        if not ring.admin or key.fingerprint in ring.keys:
            return False
        clean = {name: guard_text(value) for name, value in detail.items()}
        append(shared.keyring_place, {"action": PENDING, "detail": clean}, key, ring)
    return True


def _admin_key(data_folder: Path, ring: Keyring, folder: Target) -> KeyFile:
    key = load_key(data_folder, admin_role(ring.store_id))
    admins = {entry.fingerprint for entry in ring.trusted_with_role(ADMIN)}
    if key is None or key.fingerprint not in admins:
        raise StoreError(
            f"This machine holds no administrator key for the shared store at {folder}:"
            " trust and revoke on the machine that ran `pos-tui shared init`."
        )
    return key


def trust(
    folder: Target,
    data_folder: Path,
    fingerprint: str,
    name: str,
    role: str,
    employee_no: str = "",
) -> KeyEntry:
    """The administrator vouches for a key that asked (or was given by its public key)."""
    fingerprint = normalise_fingerprint(fingerprint)
    if role not in ROLES:
        raise StoreError(f"unknown role {role}: one of {', '.join(ROLES)}")
    if not name.strip():
        raise StoreError("give the person's name (--name), as it will show on every record.")

    def entry(ring: Keyring) -> dict[str, str]:
        known = ring.keys.get(fingerprint)
        if known is None:
            raise StoreError(
                f"The keyring does not know {fingerprint}: that laptop syncs once (or the"
                " reviewer runs `pos-tui keys init --reviewer --store ...`) to ask first."
            )
        if known.revoked_at:
            raise StoreError(f"{fingerprint} was revoked ({known.revoke_reason}): make a new key.")
        return {
            "action": TRUST,
            "public_key": encode(known.public_key),
            "role": role,
            "name": guard_text(name.strip()),
            "employee_no": guard_text(employee_no.strip()),
        }

    return _as_administrator(folder, data_folder, fingerprint, entry)


def revoke(folder: Target, data_folder: Path, fingerprint: str, reason: str) -> KeyEntry:
    fingerprint = normalise_fingerprint(fingerprint)
    if not reason.strip():
        raise StoreError("give the reason (--reason): it stays in the keyring for auditors.")

    def entry(ring: Keyring) -> dict[str, str]:
        if fingerprint not in ring.keys:
            raise StoreError(f"The keyring does not know {fingerprint}.")
        return {"action": REVOKE, "fingerprint": fingerprint, "reason": guard_text(reason)}

    return _as_administrator(folder, data_folder, fingerprint, entry)


def _as_administrator(
    folder: Target,
    data_folder: Path,
    fingerprint: str,
    entry: Callable[[Keyring], dict[str, str]],
) -> KeyEntry:
    """Append `entry(ring)`, signed by this machine's administrator key, under the shared
    lock (so no other administrator appends after the same head); the key's new standing."""
    with _opened(folder) as shared:
        with shared.locked():
            ring = trusted_keyring(shared.keyring_place, data_folder)
            admin = _admin_key(data_folder, ring, folder)
            append(shared.keyring_place, entry(ring), admin, ring)
        return trusted_keyring(shared.keyring_place, data_folder).keys[fingerprint]


def register_laptop(folder: Target, data_folder: Path, technician: str, device_id: str) -> bool:
    """After a sync: ask the store's administrator, once, to trust this laptop's key."""
    import socket

    from pos_tui.store.keys import DEVICE

    key, _made = ensure_key(data_folder, DEVICE)
    detail = {
        "host": socket.gethostname(),
        "name": technician,
        "role": "technician",
        "device_id": device_id,
    }
    return register(folder, data_folder, key, detail)
