"""The words of reports and exports, in Chinese and English.

Names shared with the screens come from `pos_tui.domain.names`; the words only a report
uses live here.
"""

from __future__ import annotations

from pos_tui.domain.checklist import LANGUAGES, Text
from pos_tui.domain.integrity import (
    ALTERED,
    INTACT,
    UNKNOWN_SIGNER,
    UNSIGNED,
    VERIFIED,
    state_name,
)
from pos_tui.domain.integrity import INTEGRITY_NAMES as INTEGRITY_NAMES
from pos_tui.domain.names import DECISION_NAMES as DECISION_NAMES
from pos_tui.domain.names import SEVERITY_NAMES as SEVERITY_NAMES
from pos_tui.domain.names import STATUS_NAMES as _STATUS_NAMES
from pos_tui.domain.progress import VERDICT_NAMES
from pos_tui.domain.session import Outcome
from pos_tui.domain.visit_info import JOB_TYPE_NAMES, REASON_NAMES

DEFAULT_LANGUAGE = "zh"
"""For visits recorded before they remembered their language: the bank's working language."""

OUTCOME_NAMES: dict[str, Text] = {
    Outcome.PASS: Text("通过", "Pass"),
    # Upper case in English so a failure stands out on a black-and-white printout too.
    Outcome.FAIL: Text("不通过", "FAIL"),
    Outcome.NA: Text("不适用", "N/A"),
}
NOT_CHECKED = Text("未检查", "Not checked")
NOT_FOR_THIS_TERMINAL = Text("不适用（终端无此功能）", "N/A (terminal lacks it)")
NOT_IN_FOLLOW_UP = Text("本次复查不含此项", "Not re-run in this follow-up")

STATUS_NAMES: dict[str, Text] = _STATUS_NAMES


LABELS: dict[str, Text] = {
    "title": Text("POS 终端验收报告", "POS terminal acceptance report"),
    "merchant": Text("商户", "Merchant"),
    "merchant_name": Text("商户名称", "Merchant name"),
    "merchant_number": Text("商户号", "Merchant number"),
    "site_address": Text("地址", "Address"),
    "merchant_contact": Text("联系方式", "Contact"),
    "terminal": Text("终端", "Terminal"),
    "terminal_number": Text("终端号", "Terminal number"),
    "terminal_serial": Text("序列号", "Serial number"),
    "registered_name": Text("注册名称", "Registered name"),
    "credit_code": Text("统一社会信用代码", "Unified social credit code"),
    "mcc": Text("商户类别码（MCC）", "MCC"),
    "tusn": Text("TUSN", "TUSN"),
    "pinpad_serial": Text("密码键盘序列号", "PIN pad serial"),
    "sim_iccid": Text("SIM 卡 ICCID", "SIM ICCID"),
    "work_order": Text("工单号", "Work order"),
    "position": Text("经纬度（精度）", "Position (accuracy)"),
    "arrived_at": Text("到场时间", "Arrived"),
    "departed_at": Text("离场时间", "Departed"),
    "model": Text("型号", "Model"),
    "capabilities": Text("功能", "Capabilities"),
    "visit": Text("访问", "Visit"),
    "visit_id": Text("访问编号", "Visit id"),
    "job_type": Text("作业类型", "Job type"),
    "reason": Text("原因", "Reason"),
    "started": Text("开始时间", "Started"),
    "technician": Text("技术员", "Technician"),
    "device_id": Text("设备", "Device"),
    "status": Text("状态", "Status"),
    "visit_notes": Text("备注", "Notes"),
    "verdict": Text("结论", "Verdict"),
    "progress": Text("已检查（适用项）", "Checked (applicable items)"),
    "failures": Text("不通过项", "Failures"),
    "no_failures": Text("无不通过项。", "No failures."),
    "number": Text("序号", "No."),
    "checklist": Text("检查表", "Checklist"),
    "version": Text("版本", "version"),
    "item": Text("检查项", "Item"),
    "severity": Text("严重程度", "Severity"),
    "outcome": Text("结果", "Result"),
    "note": Text("说明", "Note"),
    "values": Text("记录数据", "Values"),
    "answered_at": Text("时间", "Time"),
    "signoff": Text("签署", "Sign-off"),
    "merchant_representative": Text("商户代表", "Merchant representative"),
    "signed_at": Text("签署时间", "Signed at"),
    "not_signed": Text("尚未签署。", "Not signed yet."),
    "review": Text("审核", "Review"),
    "decision": Text("审核结论", "Decision"),
    "reviewer": Text("审核人", "Reviewer"),
    "reviewed_at": Text("审核时间", "Reviewed at"),
    "comment": Text("意见", "Comment"),
    "not_reviewed": Text("尚未审核。", "Not reviewed yet."),
    "integrity": Text("记录完整性", "Record integrity"),
    "content_sha256": Text("内容哈希（SHA-256）", "Content hash (SHA-256)"),
    "hash_check": Text("核对", "Check"),
    "integrity_reasons": Text("原因", "Why"),
    "signer": Text("设备签名", "Device signature"),
    "checklist_files": Text("检查表文件", "Checklist files"),
    "footer": Text("由 pos-tui 生成", "Produced by pos-tui"),
    "colon": Text("：", ": "),
    "evidence": Text("照片与文件", "Photos and files"),
    "evidence_count": Text("附件", "Attached"),
    "file_name": Text("文件名", "File name"),
    "file_type": Text("类型", "Type"),
    "file_size": Text("大小", "Size"),
    "taken_at": Text("拍摄时间", "Taken"),
    "camera": Text("相机", "Camera"),
    "place": Text("拍摄地点（纬度, 经度）", "Place (latitude, longitude)"),
    "attached_at": Text("附加时间", "Attached at"),
    "file_sha256": Text("文件哈希（SHA-256）", "File hash (SHA-256)"),
    "file_state": Text("文件", "File"),
    "other_evidence": Text("其他附件", "Other attachments"),
    "revision": Text("记录版本", "Revision"),
    "follow_up_of": Text("复查对象", "Follow-up of"),
    "follow_up_items": Text("复查项", "Items re-run"),
    "discarded_reason": Text("丢弃原因", "Why discarded"),
    "merchant_signature": Text("商户签字", "Merchant's signature"),
    "amendments": Text("更正记录", "Amendment history"),
    "amendment_number": Text("更正", "Amendment"),
    "amended_at": Text("时间", "When"),
    "amended_by": Text("更正人", "By"),
    "amendment_reason": Text("更正原因", "Reason"),
    "amendment_changes": Text("改动", "What changed"),
    "amendment_revisions": Text("更正的版本 → 签署为", "Revision corrected → signed as"),
    "amendment_open": Text("尚未重新签署", "not signed again yet"),
    "corrects_sha256": Text("更正的版本（SHA-256）", "Corrects revision (SHA-256)"),
    "follow_up_sha256": Text("复查的记录（SHA-256）", "Follows up record (SHA-256)"),
    "time_zone": Text("时区", "Time zone"),
    "signatures": Text("签字与盖章", "Signatures and stamp"),
    "technician_signature": Text("技术员签字", "Technician's signature"),
    "merchant_signature_box": Text("商户签字", "Merchant's signature"),
    "merchant_stamp": Text("商户盖章", "Merchant's stamp"),
    "date_line": Text("日期：＿＿＿＿年＿＿月＿＿日", "Date: ____ / ____ / ________"),
}


