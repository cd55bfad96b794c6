"""The identifiers stored whole, each checked by its own rule: the one list of exceptions.

Every other text the app stores goes through :func:`pos_tui.domain.redact.guard_text`, which
masks anything that passes the Luhn check. An identifier has a format of its own instead, and
one in ten merchant numbers passes the Luhn check by chance: masking it would destroy it. So
an identifier is kept whole when its own rule accepts it, and refused when it looks like a
card number (the digits of a card brand's prefix and length that pass the Luhn check), which
is what someone typing a card number into the wrong field produces.

Pure standard library and the domain: no UI or storage packages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from pos_tui.domain.checklist import Text
from pos_tui.domain.redact import (
    CardDataError,
    find_card_numbers,
    guard_text,
    looks_like_track_data,
    luhn_valid,
    plain_digits,
)

__all__ = [
    "BRANDS",
    "CREDIT_CODE",
    "FIELDS",
    "ICCID",
    "KINDS",
    "LOOKS_LIKE_A_CARD",
    "MCC",
    "MERCHANT_NUMBER",
    "MERCHANT_NUMBER_LENGTH",
    "PINPAD_SERIAL",
    "TERMINAL_NUMBER",
    "TERMINAL_NUMBER_LENGTH",
    "TUSN",
    "TUSN_NUMBER",
    "WORK_ORDER",
    "Brand",
    "Identifier",
    "card_brand",
    "credit_code_check",
    "field_ids",
    "looks_like_a_card",
]

MERCHANT_NUMBER_LENGTH: Final = 15
TERMINAL_NUMBER_LENGTH: Final = 8


@dataclass(frozen=True, slots=True)
class Brand:
    """A card brand's number range: prefixes from `low` to `high` (same length), and lengths."""

    name: str
    low: str
    high: str
    lengths: tuple[int, ...]

    def matches(self, digits: str) -> bool:
        prefix = digits[: len(self.low)]
        return len(digits) in self.lengths and self.low <= prefix <= self.high


_ANY: Final = tuple(range(16, 20))

# The brands a card accepted in China may carry. Only real lengths count: a Visa number is
# 13, 16 or 19 digits, never 15, so a 15-digit merchant number starting with 4 is no card.
# UATP (prefix 1, 15 digits) is left out on purpose: it would refuse one in ten of the
# merchant numbers of acquirers whose code starts with 1, and UATP is not taken at a POS.
BRANDS: Final = (
    Brand("Visa", "4", "4", (13, 16, 19)),
    Brand("Mastercard", "51", "55", (16,)),
    Brand("Mastercard", "2221", "2720", (16,)),
    Brand("American Express", "34", "34", (15,)),
    Brand("American Express", "37", "37", (15,)),
    Brand("UnionPay", "62", "62", _ANY),
    Brand("UnionPay", "8100", "8171", _ANY),
    Brand("JCB", "3528", "3589", _ANY),
    Brand("Discover", "6011", "6011", _ANY),
    Brand("Discover", "644", "649", _ANY),
    Brand("Discover", "65", "65", _ANY),
    Brand("Diners Club", "300", "305", (14,)),
    Brand("Diners Club", "3095", "3095", _ANY),
    Brand("Diners Club", "36", "36", tuple(range(14, 20))),
    Brand("Diners Club", "38", "39", _ANY),
    *(
        Brand("Maestro", prefix, prefix, tuple(range(12, 20)))
        for prefix in ("5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763")
    ),
    Brand("Mir", "2200", "2204", _ANY),
    Brand("RuPay", "60", "60", (16,)),
    Brand("RuPay", "508", "508", (16,)),
    Brand("RuPay", "82", "82", (16,)),
    Brand("Troy", "9792", "9792", (16,)),
)


def card_brand(digits: str) -> str | None:
    """The brand whose range and length ``digits`` (ASCII digits) fall in, if it passes Luhn."""
    if not luhn_valid(digits):
        return None
    return next((brand.name for brand in BRANDS if brand.matches(digits)), None)


def looks_like_a_card(value: str) -> bool:
    """Whether ``value`` holds track data or a card number of a known brand, however typed."""
    if looks_like_track_data(value):
        return True
    candidates = find_card_numbers(value)
    digits = plain_digits(value)
    if digits is not None:
        candidates.append(digits)  # "3782..822463//10005": every separator dropped
    return any(card_brand(candidate) is not None for candidate in candidates)


