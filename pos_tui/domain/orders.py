"""Work orders: the bank's dispatch list, one row a job, and how far each job has got.

Pure: a row of cells in, an `Order` or every problem of the row out; visits and decisions
in, the order's state out. The store keeps the orders (`store/orders.py`), the reader turns
files into rows (`store/order_import.py`).

An order's state is derived, never written by hand, from the visits that carry its number
(`VisitInfo.work_order`) and the decisions on them: a visit begun makes it visited, a
signed one signed, the supervisor's approval approved and a visit sent back sends the order
back to the technician. Only closing (the bank withdrew the job) and the assignee are kept
with the order itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from pos_tui.domain.checklist import CAPABILITIES, Text
from pos_tui.domain.identifiers import FIELDS as IDENTIFIERS
from pos_tui.domain.names import CAPABILITY_NAMES
from pos_tui.domain.redact import CardDataError, guard_text
from pos_tui.domain.visit_info import (
    JOB_TYPE_NAMES,
    REASON_NAMES,
    JobType,
    ReactivationReason,
    VisitInfo,
)

# -- states ------------------------------------------------------------------------------

OPEN = "open"
ASSIGNED = "assigned"
VISITED = "visited"
SIGNED = "signed"
APPROVED = "approved"
SENT_BACK = "sent_back"
CLOSED = "closed"
OVERDUE = "overdue"
STATES = (OPEN, ASSIGNED, VISITED, SIGNED, APPROVED, SENT_BACK, CLOSED, OVERDUE)

STATE_NAMES: dict[str, Text] = {
    OPEN: Text("待派", "Open"),
    ASSIGNED: Text("已派", "Assigned"),
    VISITED: Text("已上门", "Visited"),
    SIGNED: Text("已签署", "Signed"),
    APPROVED: Text("已批准", "Approved"),
    SENT_BACK: Text("已退回", "Sent back"),
    CLOSED: Text("已关闭", "Closed"),
    OVERDUE: Text("已逾期", "Overdue"),
}
STATE_ORDER = {OVERDUE: 0, SENT_BACK: 1, OPEN: 2, ASSIGNED: 3, VISITED: 4, SIGNED: 5}
"""What needs someone soonest first: overdue, then sent back, then work not yet done."""
TO_DO = frozenset({OPEN, ASSIGNED, VISITED, SENT_BACK, OVERDUE})
"""States in which the order still needs its technician."""

INSPECTION = "inspection"
"""The kind of an order made by `due-inspections --create`; a dispatched one has none."""

# A visit's own state, as far as its order is concerned; the strongest of an order's visits
# wins, so a follow-up signed after a visit sent back makes the order signed again.
_VISIT_WEIGHT = {SENT_BACK: 1, VISITED: 2, SIGNED: 3, APPROVED: 4}
_SENT_BACK_DECISIONS = frozenset({"has_issues", "rejected"})


def visit_state(status: str, decision: str) -> str:
    """What one visit says of its order: `status` a visit status (draft, signed, synced,
    reviewed; discarded says nothing) and `decision` the latest review decision on it."""
    if status == "discarded":
        return ""
    if decision == "approved":
        return APPROVED
    if decision in _SENT_BACK_DECISIONS and status != "draft":
        return SENT_BACK
    return VISITED if status == "draft" else SIGNED


def order_state(
    assignee: str,
    visit_states: Iterable[str],
    due: str,
    today: date,
    closed: bool = False,
) -> str:
    """The order's state from what is kept with it and what its visits say."""
    if closed:
        return CLOSED
    said = [state for state in visit_states if state in _VISIT_WEIGHT]
    state = max(said, key=_VISIT_WEIGHT.__getitem__) if said else ""
    if not state:
        state = ASSIGNED if assignee else OPEN
    if state in TO_DO and is_overdue(due, today):
        return OVERDUE
    return state


def is_overdue(due: str, today: date) -> bool:
    day = _parse_day(due)
    return day is not None and day < today


