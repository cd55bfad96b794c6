"""Keep card data out of everything pos_tui stores.

The product rule: the app never stores a full card number, track data, a PIN or a CVV.
Notes and field values pass through :func:`guard_text` on every save:

* a 13 to 19 digit number that passes the Luhn check is masked to ``****`` plus its last four
  digits; single spaces or dashes may separate its digits ("6222 0212 3456 7890 128");
* text that looks like magnetic stripe track data is refused with :class:`CardDataError`,
  because masking the PAN would still leave the expiry and service code behind.

A PIN or CVV cannot be recognised in free text, so checklists must not ask for one:
:func:`is_forbidden_field_id` lets the checklist validator refuse such fields.

Pure standard library: the domain layer must not depend on UI or storage packages.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Final

__all__ = [
    "FORBIDDEN_FIELD_WORDS",
    "MASK_PREFIX",
    "CardDataError",
    "guard_text",
    "is_forbidden_field_id",
    "looks_like_track_data",
    "luhn_valid",
    "mask_card_numbers",
]

# Four asterisks and four digits: too few digits to ever be mistaken for a card number again.
MASK_PREFIX: Final = "****"

_MIN_PAN: Final = 13
_MAX_PAN: Final = 19
_KEPT_DIGITS: Final = 4

# The Luhn value of each digit once doubled (a two-digit product contributes its digit sum).
_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)

# A run is digits joined by single spaces or dashes. Every repetition must start with a
# separator, so there is exactly one way to match and the scan stays linear on any input.
# ASCII digits only: `\d` would also accept digits of other scripts that int() reads.
_DIGIT_RUN: Final = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
_DIGIT_GROUP: Final = re.compile(r"[0-9]+")

# Every repetition is bounded, so none of these can backtrack catastrophically.
_TRACK_DATA: Final = re.compile(
    r"""
      %[Bb][0-9]{13,19}\^                    # track 1 start sentinel, format code, PAN
    | [Bb][0-9]{13,19}\^[^^\r\n]{0,80}\^     # track 1 without sentinel: B PAN ^ NAME ^
    | ;[0-9]{13,19}=                         # track 2 start sentinel, PAN, separator
    | (?<![0-9])[0-9]{13,19}[=Dd][0-9]{4}    # track 2 without sentinel: PAN = YYMM;
                                             # "D" is the separator in EMV tag 57 dumps
    """,
    re.VERBOSE,
)

_TRACK_DATA_EN: Final = (
    "This text looks like magnetic stripe (track) data read from a card, so it was not saved. "
    "Never record track data, a full card number, a PIN or a CVV."
)
_TRACK_DATA_ZH: Final = (
    "这段文字看起来像从银行卡读取的磁道数据，未保存。请勿记录磁道数据、完整卡号、PIN 或 CVV。"
)


class CardDataError(ValueError):
    """Text that must never be stored, such as magnetic stripe track data.

    ``str(error)`` is a sentence for the user in English and ``message_zh`` the same in
    Chinese. Neither repeats the offending text: that would put the card data on screen and
    in logs, the very places it must not reach.
    """

    def __init__(self, message: str = _TRACK_DATA_EN, message_zh: str = _TRACK_DATA_ZH) -> None:
        super().__init__(message)
        self.message_zh = message_zh


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` (ASCII digits only, nothing else) passes the Luhn check."""
    if not digits or not (digits.isascii() and digits.isdigit()):
        return False
    total = 0
    for position_from_right, char in enumerate(reversed(digits)):
        digit = ord(char) - ord("0")
        total += _DOUBLED[digit] if position_from_right % 2 else digit
    return total % 10 == 0


def mask_card_numbers(text: str) -> str:
    """Return ``text`` with every card number replaced by ``****`` and its last four digits.

    A card number is 13 to 19 digits passing the Luhn check, possibly written in groups
    separated by single spaces or dashes. Groups are never split, so a longer run of digits
    (a 20 digit serial, say) is left alone. Everything else is returned unchanged.
    """
    return _DIGIT_RUN.sub(_mask_run, text)


def looks_like_track_data(text: str) -> bool:
    """Whether ``text`` contains something shaped like magnetic stripe track 1 or track 2.

    The PAN is not Luhn-checked here: whatever its check digit, text in that shape came
    from a card reader and carries the expiry and service code as well.
    """
    return _TRACK_DATA.search(text) is not None


def guard_text(text: str) -> str:
    """Return ``text`` fit for storage, card numbers masked.

    Raises :class:`CardDataError` when it holds track data, which is refused outright.
    """
    if looks_like_track_data(text):
        raise CardDataError()
    return mask_card_numbers(text)


def _mask_run(match: re.Match[str]) -> str:
    run = match.group()
    if len(run) - run.count(" ") - run.count("-") < _MIN_PAN:
        return run  # the common case (amounts, reference numbers): too short to be a card
    spans = [group.span() for group in _DIGIT_GROUP.finditer(run)]
    digits = "".join(run[start:end] for start, end in spans)
    offsets = _group_offsets(spans)
    first = 1 if _continues_mask(match, spans[0]) else 0
    windows = _card_windows(offsets, _LuhnSlices(digits), first)
    if not windows:
        return run
    pieces: list[str] = []
    cursor = 0
    for first_group, last_group in windows:
        end = offsets[last_group + 1]
        pieces.append(run[cursor : spans[first_group][0]])
        pieces.append(MASK_PREFIX + digits[end - _KEPT_DIGITS : end])
        cursor = spans[last_group][1]
    pieces.append(run[cursor:])
    return "".join(pieces)