LOOKS_LIKE_A_CARD: Final = Text(
    "看起来像银行卡号，不能保存；请核对后重新输入",
    "looks like a card number, which must never be stored: check it and type it again",
)

_Rule = Callable[[str], Text | None]


def _no_warning(value: str) -> Text | None:
    return None


@dataclass(frozen=True, slots=True)
class Identifier:
    """A field stored whole when its rule accepts it.

    ``rule`` returns why a value is not this identifier. A ``strict`` identifier must follow
    it (the visit does not start otherwise); for the others (a serial that may or may not be
    a TUSN) a value the rule refuses is free text and goes through the guard like any other.
    """

    name: str
    label: Text
    rule: _Rule
    strict: bool = True
    warning: _Rule = _no_warning

    def problem(self, value: str) -> Text | None:
        """Why ``value`` cannot be stored in this field, or None. An empty value is fine here:
        whether the field is required is the form's business."""
        if not value:
            return None
        if looks_like_a_card(value):
            return LOOKS_LIKE_A_CARD
        return self.rule(value) if self.strict else None

    def shown_whole(self, value: str) -> bool:
        """Whether ``value`` is this identifier, to be shown and stored unmasked."""
        return self.rule(value) is None and not looks_like_a_card(value)

    def guard(self, value: str) -> str:
        """``value`` fit for storage: whole if it is this identifier, else guarded as text.

        Raises :class:`CardDataError` when it looks like a card number: masking it would
        leave a field that claims to be a merchant number holding four digits of a card.
        """
        if value and looks_like_a_card(value):
            raise CardDataError(
                f"The {self.label.en} {LOOKS_LIKE_A_CARD.en}, so the visit was not saved.",
                f"{self.label.zh}{LOOKS_LIKE_A_CARD.zh}。访问未保存。",
            )
        return value if self.shown_whole(value) else guard_text(value)


def _merchant_number(value: str) -> Text | None:
    if len(value) != MERCHANT_NUMBER_LENGTH:
        return Text(
            f"商户号须为{MERCHANT_NUMBER_LENGTH}位（当前{len(value)}位）",
            f"must be {MERCHANT_NUMBER_LENGTH} characters (now {len(value)})",
        )
    return None


_DIGITS: Final = re.compile(r"[0-9]+")


def _merchant_number_warning(value: str) -> Text | None:
    if len(value) == MERCHANT_NUMBER_LENGTH and not _DIGITS.fullmatch(value):
        return Text(
            "商户号通常全为数字，请核对", "merchant numbers are usually all digits: check it"
        )
    return None


def _terminal_number(value: str) -> Text | None:
    if len(value) == TERMINAL_NUMBER_LENGTH and _DIGITS.fullmatch(value):
        return None
    return Text(
        f"终端号须为{TERMINAL_NUMBER_LENGTH}位数字", f"must be {TERMINAL_NUMBER_LENGTH} digits"
    )


_ICCID_SHAPE: Final = re.compile(r"89[0-9]{17,18}")


def _iccid(value: str) -> Text | None:
    # ITU-T E.118: "89" for telecoms, then the issuer and the card, and a Luhn check digit.
    if _ICCID_SHAPE.fullmatch(value) and luhn_valid(value):
        return None
    return Text(
        "ICCID 须为以 89 开头的 19 或 20 位数字，且校验位正确",
        "an ICCID is 19 or 20 digits starting with 89, with a correct check digit",
    )


# Our reading of UnionPay's terminal unique serial number: the maker's six-digit code, then
# the maker's own serial in capitals and digits. A serial of another shape is kept as text.
_TUSN_SHAPE: Final = re.compile(r"[0-9]{6}[0-9A-Z]{3,32}")


def _tusn(value: str) -> Text | None:
    if _TUSN_SHAPE.fullmatch(value):
        return None
    return Text(
        "TUSN 须为6位厂商编号加大写字母和数字组成的序列号",
        "a TUSN is the maker's six-digit code and a serial of capitals and digits",
    )


# GB 32100-2015: the unified social credit code (统一社会信用代码) is 18 characters from
# these 31 (no I, O, S, V or Z, which are too easily read as digits); the last is a check
# character over the first 17, weighted by 3**i mod 31.
_CREDIT_CODE_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
_CREDIT_CODE_SHAPE: Final = re.compile(f"[{_CREDIT_CODE_CHARS}]{{18}}")


