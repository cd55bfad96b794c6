"""THE integrity rule: can a visit record be relied on as it was signed, and if not, why.

Every place that shows or exports a visit (the review list and detail, both report formats,
the CSV and JSON exports) asks `integrity()` and shows its one verdict, so a printed report
can never say "matches as signed" while the review screen says "altered".

A record names the hash of its content in three places: the visit itself, its "signed"
event, and the shared index row it was synced under. Content that no longer hashes to any
one of them is altered: someone who changes an answer and recomputes the visit's own hash
still leaves the other two behind. What a hash cannot catch is someone who rewrites all
three; the laptop's signature does: at sign-off its Ed25519 key signs the content and the
events up to then (`Session.signed_payload`), and the shared store's keyring says whose key
that is. So a record is:

* verified: the signature holds and a key the keyring trusts as a technician's made it
  (also when that key was revoked later: "signed before revocation" is then a reason);
* altered: the content or any hash disagrees, or the signature does not hold;
* unknown_signer: the signature holds, but the key is pending, unknown, revoked before it
  signed, or not a technician's: "from an unverified device";
* unsigned: never signed off, or signed off before keys existed (hashes only, nothing
  proves who signed it);
* intact: the signature holds and no keyring was asked (the laptop's own store, which
  holds its own key): what the technician's summary and report show.

Callers ask `trusted`, `problem` and the name tables, never compare states themselves.

Pure: takes a `Session`, the index row and the keyring as plain values; no store, no UI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pos_tui.domain.checklist import Text
from pos_tui.domain.keyring import TECHNICIAN, Keyring
from pos_tui.domain.session import Session, Status
from pos_tui.domain.signatures import canonical, sha256_hex

INTACT = "intact"
"""Signed, every hash agrees and the signature holds; no keyring was asked whose key it is."""
VERIFIED = "verified"
"""A key the keyring trusts as a technician's signed exactly this content."""
ALTERED = "altered"
UNKNOWN_SIGNER = "unknown_signer"
"""Signed by a key that is not (or no longer) trusted: from an unverified device."""
UNSIGNED = "unsigned"
UNREADABLE = "unreadable"
"""The record could not be read or parsed at all, so nothing about it can be vouched for."""

STATES = (ALTERED, UNREADABLE, UNKNOWN_SIGNER, UNSIGNED, INTACT, VERIFIED)
"""Worst first: sorting by integrity puts what must not be relied on at the top."""
TRUSTED = frozenset({INTACT, VERIFIED})
STATE_ORDER = {state: rank for rank, state in enumerate(STATES)}

# Why a record is not trusted: codes, so exports stay language-free.
CONTENT_CHANGED = "content_changed"
HASH_MISSING = "hash_missing"
INDEX_DIFFERS = "index_differs"
INDEX_HASH_MISSING = "index_hash_missing"
SIGNED_EVENT_DIFFERS = "signed_event_differs"
SIGNED_EVENT_MISSING = "signed_event_missing"
NOT_SIGNED = "not_signed"
RECORD_UNREADABLE = "record_unreadable"
SIGNATURE_FAILS = "signature_fails"
NO_SIGNATURE = "no_signature"
KEY_PENDING = "key_pending"
KEY_UNKNOWN = "key_unknown"
KEY_REVOKED = "key_revoked"
KEY_WRONG_ROLE = "key_wrong_role"
AMENDING = "amending"
"""Not signed again yet: a signed visit reopened for an amendment, on the laptop."""
CORRECTION_BROKEN = "correction_broken"
EVIDENCE_MISSING = "evidence_missing"
EVIDENCE_REPLACED = "evidence_replaced"
SIGNED_BEFORE_REVOCATION = "signed_before_revocation"
"""Not a problem: said beside "verified" so an auditor knows the key is revoked now."""
REASONS = (
    SIGNATURE_FAILS,
    NO_SIGNATURE,
    KEY_PENDING,
    KEY_UNKNOWN,
    KEY_REVOKED,
    KEY_WRONG_ROLE,
    SIGNED_BEFORE_REVOCATION,
    CONTENT_CHANGED,
    HASH_MISSING,
    INDEX_DIFFERS,
    INDEX_HASH_MISSING,
    SIGNED_EVENT_DIFFERS,
    SIGNED_EVENT_MISSING,
    NOT_SIGNED,
    RECORD_UNREADABLE,
    EVIDENCE_MISSING,
    EVIDENCE_REPLACED,
    AMENDING,
    CORRECTION_BROKEN,
)

