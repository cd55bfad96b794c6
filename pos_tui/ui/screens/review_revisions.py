"""What the review shows of a visit's corrections: its revisions, the decisions on each, the
diff of two of them with the reason for each amendment, and its follow-up links.

Rich renderables, like `review_render`: a few Statics, never a widget per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text as RichText

from pos_tui.domain.decisions import decision_items
from pos_tui.domain.revisions import DETAIL, KIND_NAMES, OUTCOME, VALUE, Difference
from pos_tui.domain.session import Session
from pos_tui.domain.visit_info import DETAIL_NAMES
from pos_tui.store.sources import VisitRecord
from pos_tui.store.storage import StoreError
from pos_tui.ui.i18n import OUTCOME_NAMES, Text, tr
from pos_tui.ui.screens.review_render import item_title, when
from pos_tui.ui.screens.review_text import REVIEW_STATE_NAMES

L = Text

HISTORY_COLUMNS = (
    L("版本", "Revision"),
    L("签署", "Signed"),
    L("更正原因", "Amendment"),
    L("完整性", "Integrity"),
    L("审核", "Decisions"),
)
REVISION = L("第 {n} 版", "rev. {n}")
THIS_ONE = L("（当前）", " (this)")
SIGNED = L("{at}\n技术员 {tech}\n商户 {rep}", "{at}\nby {tech}\nmerchant: {rep}")
CARRIED = L("（沿用上次签名）", " (carried over)")
AMENDMENT = L("第 {n} 次更正：{reason}", "Amendment {n}: {reason}")
ORIGINAL = L("原始记录", "original")
NO_DECISION = L("待审核", "awaiting review")
UNREADABLE = L("无法读取：{why}", "cannot be read: {why}")
DECIDED = L("{state}：{who}，{at}", "{state} by {who}, {at}")
ITEMS = L("指出：{items}", "names: {items}")

DIFF_COLUMNS = (L("变更", "Change"), L("位置", "Where"), L("原为", "Before"), L("改为", "After"))
NO_DIFFERENCE = L("两个版本没有差别。", "The two revisions do not differ.")
REASONS_TITLE = L("更正原因", "Why it was amended")
REASON_LINE = L(
    "第 {n} 次更正（{at}，{who}）：{reason}", "Amendment {n} ({at}, by {who}): {reason}"
)

FOLLOW_UP_OF = L(
    "此访问是 {visit} 的复查，重做 {n} 项：{items}",
    "This visit follows up {visit}, re-running {n} item(s): {items}",
)
FOLLOWED_UP_BY = L("复查访问：{visits}", "Followed up by: {visits}")
NOT_LISTED = L("（不在列表中）", " (not in the list)")
OPEN_LINKED = L("按 l 打开关联的访问。", "Press l to open the linked visit.")


def items_text(session: Session | None, keys: Sequence[tuple[str, str]], lang: str) -> str:
    """Item titles from the visit's checklists; ids for an item a checklist copy lacks."""
    separator = "，" if lang == "zh" else ", "
    if session is None:
        return separator.join(f"{c}/{i}" for c, i in keys)
    return separator.join(item_title(session, key, lang) for key in keys)


def decision_line(decision: dict[str, Any], session: Session | None, lang: str) -> str:
    state = tr(REVIEW_STATE_NAMES.get(str(decision.get("decision", ""))), lang) or str(
        decision.get("decision", "")
    )
    line = DECIDED.get(lang).format(
        state=state, who=decision.get("reviewer", ""), at=when(str(decision.get("at", "")))
    )
    comment = str(decision.get("comment", ""))
    if comment:
        line += ("：" if lang == "zh" else ": ") + comment
    named = decision_items(decision)
    if named:
        line += "\n" + ITEMS.get(lang).format(items=items_text(session, named, lang))
    return line


def history(
    revisions: Sequence[VisitRecord | StoreError], current: str, lang: str
) -> RenderableType:
    """One line per revision, oldest first: when and by whom it was signed, which amendment
    and why, its own integrity, and the decisions that name exactly it. `current`: the row
    key of the revision the detail shows."""
    table = Table(box=None, padding=(0, 1), header_style="bold underline", expand=True)
    for index, column in enumerate(HISTORY_COLUMNS):
        table.add_column(column.get(lang), overflow="fold", ratio=1 if index in (2, 4) else None)
    for n, found in enumerate(revisions, 1):
        label = REVISION.get(lang).format(n=n)
        if isinstance(found, StoreError):
            table.add_row(label, UNREADABLE.get(lang).format(why=found), "", "", "")
            continue
        key = f"{found.row.get('uuid', '')}/{found.row.get('record_hash', '')}"
        if key == current:
            label += THIS_ONE.get(lang)
        session = found.session
        signoff = session.signoff
        signed = ""
        if signoff is not None:
            signed = SIGNED.get(lang).format(
                at=when(signoff.at),
                tech=signoff.technician,
                rep=signoff.merchant_representative,
            ) + (CARRIED.get(lang) if signoff.carried else "")
        corrects = session.corrects
        amendment = (
            AMENDMENT.get(lang).format(n=corrects.number, reason=corrects.reason)
            if corrects is not None
            else ORIGINAL.get(lang)
        )
        verdict = found.integrity
        style = "" if verdict.trusted else "bold red"
        own = sorted(found.own_decisions, key=lambda d: str(d.get("at", "")))
        decided = "\n".join(decision_line(d, session, lang) for d in own)
        table.add_row(
            RichText(label, style="bold" if key == current else ""),
            RichText(signed),
            RichText(amendment),
            RichText(verdict.name(lang), style=style),
            RichText(decided or NO_DECISION.get(lang), style="" if own else "yellow"),
        )
    return table