# -- the order ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Order:
    """One job of the dispatch list, as imported: what the bank says about it."""

    order_number: str
    merchant_number: str
    merchant_name: str
    job_type: str = ""
    reason: str = ""
    site_address: str = ""
    merchant_contact: str = ""
    terminal_number: str = ""
    terminal_serial: str = ""
    model: str = ""
    capabilities: tuple[str, ...] = ()
    appointment: str = ""
    """Local time, `YYYY-MM-DDTHH:MM`, as the bank booked it with the merchant."""
    due: str = ""
    """`YYYY-MM-DD`: the job is overdue from the day after."""
    assignee: str = ""
    """The technician's name as the bank's list gives it (the keyring's names)."""
    kind: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["capabilities"] = list(self.capabilities)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Order:
        """ValueError for data of the wrong shape: it comes from a file on a share."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name, "" if f.name != "capabilities" else [])
            if f.name == "capabilities":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError("capabilities is not a list of words")
                values[f.name] = tuple(value)
            elif isinstance(value, str):
                values[f.name] = value
            else:
                raise ValueError(f"{f.name} is not text")
        if not values["order_number"]:
            raise ValueError("it has no order number")
        return cls(**values)

    def digest(self) -> str:
        """The hash of what was imported: the same row imported again has the same one."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def changes(self, other: Order) -> dict[str, tuple[str, str]]:
        """Each field that differs in `other`, with its value here and there."""
        before, after = self.to_dict(), other.to_dict()
        return {
            name: (_said(before[name]), _said(after[name]))
            for name in before
            if before[name] != after[name]
        }

    @property
    def appointment_day(self) -> str:
        return self.appointment[:10]

    def visit_info(self, technician: str = "", device_id: str = "") -> VisitInfo:
        """The visit details as the order gives them, for the new-visit form to start from."""
        return VisitInfo(
            job_type=self.job_type or JobType.NEW_INSTALL,
            reason=self.reason,
            merchant_name=self.merchant_name,
            merchant_number=self.merchant_number,
            terminal_number=self.terminal_number,
            terminal_serial=self.terminal_serial,
            model=self.model,
            capabilities=self.capabilities,
            site_address=self.site_address,
            merchant_contact=self.merchant_contact,
            technician=technician,
            device_id=device_id,
            work_order=self.order_number,
        )


