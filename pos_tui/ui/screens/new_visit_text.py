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

# A row's label: its first field's, or the group's for a row of parts.
LABELS: dict[str, Text] = {
    "job_type": Text("作业类型", "Job type"),
    "reason": Text("激活原因", "Reason"),
    "work_order": Text("工单号", "Work order"),
    "merchant_name": Text("商户名称", "Merchant name"),
    "registered_name": Text("注册名称", "Registered name"),
    "merchant_number": Text("商户号", "Merchant no."),
    "credit_code": Text("信用代码", "Credit code"),
    "terminal_number": Text("终端号", "Terminal no."),
    "terminal_serial": Text("终端序列号", "Serial no."),
    "pinpad_serial": Text("密码键盘 S/N", "PIN pad S/N"),
    "address": Text("布放地址", "Install address"),
    "street": Text("街道门牌", "Street, number"),
    "position": Text("经纬度", "Position"),
    "merchant_contact": Text("商户联系人", "Contact"),
    "capabilities": Text("终端功能", "Capabilities"),
    "checklists": Text("检查表", "Checklists"),
}

# The short label in front of a field that shares its row, also naming it in the row's message.
INLINE: dict[str, Text] = {
    "mcc": Text("MCC", "MCC"),
    "model": Text("型号", "Model"),
    "tusn": Text("TUSN", "TUSN"),
    "sim_iccid": Text("ICCID", "ICCID"),
    "province": Text("省", "Province"),
    "city": Text("市", "City"),
    "district": Text("区县", "District"),
    "street_number": Text("门牌号", "Number"),
    "latitude": Text("纬度", "Latitude"),
    "longitude": Text("经度", "Longitude"),
    "accuracy_m": Text("精度", "Accuracy"),
}

PLACEHOLDERS: dict[str, Text] = {
    "work_order": Text("派工单上的编号", "From the dispatch order"),
    "merchant_name": Text("招牌上的名称", "As on the shop sign"),
    "registered_name": Text("营业执照上的名称", "As on the business licence"),
    "merchant_number": Text("15位，见商户协议", "15 characters, from the agreement"),
    "mcc": Text("4位", "4 digits"),
    "credit_code": Text("统一社会信用代码，18位", "Unified social credit code, 18 characters"),
    "terminal_number": Text("8位数字", "8 digits"),
    "model": Text("如 PAX A920", "e.g. PAX A920"),
    "terminal_serial": Text("机身背面的 S/N", "S/N on the back"),
    "tusn": Text("银联终端唯一序列号", "UnionPay terminal serial"),
    "pinpad_serial": Text("外接键盘的 S/N", "S/N of an external PIN pad"),
    "sim_iccid": Text("SIM 卡上的19或20位", "19 or 20 digits on the SIM"),
    "province": Text("省", "Province"),
    "city": Text("市", "City"),
    "district": Text("区县", "District"),
    "street": Text("街道、路", "Street or road"),
    "street_number": Text("门牌号", "Number"),
    "latitude": Text("纬度，如 31.2304", "e.g. 31.2304"),
    "longitude": Text("经度，如 121.4737", "e.g. 121.4737"),
    "accuracy_m": Text("米", "metres"),
    "merchant_contact": Text("姓名和电话", "Name and phone"),
}