def credit_code_check(first17: str) -> str:
    """The check character GB 32100-2015 gives to the first 17 characters of a code."""
    total = sum(
        _CREDIT_CODE_CHARS.index(char) * weight
        for char, weight in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return _CREDIT_CODE_CHARS[-total % 31]


def _credit_code(value: str) -> Text | None:
    if not _CREDIT_CODE_SHAPE.fullmatch(value):
        return Text(
            "统一社会信用代码须为18位数字或大写字母（不含 I、O、S、V、Z）",
            "a unified social credit code is 18 digits or capitals (no I, O, S, V or Z)",
        )
    if credit_code_check(value[:17]) != value[17]:
        return Text(
            "统一社会信用代码校验位不对，请对照营业执照逐位核对",
            "the check character of this credit code is wrong: compare it with the licence",
        )
    return None


_MCC_SHAPE: Final = re.compile(r"[0-9]{4}")


def _mcc(value: str) -> Text | None:
    if _MCC_SHAPE.fullmatch(value):
        return None
    return Text("MCC 须为4位数字", "an MCC is 4 digits")


_WORK_ORDER_SHAPE: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{3,39}")


def _work_order(value: str) -> Text | None:
    if _WORK_ORDER_SHAPE.fullmatch(value):
        return None
    return Text(
        "工单号由字母、数字和连字符组成", "a work-order number is letters, digits and dashes"
    )


MERCHANT_NUMBER: Final = Identifier(
    "merchant_number",
    Text("商户号", "merchant number"),
    _merchant_number,
    warning=_merchant_number_warning,
)
TERMINAL_NUMBER: Final = Identifier(
    "terminal_number", Text("终端号", "terminal number"), _terminal_number
)
TUSN: Final = Identifier("terminal_serial", Text("终端序列号", "terminal serial"), _tusn, False)
TUSN_NUMBER: Final = Identifier("tusn", Text("TUSN", "TUSN"), _tusn, False)
"""The TUSN itself, as its own visit detail: the same rule as a serial that may be one."""
# An external PIN pad has a serial of its own, often a TUSN as well.
PINPAD_SERIAL: Final = Identifier(
    "pinpad_serial", Text("密码键盘序列号", "PIN pad serial"), _tusn, False
)
ICCID: Final = Identifier("iccid", Text("SIM 卡 ICCID", "SIM card ICCID"), _iccid)
CREDIT_CODE: Final = Identifier(
    "credit_code", Text("统一社会信用代码", "unified social credit code"), _credit_code
)
MCC: Final = Identifier("mcc", Text("商户类别码 MCC", "MCC"), _mcc)
# Not strict: each acquirer numbers its work orders its own way; kept whole unless it looks
# like a card, as a sixteen-digit order number passes the Luhn check one time in ten.
WORK_ORDER: Final = Identifier(
    "work_order", Text("工单号", "work-order number"), _work_order, False
)

# By field name: visit details by attribute, checklist values and exported keys by field id.
FIELDS: Final[dict[str, Identifier]] = {
    "merchant_number": MERCHANT_NUMBER,
    "merchant-number": MERCHANT_NUMBER,
    "terminal_number": TERMINAL_NUMBER,
    "terminal-number": TERMINAL_NUMBER,
    "terminal_serial": TUSN,
    "tusn": TUSN_NUMBER,
    "pinpad_serial": PINPAD_SERIAL,
    "pinpad-serial": PINPAD_SERIAL,
    "iccid": ICCID,
    "sim_iccid": ICCID,
    "sim-iccid": ICCID,
    "credit_code": CREDIT_CODE,
    "credit-code": CREDIT_CODE,
    "mcc": MCC,
    "work_order": WORK_ORDER,
    "work-order": WORK_ORDER,
}

# By checklist field kind (`FieldKind` values): a field of one of these kinds is checked and
# kept whole by the identifier's rule instead of going through the card-number guard.
KINDS: Final[dict[str, Identifier]] = {
    "iccid": ICCID,
    "tusn": TUSN_NUMBER,
    "terminal_number": TERMINAL_NUMBER,
    "merchant_number": MERCHANT_NUMBER,
    "credit_code": CREDIT_CODE,
    "mcc": MCC,
}


def field_ids(identifier: Identifier) -> tuple[str, ...]:
    """The field ids under which reports and exports show ``identifier`` whole: a checklist
    field of its kind must use one of them, or its value would be stored whole and printed
    masked."""
    return tuple(name for name, rule in FIELDS.items() if rule is identifier)
