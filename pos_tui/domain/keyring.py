"""Who is who: the shared store's keyring, replayed from its signed, chained entries.

The keyring is a log. Its first entry (genesis) names the store's administrator key and
is signed by it; every later entry names the one before it by hash, so an entry taken out
or moved breaks the chain. Only entries signed by a trusted administrator change who is
trusted: `trust` and `revoke`. A laptop's `pending` entry (signed by its own key, to prove
it holds it) only asks; until an administrator trusts that key, what it signs shows as
from an unverified device.

The log is read, never believed: a line whose signature fails, whose chain link is wrong,
or that an untrusted key signed is kept out of the state and listed in `problems`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pos_tui.domain.signatures import (
    Signature,
    SignatureError,
    canonical,
    decode,
    fingerprint_of,
    sha256_hex,
)

GENESIS = "genesis"
TRUST = "trust"
REVOKE = "revoke"
PENDING = "pending"
ACTIONS = (GENESIS, TRUST, REVOKE, PENDING)

TECHNICIAN = "technician"
REVIEWER = "reviewer"
ADMIN = "admin"
ROLES = (TECHNICIAN, REVIEWER, ADMIN)


@dataclass
class KeyEntry:
    """What the keyring says of one key."""

    fingerprint: str
    public_key: bytes
    role: str = ""
    name: str = ""
    employee_no: str = ""
    trusted_at: str = ""
    revoked_at: str = ""
    revoke_reason: str = ""
    pending_since: str = ""
    pending_detail: dict[str, str] = field(default_factory=dict)

    @property
    def trusted(self) -> bool:
        return bool(self.trusted_at) and not self.revoked_at


@dataclass(frozen=True, slots=True)
class Standing:
    """A key's standing for a signature made at `at`: the integrity rule reads this."""

    state: str
    """trusted | revoked_later (trusted, revoked after `at`) | revoked | pending | unknown
    | wrong_role (a trusted key, but not for this: a technician's key signing a decision)"""
    entry: KeyEntry | None = None


@dataclass
class Keyring:
    store_id: str = ""
    admin: str = ""
    """The fingerprint of the genesis administrator key; empty for a store without a keyring."""
    keys: dict[str, KeyEntry] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    head: str = ""
    """The hash of the last good entry: the `prev` of the next one."""
    length: int = 0

    def standing(self, fingerprint: str, at: str, role: str) -> Standing:
        """How far a signature by `fingerprint`, made at `at`, in `role`, can be trusted.

        Times are ISO 8601 with an offset, as pos-tui writes them; they compare as text only
        within one offset, so they are compared as instants."""
        entry = self.keys.get(fingerprint)
        if entry is None:
            return Standing("unknown")
        if not entry.trusted_at:
            return Standing("pending" if entry.pending_since else "unknown", entry)
        if not _role_may(entry.role, role):
            return Standing("wrong_role", entry)
        if entry.revoked_at:
            if at and _before(at, entry.revoked_at):
                return Standing("revoked_later", entry)
            return Standing("revoked", entry)
        return Standing("trusted", entry)

    def name_of(self, fingerprint: str) -> str:
        entry = self.keys.get(fingerprint)
        return entry.name if entry is not None and entry.trusted_at else ""

    def trusted_with_role(self, role: str) -> list[KeyEntry]:
        return [e for e in self.keys.values() if e.trusted and _role_may(e.role, role)]


def _role_may(has: str, needed: str) -> bool:
    # An administrator may review; a technician key signs visits only.
    return has == needed or (has == ADMIN and needed == REVIEWER)


def _before(earlier: str, later: str) -> bool:
    from datetime import datetime

    try:
        return datetime.fromisoformat(earlier) < datetime.fromisoformat(later)
    except ValueError:
        return False


def entry_hash(line: Mapping[str, Any]) -> str:
    """What the next entry's `prev` must say: the hash of this whole line, signature too."""
    return sha256_hex(canonical(dict(line)))


def signed_entry(entry: dict[str, Any], signature: Signature) -> dict[str, Any]:
    return {"entry": entry, "signature": signature.to_dict()}


def replay(lines: Iterable[Mapping[str, Any]], pinned_admin: str = "") -> Keyring:
    """The keyring's state from its log. `pinned_admin`: the administrator fingerprint this
    machine saw before; a genesis by another key is refused, whatever the folder says."""
    ring = Keyring()
    for number, line in enumerate(lines, start=1):
        problem = _apply(ring, line, pinned_admin)
        if problem:
            ring.problems.append(f"keyring entry {number}: {problem}")
    return ring


