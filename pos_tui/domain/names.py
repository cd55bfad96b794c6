"""Bilingual names of the domain's codes, shared by the screens, reports and exports."""

from __future__ import annotations

from pos_tui.domain.checklist import Text
from pos_tui.domain.session import Status

STATUS_NAMES: dict[str, Text] = {
    Status.DRAFT: Text("草稿", "Draft"),
    Status.SIGNED: Text("已签署", "Signed"),
    Status.SYNCED: Text("已同步", "Synced"),
    Status.REVIEWED: Text("已审核", "Reviewed"),
    Status.DISCARDED: Text("已丢弃", "Discarded"),
}

SEVERITY_NAMES: dict[str, Text] = {
    "critical": Text("关键", "Critical"),
    "major": Text("重要", "Major"),
    "minor": Text("一般", "Minor"),
}

CAPABILITY_NAMES: dict[str, Text] = {
    "chip": Text("芯片", "Chip"),
    "magstripe": Text("磁条", "Magstripe"),
    "contactless": Text("非接", "Contactless"),
    "pinpad": Text("密码键盘", "PIN pad"),
    "printer": Text("打印机", "Printer"),
    "qr_display": Text("显示二维码", "Shows QR"),
    "qr_scanner": Text("扫码", "Scans QR"),
    "ethernet": Text("以太网", "Ethernet"),
    "wifi": Text("Wi-Fi", "Wi-Fi"),
    "cellular": Text("移动网络", "Cellular"),
}

# A decision this version does not know is shown by its code.
DECISION_NAMES: dict[str, Text] = {
    "approved": Text("已批准", "Approved"),
    "has_issues": Text("有问题", "Has issues"),
    "rejected": Text("已驳回", "Rejected"),
}
