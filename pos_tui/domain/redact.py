"""Keep card data out of everything pos_tui stores.

The product rule: the app never stores a full card number, track data, a PIN or a CVV.
Notes and field values pass through :func:`guard_text` on every save:

* a 13 to 19 digit number that passes the Luhn check is masked to ``****`` plus its last four
  digits, however it is written: full-width, Arabic-Indic or Chinese digits, groups separated
  by any spaces (NBSP, U+3000, tabs, new lines, several of them), dashes, dots, slashes,
  underscores or invisible characters, or as the PAN of an EMV tag 5A dump;
* text that looks like magnetic stripe track data (track 1 or 2, with or without sentinels,
  or the EMV tags 56, 57 and 9F6B that carry it) is refused with :class:`CardDataError`,
  because masking the PAN would still leave the expiry and service code behind.

Everything is found on a *skeleton* of the text: one character for each character typed
(NFKC first), with every digit as an ASCII digit and every separator as one of `` \\n-./_``.
Only the card number is replaced, so the rest of the text stays as it was typed.

A PIN or CVV cannot be recognised in free text, so checklists must not ask for one:
:func:`is_forbidden_field_id` lets the checklist validator refuse such fields.

Pure standard library: the domain layer must not depend on UI or storage packages.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from itertools import accumulate, pairwise
from typing import Final

__all__ = [
    "FORBIDDEN_FIELD_WORDS",
    "MASK_PREFIX",
    "TRACK_DATA_REMOVED",
    "CardDataError",
    "find_card_numbers",
    "guard_text",
    "is_forbidden_field_id",
    "looks_like_track_data",
    "luhn_valid",
    "mask_card_data",
    "mask_card_numbers",
    "plain_digits",
    "skeleton",
]

# Four asterisks and four digits: too few digits to ever be mistaken for a card number again.
MASK_PREFIX: Final = "****"
TRACK_DATA_REMOVED: Final = "[磁道数据已删除 / track data removed]"

_MIN_PAN: Final = 13
_MAX_PAN: Final = 19
_KEPT_DIGITS: Final = 4
# An EMV PAN may be as short as 12 digits; fewer digits than this in a text and nothing in it
# can be masked or refused, which lets the common case return at once.
_FEWEST_DIGITS: Final = 12

# The Luhn value of each digit once doubled (a two-digit product contributes its digit sum).
_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)

# --- the skeleton ------------------------------------------------------------------------------

# Chinese numerals spell a card number as surely as digits do ("六二二二…" read out and typed).
_CHINESE_DIGITS: Final = dict(
    zip("〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖貳參陸", "00123456789123456789236", strict=True)
)
_LINE_BREAKS: Final = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_DOTS: Final = frozenset(".·・•‧∙⋅")
_SLASHES: Final = frozenset("/\\⁄∕")
_MINUS_SIGNS: Final = frozenset("\u2212\u2796\ufe63\uff0d")
_SEPARATORS: Final = " \n-./_"


def _skeleton_char(char: str) -> str:
    """The skeleton of one character beyond ASCII that NFKC leaves as it is."""
    if char in _CHINESE_DIGITS:
        return _CHINESE_DIGITS[char]
    decimal = unicodedata.decimal(char, None)
    if decimal is not None:
        return str(decimal)
    if char.isspace():
        return "\n" if char in _LINE_BREAKS else " "
    category = unicodedata.category(char)
    # Invisible characters (zero-width spaces, soft hyphens, combining marks) hide nothing
    # when typed between digits: they join the groups like a space would.
    if category in {"Cf", "Mn", "Me", "Pc"}:
        return "_"
    if category == "Pd" or char in _MINUS_SIGNS:
        return "-"
    if char in _DOTS:
        return "."
    if char in _SLASHES:
        return "/"
    return char


class _SkeletonTable(dict[int, str]):
    """`str.translate` table filled on first sight of each character (NFKC is slow)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        normal = unicodedata.normalize("NFKC", char)
        if normal == char:
            value = _skeleton_char(char)
        else:
            value = "".join(self.get(ord(c)) or _skeleton_char(c) for c in normal)
            if len(value) > 1 and not any(c.isdigit() for c in value):
                # "‥" or "℡": at most one separator, else the character itself, keeps the
                # skeleton one character per character in all but the rarest texts.
                value = value[0] if all(c in _SEPARATORS for c in value) else char
        self[code] = value
        return value