INTEGRITY_NAMES: dict[str, Text] = {
    INTACT: Text("完整", "Intact"),
    VERIFIED: Text("签名已验证", "Verified"),
    ALTERED: Text("已被改动", "ALTERED"),
    UNKNOWN_SIGNER: Text("签名人未知", "Unknown signer"),
    UNSIGNED: Text("未签署", "Unsigned"),
    UNREADABLE: Text("无法读取", "Unreadable"),
}
"""One or two words, for a list column or a CSV reader; a state without a name shows its code."""

REASON_NAMES: dict[str, Text] = {
    CONTENT_CHANGED: Text(
        "内容与访问自身记录的签署哈希不符", "the content no longer matches the visit's own hash"
    ),
    HASH_MISSING: Text(
        "已签署的访问缺少内容哈希", "the visit is signed but its content hash has been removed"
    ),
    INDEX_DIFFERS: Text(
        "内容与同步时共享索引记录的哈希不符",
        "the content no longer matches the hash the shared index recorded at sync",
    ),
    INDEX_HASH_MISSING: Text(
        "共享索引中的哈希已被删除", "the hash in the shared index has been removed"
    ),
    SIGNED_EVENT_DIFFERS: Text(
        "内容与签署事件记录的哈希不符",
        "the content no longer matches the hash its signing event recorded",
    ),
    SIGNED_EVENT_MISSING: Text(
        "已签署的访问缺少签署事件", "the visit is signed but its signing event is missing"
    ),
    NOT_SIGNED: Text("尚未签署", "not signed yet"),
    RECORD_UNREADABLE: Text(
        "记录文件损坏或缺失，无法核对", "the record is damaged or missing and cannot be checked"
    ),
    SIGNATURE_FAILS: Text(
        "设备签名与内容不符（内容或签名被改动）",
        "the laptop's signature does not match the content (content or signature changed)",
    ),
    NO_SIGNATURE: Text(
        "签署于启用签名之前，无法证明由谁签署",
        "signed off before signatures existed: nothing proves who signed it",
    ),
    KEY_PENDING: Text(
        "来自尚未验证的设备（管理员尚未信任其密钥）",
        "from an unverified device: the administrator has not trusted its key yet",
    ),
    KEY_UNKNOWN: Text(
        "签名密钥不在共享库的密钥清单中", "signed by a key the shared store's keyring does not know"
    ),
    KEY_REVOKED: Text("签名时密钥已被吊销", "signed by a key that had already been revoked"),
    KEY_WRONG_ROLE: Text("签名密钥不属于技术员", "signed by a key that is not a technician's"),
    SIGNED_BEFORE_REVOCATION: Text("签署于密钥吊销之前", "signed before the key was revoked"),
    AMENDING: Text("正在更正，尚未重新签署", "being amended: not signed again yet"),
    CORRECTION_BROKEN: Text(
        "更正记录与此前的签署不符（更正链被改动）",
        "the amendment does not name the revision signed before it (the chain was changed)",
    ),
    EVIDENCE_MISSING: Text(
        "记录所附的照片或文件在库中缺失",
        "a photo or file the record names is missing from the store",
    ),
    EVIDENCE_REPLACED: Text(
        "记录所附的照片或文件已被替换（哈希不符）",
        "a photo or file the record names has been replaced (its hash differs)",
    ),
}


@dataclass(frozen=True, slots=True)
class Integrity:
    """One verdict about one record: its state, every reason behind it, and a conflict.

    `conflict` is apart from the state: two different records synced under one revision
    may each be intact, and a supervisor must still check which one is right.
    """

    state: str
    reasons: tuple[str, ...] = ()
    conflict: bool = False

    @property
    def trusted(self) -> bool:
        return self.state in TRUSTED

    @property
    def problem(self) -> bool:
        """Anything a supervisor should look at before relying on the record."""
        return not self.trusted or self.conflict

    @property
    def warnings(self) -> tuple[str, ...]:
        """What to warn about, worst first: the state when untrusted, then the conflict."""
        found = () if self.trusted else (self.state,)
        return (*found, "conflict") if self.conflict else found

    def name(self, lang: str) -> str:
        return state_name(self.state, lang)

    def reason_text(self, lang: str) -> tuple[str, ...]:
        return tuple(reason_name(reason, lang) for reason in self.reasons)


def state_name(state: str, lang: str) -> str:
    text = INTEGRITY_NAMES.get(state)
    return state if text is None else text.get(lang)


def reason_name(reason: str, lang: str) -> str:
    text = REASON_NAMES.get(reason)
    return reason if text is None else text.get(lang)


def unreadable(row: Mapping[str, Any] | None = None) -> Integrity:
    """For a record the store could not read: the session never reached the rule."""
    return Integrity(UNREADABLE, (RECORD_UNREADABLE,), bool((row or {}).get("conflict")))


