"""What a visit is about: the merchant, the terminal and why the technician is there."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
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

    def trimmed(self) -> VisitInfo:
        """Without the stray spaces a quick typist leaves around numbers and names."""
        changes = {
            f.name: getattr(self, f.name).strip()
            for f in fields(self)
            if isinstance(getattr(self, f.name), str)
        }
        return replace(self, **changes)

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
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VisitInfo:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["capabilities"] = tuple(values.get("capabilities", ()))
        return cls(**values)


# Every text field, so that one added later is guarded without anyone remembering to.
_TEXT_FIELDS = tuple(f.name for f in fields(VisitInfo) if f.type in {"str", str})
_IDENTIFIER_FIELDS = tuple(name for name in _TEXT_FIELDS if name in IDENTIFIERS)
