"""What a visit is about: the merchant, the terminal and why the technician is there.

The details follow what acquirers must record for each terminal (PBOC 银发〔2021〕259号):
the terminal's serial and TUSN bound to the merchant's number, registered name, unified
social credit code and install address, and where the terminal is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from pos_tui.domain.checklist import CAPABILITIES, Text
from pos_tui.domain.identifiers import FIELDS as IDENTIFIERS
from pos_tui.domain.identifiers import MERCHANT_NUMBER
from pos_tui.domain.identifiers import MERCHANT_NUMBER_LENGTH as MERCHANT_NUMBER_LENGTH
from pos_tui.domain.identifiers import TERMINAL_NUMBER_LENGTH as TERMINAL_NUMBER_LENGTH
from pos_tui.domain.redact import guard_text


class JobType(StrEnum):
    NEW_INSTALL = "new_install"
    REACTIVATION = "reactivation"
    REPLACEMENT = "replacement"
    RELOCATION = "relocation"


class ReactivationReason(StrEnum):
    DEVICE_FAULT = "device_fault"
    SYSTEM_UPGRADE = "system_upgrade"
    MERCHANT_DETAILS_CHANGED = "merchant_details_changed"
    OTHER = "other"


JOB_TYPE_NAMES: dict[str, Text] = {
    JobType.NEW_INSTALL: Text("新装机", "New install"),
    JobType.REACTIVATION: Text("重新激活", "Re-activation"),
    JobType.REPLACEMENT: Text("换机", "Replacement"),
    JobType.RELOCATION: Text("移机", "Relocation"),
}

REASON_NAMES: dict[str, Text] = {
    ReactivationReason.DEVICE_FAULT: Text("设备故障", "Device fault"),
    ReactivationReason.SYSTEM_UPGRADE: Text("支付系统升级", "Payment-system upgrade"),
    ReactivationReason.MERCHANT_DETAILS_CHANGED: Text("商户信息变更", "Merchant details changed"),
    ReactivationReason.OTHER: Text("其他", "Other"),
}

_REQUIRED = ("merchant_name", "merchant_number", "terminal_number", "technician")

# What a checklist may name in `prefill`, `expect` and `when: {visit: ...}`, with the words a
# message uses for it. Technician, laptop and language are about who ran the visit, not the
# site, so no checklist compares with them.
DETAIL_NAMES: dict[str, Text] = {
    "work_order": Text("工单号", "work-order number"),
    "merchant_name": Text("商户名称", "merchant name"),
    "registered_name": Text("商户注册名称", "registered name"),
    "merchant_number": Text("商户号", "merchant number"),
    "credit_code": Text("统一社会信用代码", "unified social credit code"),
    "mcc": Text("商户类别码 MCC", "MCC"),
    "terminal_number": Text("终端号", "terminal number"),
    "terminal_serial": Text("终端序列号", "terminal serial number"),
    "model": Text("终端型号", "terminal model"),
    "tusn": Text("TUSN", "TUSN"),
    "pinpad_serial": Text("密码键盘序列号", "PIN pad serial number"),
    "sim_iccid": Text("SIM 卡 ICCID", "SIM card ICCID"),
    "site_address": Text("布放地址", "install address"),
    "province": Text("省", "province"),
    "city": Text("市", "city"),
    "district": Text("区县", "district"),
    "street": Text("街道", "street"),
    "street_number": Text("门牌号", "street number"),
    "latitude": Text("纬度", "latitude"),
    "longitude": Text("经度", "longitude"),
    "accuracy_m": Text("定位精度（米）", "location accuracy (m)"),
    "merchant_contact": Text("商户联系人", "merchant contact"),
}
VISIT_DETAILS: tuple[str, ...] = tuple(DETAIL_NAMES)
ADDRESS_PARTS = ("province", "city", "district", "street", "street_number")


@dataclass(frozen=True, slots=True)
class VisitInfo:
    job_type: str = JobType.NEW_INSTALL
    reason: str = ""
    merchant_name: str = ""
    merchant_number: str = ""
    terminal_number: str = ""
    terminal_serial: str = ""
    model: str = ""
    capabilities: tuple[str, ...] = ()
    site_address: str = ""
    merchant_contact: str = ""
    technician: str = ""
    device_id: str = ""
    notes: str = field(default="")
    language: str = ""
    """The language the visit was run in (zh or en): its report is written in it."""
    # Added later: `to_dict` leaves them out while empty, so that a visit stored before
    # them hashes (and verifies) exactly as it was signed.
    work_order: str = ""
    registered_name: str = ""
    """The name on the business licence, which the shop sign need not show."""
    credit_code: str = ""
    mcc: str = ""
    tusn: str = ""
    pinpad_serial: str = ""
    sim_iccid: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    street_number: str = ""
    latitude: str = ""
    longitude: str = ""
    accuracy_m: str = ""
    """How far off the position may be, in metres, as the phone or GPS said."""
    # Arrival and departure are not typed details: they are the visit's start
    # (`Session.arrived_at`) and its sign-off (`Session.departed_at`), recorded then.

    @property
    def install_address(self) -> str:
        """The install address (布放地址) in one line: its parts, or the old single field."""
        parts = [getattr(self, name) for name in ADDRESS_PARTS if getattr(self, name)]
        return " ".join(parts) if parts else self.site_address

    def detail(self, name: str) -> str:
        """A detail by the name a checklist uses for it (see `VISIT_DETAILS`)."""
        if name == "site_address":
            return self.install_address
        value = getattr(self, name, "")
        return value if isinstance(value, str) else ""

    def filled(self) -> frozenset[str]:
        """The details that hold something, for `when: {visit: ...}`."""
        return frozenset(name for name in VISIT_DETAILS if self.detail(name).strip())

    def trimmed(self) -> VisitInfo:
        """Without the stray spaces a quick typist leaves around numbers and names."""
        changes = {
            f.name: getattr(self, f.name).strip()
            for f in fields(self)
            if isinstance(getattr(self, f.name), str)
        }
        # Printed in capitals on the licence; typed in either.
        changes["credit_code"] = changes["credit_code"].upper()
        return replace(self, **changes)

    def completed(self) -> VisitInfo:
        """With the one-line address filled from its parts, for what reads only that."""
        if self.site_address or not any(getattr(self, name) for name in ADDRESS_PARTS):
            return self
        return replace(self, site_address=self.install_address)

    def problems(self) -> dict[str, Text]:
        """Errors that stop a visit from starting, by field name."""
        found: dict[str, Text] = {}
        for name in _REQUIRED:
            if not str(getattr(self, name)).strip():
                found[name] = Text("必填", "required")
        if self.job_type not in JobType.__members__.values():
            found["job_type"] = Text("未知的作业类型", "unknown job type")
        if self.job_type == JobType.REACTIVATION and self.reason not in set(ReactivationReason):
            found["reason"] = Text("请选择重新激活原因", "choose the reason for re-activation")
        for name in _IDENTIFIER_FIELDS:
            problem = IDENTIFIERS[name].problem(getattr(self, name))
            if problem is not None:
                found.setdefault(name, problem)
        unknown = set(self.capabilities) - set(CAPABILITIES)
        if unknown:
            found["capabilities"] = Text(
                f"未知功能：{', '.join(sorted(unknown))}",
                f"unknown capabilities: {', '.join(sorted(unknown))}",
            )
        for name, problem in self._position_problems().items():
            found.setdefault(name, problem)
        return found

    def _position_problems(self) -> dict[str, Text]:
        found: dict[str, Text] = {}
        for name, limit in (("latitude", 90), ("longitude", 180)):
            value = getattr(self, name)
            if value and not _within(value, -limit, limit):
                found[name] = Text(
                    f"须为 -{limit} 到 {limit} 之间的数（度）",
                    f"must be a number of degrees from -{limit} to {limit}",
                )
        if bool(self.latitude) != bool(self.longitude):
            missing = "longitude" if self.latitude else "latitude"
            found.setdefault(
                missing, Text("经度和纬度须同时填写", "give both latitude and longitude")
            )
        if self.accuracy_m:
            if not _within(self.accuracy_m, 0, 100_000):
                found["accuracy_m"] = Text(
                    "须为不小于0的米数", "must be a number of metres, 0 or more"
                )
            elif not (self.latitude or self.longitude):
                found["accuracy_m"] = Text(
                    "先填写经纬度，再填精度", "an accuracy needs the latitude and longitude"
                )
        return found

    def warnings(self) -> dict[str, Text]:
        """Worth a second look, but not a reason to refuse: some acquirers use letters."""
        warning = MERCHANT_NUMBER.warning(self.merchant_number)
        return {} if warning is None else {"merchant_number": warning}

    def guarded(self) -> VisitInfo:
        """A copy fit for storage: every free text through `guard_text` (card numbers masked),
        every identifier kept whole only when its own rule accepts it.

        Raises `CardDataError` for track data anywhere, or for an identifier that looks like
        a card number (an Amex number typed as the merchant number): better refused than
        stored as a merchant number of four digits.
        """
        changes: dict[str, Any] = {}
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            identifier = IDENTIFIERS.get(name)
            changes[name] = guard_text(value) if identifier is None else identifier.guard(value)
        changes["capabilities"] = tuple(guard_text(code) for code in self.capabilities)
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["capabilities"] = list(self.capabilities)
        for name in _LATER_FIELDS:
            if not data[name]:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VisitInfo:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for name in _LATER_FIELDS:
            # The store's schema checks the original fields only: a hand-edited file may put
            # anything in the later ones.
            if name in values and not isinstance(values[name], str):
                values[name] = ""
        values["capabilities"] = tuple(values.get("capabilities", ()))
        return cls(**values)


def _within(text: str, low: int, high: int) -> bool:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return False
    return number.is_finite() and low <= number <= high


# Every text field, so that one added later is guarded without anyone remembering to.
_TEXT_FIELDS = tuple(f.name for f in fields(VisitInfo) if f.type in {"str", str})
_LATER_FIELDS = _TEXT_FIELDS[_TEXT_FIELDS.index("work_order") :]
_IDENTIFIER_FIELDS = tuple(name for name in _TEXT_FIELDS if name in IDENTIFIERS)