def _continues_mask(match: re.Match[str], first_span: tuple[int, int]) -> bool:
    # The four digits after a mask are what is left of an earlier card number. Letting them
    # start a new window would make saving the same text twice mask more than saving it once.
    start = match.start()
    before = match.string[max(0, start - len(MASK_PREFIX)) : start]
    return before == MASK_PREFIX and first_span[1] - first_span[0] <= _KEPT_DIGITS


def _group_offsets(spans: list[tuple[int, int]]) -> list[int]:
    """Where each group starts among the run's digits, plus the total digit count at the end."""
    offsets = [0]
    for start, end in spans:
        offsets.append(offsets[-1] + end - start)
    return offsets


def _card_windows(offsets: list[int], luhn: _LuhnSlices, first: int) -> list[tuple[int, int]]:
    """Group ranges (first and last index, inclusive) that hold a card number.

    Scanning from the left, each start takes its longest valid window: "6222 0212 3456 7890
    128" must be masked as 19 digits even if its first 16 happen to pass the check too.
    """
    windows: list[tuple[int, int]] = []
    index = first
    while index < len(offsets) - 1:
        last = _longest_window(offsets, luhn, index)
        if last is None:
            index += 1
        else:
            windows.append((index, last))
            index = last + 1
    return windows


def _longest_window(offsets: list[int], luhn: _LuhnSlices, first: int) -> int | None:
    found: int | None = None
    last = first
    # At most 19 groups fit in a window, which keeps the whole scan linear.
    while last < len(offsets) - 1 and offsets[last + 1] - offsets[first] <= _MAX_PAN:
        length = offsets[last + 1] - offsets[first]
        if length >= _MIN_PAN and luhn.valid(offsets[first], offsets[last + 1]):
            found = last
        last += 1
    return found


class _LuhnSlices:
    """Luhn check of any slice of one digit string in constant time.

    A run of one-digit groups has thousands of candidate windows; checking each from scratch
    would make masking a long note noticeably slow.
    """

    __slots__ = ("_doubling_even", "_doubling_odd")

    def __init__(self, digits: str) -> None:
        # Prefix sums of the Luhn contributions, once with the odd positions doubled and once
        # with the even ones; which applies depends only on where a slice ends.
        self._doubling_odd = [0]
        self._doubling_even = [0]
        for position, char in enumerate(digits):
            digit = ord(char) - ord("0")
            odd = position % 2 == 1
            self._doubling_odd.append(self._doubling_odd[-1] + (_DOUBLED[digit] if odd else digit))
            self._doubling_even.append(
                self._doubling_even[-1] + (digit if odd else _DOUBLED[digit])
            )

    def valid(self, start: int, end: int) -> bool:
        # The rightmost digit is never doubled, so the doubled positions are those whose
        # parity differs from that of end - 1.
        sums = self._doubling_odd if (end - 1) % 2 == 0 else self._doubling_even
        return (sums[end] - sums[start]) % 10 == 0


# Slug tokens (or two adjacent tokens joined by "-") naming data a checklist must never ask for.
FORBIDDEN_FIELD_WORDS: Final[frozenset[str]] = frozenset(
    {
        "pin",
        "pinblock",
        "pin-block",
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "cvn",
        "cvn2",
        "csc",
        "pan",
        "track",
        "track1",
        "track2",
        "track3",
        "card-number",
        "cardnumber",
        "card-no",
        "cardno",
    }
)

# Words that only name the card number: a field for part of it ("pan-last4", "masked-pan")
# is exactly what checklists should use instead, so these qualifiers make it acceptable.
_CARD_NUMBER_WORDS: Final = frozenset({"pan", "card-number", "cardnumber", "card-no", "cardno"})
_PARTIAL_NUMBER_WORDS: Final = frozenset(
    {"last4", "last-4", "last-four", "masked", "first6", "first-6", "bin"}
)

_SLUG_SEPARATORS: Final = re.compile(r"[^a-z0-9]+")


def is_forbidden_field_id(field_id: str) -> bool:
    """Whether a checklist field id names a PIN, CVV, full card number or track data.

    The id is split into words on "-" (and any other non-alphanumeric character), so
    "customer-pin" and "track2" are forbidden while "pinpad-ok" and "spin-count" are not.
    A card number word is allowed next to a partial qualifier: "pan-last4", "masked-pan".
    PIN, CVV and track words are never allowed, whatever else the id says.
    """
    words = _field_words(field_id)
    named = words & FORBIDDEN_FIELD_WORDS
    if not named:
        return False
    only_part_of_the_number = named <= _CARD_NUMBER_WORDS and bool(words & _PARTIAL_NUMBER_WORDS)
    return not only_part_of_the_number


def _field_words(field_id: str) -> set[str]:
    tokens = [token for token in _SLUG_SEPARATORS.split(field_id.casefold()) if token]
    pairs = {f"{left}-{right}" for left, right in pairwise(tokens)}
    return set(tokens) | pairs
