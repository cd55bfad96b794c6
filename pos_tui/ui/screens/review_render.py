"""What the review detail shows, as Rich renderables: a few Statics, never a widget per item."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text as RichText

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.decisions import DECISION_STATE_NAMES, decision_items
from pos_tui.domain.decisions import reason_name as decision_reason
from pos_tui.domain.integrity import (
    ALTERED,
    STATES,
    TRUSTED,
    UNSIGNED,
    Integrity,
    state_name,
)
from pos_tui.domain.review_filter import UNREVIEWED
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import JOB_TYPE_NAMES, REASON_NAMES
from pos_tui.services.review_evidence import EvidenceReport
from pos_tui.store.sources import VisitRecord
from pos_tui.ui.i18n import OUTCOME_NAMES, SEVERITY_NAMES, VERDICT_NAMES, Text, tr
from pos_tui.ui.screens.review_text import REVIEW_STATE_NAMES

L = Text  # the labels below are short; the alias keeps each on one line

META = {
    "merchant": L("商户", "Merchant"),
    "merchant_number": L("商户号", "Merchant no."),
    "terminal": L("终端号", "Terminal no."),
    "serial": L("序列号 / 型号", "Serial / model"),
    "address": L("地址", "Address"),
    "contact": L("联系方式", "Contact"),
    "job": L("作业类型", "Job"),
    "technician": L("技术员", "Technician"),
    "signed": L("签署", "Signed"),
    "verdict": L("结论", "Verdict"),
    "review": L("审核", "Review"),
    "named": L("审核指出", "Items named"),
    "notes": L("备注", "Notes"),
    "visit": L("访问编号", "Visit id"),
}
SIGNED_BY = L("{at}，技术员 {tech}，商户代表 {rep}", "{at} by {tech}, merchant: {rep}")
NOT_SIGNED = L("未签署", "not signed")
FAILURES = L("{n} 项不通过", "{n} failed")
BY = L("{state}：{who}，{at}", "{state} by {who}, {at}")
ITEM_COLUMNS = (L("检查项", "Item"), L("结果", "Result"), L("说明", "Note"))
ITEM_COLUMNS_2 = (L("数据", "Values"), L("时间", "Time"))
NOT_APPLICABLE = L("不适用于此终端", "does not apply here")
UNANSWERED = L("未作答", "not answered")
CHECKLIST_HEAD = L(
    "{title}（{id} v{version}）：{progress} 已答", "{title} ({id} v{version}): {progress} answered"
)
TIMELINE_COLUMNS = (L("时间", "When"), L("谁", "Who"), L("事件", "What"), L("详情", "Detail"))
EVENT_NAMES = {
    "created": L("创建", "Created"),
    "answered": L("作答", "Answered"),
    "undone": L("撤销", "Undone"),
    "signed": L("签署", "Signed"),
    "synced": L("同步", "Synced"),
    "reviewed": L("审核", "Reviewed"),
}
ANSWERED_RUN = L("{n} 项，{first} 至 {last}", "{n} items, {first} to {last}")
SYNCED_TO = L(
    "进入共享库（主机 {host}，设备 {device}）",
    "into the shared store (host {host}, device {device})",
)
SIGNED_DETAIL = L("商户代表 {rep}；结论 {verdict}", "merchant: {rep}; verdict {verdict}")
ALTERED_TEXT = L(
    "警告：此访问签署后内容已被改动！与签署时的哈希不符，内容不可信。",
    "WARNING: ALTERED AFTER SIGNING! Its content no longer matches the hash it was signed with.",
)
UNSIGNED_TEXT = L(
    "警告：此记录没有设备签名，无法证明它是技术员签署的内容。",
    "WARNING: NO DEVICE SIGNATURE! Nothing proves this record is what the technician signed.",
)
CONFLICT = L(
    "冲突：同一版本同步了两份不同的记录，请核对两份。",
    "CONFLICT: two different records were synced under the same revision; check both.",
)


def when(at: str) -> str:
    return at[:19].replace("T", " ")


def integrity_of(record: VisitRecord) -> Integrity:
    """The one rule's verdict (`domain.integrity`), as reports and exports give it too."""
    return record.integrity


def warnings(record: VisitRecord) -> list[str]:
    """What to warn about before this visit is relied on, worst first; empty if nothing.

    A state that cannot be trusted (altered, unsigned...), then "conflict"; each has its
    line in `WARNING_TEXT`.
    """
    return list(integrity_of(record).warnings)


def _untrusted(state: str) -> Text:
    return L(
        f"警告：记录完整性：{state_name(state, 'zh')}，内容不可信。",
        f"WARNING: record integrity: {state_name(state, 'en')}. Do not rely on its content.",
    )


