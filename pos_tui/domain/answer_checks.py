"""What a value typed into a checklist field becomes, and whether it lets the item pass.

Two kinds of rule, kept apart on purpose:

* a value that cannot be recorded at all (not a number, not one of the choices, an ICCID
  with a wrong check digit): refused whatever the outcome;
* a value that is recorded, but only with a fail (a choice that means failure, an amount
  outside `min`/`max`, a terminal number that differs from the visit's): the evidence of a
  failed check is worth keeping, it just cannot be a pass.

`Session.record` applies both; the note dialog asks the same functions first, so that the
technician hears it before the save, in the same words.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Final

from pos_tui.domain.checklist import Field, FieldKind, Item, Text
from pos_tui.domain.identifiers import KINDS, Identifier
from pos_tui.domain.redact import guard_text, skeleton
from pos_tui.domain.visit_info import DETAIL_NAMES, VisitInfo

__all__ = [
    "cleaned",
    "digits",
    "fail_note",
    "identifier_of",
    "last_four",
    "pass_problem",
    "pass_problems",
    "prefilled",
    "problem",
    "refusal",
]

_DIGITS: Final = frozenset("0123456789")


def identifier_of(item_field: Field) -> Identifier | None:
    """The identifier rule that checks and keeps a field of this kind, if it has one."""
    return KINDS.get(str(item_field.kind))


def digits(text: str) -> str:
    """The digits of ``text`` as ASCII, of whatever script they were typed in (full-width,
    Arabic-Indic, Chinese numerals), everything else dropped."""
    return "".join(char for char in skeleton(text)[0] if char in _DIGITS)


def last_four(text: str) -> str:
    """The last four digits of ``text``; ``text`` as it is when it has fewer, for the
    field's rule to say what is wrong."""
    found = digits(text)
    return found[-4:] if len(found) >= 4 else text


def cleaned(item_field: Field, raw: str) -> str:
    """``raw`` as it is stored: trimmed, card numbers masked (or the identifier kept whole
    by its own rule), a `last4` field reduced to the last four digits typed.

    Raises `CardDataError` for track data, or for an identifier that looks like a card.
    """
    text = raw.strip()
    identifier = identifier_of(item_field)
    if identifier is not None:
        return identifier.guard(text)
    text = guard_text(text)
    # After the guard: a full card number typed here is "****7890" by now, and its last four
    # digits are what the field asks for.
    return last_four(text) if item_field.kind is FieldKind.LAST4 and text else text


def problem(item_field: Field, value: str) -> Text | None:
    """Why ``value`` (as `cleaned` left it) cannot be recorded in this field at all."""
    found = item_field.problem(value)
    identifier = identifier_of(item_field)
    if found is None and value and identifier is not None:
        found = identifier.problem(value)
    return found


def pass_problem(item_field: Field, value: str, info: VisitInfo) -> Text | None:
    """Why ``value`` is recorded only with a fail: what it says is that the check failed."""
    if not value:
        return None
    if item_field.kind is FieldKind.CHOICE and value in item_field.fails:
        return Text(f"「{value}」表示检查未通过", f"'{value}' means the check failed")
    if item_field.kind is FieldKind.NUMBER and (outside := _out_of_range(item_field, value)):
        return outside
    if item_field.expect is not None:
        expected = info.detail(item_field.expect)
        if expected and _comparable(value) != _comparable(expected):
            name = DETAIL_NAMES[item_field.expect]
            return Text(
                f"填写的是 {value}，本次访问的{name.zh}是 {expected}",
                f"{value} entered, but the visit's {name.en} is {expected}",
            )
    return None


def pass_problems(item: Item, values: dict[str, str], info: VisitInfo) -> dict[str, Text]:
    """Every field whose value keeps `item` from passing, by field id, in the item's order."""
    found: dict[str, Text] = {}
    for item_field in item.fields:
        blocked = pass_problem(item_field, values.get(item_field.id, ""), info)
        if blocked is not None:
            found[item_field.id] = blocked
    return found


def refusal(item: Item, problems: dict[str, Text]) -> Text:
    """The sentence that says why `item` cannot pass, naming each field."""
    parts = [(item.field(field_id).label, text) for field_id, text in problems.items()]
    return Text(
        "不能判为通过：" + "；".join(f"{label.zh}：{text.zh}" for label, text in parts),
        "cannot pass: " + "; ".join(f"{label.en}: {text.en}" for label, text in parts),
    )


def fail_note(note: str, item: Item, problems: dict[str, Text]) -> str:
    """``note`` with what differs written after it, in both languages: a reviewer reading
    the record in either should see why it failed."""
    said = refusal(item, problems)
    reason = f"{said.zh.removeprefix('不能判为通过：')} / {said.en.removeprefix('cannot pass: ')}"
    return f"{note.rstrip()} {reason}".strip() if reason not in note else note


def prefilled(item: Item, info: VisitInfo) -> dict[str, str]:
    """The values the note dialog starts with: the visit details the fields name."""
    values: dict[str, str] = {}
    for item_field in item.fields:
        if item_field.prefill is not None and (known := info.detail(item_field.prefill)):
            values[item_field.id] = known
    return values


def _out_of_range(item_field: Field, value: str) -> Text | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None  # not a number: `problem` says so
    low, high = item_field.minimum, item_field.maximum
    if low is not None and number < low:
        return Text(
            f"须不小于 {low}（填写的是 {value}）", f"must be at least {low} ({value} entered)"
        )
    if high is not None and number > high:
        return Text(
            f"须不大于 {high}（填写的是 {value}）", f"must be at most {high} ({value} entered)"
        )
    return None


def _comparable(text: str) -> str:
    # Full-width digits, spaces and capitals are how the same number gets typed differently.
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(folded.split())
