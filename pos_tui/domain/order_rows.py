"""A row of the bank's dispatch list as an `Order`, or every problem of its cells.

The columns are known by their English or Chinese headers (工单号, 商户编号, ...), in any
order; a cell is checked by the same rules a visit's details are (`domain.identifiers`),
with codes or the names in either language for job types, reasons and capabilities, and
times as a clerk types them or a spreadsheet holds them. Pure: the reading of files is in
`store/order_import.py`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pos_tui.domain.checklist import CAPABILITIES, Text
from pos_tui.domain.identifiers import FIELDS as IDENTIFIERS
from pos_tui.domain.identifiers import LOOKS_LIKE_A_CARD, looks_like_a_card
from pos_tui.domain.names import CAPABILITY_NAMES
from pos_tui.domain.orders import Order, parse_day
from pos_tui.domain.redact import CardDataError, guard_text
from pos_tui.domain.visit_info import JOB_TYPE_NAMES, REASON_NAMES, JobType, ReactivationReason

# -- columns -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    zh: tuple[str, ...]
    en: tuple[str, ...]
    required: bool = False

    @property
    def title(self) -> Text:
        return Text(self.zh[0], self.en[0])


COLUMNS: tuple[Column, ...] = (
    Column("order_number", ("工单号", "工单编号"), ("order number", "work order"), True),
    Column("job_type", ("作业类型", "工单类型"), ("job type",)),
    Column("reason", ("原因", "激活原因"), ("reason",)),
    Column("merchant_number", ("商户编号", "商户号"), ("merchant number",), True),
    Column("merchant_name", ("商户名称",), ("merchant name",), True),
    Column("site_address", ("地址", "布放地址", "商户地址"), ("address", "site address")),
    Column("merchant_contact", ("联系人", "商户联系人", "联系方式"), ("contact",)),
    Column("terminal_number", ("终端号", "终端编号"), ("terminal number",)),
    Column("terminal_serial", ("序列号", "终端序列号"), ("serial", "terminal serial")),
    Column("model", ("型号", "终端型号"), ("model",)),
    Column("capabilities", ("终端功能", "功能"), ("capabilities",)),
    Column("appointment", ("预约时间",), ("appointment",)),
    Column("due", ("截止日期", "到期日"), ("due date", "due")),
    Column("assignee", ("技术员", "负责人", "指派"), ("assignee", "technician")),
)


def _key(header: str) -> str:
    # "Order Number", "order_number" and "ORDER-NUMBER " are one header; so are 工单号 and
    # 工单号（必填）written by a bank's template.
    header = re.sub(r"[（(].*?[）)]", "", header.replace("\ufeff", ""))
    return re.sub(r"[\s_\-]+", " ", header).strip().lower()


_HEADER_OF = {_key(h): c.name for c in COLUMNS for h in (c.name, *c.zh, *c.en)}
_COLUMN = {c.name: c for c in COLUMNS}
REQUIRED_COLUMNS = tuple(c.name for c in COLUMNS if c.required)


@dataclass(frozen=True, slots=True)
class CellProblem:
    row: int
    """1 is the header row: the row number a spreadsheet shows."""
    column: int
    message: Text

    def said(self, path: str, lang: str = "en") -> str:
        return f"{path}:{self.row}:{self.column}: {self.message.get(lang)}"


def read_header(cells: Sequence[str]) -> tuple[dict[int, str], list[CellProblem]]:
    """Which field each column holds, by position; unknown, doubled and missing columns."""
    found: dict[int, str] = {}
    problems: list[CellProblem] = []
    seen: dict[str, int] = {}
    for at, cell in enumerate(cells):
        if not str(cell).strip():
            continue
        name = _HEADER_OF.get(_key(str(cell)))
        if name is None:
            problems.append(
                CellProblem(1, at + 1, Text(f"未知的列：{cell}", f"unknown column {str(cell)!r}"))
            )
        elif name in seen:
            problems.append(
                CellProblem(
                    1,
                    at + 1,
                    Text(
                        f"与第 {seen[name] + 1} 列重复：{cell}",
                        f"column {str(cell)!r} is the same as column {seen[name] + 1}",
                    ),
                )
            )
        else:
            seen[name] = at
            found[at] = name
    for column in COLUMNS:
        if column.required and column.name not in seen:
            problems.append(
                CellProblem(
                    1,
                    1,
                    Text(
                        f"缺少必需的列：{column.zh[0]}",
                        f"the required column {column.en[0]!r} ({column.zh[0]}) is missing",
                    ),
                )
            )
    return found, problems


def read_row(
    number: int, cells: Sequence[Any], header: Mapping[int, str]
) -> tuple[Order | None, list[CellProblem]]:
    """One row as an order, or every problem of its cells (`number`: its row number)."""
    raw: dict[str, Any] = {}
    where: dict[str, int] = {}
    for at, name in header.items():
        raw[name] = cells[at] if at < len(cells) else ""
        where[name] = at + 1
    problems: list[CellProblem] = []
    values: dict[str, Any] = {}

    def problem(name: str, text: Text) -> None:
        column = _COLUMN[name]
        said = Text(f"{column.zh[0]}：{text.zh}", f"{column.en[0]}: {text.en}")
        problems.append(CellProblem(number, where.get(name, 1), said))

    for name in ("order_number", "merchant_number", "merchant_name", *_TEXTS):
        value = _text(raw.get(name, ""))
        if not value:
            values[name] = ""
            if name in REQUIRED_COLUMNS:
                problem(name, Text("必填", "required"))
            continue
        values[name], said = _checked(name, value)
        if said is not None:
            problem(name, said)
    readers: tuple[tuple[str, Callable[[Any], tuple[Any, Text | None]]], ...] = (
        ("job_type", _job_type),
        ("reason", _reason),
        ("capabilities", _capabilities),
        ("appointment", _appointment),
        ("due", _due),
    )
    for name, reader in readers:
        value, said = reader(raw.get(name, ""))
        values[name] = value
        if said is not None:
            problem(name, said)
    if values["job_type"] == JobType.REACTIVATION and not values["reason"] and not problems:
        problem("reason", Text("重新激活须写明原因", "a re-activation needs its reason"))
    if problems:
        return None, sorted(problems, key=lambda p: p.column)
    return Order(**values), []


_TEXTS = (
    "site_address",
    "merchant_contact",
    "terminal_number",
    "terminal_serial",
    "model",
    "assignee",
)


def _order_number_rule(value: str) -> Text | None:
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}", value):
        return None
    return Text(
        "工单号由字母、数字、连字符组成，不超过64个字符",
        "an order number is letters, digits and dashes, at most 64",
    )


_STRICT = {
    "order_number": _order_number_rule,
    "merchant_number": IDENTIFIERS["merchant_number"].rule,
    "terminal_number": IDENTIFIERS["terminal_number"].rule,
}
"""Rules a cell must follow; the serial's (a TUSN or not) only decides if it is kept whole."""
_WHOLE = {**_STRICT, "terminal_serial": IDENTIFIERS["terminal_serial"].rule}