_SPECIFIC = {ALTERED: ALTERED_TEXT, UNSIGNED: UNSIGNED_TEXT}
WARNING_TEXT: dict[str, Text] = {
    **{
        state: _SPECIFIC.get(state) or _untrusted(state) for state in STATES if state not in TRUSTED
    },
    "conflict": CONFLICT,
}
"""A line for every warning `warnings` can give: states added to the domain get one too."""
REASONS = L("原因：", "Why: ")


FORGED_DECISIONS = L(
    "警告：有 {n} 条审核结论不是受信任的审核人签署的，未予采信（见时间线）。",
    "WARNING: {n} decision(s) on this visit were not signed by a trusted reviewer and do not"
    " count (see the timeline).",
)
LOG_GAP = L(
    "警告：共享库的审核记录有被删除或移动的条目。",
    "WARNING: a decision was removed from, or moved in, the shared store's decision log.",
)


def banner(found: Integrity, lang: str, record: VisitRecord | None = None) -> str:
    """The detail's banner: each warning, the reasons behind the state, forged decisions."""
    lines = [(WARNING_TEXT.get(w) or _untrusted(w)).get(lang) for w in found.warnings]
    if not found.trusted and found.reasons:
        separator = "；" if lang == "zh" else "; "
        lines.append(REASONS.get(lang) + separator.join(found.reason_text(lang)))
    if record is not None and record.forged:
        lines.append(FORGED_DECISIONS.get(lang).format(n=len(record.forged)))
    if record is not None and record.log_has_gap:
        lines.append(LOG_GAP.get(lang))
    return "\n".join(lines)


def meta(record: VisitRecord, review_state: str, lang: str) -> RenderableType:
    session, info = record.session, record.session.info
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    job = tr(JOB_TYPE_NAMES.get(info.job_type), lang) or info.job_type
    if info.reason:
        job += f" | {tr(REASON_NAMES.get(info.reason), lang) or info.reason}"
    signoff = session.signoff
    signed = (
        SIGNED_BY.get(lang).format(
            at=when(signoff.at), tech=signoff.technician, rep=signoff.merchant_representative
        )
        if signoff
        else NOT_SIGNED.get(lang)
    )
    failures = len(session.failures())
    verdict = tr(VERDICT_NAMES.get(session.verdict()), lang)
    if failures:
        verdict += " | " + FAILURES.get(lang).format(n=failures)
    # The decision on this very record; an earlier revision's stays in the history. A visit
    # with one record may have decisions from before they named it: the latest of those.
    latest = record.latest_own_decision
    if latest is None and review_state != UNREVIEWED:
        latest = record.latest_decision
    state = tr(REVIEW_STATE_NAMES.get(review_state), lang) or review_state
    if latest is not None:
        state = BY.get(lang).format(
            state=state, who=latest.get("reviewer", ""), at=when(latest.get("at", ""))
        )
    pairs = [
        ("merchant", info.merchant_name),
        ("merchant_number", info.merchant_number),
        ("terminal", info.terminal_number),
        ("serial", f"{info.terminal_serial} / {info.model}"),
        ("address", info.site_address),
        ("contact", info.merchant_contact),
        ("job", job),
        ("technician", f"{info.technician} ({info.device_id})"),
        ("signed", signed),
        ("verdict", verdict),
        ("review", state),
        ("named", _named_items(latest, session, lang)),
        ("notes", info.notes),
        ("visit", session.uuid),
    ]
    for key, value in pairs:
        if value:
            grid.add_row(META[key].get(lang), RichText(value))
    return grid


FAILED_COLUMNS = (L("检查项", "Item"), L("严重性", "Severity"), L("说明", "Note"))


def failures(session: Session, lang: str) -> RenderableType | None:
    """The failed items first, as a supervisor looks for them; None when nothing failed."""
    failed = session.failures()
    if not failed:
        return None
    table = _table([*FAILED_COLUMNS, *ITEM_COLUMNS_2], lang)
    for checklist, item, answer in failed:
        title = RichText(item.title.get(lang))
        title.append(f"\n{checklist.title.get(lang)}", style="dim")
        severity = RichText(tr(SEVERITY_NAMES.get(item.severity), lang), style="bold red")
        table.add_row(
            title,
            severity,
            RichText(answer.note),
            _values(item, answer.values, lang),
            when(answer.at)[11:],
        )
    return table


def _table(columns: list[Text], lang: str) -> Table:
    """No box: its lines are drawn two cells wide by terminals set up for Chinese."""
    table = Table(box=None, padding=(0, 1), header_style="bold underline", expand=True)
    for index, column in enumerate(columns):
        last = index == len(columns) - 1
        # "fold": Chinese has no spaces to wrap at, and the default "ellipsis" would cut it.
        table.add_column(
            column.get(lang),
            ratio=None if last or index == 1 else 3,
            no_wrap=last,
            overflow="fold",
        )
    return table