def _said(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


PREFILLED = (
    "merchant_name",
    "merchant_number",
    "terminal_number",
    "terminal_serial",
    "model",
    "merchant_contact",
)
"""The typed visit details an order fills in; what the technician finds that differs from
one of them is a difference (`differences`), kept in the visit's log. The order's address
is carried over as the visit's one-line address; the parts the technician types are their
own details."""


def differences(order: Order, found: VisitInfo) -> dict[str, str]:
    """The details the technician found other than the order said: by name, the value found.
    A detail the order left empty and the technician filled is no difference."""
    wanted = order.visit_info()
    return {
        name: found.detail(name)
        for name in PREFILLED
        if wanted.detail(name) and found.detail(name) != wanted.detail(name)
    }


def starting_info(order: Order, found: VisitInfo) -> VisitInfo:
    """What the visit starts with: the order's details, where it has them, else what was
    typed; the typed ones that differ are then recorded as changes (`differences`)."""
    wanted = order.visit_info()
    kept = {name: wanted.detail(name) or found.detail(name) for name in PREFILLED}
    address = order.site_address or found.site_address
    return replace(found, work_order=order.order_number, site_address=address, **kept)


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
                CellProblem(
                    1, at + 1, Text(f"未知的列：{cell}", f"unknown column {str(cell)!r}")
                )
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
        try:
            values[name] = _guarded(name, value)
        except CardDataError as error:
            problem(name, Text(error.message_zh, str(error)))
            continue
        if not value and name in REQUIRED_COLUMNS:
            problem(name, Text("必填", "required"))
            continue
        rule = _RULES.get(name)
        said = rule(value) if rule is not None and value else None
        if said is not None:
            problem(name, said)
    for name, reader in (
        ("job_type", _job_type),
        ("reason", _reason),
        ("capabilities", _capabilities),
        ("appointment", _appointment),
        ("due", _due),
    ):
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


_RULES = {
    "order_number": _order_number_rule,
    "merchant_number": IDENTIFIERS["merchant_number"].problem,
    "terminal_number": IDENTIFIERS["terminal_number"].problem,
    "terminal_serial": IDENTIFIERS["terminal_serial"].problem,
}


def _guarded(name: str, value: str) -> str:
    identifier = IDENTIFIERS.get(name)
    if name == "order_number":
        return value
    return identifier.guard(value) if identifier is not None else guard_text(value)


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
        return "", Text(f"未知的作业类型：{text}（可用：{known}）", f"unknown job type {text!r} ({known_en})")
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
    found, unknown = [], []
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
_DAY_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")


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
    day = _parse_day(text)
    if day is None:
        return "", Text(
            f"“{text}”不是“年-月-日”（如 2026-12-31）", f"{text!r} is not a day like 2026-12-31"
        )
    return day.isoformat(), None


def _parse_day(text: str) -> date | None:
    for layout in _DAY_FORMATS:
        try:
            return datetime.strptime(text[:10] if "-" in text else text, layout).date()
        except ValueError:
            continue
    return None


def duplicate_problem(number: int, column: int, first_row: int, order_number: str) -> CellProblem:
    return CellProblem(
        number,
        column,
        Text(
            f"工单号 {order_number} 已在第 {first_row} 行出现",
            f"order number {order_number} is already on row {first_row}",
        ),
    )


# -- periods and inspections -------------------------------------------------------------


def parse_period(text: str) -> timedelta:
    """`365d`, `52w`, `12m` (30 days a month) or `1y` (365 days); ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d{1,5})\s*([dwmy])\s*", text.lower())
    if match is None:
        raise ValueError(f"{text!r} is not a period: give days, weeks, months or years (365d)")
    count, unit = int(match.group(1)), match.group(2)
    return timedelta(days=count * {"d": 1, "w": 7, "m": 30, "y": 365}[unit])


@dataclass(frozen=True, slots=True)
class DueInspection:
    merchant_number: str
    merchant_name: str
    last_approved: str
    """The day of the last approved visit; "" when none was ever approved."""
    address: str = ""


def due_inspections(
    visits: Iterable[Mapping[str, Any]],
    older_than: timedelta,
    today: date,
    open_inspections: Iterable[str] = (),
) -> list[DueInspection]:
    """Merchants whose last approved visit is older than `older_than` (or who have none),
    leaving out those with an inspection order still to do (`open_inspections`: their
    merchant numbers). `visits`: rows with merchant_number, merchant_name, updated_at and
    review_state."""
    cutoff = (today - older_than).isoformat()
    names: dict[str, str] = {}
    last: dict[str, str] = {}
    for visit in visits:
        number = str(visit.get("merchant_number", ""))
        if not number:
            continue
        names.setdefault(number, str(visit.get("merchant_name", "")))
        if visit.get("review_state") == APPROVED:
            day = str(visit.get("updated_at", ""))[:10]
            if day > last.get(number, ""):
                last[number] = day
    skip = set(open_inspections)
    return sorted(
        (
            DueInspection(number, names[number], last.get(number, ""))
            for number in names
            if number not in skip and last.get(number, "") < cutoff
        ),
        key=lambda due: (due.last_approved, due.merchant_number),
    )


def inspection_order(due: DueInspection, today: date, within: timedelta) -> Order:
    """A new order to inspect a merchant, due `within` from today."""
    return Order(
        order_number=f"INSP-{due.merchant_number}-{today:%Y%m%d}",
        merchant_number=due.merchant_number,
        merchant_name=due.merchant_name,
        site_address=due.address,
        due=(today + within).isoformat(),
        kind=INSPECTION,
    )
