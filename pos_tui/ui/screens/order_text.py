"""The words of the work-order screens, in Chinese and English, and an order in one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text as RichText

from pos_tui.domain.orders import OVERDUE, SENT_BACK, STATE_NAMES
from pos_tui.ui.i18n import BINDING_TEXT, Text, tr

if TYPE_CHECKING:
    from pos_tui.services.orders import OrderLine

NO_APPOINTMENT = Text("未预约", "no appointment")
DUE = Text("截止 {day}", "due {day}")

# -- the visit started from an order -----------------------------------------------------

FROM_ORDER = Text(
    "按工单 {number} 填好了信息：现场不同的（如另一个序列号）直接改，会作为差异记录下来。",
    "Filled in from order {number}: change what differs on site (another serial, say);"
    " each change is recorded as a difference from the order.",
)
DIFFERENCES = Text("与工单不同：{names}", "Differs from the order: {names}")

# -- the supervisor's orders -------------------------------------------------------------

ORDERS_TITLE = Text("工单", "Work orders")
COLUMNS = (
    ("state", Text("状态", "State")),
    ("number", Text("工单号", "Order")),
    ("assignee", Text("技术员", "Technician")),
    ("appointment", Text("预约", "Appointment")),
    ("due", Text("截止", "Due")),
    ("merchant", Text("商户", "Merchant")),
)
COUNT = Text("共 {total} 个工单，显示 {shown} 个{which}", "{shown} of {total} order(s){which}")
ONLY_STATE = Text("（只看：{state}）", " (only {state})")
DAY_OF = Text("（{name} 今天的工单）", " ({name}'s day)")
NO_ORDERS = Text(
    "还没有工单：用 pos-tui orders import 文件 导入银行的派工单。",
    "No work orders yet: import the bank's dispatch list with pos-tui orders import FILE.",
)
ASSIGN_TITLE = Text("指派给技术员（工单 {number}）", "Assign to a technician (order {number})")
NOBODY = Text("（收回，不指派）", "(take back: nobody)")
NO_TECHNICIANS = Text(
    "密钥环里还没有受信任的技术员：先用 pos-tui keys trust 信任技术员的笔记本。",
    "The keyring trusts no technician yet: trust their laptops with pos-tui keys trust.",
)
ASSIGNED = Text("工单 {number} 已指派给 {name}。", "Order {number} assigned to {name}.")

BINDING_TEXT["orders.assign"] = Text("指派", "Assign")
BINDING_TEXT["orders.state"] = Text("按状态", "State")
BINDING_TEXT["orders.day"] = Text("技术员的一天", "Their day")
BINDING_TEXT["orders.back"] = Text("返回", "Back")
BINDING_TEXT["orders.reload"] = Text("刷新", "Reload")


def state_text(state: str, lang: str) -> RichText:
    style = "bold red" if state == OVERDUE else "bold yellow" if state == SENT_BACK else ""
    return RichText(tr(STATE_NAMES.get(state), lang) or state, style=style)


def when(line: OrderLine, lang: str) -> str:
    appointment = line.order.appointment.replace("T", " ")
    return appointment or NO_APPOINTMENT.get(lang)


def order_line(line: OrderLine, lang: str) -> RichText:
    """One order on the technician's home: appointment, number, merchant, address, state."""
    order = line.order
    shown = RichText(f"{when(line, lang)}  {order.order_number}  {order.merchant_name}")
    if order.site_address:
        shown.append(f"  {order.site_address}")
    if order.due:
        shown.append("  " + DUE.get(lang).format(day=order.due))
    shown.append("  ")
    shown.append_text(state_text(line.state, lang))
    return shown