def _values(item: Any, values: dict[str, str], lang: str) -> RichText:
    return RichText(
        "\n".join(f"{_field_label(item, key, lang)}: {value}" for key, value in values.items())
    )


def checklists(session: Session, lang: str) -> RenderableType:
    return Group(*(part for c in session.checklists for part in _checklist(session, c, lang)))


def _checklist(session: Session, checklist: Checklist, lang: str) -> list[RenderableType]:
    head = CHECKLIST_HEAD.get(lang).format(
        title=checklist.title.get(lang),
        id=checklist.id,
        version=checklist.version,
        progress=session.progress(checklist.id),
    )
    table = _table([*ITEM_COLUMNS, *ITEM_COLUMNS_2], lang)
    for item in checklist.items:
        answer = session.answer(checklist.id, item.id)
        if answer is None:
            missing = NOT_APPLICABLE if not session.applies(item) else UNANSWERED
            style = "dim" if missing is NOT_APPLICABLE else "yellow"
            table.add_row(RichText(item.title.get(lang)), RichText(missing.get(lang), style=style))
            continue
        result = RichText(tr(OUTCOME_NAMES.get(answer.outcome), lang))
        if answer.outcome is Outcome.FAIL:
            result.append(f" ({tr(SEVERITY_NAMES.get(item.severity), lang)})")
            result.stylize("bold red")
        elif answer.outcome is Outcome.PASS:
            result.stylize("green")
        else:
            result.stylize("dim")
        table.add_row(
            RichText(item.title.get(lang)),
            result,
            RichText(answer.note),
            _values(item, answer.values, lang),
            when(answer.at)[11:],
        )
    return [RichText(head, style="bold"), table, RichText("")]


def _field_label(item: Any, field_id: str, lang: str) -> str:
    try:
        return str(item.field(field_id).label.get(lang))
    except KeyError:
        return field_id


def timeline(record: VisitRecord, lang: str) -> RenderableType:
    """The log: the visit's own events, its arrival in the shared store, each decision."""
    rows: list[tuple[str, str, str, str]] = []
    shared_ids = {d.get("id") for d in record.decisions}
    run: list[Any] = []

    def close_run() -> None:
        if run:
            detail = ANSWERED_RUN.get(lang).format(
                n=len(run), first=when(run[0].at)[11:], last=when(run[-1].at)[11:]
            )
            rows.append((run[0].at, run[0].who, "answered", detail))
            run.clear()

    for event in record.session.events:
        if event.what == "answered" and (not run or run[-1].who == event.who):
            run.append(event)
            continue
        close_run()
        if event.what == "answered":
            run.append(event)
        elif not (event.what == "reviewed" and event.detail.get("decision_id") in shared_ids):
            rows.append(
                (event.at, event.who, event.what, _event_detail(event.what, event.detail, lang))
            )
    close_run()
    row = record.row
    if row.get("synced_at"):
        detail = SYNCED_TO.get(lang).format(
            host=row.get("host", "?"), device=row.get("device_id", "?")
        )
        rows.append((row["synced_at"], "", "synced", detail))
    for decision in sorted(record.decisions, key=lambda d: d.get("at", "")):
        rows.append(
            (
                decision.get("at", ""),
                decision.get("reviewer", ""),
                "reviewed",
                _decision_detail(decision, lang, record.session),
            )
        )
    for checked in record.forged:
        said = DECISION_STATE_NAMES[checked.state].get(lang)
        why = "; ".join(decision_reason(reason, lang) for reason in checked.reasons)
        detail = f"{said}: {_decision_detail(dict(checked.row), lang)} ({why})"
        rows.append((str(checked.row.get("at", "")), "?", "reviewed", detail))
    rows.sort(key=lambda entry: entry[0])
    table = Table(box=None, padding=(0, 1), header_style="bold underline", expand=True)
    for column in TIMELINE_COLUMNS:
        last = column is TIMELINE_COLUMNS[-1]
        table.add_column(column.get(lang), no_wrap=not last, overflow="fold")
    for at, who, what, detail in rows:
        name = tr(EVENT_NAMES.get(what), lang) or what
        style = "bold" if what in ("signed", "reviewed") else ""
        table.add_row(when(at), RichText(who), RichText(name, style=style), RichText(detail))
    return table


def _named_items(decision: dict[str, Any] | None, session: Session, lang: str) -> str:
    keys = () if decision is None else decision_items(decision)
    separator = "，" if lang == "zh" else ", "
    return separator.join(item_title(session, key, lang) for key in keys)


