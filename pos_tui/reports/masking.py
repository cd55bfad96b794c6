"""Card numbers masked once more on the way out.

Everything the app stores has been through `guard_text` already; reports and exports mask
again because a store file can be edited by hand or written by an older version, and a
report is exactly the thing that gets printed and mailed around.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pos_tui.domain.redact import mask_card_numbers

# Identifiers are not free text: a merchant number is 15 digits and one in ten passes the
# Luhn check, yet it is no card number and the report must show it whole.
IDENTITY_KEYS = frozenset(
    {
        "uuid",
        "id",
        "decision_id",
        "sha256",
        "content_sha256",
        "merchant_number",
        "terminal_number",
        "terminal_serial",
        "device_id",
        "checklist_id",
        "item_id",
    }
)


# Thirteen digits with at most single separators between them: the shortest card number.
# One search in C rules out nearly every string (timestamps, names, codes) of an export,
# which would otherwise spend most of its time in the full masking scan.
_MIGHT_HOLD_A_CARD = re.compile(r"[0-9](?:[ -]?[0-9]){12}")


def masked(text: str) -> str:
    return mask_card_numbers(text) if _MIGHT_HOLD_A_CARD.search(text) else text


def masked_tree(value: Any, key: str = "") -> Any:
    """A copy of a JSON-like value with every free-text string masked."""
    if isinstance(value, str):
        return value if key in IDENTITY_KEYS else masked(value)
    if isinstance(value, dict):
        # Keys too: a hand-edited file can put anything where a field id belongs.
        return {masked(str(k)): masked_tree(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked_tree(v, key) for v in value]
    return value


_IDENTITY_OPENINGS = tuple(f'"{key}": "' for key in IDENTITY_KEYS)


def dumps_masked(document: dict[str, Any]) -> str:
    """`document` as one line of JSON, its free text masked.

    Walking every string of a visit in Python would triple the time of an export, so the
    JSON text is searched once and the walk happens only when something that could be a
    card number sits outside an identity value (in practice: never).
    """
    text = json.dumps(document, ensure_ascii=False)
    suspects = _MIGHT_HOLD_A_CARD.finditer(text)
    if all(_in_identity_value(text, match.start()) for match in suspects):
        return text
    return json.dumps(masked_tree(document), ensure_ascii=False)


def _in_identity_value(text: str, at: int) -> bool:
    quote = text.rfind('"', 0, at)
    if quote <= 0 or text[quote - 1] == "\\":
        return False  # an escaped quote: let the careful walk decide
    return text.endswith(_IDENTITY_OPENINGS, 0, quote + 1)
