"""Work orders: the bank's dispatch list, one row a job, and how far each job has got.

Pure: visits and decisions in, the order's state out. A row of the list becomes an order
in `order_rows.py`; the store keeps the orders (`store/orders.py`), the reader turns files
into rows (`store/order_import.py`).

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from pos_tui.domain.checklist import Text
from pos_tui.domain.visit_info import JobType, VisitInfo

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
    day = parse_day(due)
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
        # Not dataclasses.asdict: it deep-copies every value, and an import makes 30,000.
        data = {name: getattr(self, name) for name in _ORDER_FIELDS}
        data["capabilities"] = list(self.capabilities)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Order:
        """ValueError for data of the wrong shape: it comes from a file on a share."""
        values: dict[str, Any] = {}
        for name in _ORDER_FIELDS:
            value = data.get(name, "" if name != "capabilities" else [])
            if name == "capabilities":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError("capabilities is not a list of words")
                values[name] = tuple(value)
            elif isinstance(value, str):
                values[name] = value
            else:
                raise ValueError(f"{name} is not text")
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


_ORDER_FIELDS = tuple(f.name for f in fields(Order))


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
    kept: dict[str, Any] = {n: wanted.detail(n) or found.detail(n) for n in PREFILLED}
    kept["site_address"] = order.site_address or found.site_address
    return replace(found, work_order=order.order_number, **kept)


DAY_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")


def parse_day(text: str) -> date | None:
    """A day as a bank's list writes it; None when it is not one."""
    for layout in DAY_FORMATS:
        try:
            return datetime.strptime(text[:10] if "-" in text else text, layout).date()
        except ValueError:
            continue
    return None


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