def _decision_detail(decision: dict[str, Any], lang: str, session: Session | None = None) -> str:
    state = tr(REVIEW_STATE_NAMES.get(decision.get("decision", "")), lang) or str(
        decision.get("decision")
    )
    comment = decision.get("comment", "")
    said = f"{state}{'：' if lang == 'zh' else ': '}{comment}" if comment else state
    if session is not None and decision_items(decision):
        said += f" [{_named_items(decision, session, lang)}]"
    return said


def _event_detail(what: str, detail: dict[str, Any], lang: str) -> str:
    if what == "created":
        return ", ".join(detail.get("checklists", []))
    if what == "signed":
        verdict = tr(VERDICT_NAMES.get(detail.get("verdict", "")), lang) or detail.get(
            "verdict", ""
        )
        return SIGNED_DETAIL.get(lang).format(
            rep=detail.get("merchant_representative", ""), verdict=verdict
        )
    if what == "undone":
        return f"{detail.get('checklist_id', '')}/{detail.get('item_id', '')}"
    if what == "reviewed":
        return _decision_detail(detail, lang)
    return ", ".join(f"{key}={value}" for key, value in detail.items())


# -- evidence ------------------------------------------------------------------------

EVIDENCE_TAKEN = L("拍摄 {at}", "taken {at}")
EVIDENCE_NO_TIME = L("无拍摄时间", "no time taken")
EVIDENCE_PLACE = L("位置 {lat}, {lon}", "at {lat}, {lon}")
EVIDENCE_FROM_VISIT = L("（距访问位置 {far}）", " ({far} from the visit)")
EVIDENCE_NO_PLACE = L("无位置", "no position")
EVIDENCE_HASH = L("SHA-256 {sha}", "SHA-256 {sha}")
EVIDENCE_MISSING = L(
    "警告：共享库中缺少此文件，无法核对。", "WARNING: the file is missing from the shared store."
)
EVIDENCE_REPLACED = L(
    "警告：共享库中的此文件已被替换，与记录的哈希不符。",
    "WARNING: the file in the shared store was replaced: it does not match the record's hash.",
)
REUSE_PARTIAL = L(
    "重复照片核对：已比对 {n}/{total} 个访问，其余待后台核对完成。",
    "Reused photos: compared with {n} of {total} visits so far; the rest when the check ends.",
)
_PROBLEM_TEXT = {"missing": EVIDENCE_MISSING, "replaced": EVIDENCE_REPLACED}


def item_title(session: Session, key: tuple[str, str], lang: str) -> str:
    checklist_id, item_id = key
    for checklist in session.checklists:
        if checklist.id == checklist_id:
            try:
                return str(checklist.item(item_id).title.get(lang))
            except KeyError:
                break
    return f"{checklist_id}/{item_id}"  # a checklist copy the store lost: its ids


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def evidence(report: EvidenceReport, session: Session, lang: str) -> RenderableType:
    """Each attached file on three or four lines: what and which item, when and where it
    was taken, then each warning; a few Texts, not a widget per file."""
    from pos_tui.domain.evidence_checks import REUSE, finding_text

    parts: list[RenderableType] = []
    separator = "，" if lang == "zh" else ", "
    for n, line in enumerate(report.lines, 1):
        ref = line.ref
        head = RichText(f"{n}. ", style="bold")
        head.append(item_title(session, line.item, lang), style="bold")
        head.append(f"  {ref.name}  {size_text(ref.size)}  ", style="")
        head.append(EVIDENCE_HASH.get(lang).format(sha=ref.sha256[:12]), style="dim")
        facts = []
        if ref.is_photo:
            taken = EVIDENCE_TAKEN.get(lang).format(at=when(ref.taken_at)) if ref.taken_at else ""
            facts.append(taken or EVIDENCE_NO_TIME.get(lang))
            if ref.has_position:
                place = EVIDENCE_PLACE.get(lang).format(lat=ref.latitude, lon=ref.longitude)
                if line.metres is not None:
                    far = _metres(line.metres)
                    place += EVIDENCE_FROM_VISIT.get(lang).format(far=far)
                facts.append(place)
            else:
                facts.append(EVIDENCE_NO_PLACE.get(lang))
            if ref.camera:
                facts.append(ref.camera)
            if ref.width:
                facts.append(f"{ref.width}×{ref.height}")
        else:
            facts.append(ref.media_type)
        body = RichText("   " + separator.join(facts), style="dim")
        parts += [head, body]
        if line.problem is not None:
            parts.append(RichText("   " + _PROBLEM_TEXT[line.problem].get(lang), style="bold red"))
        for finding in line.findings:
            style = "bold red" if finding.code in REUSE else "bold yellow"
            words = finding_text(finding, lang, dict(report.names))
            parts.append(RichText("   ! " + words, style=style))
    if report.compared < report.total:
        parts.append(
            RichText(
                REUSE_PARTIAL.get(lang).format(n=report.compared, total=report.total), style="dim"
            )
        )
    return Group(*parts)


def _metres(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"
