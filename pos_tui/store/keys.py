"""Private keys on this machine: the laptop's device key, a reviewer's key, administrators'.

Each is an Ed25519 key in PEM (PKCS#8) in the data folder's `keys/` (mode 0700), one file
per key, mode 0600, created with O_EXCL so two processes never make two keys for one role.
Nothing here is ever synced: sync copies visits and checklists, never this folder.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.domain.signatures import fingerprint_of
from pos_tui.store.storage import StoreError, StoreWriteFailed

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEYS_DIR = "keys"
DEVICE = "device"
REVIEWER = "reviewer"
KEY_FILE_LIMIT = 4096


def admin_role(store_id: str) -> str:
    """An administrator key is for one shared store."""
    return f"admin-{store_id}"


@dataclass(frozen=True)
class KeyFile:
    """A private key read from disk; signs, and shows its public half."""

    path: Path
    private: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.public_key)

    def sign(self, payload: bytes) -> bytes:
        return self.private.sign(payload)


def key_path(folder: Path, role: str) -> Path:
    return folder / KEYS_DIR / f"{role}.pem"


def load_key(folder: Path, role: str) -> KeyFile | None:
    """The key for `role`, None when there is none yet."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    path = key_path(folder, role)
    try:
        raw = read_regular_file(path, KEY_FILE_LIMIT, follow_links=False)
    except FileNotFoundError:
        return None
    except RefusedFile as refused:
        raise StoreError(f"The key file {path} cannot be used: {refused.reason}.") from None
    except OSError as error:
        raise StoreError(f"Cannot read the key file {path}: {error.strerror or error}.") from None
    _refuse_loose_permissions(path)
    try:
        private = load_pem_private_key(raw, password=None)
    except (ValueError, TypeError):
        raise StoreError(f"The key file {path} is damaged: it holds no private key.") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise StoreError(f"The key file {path} holds a key of another kind than Ed25519.")
    return KeyFile(path, private)


def ensure_key(folder: Path, role: str) -> tuple[KeyFile, bool]:
    """The key for `role`, made now if there is none; True when it was just made."""
    found = load_key(folder, role)
    if found is not None:
        return found, False
    return _make_key(folder, role), True


def _make_key(folder: Path, role: str) -> KeyFile:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    path = key_path(folder, role)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        # O_EXCL: a second process making the same key at the same moment fails here and
        # reads the first one's instead, so a role never has two keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing = load_key(folder, role)
        assert existing is not None
        return existing
    except OSError as error:
        raise StoreWriteFailed(path, error) from None
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        with contextlib.suppress(OSError):
            path.unlink()
        raise StoreWriteFailed(path, error) from None
    return KeyFile(path, private)


def _refuse_loose_permissions(path: Path) -> None:
    # Like ssh: a private key others can read is no longer only this user's.
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise StoreError(
            f"The key file {path} can be read by other users: run `chmod 600 {path}`"
            " and check who may have copied it."
        )