def _ascii_skeleton(code: int) -> str:
    char = chr(code)
    if char in _LINE_BREAKS:
        return "\n"
    if char.isspace():
        return " "
    return "/" if char == "\\" else char


_TABLE: Final = _SkeletonTable({code: _ascii_skeleton(code) for code in range(128)})


# What may have a skeleton other than itself: ASCII whitespace but the space, the backslash,
# and everything beyond ASCII except the CJK ideographs (NFKC leaves those alone) that are no
# numerals. Translating only these keeps a Chinese note from costing a lookup per character.
_TRANSLATED: Final = re.compile(
    "[^\x00-\x7f\u4e00-\u9fff]+|[\t\v\f\r\x1c-\x1f\\\\" + "".join(_CHINESE_DIGITS) + "]+"
)


def _translated(match: re.Match[str]) -> str:
    return match.group().translate(_TABLE)


def skeleton(text: str) -> tuple[str, list[int] | None]:
    """The skeleton of ``text`` and, if it is not one character per character, where each of
    its characters came from (an index into ``text``).

    Only a few characters (``⑩``, ``½``) stand for more than one digit; for every other text
    the second value is None and positions in the skeleton are positions in ``text``.
    """
    shape = text.translate(_TABLE) if text.isascii() else _TRANSLATED.sub(_translated, text)
    if len(shape) == len(text):
        return shape, None
    origin: list[int] = []
    for index, char in enumerate(text):
        origin.extend([index] * len(_TABLE[ord(char)]))
    return shape, origin


def plain_digits(text: str) -> str | None:
    """The digits of ``text`` once normalised and its separators dropped, or None when
    anything else is left (a letter, a comma): "３７８２ 822463-10005" is "378282246310005"."""
    shape = skeleton(text)[0].translate(_DROP_SEPARATORS)
    return shape if shape.isascii() and shape.isdigit() else None


_DROP_SEPARATORS: Final = str.maketrans("", "", _SEPARATORS)


def _enough_digits(shape: str) -> bool:
    return sum(map(shape.count, "0123456789")) >= _FEWEST_DIGITS


# --- errors ------------------------------------------------------------------------------------

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


# --- Luhn --------------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` (ASCII digits only, nothing else) passes the Luhn check."""
    if not digits or not (digits.isascii() and digits.isdigit()):
        return False
    total = 0
    for position_from_right, char in enumerate(reversed(digits)):
        digit = ord(char) - ord("0")
        total += _DOUBLED[digit] if position_from_right % 2 else digit
    return total % 10 == 0


class _LuhnSlices:
    """Luhn check of any slice of one digit string in constant time.

    A run of one-digit groups has thousands of candidate windows; checking each from scratch
    would make masking a long note noticeably slow.
    """

    __slots__ = ("ends", "even", "odd")

    def __init__(self, digits: str) -> None:
        # Prefix sums (mod 10) of the Luhn contributions, once with the odd positions doubled
        # and once with the even ones. The rightmost digit is never doubled, so which of the
        # two applies to a slice depends only on where it ends.
        values = [ord(char) - 48 for char in digits]
        twice = [_DOUBLED[value] for value in values]
        odd_doubled, even_doubled = values[:], twice[:]
        odd_doubled[1::2], even_doubled[1::2] = twice[1::2], values[1::2]
        self.odd = [total % 10 for total in accumulate(odd_doubled, initial=0)]
        self.even = [total % 10 for total in accumulate(even_doubled, initial=0)]
        self.ends = self.even[:]
        self.ends[1::2] = self.odd[1::2]

    def valid(self, start: int, end: int) -> bool:
        return self.ends[end] == (self.odd if end % 2 else self.even)[start]


# --- card numbers ------------------------------------------------------------------------------

# Digit groups joined by separators. Every repetition starts with a separator and nothing is
# given back (possessive), so there is one way to match and the scan is linear on any input.
_RUN: Final = re.compile(r"[0-9]++(?:[ \n\-./_]++[0-9]++)*+")
_GROUP: Final = re.compile(r"[0-9]+")
# EMV tag 5A, the PAN, then its length in bytes (6 to 10 for 12 to 19 digits).
_EMV_PAN: Final = re.compile(r"5[Aa][ \n\-./_]*+0[ \n\-./_]*+([6-9Aa])")

_Span = tuple[int, int]


def mask_card_numbers(text: str) -> str:
    """Return ``text`` with every card number replaced by ``****`` and its last four digits.

    A card number is 13 to 19 digits passing the Luhn check, possibly written in groups (see
    the module's docstring for how it may be written), or the PAN of an EMV tag 5A. Groups
    are never split, so a longer run of digits (a 20 digit serial, say) is left alone.
    Everything else is returned unchanged, character for character.
    """
    shape, origin, spans = _card_numbers(text)
    if not spans:
        return text
    pieces: list[str] = []
    cursor = 0
    for start, end in spans:
        first, last = (start, end) if origin is None else (origin[start], origin[end - 1] + 1)
        pieces.append(text[cursor:first])
        pieces.append(MASK_PREFIX + _digits(shape[start:end])[-_KEPT_DIGITS:])
        cursor = last
    pieces.append(text[cursor:])
    return "".join(pieces)


def find_card_numbers(text: str) -> list[str]:
    """The digits of every card number :func:`mask_card_numbers` would mask, in order."""
    shape, _origin, spans = _card_numbers(text)
    return [_digits(shape[start:end]) for start, end in spans]


def _card_numbers(text: str) -> tuple[str, list[int] | None, list[_Span]]:
    """The skeleton, its origin map and the spans in it of every card number."""
    shape, origin = skeleton(text)
    if not _enough_digits(shape):
        return shape, origin, []
    emv = _emv_pan_spans(shape)
    # A tag's length byte says exactly where its PAN is: a window that runs on into the
    # length byte or the next tag would mask those and keep the wrong four digits.
    cards = [span for span in _card_spans(text, shape, origin) if not _overlaps(span, emv)]
    return shape, origin, _merged(sorted(cards + emv))


def _overlaps(span: _Span, others: list[_Span]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in others)


def _digits(shape: str) -> str:
    return "".join(char for char in shape if char.isdigit())


def _merged(spans: list[_Span]) -> list[_Span]:
    merged: list[_Span] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _card_spans(text: str, shape: str, origin: list[int] | None) -> list[_Span]:
    found: list[_Span] = []
    for match in _RUN.finditer(shape):
        run = match.group()
        if len(run) < _MIN_PAN or sum(map(run.count, "0123456789")) < _MIN_PAN:
            continue  # the common case (amounts, reference numbers): too short to be a card
        base = match.start()
        spans = [group.span() for group in _GROUP.finditer(shape, base, match.end())]
        digits = run.translate(_DROP_SEPARATORS)
        first = 1 if _starts_nothing(shape, base, spans[0]) else 0
        dialled = base > 0 and shape[base - 1] == "+"
        groups = _RunGroups(digits, spans, _joins(text, shape, spans, origin), dialled)
        for first_group, last_group in _card_windows(groups, _LuhnSlices(digits), first):
            found.append((spans[first_group][0], spans[last_group][1]))
    return found


_PLAIN, _OTHER, _DOTTED = 0, 1, 2


def _joins(text: str, shape: str, spans: list[_Span], origin: list[int] | None) -> list[int]:
    """How each pair of neighbouring groups is joined.

    One ASCII space or hyphen (plain) is how card numbers have always been written, so any
    window across such joins that passes the check is masked. Other joins (dots, slashes,
    several spaces, new lines) are also how amounts, dates and lists are written: a window
    across one must be laid out like a card (see :func:`_card_layout`).
    """
    kinds: list[int] = []
    for (_, end), (start, _) in pairwise(spans):
        if "." in shape[end:start]:
            kinds.append(_DOTTED)
            continue
        if origin is not None:
            end, start = origin[end - 1] + 1, origin[start]
        kinds.append(_PLAIN if start - end == 1 and text[end] in " -" else _OTHER)
    return kinds


def _emv_pan_spans(shape: str) -> list[_Span]:
    """The PAN of each EMV tag 5A: its length byte says how many digits follow, F-padded."""
    found: list[_Span] = []
    for match in _EMV_PAN.finditer(shape):
        wanted = 2 * int(match.group(1), 16)
        nibbles: list[int] = []
        index = match.end()
        while index < len(shape) and len(nibbles) < wanted:
            char = shape[index]
            if char in "0123456789Ff":
                nibbles.append(index)
            elif char not in _SEPARATORS:
                break
            index += 1
        while nibbles and shape[nibbles[-1]] in "Ff":
            nibbles.pop()
        if len(nibbles) >= _FEWEST_DIGITS and all(shape[i].isdigit() for i in nibbles):
            found.append((nibbles[0], nibbles[-1] + 1))
    return found


def _starts_nothing(shape: str, start: int, first_span: tuple[int, int]) -> bool:
    """Whether the first group of a run may not begin a card number."""
    size = first_span[1] - first_span[0]
    before = shape[max(0, start - len(MASK_PREFIX)) : start]
    # The four digits after a mask are what is left of an earlier card number. Letting them
    # start a new window would make saving the same text twice mask more than saving it once.
    if before == MASK_PREFIX and size <= _KEPT_DIGITS:
        return True
    # "07:30:50 138 0013 8000": the seconds of a clock time are no start of a card number.
    return size <= 2 and before[-2:-1].isdigit() and before.endswith(":")


class _RunGroups:
    """The digit groups of one run: where each starts among its digits, and how they join."""

    __slots__ = ("_dotted", "_extended", "dialled", "digits", "offsets", "sizes")

    def __init__(self, digits: str, spans: list[_Span], joins: list[int], dialled: bool) -> None:
        self.digits = digits
        self.sizes = [end - start for start, end in spans]
        self.offsets = list(accumulate(self.sizes, initial=0))
        # How many joins before each group are not plain, and how many are dotted: whether a
        # window has either is then known in constant time.
        self._extended = list(accumulate((kind != _PLAIN for kind in joins), initial=0))
        self._dotted = list(accumulate((kind == _DOTTED for kind in joins), initial=0))
        # "+86 138 0013 8000": after a plus, a country code of one to three digits and at most
        # fifteen digits in all (E.164) are a telephone number, whatever Luhn says.
        self.dialled = dialled and self.sizes[0] <= _COUNTRY_CODE

    def allowed(self, first: int, end: int) -> bool:
        """Whether groups first..end-1 may be read as one number."""
        if self.dialled and first == 0 and self.offsets[end] <= _PHONE_DIGITS:
            return False
        if self._extended[end - 1] == self._extended[first]:
            return True
        groups = [
            self.digits[self.offsets[index] : self.offsets[index + 1]]
            for index in range(first, end)
        ]
        return _card_layout(groups, dotted=self._dotted[end - 1] > self._dotted[first])


_COUNTRY_CODE: Final = 3
_PHONE_DIGITS: Final = 15


def _card_layout(groups: list[str], dotted: bool) -> bool:
    """Whether groups joined by more than one plain space or hyphen are laid out like a card.

    Across dots, slashes, new lines or double spaces, "234.56 1500.00 2026-12-01" passes the
    Luhn check as often as anything does. Card numbers are written in groups of one size (one
    digit at a time, bytes of two, fours with a shorter tail), as Amex 4-6-5 or Diners 4-6-4,
    or as a six-digit BIN and the rest; amounts, dates and times never are.
    """
    sizes = [len(group) for group in groups]
    *head, tail = sizes
    if sizes in ([4, 6, 4], [4, 6, 5]) or (len(sizes) == 2 and sizes[0] == 6):
        return True
    if len(set(head)) != 1 or tail > head[0]:
        return False
    if head[0] in (2, 3) and dotted:
        # Dotted groups of two or three digits are also IP addresses, no part above 255.
        return any(int(group) > 255 for group in groups)
    return head[0] in (1, 2, 3, 4)


def _card_windows(groups: _RunGroups, luhn: _LuhnSlices, first: int) -> list[tuple[int, int]]:
    """Group ranges (first and last index, inclusive) that hold a card number.

    The windows chosen mask as many digits as can be: a chance window across the end of
    one number and the start of a card must not leave the rest of the card in view. Among
    equals the earliest, then the longest wins: "6222 0212 3456 7890 128" is masked as 19
    digits even if its first 16 happen to pass the check too.
    """
    offsets = groups.offsets
    ends, odd, even = luhn.ends, luhn.odd, luhn.even
    count = len(offsets) - 1
    # best[i]: the most digits windows can mask in groups i and after; chosen[i]: the end
    # (a group boundary) of the window starting at group i in that choice, or 0.
    best = [0] * (count + 1)
    chosen = [0] * (count + 1)
    for index in range(count - 1, first - 1, -1):
        start = offsets[index]
        # Window ends between 13 and 19 digits from here, longest first; the loop is written
        # out because a hostile run has a million starts to try.
        low = bisect_left(offsets, start + _MIN_PAN, index + 1)
        high = bisect_right(offsets, start + _MAX_PAN, low) - 1
        score = choice = 0
        for end in range(high, low - 1, -1):
            at = offsets[end]
            if ends[at] == (odd if at % 2 else even)[start] and groups.allowed(index, end):
                total = at - start + best[end]
                if total > score:
                    score, choice = total, end
        if choice and score >= best[index + 1]:
            best[index], chosen[index] = score, choice
        else:
            best[index] = best[index + 1]
    windows: list[tuple[int, int]] = []
    index = first
    while index < count:
        if chosen[index]:
            windows.append((index, chosen[index] - 1))
            index = chosen[index]
        else:
            index += 1
    return windows


# --- track data --------------------------------------------------------------------------------

# S is any run of separators; PAN is 13 to 19 digits with separators between them. Every
# repetition is bounded or possessive, so none of these can backtrack catastrophically.
_S: Final = r"[ \n\-./_]*+"
_PAN: Final = rf"[0-9](?:{_S}[0-9]){{12,18}}"
_EXPIRY: Final = rf"[0-9](?:{_S}[0-9]){{3}}"
_HEX_DIGIT: Final = rf"3{_S}[0-9]{_S}"  # one ASCII digit, written as hex
_TRACK_DATA: Final = re.compile(
    rf"""
      %{_S}[Bb]{_S}{_PAN}{_S}\^                          # track 1: sentinel, format code, PAN
    | [Bb]{_S}{_PAN}{_S}\^[^^\n]{{0,80}}\^               # track 1: B PAN ^ NAME ^
    | (?<![0-9]){_PAN}{_S}\^[^^\n]{{0,80}}\^{_S}[0-9]{{4}}   # track 1: PAN ^ NAME ^ YYMM
    | ;{_S}{_PAN}{_S}=                                   # track 2: sentinel, PAN, separator
    | (?<![0-9]){_PAN}{_S}[=Dd]{_S}{_EXPIRY}             # track 2: PAN = YYMM; D in EMV dumps
    | (?:57|9[Ff]6[Bb]){_S}[0-9A-Fa-f]{_S}[0-9A-Fa-f]{_S}  # EMV 57 / 9F6B: track 2 equivalent
      [0-9](?:{_S}[0-9]){{11,18}}{_S}[Dd]{_S}{_EXPIRY}
    | 4{_S}2{_S}(?:{_HEX_DIGIT}){{13,19}}5{_S}[Ee]        # EMV 56 (track 1 in ASCII hex): B PAN ^
    | (?:{_HEX_DIGIT}){{13,19}}3{_S}[Dd]{_S}(?:{_HEX_DIGIT}){{4}}  # track 2 in ASCII hex
    """,
    re.VERBOSE,
)


# Every pattern above needs one of these: most texts can skip the search.
_TRACK_MARKS: Final = "^=DdEe"


def looks_like_track_data(text: str) -> bool:
    """Whether ``text`` contains something shaped like magnetic stripe track 1 or track 2.

    The PAN is not Luhn-checked here: whatever its check digit, text in that shape came
    from a card reader and carries the expiry and service code as well.
    """
    shape = skeleton(text)[0]
    if not _enough_digits(shape) or not any(mark in shape for mark in _TRACK_MARKS):
        return False
    return _TRACK_DATA.search(shape) is not None


def guard_text(text: str) -> str:
    """Return ``text`` fit for storage, card numbers masked.

    Raises :class:`CardDataError` when it holds track data, which is refused outright.
    """
    if looks_like_track_data(text):
        raise CardDataError()
    return mask_card_numbers(text)


def mask_card_data(text: str) -> str:
    """Like :func:`guard_text`, for output: track data is replaced, never raised about.

    Reports and exports cannot refuse what a store already holds; they must not show it.
    """
    if looks_like_track_data(text):
        return TRACK_DATA_REMOVED
    return mask_card_numbers(text)


# --- field ids ---------------------------------------------------------------------------------

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