def zone_text(zone: str, lang: str) -> str:
    """Said once, in the visit table: the zone every time of the report is shown in."""
    if lang == "zh":
        return f"本报告中的时间均为 {zone}"
    return f"all times in this report are {zone}"


def page_footer(lang: str) -> tuple[str, str]:
    """The foot of each printed page: its number, as a template where the browser puts the
    page's number for {page} and the count for {pages}, and the label of the visit id."""
    if lang == "zh":
        return "第 {page} 页 / 共 {pages} 页", "访问编号"
    return "Page {page} of {pages}", "Visit id"


def short_hash(sha256: str) -> str:
    """A content hash as people compare it on paper: its first twelve digits and an ellipsis;
    the integrity table gives it whole."""
    return f"{sha256[:12]}…" if sha256 else "?"


def revision_text(number: int, corrects: str, open_: bool, lang: str) -> str:
    """ "Amendment 2, correcting revision 3fa2…": which revision a report is of."""
    if lang == "zh":
        state = "（进行中，尚未重新签署）" if open_ else ""
        return f"第{number}次更正{state}，更正版本 {corrects}"
    state = " (under way, not signed again yet)" if open_ else ""
    return f"Amendment {number}{state}, correcting revision {corrects}"


def follow_up_text(of_uuid: str, of_sha256: str, items: int, lang: str) -> str:
    if lang == "zh":
        return f"访问 {of_uuid}（记录 {of_sha256}）：只重做下列 {items} 项"
    return f"visit {of_uuid} (record {of_sha256}): only the {items} item(s) listed were re-run"


def merchant_signature_text(carried: bool, corrects: str, lang: str) -> str:
    """On an amendment's sign-off: did the merchant sign this revision, or does their
    earlier signature carry (docs/decisions.md: only when what they accepted changed)."""
    if carried:
        if lang == "zh":
            return (
                f"沿用版本 {corrects} 的商户签字：本次更正未改动商户确认的内容"
                "（访问信息与各项结果），商户未重新签字"
            )
        return (
            f"carried from revision {corrects}: this amendment changed nothing the merchant"
            " accepted (visit details and outcomes), so they did not sign again"
        )
    if lang == "zh":
        return "商户已就本次更正重新签字"
    return "given again for this amendment"


