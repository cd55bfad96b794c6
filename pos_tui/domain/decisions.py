"""Signed review decisions and their chain: which decisions count, and which are forged.

A decision is signed by the reviewer's key over what it decides on: the visit, the exact
record (its signed hash), the decision, the comment and the time, and over `prev`, the
hash of the decision written before it in the store. So:

* a decision typed into the store by hand has no valid signature: forged;
* a decision rewritten afterwards no longer matches its signature: forged;
* a decision by a key the keyring does not trust as a reviewer: forged;
* a decision taken out of the log, or moved, leaves the next one naming a `prev` that is
  not the one before it: the gap is reported, and the decisions around it still count
  (each is genuinely signed) but the visit shows that its history was cut.

Only decisions that hold decide a visit's review state; the others are shown as forged.
Decisions from before signatures (no signature at all) are listed as unsigned and decide
nothing either: believing them is exactly the attack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pos_tui.domain.checklist import Text
from pos_tui.domain.keyring import REVIEWER, Keyring
from pos_tui.domain.session import Session
from pos_tui.domain.signatures import Signature, SignatureError, canonical, sha256_hex

SIGNED_FIELDS = ("id", "uuid", "record_sha256", "decision", "comment", "at", "prev")
ITEMS = "items"
"""The items a decision names (`[[checklist_id, item_id], ...]`): signed when the row has
the key at all, so that adding items to a decision signed without them makes it forged, and
absent otherwise, so that every decision signed before items existed keeps its bytes."""

VALID = "valid"
FORGED = "forged"
UNSIGNED = "unsigned"

# Why a decision is forged, as codes for exports.
NO_SIGNATURE = "no_signature"
BAD_SIGNATURE = "bad_signature"
UNTRUSTED_KEY = "untrusted_key"
REVOKED_KEY = "revoked_key"
GAP_BEFORE = "gap_before"
"""Not a forgery of this decision: one before it was removed or moved."""

DECISION_STATE_NAMES: dict[str, Text] = {
    VALID: Text("签名有效", "signed"),
    FORGED: Text("伪造（不予采信）", "FORGED (not counted)"),
    UNSIGNED: Text("无签名（不予采信）", "unsigned (not counted)"),
}
REASON_NAMES: dict[str, Text] = {
    NO_SIGNATURE: Text("没有审核人签名", "it carries no reviewer's signature"),
    BAD_SIGNATURE: Text("内容与签名不符", "its content does not match its signature"),
    UNTRUSTED_KEY: Text("签名密钥不是受信任的审核人", "the signing key is not a trusted reviewer"),
    REVOKED_KEY: Text("签名密钥已被吊销", "the signing key had been revoked"),
    GAP_BEFORE: Text(
        "此前的审核记录被删除或移动", "a decision before this one was removed or moved"
    ),
}


@dataclass(frozen=True, slots=True)
class CheckedDecision:
    row: Mapping[str, Any]
    state: str
    reasons: tuple[str, ...] = ()
    reviewer_name: str = ""
    """The name the keyring gives the signing key: never the name written in the row."""

    @property
    def counts(self) -> bool:
        return self.state == VALID

    @property
    def uuid(self) -> str:
        return str(self.row.get("uuid", ""))


def signed_part(row: Mapping[str, Any]) -> dict[str, Any]:
    part = {name: row.get(name, "") for name in SIGNED_FIELDS}
    if ITEMS in row:
        part[ITEMS] = row[ITEMS]
    return part


def decision_items(row: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The (checklist_id, item_id) pairs a decision names; only well-formed pairs, since the
    row comes from the shared folder that anyone can write."""
    found = row.get(ITEMS)
    if not isinstance(found, list | tuple):
        return ()
    return tuple(
        (pair[0], pair[1])
        for pair in found
        if isinstance(pair, list | tuple)
        and len(pair) == 2
        and isinstance(pair[0], str)
        and isinstance(pair[1], str)
    )


def names_record(decision: Mapping[str, Any], record: str) -> bool:
    """Whether a decision is about this very record (`record_sha256`): an amendment is a new
    record, and the decision that sent the one before back does not decide it."""
    return str(decision.get("record_sha256", "")) == record


def decision_hash(row: Mapping[str, Any]) -> str:
    """What the next decision's `prev` names: this row as stored, signature included."""
    return sha256_hex(canonical(dict(row)))


def check_log(
    rows: Iterable[Mapping[str, Any]], ring: Keyring, prev: str = ""
) -> list[CheckedDecision]:
    """Every decision of the store's log, in log order, with what can be believed of it.

    `prev`: the hash of the decision before the first of `rows`, for a reader that checked
    the log up to there already and reads only what came after (a laptop's sync)."""
    checked: list[CheckedDecision] = []
    previous = prev
    for row in rows:
        reasons: list[str] = []
        state, name = _signature_state(row, ring, reasons)
        if row.get("prev", "") != previous and state != UNSIGNED:
            reasons.append(GAP_BEFORE)
        checked.append(CheckedDecision(row, state, tuple(reasons), name))
        previous = decision_hash(row)
    return checked


def _signature_state(row: Mapping[str, Any], ring: Keyring, reasons: list[str]) -> tuple[str, str]:
    raw = row.get("signature")
    if raw is None:
        reasons.append(NO_SIGNATURE)
        return UNSIGNED, ""
    try:
        signature = Signature.from_dict(raw)
    except SignatureError:
        reasons.append(BAD_SIGNATURE)
        return FORGED, ""
    if not signature.verifies(canonical(signed_part(row))):
        reasons.append(BAD_SIGNATURE)
        return FORGED, ""
    standing = ring.standing(signature.fingerprint, str(row.get("at", "")), REVIEWER)
    if standing.state in ("trusted", "revoked_later"):
        return VALID, ring.name_of(signature.fingerprint)
    reasons.append(REVOKED_KEY if standing.state == "revoked" else UNTRUSTED_KEY)
    return FORGED, ""


def counted(checked: Iterable[CheckedDecision]) -> list[dict[str, Any]]:
    """The decisions that decide review states, with the keyring's name for the reviewer."""
    return [dict(c.row) | {"reviewer": c.reviewer_name} for c in checked if c.counts]


def has_gap(checked: Iterable[CheckedDecision]) -> bool:
    return any(GAP_BEFORE in c.reasons for c in checked)


def record_sha256(session: Session) -> str:
    """What a decision is about, exactly: the hash of the bytes the laptop signed (or, for
    a record from before signatures, of its content)."""
    if session.signature is not None:
        return sha256_hex(session.signed_payload())
    return session.content_hash()


def reason_name(reason: str, lang: str) -> str:
    text = REASON_NAMES.get(reason)
    return reason if text is None else text.get(lang)