@functools.lru_cache(maxsize=16_384)
def _checked(name: str, value: str) -> tuple[str, Text | None]:
    """The value as stored and why it cannot be, with one look for card data per value:
    the look costs tens of microseconds, and a list of 10,000 rows has 100,000 cells, many
    of them the same (a contact, a model, a district)."""
    rule = _WHOLE.get(name)
    try:
        if rule is None:
            return guard_text(value), None
    except CardDataError as error:
        return "", Text(error.message_zh, str(error))
    if looks_like_a_card(value):
        return "", LOOKS_LIKE_A_CARD
    said = rule(value)
    if said is not None and name in _STRICT:
        return "", said
    # An identifier its rule accepts is kept whole, as a visit keeps it (Identifier.guard).
    return (value if said is None else guard_text(value)), None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number a spreadsheet holds as 20240001.0
    return str(value).strip()


def _names(table: Mapping[str, Text]) -> dict[str, str]:
    found = {}
    for code, text in table.items():
        for said in (code, text.zh, text.en):
            found[_key(said)] = str(code)
    return found


_JOB_TYPES = _names(JOB_TYPE_NAMES)
_REASONS = _names(REASON_NAMES)
_CAPABILITIES = _names(CAPABILITY_NAMES)


def _job_type(value: Any) -> tuple[str, Text | None]:
    text = _text(value)
    if not text:
        return "", None
    found = _JOB_TYPES.get(_key(text))
    if found is None:
        known = "、".join(t.zh for t in JOB_TYPE_NAMES.values())
        known_en = ", ".join(str(code) for code in JobType)
        return "", Text(
            f"未知的作业类型：{text}（可用：{known}）", f"unknown job type {text!r} ({known_en})"
        )
    return found, None


def _reason(value: Any) -> tuple[str, Text | None]:
    text = _text(value)
    if not text:
        return "", None
    found = _REASONS.get(_key(text))
    if found is None:
        known_en = ", ".join(str(code) for code in ReactivationReason)
        return "", Text(f"未知的原因：{text}", f"unknown reason {text!r} ({known_en})")
    return found, None


def _capabilities(value: Any) -> tuple[tuple[str, ...], Text | None]:
    text = _text(value)
    if not text:
        return (), None
    words = [w for w in re.split(r"[,，;；、/\s]+", text) if w]
    found: list[str] = []
    unknown: list[str] = []
    for word in words:
        code = _CAPABILITIES.get(_key(word))
        (found if code is not None else unknown).append(code or word)
    if unknown:
        return (), Text(
            f"未知的终端功能：{'、'.join(unknown)}",
            f"unknown capabilities: {', '.join(unknown)} (known: {', '.join(CAPABILITIES)})",
        )
    return tuple(c for c in CAPABILITIES if c in found), None


_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S")


def _appointment(value: Any) -> tuple[str, Text | None]:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M"), None
    text = _text(value)
    if not text:
        return "", None
    for layout in _TIME_FORMATS:
        try:
            return datetime.strptime(text, layout).strftime("%Y-%m-%dT%H:%M"), None
        except ValueError:
            continue
    return "", Text(
        f"“{text}”不是“年-月-日 时:分”（如 2026-12-01 09:30）",
        f"{text!r} is not a date and time like 2026-12-01 09:30",
    )


def _due(value: Any) -> tuple[str, Text | None]:
    if isinstance(value, datetime):
        return value.date().isoformat(), None
    if isinstance(value, date):
        return value.isoformat(), None
    text = _text(value)
    if not text:
        return "", None
    day = parse_day(text)
    if day is None:
        return "", Text(
            f"“{text}”不是“年-月-日”（如 2026-12-31）", f"{text!r} is not a day like 2026-12-31"
        )
    return day.isoformat(), None


def duplicate_problem(number: int, column: int, first_row: int, order_number: str) -> CellProblem:
    return CellProblem(
        number,
        column,
        Text(
            f"工单号 {order_number} 已在第 {first_row} 行出现",
            f"order number {order_number} is already on row {first_row}",
        ),
    )
