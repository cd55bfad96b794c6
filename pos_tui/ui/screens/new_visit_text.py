"""The words of the new-visit form, in Chinese and English."""

from __future__ import annotations

from pos_tui.ui.i18n import Text

TITLE = Text("新建访问", "New visit")
INTRO = Text(
    "带 * 的为必填项。Enter 跳到下一项，Ctrl+S 开始检查，Esc 取消。",
    "Fields marked * are required. Enter moves on, Ctrl+S starts, Esc cancels.",
)
START = Text("开始检查", "Start the checks")
STARTING = Text("正在创建访问...", "Creating the visit...")
FIX_MARKED = Text(
    "请先改正标出的项目，再开始。", "Please correct the marked fields before starting."
)
NO_TECHNICIAN = Text(
    "尚未设置技术员姓名：请先在首页设置。",
    "No technician name is set: set it on the home screen first.",
)
DISCARD = Text("再按一次 Esc 放弃已填写的内容。", "Press Esc again to throw away what you typed.")
CHOOSE_CHECKLIST = Text("至少选择一份检查表", "choose at least one checklist")
CHOOSE_REASON = Text("请选择原因", "Choose the reason")
TECHNICIAN = Text("技术员：{name}", "Technician: {name}")

LABELS: dict[str, Text] = {
    "job_type": Text("作业类型", "Job type"),
    "reason": Text("激活原因", "Reason"),
    "merchant_name": Text("商户名称", "Merchant name"),
    "merchant_number": Text("商户号", "Merchant no."),
    "terminal_number": Text("终端号", "Terminal no."),
    "terminal_serial": Text("终端序列号", "Serial no."),
    "model": Text("终端型号", "Model"),
    "site_address": Text("安装地址", "Site address"),
    "merchant_contact": Text("商户联系人", "Contact"),
    "capabilities": Text("终端功能", "Capabilities"),
    "checklists": Text("检查表", "Checklists"),
}

PLACEHOLDERS: dict[str, Text] = {
    "merchant_name": Text("招牌上的名称", "As on the shop sign"),
    "merchant_number": Text("15位，见商户协议", "15 characters, from the agreement"),
    "terminal_number": Text("8位数字", "8 digits"),
    "terminal_serial": Text("机身背面的 S/N", "S/N on the back of the device"),
    "model": Text("例如 PAX A920", "e.g. PAX A920"),
    "site_address": Text("街道、门牌号", "Street and number"),
    "merchant_contact": Text("姓名和电话", "Name and phone"),
}