def default_pair(revisions: Sequence[VisitRecord | StoreError]) -> tuple[int, int]:
    """(before, after) indexes to compare first: the latest revision against the one it
    corrects (by its content hash), else against the one before it."""
    last = len(revisions) - 1
    latest = revisions[last] if revisions else None
    if isinstance(latest, VisitRecord) and latest.session.corrects is not None:
        named = latest.session.corrects.content_sha256
        for index, found in enumerate(revisions[:last]):
            if isinstance(found, VisitRecord) and found.session.content_sha256 == named:
                return index, last
    return max(0, last - 1), last


def _where(difference: Difference, before: Session, after: Session, lang: str) -> str:
    if difference.kind == DETAIL:
        return tr(DETAIL_NAMES.get(difference.where), lang) or difference.where
    if not difference.where:
        return ""
    parts = difference.where.split("/")
    key = (parts[0], parts[1] if len(parts) > 1 else "")
    session = after if any((c.id, i.id) == key for c, i in after.all_items()) else before
    said = item_title(session, key, lang)
    if difference.kind == VALUE and len(parts) > 2:
        said += f" / {_field_label(session, key, parts[2], lang)}"
    return said


def _field_label(session: Session, key: tuple[str, str], field_id: str, lang: str) -> str:
    for checklist, item in session.all_items():
        if (checklist.id, item.id) == key:
            try:
                return str(item.field(field_id).label.get(lang))
            except KeyError:
                break
    return field_id


def _shown(difference: Difference, value: str, lang: str) -> str:
    if difference.kind == OUTCOME:
        return tr(OUTCOME_NAMES.get(value), lang) or value
    return value


def diff(
    differences: Sequence[Difference], before: Session, after: Session, lang: str
) -> RenderableType:
    if not differences:
        return RichText(NO_DIFFERENCE.get(lang), style="dim")
    table = Table(box=None, padding=(0, 1), header_style="bold underline", expand=True)
    for index, column in enumerate(DIFF_COLUMNS):
        table.add_column(column.get(lang), overflow="fold", ratio=None if index == 0 else 2)
    for difference in differences:
        table.add_row(
            RichText(tr(KIND_NAMES.get(difference.kind), lang) or difference.kind, style="bold"),
            RichText(_where(difference, before, after, lang)),
            RichText(_shown(difference, difference.before, lang), style="red"),
            RichText(_shown(difference, difference.after, lang), style="green"),
        )
    return table


def reasons(
    revisions: Sequence[VisitRecord | StoreError], before: int, after: int, lang: str
) -> RenderableType:
    """The reason of every amendment between the two revisions (after `before`, up to and
    including `after`): what the technician said each change was for."""
    low, high = sorted((before, after))
    lines = [RichText(REASONS_TITLE.get(lang), style="bold")]
    for found in revisions[low + 1 : high + 1]:
        if isinstance(found, VisitRecord) and found.session.corrects is not None:
            corrects = found.session.corrects
            lines.append(
                RichText(
                    REASON_LINE.get(lang).format(
                        n=corrects.number,
                        at=when(corrects.at),
                        who=corrects.who,
                        reason=corrects.reason,
                    )
                )
            )
    return Group(*lines) if len(lines) > 1 else RichText("")


def links(
    session: Session,
    original: str | None,
    followers: Sequence[str],
    lang: str,
) -> str:
    """The follow-up links both ways, as sentences; `original` and `followers` are already
    put in words (merchant, date, short id)."""
    lines = []
    follow_up = session.follow_up
    if follow_up is not None:
        visit = original or follow_up.of_uuid[:8] + NOT_LISTED.get(lang)
        lines.append(
            FOLLOW_UP_OF.get(lang).format(
                visit=visit,
                n=len(follow_up.items),
                items=items_text(session, follow_up.items, lang),
            )
        )
    if followers:
        separator = "；" if lang == "zh" else "; "
        lines.append(FOLLOWED_UP_BY.get(lang).format(visits=separator.join(followers)))
    if lines and (followers or original):
        lines.append(OPEN_LINKED.get(lang))
    return "\n".join(lines)
