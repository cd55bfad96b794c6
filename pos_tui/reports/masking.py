"""Card numbers masked once more on the way out.

Everything the app stores has been through `guard_text` already; reports and exports mask
again because a store file can be edited by hand or written by an older version, and a
report is exactly the thing that gets printed and mailed around. Track data, which a store
should never hold, is replaced rather than refused: an export cannot refuse what is there.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pos_tui.domain.identifiers import FIELDS as IDENTIFIERS
from pos_tui.domain.redact import mask_card_data, skeleton

# Written by the app, never typed: uuids and hex digests, which now and then hold thirteen
# digits in a row that pass the Luhn check.
TECHNICAL_KEYS = frozenset(
    {
        "uuid",
        "id",
        "decision_id",
        "sha256",
        "content_sha256",
        "checklist_id",
        "item_id",
        # The links of amendments and follow-ups (and the "amending" event's `corrects`).
        "supersedes",
        "corrects",
        "merchant_part_sha256",
        "of_uuid",
        "of_content_sha256",
        "follow_up_of",
    }
)
# Identifiers are not free text either (a merchant number passes the Luhn check one time in
# ten), but they are typed: each is shown whole only when its own rule accepts it.
IDENTITY_KEYS = TECHNICAL_KEYS | frozenset(IDENTIFIERS)


def masked(text: str) -> str:
    return mask_card_data(text)


def masked_tree(value: Any, key: str = "") -> Any:
    """A copy of a JSON-like value with every free-text string masked."""
    if isinstance(value, str):
        return value if _shown_whole(key, value) else masked(value)
    if isinstance(value, dict):
        # Keys too: a hand-edited file can put anything where a field id belongs.
        return {masked(str(k)): masked_tree(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked_tree(v, key) for v in value]
    return value


def _shown_whole(key: str, value: str) -> bool:
    if key in TECHNICAL_KEYS:
        return True
    identifier = IDENTIFIERS.get(key)
    return identifier is not None and identifier.shown_whole(value)


# Where card data could be, on the skeleton of JSON text (there a backslash is "/" and an
# escaped new line "/n", which separate digits too): thirteen digits with separators between
# them, or twelve and a "D" (the shortest EMV PAN in a tag 57; in a tag 5A its length byte
# makes it fourteen digits).
_SEPARATED = r'(?:/u[0-9A-Fa-f]{4}|/[nrtfb"/]|[ \n\-./_])*+'
_MIGHT_HOLD_A_CARD = re.compile(
    r'[0-9](?=[0-9 \n\-./_"a-fA-Fnrtu]{12})'  # a quick look ahead, to fail fast
    rf"(?:{_SEPARATED}[0-9]){{11}}{_SEPARATED}[0-9Dd]"
)
_DECODER = json.JSONDecoder()
_IDENTITY_OPENINGS = tuple(f'"{key}": "' for key in IDENTITY_KEYS)


def dumps_masked(document: dict[str, Any]) -> str:
    """`document` as one line of JSON, its free text masked.

    Walking every string of a visit in Python would triple the time of an export, so the
    JSON text is searched once, and only the strings where something that could be card data
    sits are looked at; the walk happens only when one of them would change (in practice:
    never).
    """
    text = json.dumps(document, ensure_ascii=False)
    shape, origin = skeleton(text)
    if origin is None:
        seen: dict[int, bool] = {}
        suspects = _MIGHT_HOLD_A_CARD.finditer(shape)
        if all(_unchanged_at(text, match.start(), seen) for match in suspects):
            return text
    return json.dumps(masked_tree(document), ensure_ascii=False)


def _unchanged_at(text: str, at: int, seen: dict[int, bool]) -> bool:
    """Whether the JSON string holding ``text[at]`` would be written as it is."""
    quote = text.rfind('"', 0, at)
    if quote <= 0 or text[quote - 1] == "\\":
        return False  # an escaped quote: let the careful walk decide
    if quote not in seen:
        try:
            value, end = _DECODER.raw_decode(text, quote)
        except ValueError:
            value, end = None, 0
        if not isinstance(value, str) or end <= at:
            seen[quote] = False  # not inside a string after all: let the careful walk decide
        else:
            opening = next((o for o in _IDENTITY_OPENINGS if text.endswith(o, 0, quote + 1)), "")
            key = opening[1 : opening.find('"', 1)] if opening else ""
            seen[quote] = _shown_whole(key, value) or masked(value) == value
    return seen[quote]