def _apply(ring: Keyring, line: Mapping[str, Any], pinned_admin: str) -> str:
    entry = line.get("entry")
    if not isinstance(entry, dict):
        return "not an entry (a line cut short by a crash, or written by hand)"
    try:
        signature = Signature.from_dict(line.get("signature"))
    except SignatureError as error:
        return str(error)
    if not signature.verifies(canonical(entry)):
        return "its signature does not match its content (forged or altered)"
    if entry.get("prev", "") != ring.head:
        return "it does not follow the entry before it (an entry was removed or moved)"
    action = entry.get("action")
    if action == GENESIS:
        return _genesis(ring, entry, signature, pinned_admin, line)
    if not ring.admin:
        return "it comes before the store's genesis entry"
    signer = ring.keys.get(signature.fingerprint)
    at = str(entry.get("at", ""))
    if action == PENDING:
        return _pending(ring, entry, signature, at, line)
    if signer is None or not signer.trusted or signer.role != ADMIN:
        return f"signed by {signature.fingerprint}, which is not a trusted administrator key"
    if action == TRUST:
        return _trust(ring, entry, at, line)
    if action == REVOKE:
        return _revoke(ring, entry, at, line)
    return f"unknown action {action!r}"


def _advance(ring: Keyring, line: Mapping[str, Any]) -> str:
    ring.head = entry_hash(line)
    ring.length += 1
    return ""


def _genesis(
    ring: Keyring,
    entry: dict[str, Any],
    signature: Signature,
    pinned_admin: str,
    line: Mapping[str, Any],
) -> str:
    if ring.admin:
        return "a second genesis entry"
    if pinned_admin and signature.fingerprint != pinned_admin:
        return (
            f"the store's administrator key is {signature.fingerprint}, but this machine"
            f" knows it as {pinned_admin}: the keyring was replaced"
        )
    ring.admin = signature.fingerprint
    ring.store_id = str(entry.get("store_id", ""))
    ring.keys[signature.fingerprint] = KeyEntry(
        signature.fingerprint,
        signature.public_key,
        role=ADMIN,
        name=str(entry.get("name", "")),
        trusted_at=str(entry.get("at", "")),
    )
    return _advance(ring, line)


def _key_of(entry: dict[str, Any]) -> tuple[str, bytes]:
    public_key = decode(entry.get("public_key"), "public key")
    return fingerprint_of(public_key), public_key


def _pending(
    ring: Keyring, entry: dict[str, Any], signature: Signature, at: str, line: Mapping[str, Any]
) -> str:
    # Signed by the key it registers: whoever wrote it holds that key.
    fingerprint = signature.fingerprint
    known = ring.keys.setdefault(fingerprint, KeyEntry(fingerprint, signature.public_key))
    if not known.pending_since:
        known.pending_since = at
        detail = entry.get("detail", {})
        if isinstance(detail, dict):
            known.pending_detail = {str(k): str(v) for k, v in detail.items()}
    return _advance(ring, line)


def _trust(ring: Keyring, entry: dict[str, Any], at: str, line: Mapping[str, Any]) -> str:
    try:
        fingerprint, public_key = _key_of(entry)
    except SignatureError as error:
        return str(error)
    role = entry.get("role")
    if role not in ROLES:
        return f"unknown role {role!r}"
    known = ring.keys.setdefault(fingerprint, KeyEntry(fingerprint, public_key))
    if known.revoked_at:
        return f"{fingerprint} was revoked; a revoked key is never trusted again"
    known.role = str(role)
    known.name = str(entry.get("name", ""))
    known.employee_no = str(entry.get("employee_no", ""))
    known.trusted_at = known.trusted_at or at
    return _advance(ring, line)


def _revoke(ring: Keyring, entry: dict[str, Any], at: str, line: Mapping[str, Any]) -> str:
    fingerprint = str(entry.get("fingerprint", ""))
    known = ring.keys.get(fingerprint)
    if known is None:
        return f"revokes {fingerprint}, which the keyring does not know"
    if fingerprint == ring.admin:
        return "the genesis administrator key cannot revoke itself"
    known.revoked_at = known.revoked_at or at
    known.revoke_reason = str(entry.get("reason", ""))
    return _advance(ring, line)
