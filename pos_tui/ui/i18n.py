"""The UI in Chinese and English.

Words shared across screens live here; a screen's own sentences live beside it as `Text`
constants (see docs/decisions.md). Keys are described by binding id, at the moment they
are shown, so no binding is ever rewritten.
"""

from __future__ import annotations

from textual.binding import Binding

from pos_tui.domain.checklist import LANGUAGES, EvidenceKind, EvidenceRule, Text
from pos_tui.domain.evidence import EvidenceRef
from pos_tui.domain.names import CAPABILITY_NAMES, SEVERITY_NAMES, STATUS_NAMES
from pos_tui.domain.progress import VERDICT_NAMES
from pos_tui.domain.session import Correction, Outcome

LANGUAGE_NAMES = dict(zip(LANGUAGES, ("中文", "English"), strict=True))

OUTCOME_NAMES: dict[str, Text] = {
    Outcome.PASS: Text("通过", "Pass"),
    Outcome.FAIL: Text("不通过", "Fail"),
    Outcome.NA: Text("不适用", "N/A"),
}


BINDING_TEXT: dict[str, Text] = {
    "app.help": Text("帮助", "Help"),
    "app.language": Text("English", "中文"),
    "app.quit": Text("退出", "Quit"),
    "app.palette": Text("命令", "Commands"),
    "home.new": Text("新建访问", "New visit"),
    "home.open": Text("打开", "Open"),
    "home.refresh": Text("刷新", "Refresh"),
    "home.sync": Text("同步", "Sync"),
    "home.discard": Text("丢弃", "Discard"),
    "item.pass": Text("通过", "Pass"),
    "item.fail": Text("不通过", "Fail"),
    "item.na": Text("不适用", "N/A"),
    "item.undo": Text("撤销", "Undo"),
    "item.next_open": Text("下一未答", "Next open"),
    "item.details": Text("备注", "Note"),
    "item.attach": Text("附件", "Attach"),
    "item.phone": Text("手机", "Phone"),
    "item.down": Text("下一项", "Down"),
    "item.up": Text("上一项", "Up"),
    "visit.summary": Text("汇总", "Summary"),
    "visit.back": Text("返回", "Back"),
    "visit.sign": Text("签署", "Sign off"),
    "visit.report": Text("报告", "Report"),
    "visit.amend": Text("更正", "Amend"),
    "visit.details_edit": Text("改信息", "Details"),
    "visit.follow_up": Text("复查", "Follow-up visit"),
    "form.save": Text("保存", "Save"),
    "form.cancel": Text("取消", "Cancel"),
    "form.start": Text("开始", "Start"),
    "attach.add": Text("附上", "Attach"),
    "attach.remove": Text("移除", "Remove"),
    "attach.folder": Text("相机文件夹", "Camera folder"),
    "attach.close": Text("关闭", "Close"),
    "attach.phone": Text("手机拍照", "Phone camera"),
    "phone.renew": Text("新二维码", "New code"),
    "phone.interface": Text("换网络", "Network"),
    "phone.close": Text("关闭", "Close"),
}

SAVING = Text("保存中...", "Saving...")  # "…" is drawn two cells wide by CJK terminals
READ_ONLY = Text("只读", "Read-only")


EVIDENCE_KIND_NAMES: dict[str, Text] = {
    EvidenceKind.PHOTO: Text("照片", "photos"),
    EvidenceKind.FILE: Text("文件", "files"),
}


def evidence_count(rule: EvidenceRule, attached: int) -> Text:
    """How many files an item has against what it asks for: "照片 1/1", "photos 1 of 1
    needed"; optional evidence says so, with its limit."""
    what = EVIDENCE_KIND_NAMES[rule.kind]
    if rule.needed:
        return Text(
            f"{what.zh} {attached}/{rule.needed}", f"{what.en} {attached} of {rule.needed} needed"
        )
    return Text(
        f"{what.zh} {attached}（选附，最多{rule.maximum}）",
        f"{what.en} {attached} (optional, up to {rule.maximum})",
    )


def size_text(size: int) -> str:
    """A file's size as people say it; the same in both languages."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} B"


TAKEN = Text("拍摄于 {at}", "taken {at}")
NO_EXIF = Text("无拍摄时间", "no time taken")


def file_line(ref: EvidenceRef, lang: str) -> str:
    """One attached file: its name, size and when it was taken (from its EXIF)."""
    if ref.taken_at:
        when = TAKEN.get(lang).format(at=ref.taken_at[:16].replace("T", " "))
    elif ref.is_photo:
        when = NO_EXIF.get(lang)
    else:
        when = ""
    return "  ".join(part for part in (ref.name, size_text(ref.size), when) if part)


def amendment_banner(correction: Correction) -> Text:
    """What the runner and the summary say over an amendment: which, why, and the signed
    revision it corrects (by the first 12 digits of its hash, as the reports name it)."""
    sha = correction.content_sha256[:12]
    number, reason = correction.number, correction.reason
    return Text(
        f"更正 {number}：{reason} —— 更正已签署的版本 {sha}",
        f"Amendment {number}: {reason} — corrects the signed revision {sha}",
    )


def tr(text: Text | None, lang: str) -> str:
    return "" if text is None else text.get(lang)


def describe(binding: Binding, lang: str) -> str:
    """A key's words in `lang`: ours by binding id, anything else as it was declared."""
    text = BINDING_TEXT.get(binding.id or "")
    return text.get(lang) if text is not None else binding.description


__all__ = [
    "BINDING_TEXT",
    "CAPABILITY_NAMES",
    "EVIDENCE_KIND_NAMES",
    "LANGUAGE_NAMES",
    "OUTCOME_NAMES",
    "SEVERITY_NAMES",
    "STATUS_NAMES",
    "VERDICT_NAMES",
    "Text",
    "amendment_banner",
    "describe",
    "evidence_count",
    "file_line",
    "size_text",
    "tr",
]
