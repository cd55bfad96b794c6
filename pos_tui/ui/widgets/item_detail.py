"""Everything about the item under the cursor: what to do, what to record, what was answered."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from pos_tui.domain.checklist import Condition, Item
from pos_tui.domain.session import Answer, Session
from pos_tui.domain.visit_info import DETAIL_NAMES, JOB_TYPE_NAMES, VisitInfo
from pos_tui.ui.i18n import (
    CAPABILITY_NAMES,
    OUTCOME_NAMES,
    SEVERITY_NAMES,
    Text,
    evidence_count,
    file_line,
)
from pos_tui.ui.widgets.wrapped_text import WrappedText

REQUIRED = Text("必做", "Required")
OPTIONAL = Text("选做", "Optional")
SEVERITY = Text("严重程度", "Severity")
DOES_NOT_APPLY = Text(
    "本终端不适用（需要：{needs}），无需作答。", "Does not apply to this terminal (needs {needs})."
)
OTHER_JOB = Text(
    "本次作业不适用（仅限：{jobs}），无需作答。", "Does not apply to this job (only for {jobs})."
)
NO_DETAIL = Text(
    "访问信息中没有{details}，无需作答。",
    "Does not apply: the visit details have no {details}.",
)
EXPECTED = Text("应为 {value}", "must be {value}")
SIGNED = Text("此访问已签署，只能查看。", "This visit is signed: it can be read, not changed.")
VALUES = Text("需记录的数据", "Values to record")
NOT_CAPTURED = Text("（未记录）", "(not recorded)")
ANSWER = Text("结果", "Answer")
UNANSWERED = Text("未作答：按 p 通过、f 不通过、n 不适用", "Not answered: p pass, f fail, n n/a")
AT = Text("记录于 {at}", "at {at}")
NOTE = Text("备注：", "Note: ")
ATTACH_HINT = Text(
    "按 a 附上（也可直接把文件拖入终端）", "a attaches (or drop files on the terminal)"
)
NO_ITEM = Text("请选择一个检查项。", "Choose an item on the left.")
SEVERITY_STYLE = {"critical": "$error bold", "major": "$warning bold", "minor": "$text-muted"}
OUTCOME_STYLE = {"pass": "$success bold", "fail": "$error bold", "na": "$text-muted bold"}


class ItemDetail(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static(id="detail-checklist", markup=False)
        yield Static(id="detail-title", markup=False)
        yield Static(id="detail-meta")
        yield WrappedText(id="detail-notice")
        # The answer and what it recorded come before the guidance, the long read: at
        # 80x24 a long guidance once pushed them out of sight.
        yield Static(id="detail-answer-title", classes="detail-heading")
        yield Static(id="detail-answer")
        yield WrappedText(id="detail-note")
        yield Static(id="detail-values-title", classes="detail-heading")
        yield Static(id="detail-values")
        yield Static(id="detail-evidence-title", classes="detail-heading")
        yield Static(id="detail-evidence", markup=False)
        yield WrappedText(id="detail-guidance")

    def show(self, session: Session, key: tuple[str, str] | None, lang: str) -> None:
        if key is None:
            self._set("detail-title", NO_ITEM.get(lang))
            for name in (
                "checklist",
                "meta",
                "notice",
                "guidance",
                "values-title",
                "values",
                "evidence-title",
                "evidence",
            ):
                self._set(f"detail-{name}", "")
            self._set("detail-answer-title", "")
            self._set("detail-answer", "")
            self._set("detail-note", "")
            return
        checklist = session.checklist(key[0])
        item = checklist.item(key[1])
        applies = session.applies(item)
        self._set("detail-checklist", checklist.title.get(lang))
        self._set("detail-title", item.title.get(lang))
        self._set("detail-meta", self._meta(item, lang))
        notice = ""
        unmet = item.when.unmet(
            session.info.capabilities, session.info.job_type, session.info.filled()
        )
        if unmet is not None:
            notice = _why_not(unmet, lang)
        elif not session.editable:
            notice = SIGNED.get(lang)
        self._set("detail-notice", notice)
        self._set("detail-guidance", item.guidance.get(lang) if item.guidance else "")
        answer = session.answer(*key)
        self._set("detail-values-title", VALUES.get(lang) if item.fields else "")
        self._set("detail-values", self._values(item, answer, session.info, lang))
        title, files = self._evidence(session, item, key, lang) if applies else ("", "")
        self._set("detail-evidence-title", title)
        self._set("detail-evidence", files)
        self._set("detail-answer-title", ANSWER.get(lang) if applies else "")
        self._set("detail-answer", self._answer(answer, lang) if applies else "")
        note = NOTE.get(lang) + answer.note if applies and answer and answer.note else ""
        self._set("detail-note", note)
        # The blank line closing the answer goes under its note when there is one.
        self.query_one("#detail-answer").set_class(not note, "-last")
        self.scroll_home(animate=False)

    def _set(self, widget_id: str, content: str | Content) -> None:
        widget = self.query_one(f"#{widget_id}", Static)
        if isinstance(widget, WrappedText):
            widget.set_text(str(content))
        else:
            widget.update(content)
        widget.display = bool(content)

    @staticmethod
    def _meta(item: Item, lang: str) -> Content:
        severity = SEVERITY_NAMES[item.severity].get(lang)
        needed = REQUIRED if item.required else OPTIONAL
        return Content.assemble(
            f"{SEVERITY.get(lang)}: ",
            (severity, SEVERITY_STYLE.get(item.severity, "")),
            "  ",
            (needed.get(lang), "bold" if item.required else "$text-muted"),
        )

    @staticmethod
    def _values(item: Item, answer: Answer | None, info: VisitInfo, lang: str) -> Content:
        if not item.fields:
            return Content("")
        labels = [f.label.get(lang) + (" *" if f.required else "") for f in item.fields]
        width = max(cell_len(label) for label in labels)
        lines: list[Content] = []
        for item_field, label in zip(item.fields, labels, strict=True):
            value = answer.values.get(item_field.id, "") if answer else ""
            padded = label + " " * (width - cell_len(label))
            shown = (
                Content(value)
                if value
                else Content.styled(NOT_CAPTURED.get(lang), "$text-muted italic")
            )
            # What the value is compared with, so the technician knows before typing it.
            expected = info.detail(item_field.expect) if item_field.expect else ""
            hint = EXPECTED.get(lang).format(value=expected) if expected else ""
            lines.append(
                Content.assemble((padded, "$text-muted"), "  ", shown, ("  " + hint, "$text-muted"))
                if hint
                else Content.assemble((padded, "$text-muted"), "  ", shown)
            )
        return Content("\n").join(lines)

    @staticmethod
    def _evidence(session: Session, item: Item, key: tuple[str, str], lang: str) -> tuple[str, str]:
        """The heading says how many files the item has against what it needs; the files
        follow, one a line, then how to add more while the visit can change."""
        if item.evidence is None:
            return "", ""
        refs = session.evidence_of(*key)
        lines = [file_line(ref, lang) for ref in refs]
        if session.editable and len(refs) < item.evidence.maximum:
            lines.append(ATTACH_HINT.get(lang))
        return evidence_count(item.evidence, len(refs)).get(lang), "\n".join(lines)

    @staticmethod
    def _answer(answer: Answer | None, lang: str) -> Content:
        if answer is None:
            return Content.styled(UNANSWERED.get(lang), "$text-muted")
        at = answer.at[11:19] if len(answer.at) >= 19 else answer.at
        parts: list[Content] = [
            Content.assemble(
                (OUTCOME_NAMES[answer.outcome].get(lang), OUTCOME_STYLE[answer.outcome]),
                "  ",
                (AT.get(lang).format(at=at), "$text-muted"),
            )
        ]
        return Content("\n").join(parts)


def _why_not(unmet: Condition, lang: str) -> str:
    """Why an item does not apply, in the words of each part of its condition not met."""

    def listed(names: dict[str, Text], codes: frozenset[str]) -> str:
        return ("、" if lang == "zh" else ", ").join(
            _named(names, code, lang) for code in sorted(codes)
        )

    sentences: list[str] = []
    if unmet.capabilities:
        needs = listed(CAPABILITY_NAMES, unmet.capabilities)
        sentences.append(DOES_NOT_APPLY.get(lang).format(needs=needs))
    if unmet.jobs is not None:
        sentences.append(OTHER_JOB.get(lang).format(jobs=listed(JOB_TYPE_NAMES, unmet.jobs)))
    if unmet.details:
        details = listed(DETAIL_NAMES, unmet.details)
        sentences.append(NO_DETAIL.get(lang).format(details=details))
    return " ".join(sentences)


def _named(names: dict[str, Text], name: str, lang: str) -> str:
    text = names.get(name)
    return text.get(lang) if text else name
