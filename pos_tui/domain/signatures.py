"""Ed25519 signatures over canonical JSON, and fingerprints a person can read aloud.

Pure: the private keys live in the store (`store/keys.py`); this module only turns a
document into the exact bytes that are signed, checks a signature against a public key,
and names a key by its fingerprint. `cryptography` is imported on first use: it costs
about 65 ms, which the app's start-up does not pay.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

FINGERPRINT_BYTES = 20
"""160 bits of the key's SHA-256: 32 characters of base32, read out in 8 groups of 4."""

_GROUP = 4


class SignatureError(ValueError):
    """A signature block that is not even well formed (as opposed to one that fails)."""


def canonical(document: Any) -> bytes:
    """The one byte form of a document that is signed and hashed: sorted keys, no spaces,
    UTF-8 as is. Any change to any value changes these bytes."""
    return json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def sha256_hex(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def fingerprint_of(public_key: bytes) -> str:
    """Base32 (no 0/1/8/9 to confuse with O/I/B/g), grouped: `K7QX-M2PA-…`, 8 groups."""
    digest = hashlib.sha256(public_key).digest()[:FINGERPRINT_BYTES]
    text = base64.b32encode(digest).decode("ascii").rstrip("=")
    return "-".join(text[i : i + _GROUP] for i in range(0, len(text), _GROUP))


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as typed (any case, spaces or dashes, or none) in its printed form."""
    letters = "".join(ch for ch in text.upper() if ch.isalnum())
    return "-".join(letters[i : i + _GROUP] for i in range(0, len(letters), _GROUP))


def encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def decode(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise SignatureError(f"the {what} is not text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise SignatureError(f"the {what} is not base64") from None


class Signer(Protocol):
    """A private key that can sign; the store's key files are one kind."""

    @property
    def public_key(self) -> bytes: ...

    def sign(self, payload: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Signature:
    """A signature as it travels with what it signs: who (by key) and the signature."""

    public_key: bytes
    value: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.public_key)

    def to_dict(self) -> dict[str, str]:
        return {
            "fingerprint": self.fingerprint,
            "public_key": encode(self.public_key),
            "signature": encode(self.value),
        }

    @classmethod
    def from_dict(cls, data: object) -> Signature:
        if not isinstance(data, dict):
            raise SignatureError("the signature is not a mapping")
        signature = cls(
            decode(data.get("public_key"), "public key"), decode(data.get("signature"), "signature")
        )
        if data.get("fingerprint") != signature.fingerprint:
            raise SignatureError("the fingerprint does not belong to the public key")
        return signature

    def verifies(self, payload: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(self.value, payload)
        except (InvalidSignature, ValueError):
            return False
        return True


def sign(signer: Signer, payload: bytes) -> Signature:
    return Signature(signer.public_key, signer.sign(payload))