EVIDENCE_PROBLEMS: dict[str, Text] = {
    "missing": Text(
        "⚠ 文件缺失：存储中没有此文件，无法显示", "⚠ MISSING: the store does not hold this file"
    ),
    "replaced": Text(
        "⚠ 文件已被替换：存储中的文件与记录的哈希不符，不予显示",
        "⚠ REPLACED: the file in the store does not have the hash the record names; not shown",
    ),
    "not_at_hand": Text(
        "未附图片：生成报告时未读取存储中的文件",
        "Not shown: the store's files were not at hand when this report was made",
    ),
    "unreadable": Text("⚠ 此图片无法显示", "⚠ This picture cannot be shown"),
}
"""What stands in a report where a file's picture would be, by problem code."""

FILE_KINDS: dict[str, Text] = {
    "image/jpeg": Text("JPEG 照片", "JPEG photo"),
    "image/png": Text("PNG 图片", "PNG picture"),
    "image/heic": Text("HEIC 照片", "HEIC photo"),
    "application/pdf": Text("PDF 文件", "PDF file"),
}
FILE_OK = Text("完好（哈希一致）", "whole (hash matches)")

INTEGRITY_SENTENCES: dict[str, Text] = {
    INTACT: Text("与签署时的内容一致", "matches the content as signed"),
    VERIFIED: Text("签名有效，与签署时的内容一致", "signature valid: the content as signed"),
    ALTERED: Text(
        "不一致：签署后记录内容已被改动", "DOES NOT MATCH: the record was changed after signing"
    ),
    UNSIGNED: Text("没有设备签名", "no device signature"),
    UNKNOWN_SIGNER: Text(
        "签名有效，但来自未经验证的设备", "signature valid, but from an unverified device"
    ),
}
"""The report's integrity check, by `domain.integrity` state."""


def integrity_sentence(state: str, lang: str) -> str:
    text = INTEGRITY_SENTENCES.get(state)
    return state_name(state, lang) if text is None else text.get(lang)


WATERMARKS: dict[str, Text] = {
    "draft": Text("草稿", "DRAFT"),
    "discarded": Text("已丢弃", "DISCARDED"),
    "altered": Text("已被改动", "ALTERED"),
    "conflict": Text("冲突", "CONFLICT"),
}

BANNERS: dict[str, Text] = {
    "draft": Text(
        "草稿：未签署，不能作为验收依据", "DRAFT: not signed, not valid as an acceptance"
    ),
    "discarded": Text(
        "已丢弃：此草稿已放弃（原因见下），不是验收记录",
        "DISCARDED: this draft was given up (the reason is below); it is not an acceptance",
    ),
    "altered": Text(
        "警告：记录在签署后被改动，内容与签署时的哈希不符",
        "WARNING: this record was changed after it was signed; it no longer matches its hash",
    ),
    "unsigned": Text(
        "注意：此记录签署于启用设备签名之前，无法证明由谁签署",
        "NOTE: signed off before device signatures existed; nothing proves who signed it",
    ),
    "unknown_signer": Text(
        "警告：记录来自未经验证的设备（密钥未获信任或已吊销），不能作为验收依据",
        "WARNING: this record comes from an unverified device (its key is not trusted, or was"
        " revoked); not valid as an acceptance",
    ),
    "conflict": Text(
        "冲突：共享库中同一版本有两份不同的记录，请主管核实",
        "CONFLICT: the shared store holds two different records of this version; a supervisor"
        " must check which is right",
    ),
}


def banner(problem: str, lang: str) -> str:
    """The banner of a problem code; an integrity state without its own banner still gets one."""
    text = BANNERS.get(problem)
    if text is not None:
        return text.get(lang)
    if lang == "zh":
        return f"警告：记录完整性：{state_name(problem, lang)}，不能作为验收依据"
    return f"WARNING: record integrity: {state_name(problem, lang)}; not valid as an acceptance"


def watermark(problem: str, lang: str) -> str:
    text = WATERMARKS.get(problem)
    return state_name(problem, lang) if text is None else text.get(lang)


def name_of(names: dict[str, Text], code: str, lang: str) -> str:
    """The word for `code`, or the code itself when it has none (newer data, older app)."""
    text = names.get(code)
    return code if text is None else text.get(lang)


def verdict_name(code: str, lang: str) -> str:
    return name_of(VERDICT_NAMES, code, lang)


def job_type_name(job_type: str, reason: str, lang: str) -> str:
    name = name_of(JOB_TYPE_NAMES, job_type, lang)
    if not reason:
        return name
    why = name_of(REASON_NAMES, reason, lang)
    return f"{name}（{why}）" if lang == "zh" else f"{name} ({why})"


def report_language(asked: str | None, visit_language: str) -> str:
    """--lang wins, then the visit's own language, then DEFAULT_LANGUAGE."""
    for candidate in (asked, visit_language):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE
