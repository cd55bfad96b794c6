"""A field's format in words: `^[0-9]{12}$` is "12 digits" to a technician, not a regex.

Checklists say what a value must look like with a regular expression; the technician at
the counter is told it in words. The common shapes (one character class, repeated a fixed
number or a range of times) are put into words here; anything else needs the field's own
`hint` in the checklist, and without one the sentence says only that the format is wrong.
"""

from __future__ import annotations

import re

from pos_tui.domain.checklist import Text

_SHAPE = re.compile(r"\^?(\\d|\[[^\]]+\])\{(\d+)(?:,(\d+))?\}\$?")
_CLASSES: dict[str, Text] = {
    "digits": Text("位数字", " digits"),
    "alnum": Text("位字母或数字", " letters or digits"),
    "upper": Text("位大写字母", " capital letters"),
    "upper-digits": Text("位大写字母或数字", " capital letters or digits"),
}


def _class_of(written: str) -> str | None:
    if written == "\\d":
        return "digits"
    ranges = frozenset(re.findall(r"[0-9A-Za-z]-[0-9A-Za-z]|\\d", written[1:-1]))
    leftover = re.sub(r"[0-9A-Za-z]-[0-9A-Za-z]|\\d", "", written[1:-1])
    if leftover:
        return None
    digits = "0-9" in ranges or "\\d" in ranges
    upper, lower = "A-Z" in ranges, "a-z" in ranges
    known = {"0-9", "\\d", "A-Z", "a-z"}
    if not ranges <= known:
        return None
    if digits and upper and lower:
        return "alnum"
    if digits and upper:
        return "upper-digits"
    if upper and not (digits or lower):
        return "upper"
    if digits and not (upper or lower):
        return "digits"
    return None


def pattern_in_words(pattern: str) -> Text | None:
    """ "12 digits", "6 to 8 letters or digits"; None for a shape this cannot say."""
    match = _SHAPE.fullmatch(pattern)
    if match is None:
        return None
    kind = _class_of(match[1])
    if kind is None:
        return None
    low, high = match[2], match[3]
    count_zh = low if high is None else f"{low}至{high}"
    count_en = low if high is None else f"{low} to {high}"
    words = _CLASSES[kind]
    return Text(f"{count_zh}{words.zh}", f"{count_en}{words.en}")


WRONG_FORMAT = Text("格式不符", "not in the expected format")


def format_problem(pattern: str, hint: Text | None) -> Text:
    """What to tell the technician whose value does not match `pattern`."""
    words = hint or pattern_in_words(pattern)
    if words is None:
        return WRONG_FORMAT
    return Text(f"须为{words.zh}", f"must be {words.en}")


__all__ = ["WRONG_FORMAT", "format_problem", "pattern_in_words"]