def integrity(
    session: Session,
    row: Mapping[str, Any] | None = None,
    keyring: Keyring | None = None,
    files: Mapping[str, str] | None = None,
) -> Integrity:
    """The verdict on `session` as read from a store, with the index `row` it came from.

    `row` is the store's index row (its `content_sha256` and `conflict`), or None when
    the session has no row (a visit open in the technician's app). `keyring`: the shared
    store's, to say whose key signed; None where none applies (the laptop's own store).
    `files`: what the store found wrong with the evidence files the record names, by
    hash ("missing" or "replaced"); the record's hash covers each file's hash, and this
    says whether the files still have them.
    """
    row = row or {}
    conflict = bool(row.get("conflict"))
    signed_events = [event for event in session.events if event.what == "signed"]
    # Any sign of having been signed counts: stripping the hash and the sign-off off a
    # record must not turn it into an innocent-looking draft.
    was_signed = (
        session.signoff is not None
        or session.status is not Status.DRAFT
        or session.content_sha256 is not None
        or bool(row.get("content_sha256"))
        or bool(signed_events)
        or session.signature is not None
    )
    if not was_signed:
        return Integrity(UNSIGNED, (NOT_SIGNED,), conflict)
    if session.amending and session.content_sha256 is None and session.signature is None:
        # The revision it corrects is kept, signed, beside it; this one is a draft again.
        return Integrity(UNSIGNED, (AMENDING,), conflict)
    content = canonical(session.content())
    actual = sha256_hex(content)
    reasons = _hash_reasons(session, row, signed_events, actual)
    found = set((files or {}).values())
    reasons += [reason for problem, reason in _FILE_REASONS if problem in found]
    signature = session.signature
    if signature is not None and not signature.verifies(session.signed_payload(content)):
        reasons.append(SIGNATURE_FAILS)
    if reasons:
        return Integrity(ALTERED, tuple(reasons), conflict)
    if signature is None:
        return Integrity(UNSIGNED, (NO_SIGNATURE,), conflict)
    if keyring is None:
        return Integrity(INTACT, (), conflict)
    signed_at = session.signoff.at if session.signoff is not None else ""
    standing = keyring.standing(signature.fingerprint, signed_at, TECHNICIAN)
    if standing.state == "trusted":
        return Integrity(VERIFIED, (), conflict)
    if standing.state == "revoked_later":
        return Integrity(VERIFIED, (SIGNED_BEFORE_REVOCATION,), conflict)
    why = {"pending": KEY_PENDING, "revoked": KEY_REVOKED, "wrong_role": KEY_WRONG_ROLE}
    return Integrity(UNKNOWN_SIGNER, (why.get(standing.state, KEY_UNKNOWN),), conflict)


_FILE_REASONS = (("missing", EVIDENCE_MISSING), ("replaced", EVIDENCE_REPLACED))


def _hash_reasons(
    session: Session, row: Mapping[str, Any], signed_events: list[Any], actual: str
) -> list[str]:
    reasons: list[str] = []
    if session.content_sha256 is None:
        reasons.append(HASH_MISSING)
    elif session.content_sha256 != actual:
        reasons.append(CONTENT_CHANGED)
    if "content_sha256" in row:
        if not row["content_sha256"]:
            reasons.append(INDEX_HASH_MISSING)
        elif row["content_sha256"] != actual:
            reasons.append(INDEX_DIFFERS)
    if not signed_events:
        reasons.append(SIGNED_EVENT_MISSING)
    elif signed_events[-1].detail.get("content_sha256") != actual:
        reasons.append(SIGNED_EVENT_DIFFERS)
    if not _chain_holds(session, signed_events):
        reasons.append(CORRECTION_BROKEN)
    return reasons


def _chain_holds(session: Session, signed_events: list[Any]) -> bool:
    """An amended record names, in its signed content, the revision signed before it: the
    one before the last sign-off in its own log. A record signed twice that names none, or
    names another, has had its history changed."""
    if len(signed_events) < 2:
        return session.corrects is None
    before = signed_events[-2].detail.get("content_sha256")
    return session.corrects is not None and session.corrects.content_sha256 == before


def signer_name(session: Session, keyring: Keyring | None) -> str:
    """Who signed, as the keyring names the key; "" when it does not (or no keyring)."""
    if keyring is None or session.signature is None:
        return ""
    return keyring.name_of(session.signature.fingerprint)


__all__ = [
    "ALTERED",
    "AMENDING",
    "CORRECTION_BROKEN",
    "INTACT",
    "INTEGRITY_NAMES",
    "REASONS",
    "REASON_NAMES",
    "STATES",
    "STATE_ORDER",
    "TRUSTED",
    "UNKNOWN_SIGNER",
    "UNREADABLE",
    "UNSIGNED",
    "VERIFIED",
    "Integrity",
    "integrity",
    "reason_name",
    "signer_name",
    "state_name",
    "unreadable",
]
