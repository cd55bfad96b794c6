"""The acceptance report as GitHub-flavoured Markdown, for mail and tickets."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pos_tui.reports.model import Fact, ItemRow, ReportData, Section
from pos_tui.reports.words import short_hash

# Characters that would end a table cell or turn typed text into markup or HTML.
_SPECIAL = re.compile(r"([\\|`*_\[\]<>#])")


def md(text: str) -> str:
    """Typed text made literal inside a table cell: one line, markup characters escaped."""
    escaped = _SPECIAL.sub(r"\\\1", text)
    return "<br>".join(line.strip() for line in escaped.splitlines()) or escaped


def render_markdown(data: ReportData) -> str:
    labels = data.labels
    out = [f"# {md(labels['title'])}", ""]
    for banner in data.banners:
        out += [f"> **⚠ {md(banner)}**", ""]
    out += _facts(labels["merchant"], data.merchant)
    out += _facts(labels["terminal"], data.terminal)
    out += _facts(labels["visit"], data.visit)
    verdict = f"**{md(data.verdict_label)}**"
    out += [
        f"## {md(labels['verdict'])}",
        "",
        f"{verdict} · {md(labels['progress'])}{labels['colon']}{md(data.progress)}",
        "",
    ]
    out += _failures(data)
    for section in data.sections:
        out += _section(section, labels)
    if data.signoff:
        out += _facts(labels["signoff"], data.signoff)
    else:
        out += [f"## {md(labels['signoff'])}", "", md(labels["not_signed"]), ""]
    out += _amendments(data)
    out += _decisions(data)
    out += _integrity(data)
    out += _evidence(data)
    out.append(f"*{md(labels['footer'])}*")
    return "\n".join(out) + "\n"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Cells must already be escaped: some carry deliberate bold marks."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _facts(heading: str, facts: tuple[Fact, ...]) -> list[str]:
    if not facts:
        return []
    rows = [[md(f.label), md(f.value)] for f in facts]
    # A two-column table needs a header row; the heading above says what it is about.
    return [f"## {md(heading)}", "", *_table([" ", " "], rows)]


def _failures(data: ReportData) -> list[str]:
    labels = data.labels
    out = [f"## {md(labels['failures'])} ({len(data.failures)})", ""]
    if not data.failures:
        return [*out, md(labels["no_failures"]), ""]
    head = [md(labels[key]) for key in ("number", "checklist", "item", "severity", "note")]
    rows = [
        [md(f.number), md(f.checklist), f"**{md(f.item)}**", md(f.severity), md(f.note)]
        for f in data.failures
    ]
    return out + _table(head, rows)


def _outcome(row: ItemRow) -> str:
    if row.failed:
        return f"**✗ {md(row.outcome_label)}**"
    if row.missing:
        return f"*{md(row.outcome_label)}*"
    return md(row.outcome_label)


def _section(section: Section, labels: dict[str, str]) -> list[str]:
    about = f"{section.checklist_id} {labels['version']} {section.version}, {section.progress}"
    keys = ("number", "item", "severity", "outcome", "note", "values", "answered_at")
    rows = [
        [
            md(row.number),
            md(row.title),
            md(row.severity),
            _outcome(row),
            md(row.note),
            "<br>".join(f"{md(v.label)}{labels['colon']}{md(v.value)}" for v in row.values),
            md(row.answered_at),
        ]
        for row in section.rows
    ]
    return [
        f"## {md(section.title)} ({md(about)})",
        "",
        *_table([md(labels[k]) for k in keys], rows),
    ]


def _amendments(data: ReportData) -> list[str]:
    """Each amendment with its reason, in order; nothing for a visit never amended."""
    if not data.amendments:
        return []
    labels = data.labels
    keys = (
        "amendment_number",
        "amended_at",
        "amended_by",
        "amendment_reason",
        "amendment_changes",
        "amendment_revisions",
    )
    rows = [
        [
            md(a.number),
            md(a.at),
            md(a.who),
            md(a.reason),
            md(a.changes),
            f"{_code(a.corrects)} → "
            + (_code(a.signed_as) if a.signed_as else f"*{md(labels['amendment_open'])}*"),
        ]
        for a in data.amendments
    ]
    return [f"## {md(labels['amendments'])}", "", *_table([md(labels[k]) for k in keys], rows)]


def _code(sha256: str) -> str:
    """The first twelve digits of a hash as code; a hash from a hand-edited record that is
    not hex is escaped text instead, so a backtick cannot end the span."""
    if _plain_hash(sha256):
        return f"`{sha256[:12]}`…"
    return md(short_hash(sha256))


def _decisions(data: ReportData) -> list[str]:
    labels = data.labels
    out = [f"## {md(labels['review'])}", ""]
    if not data.decisions:
        return [*out, md(labels["not_reviewed"]), ""]
    head = [md(labels[key]) for key in ("decision", "reviewer", "reviewed_at", "comment")]
    rows = [
        [f"**{md(d.decision)}**", md(d.reviewer), md(d.at), md(d.comment)] for d in data.decisions
    ]
    return out + _table(head, rows)


def _integrity(data: ReportData) -> list[str]:
    labels = data.labels
    check = md(data.integrity_label)
    if data.integrity_alarm:
        check = f"**⚠ {check}**"
    rows = [
        [md(labels["content_sha256"]), f"`{data.content_sha256}`" if data.content_sha256 else " "],
        [md(labels["hash_check"]), check],
    ]
    if data.integrity_reasons:
        reasons = "<br>".join(md(reason) for reason in data.integrity_reasons)
        rows.append([md(labels["integrity_reasons"]), reasons])
    if data.signer:
        rows.append([md(labels["signer"]), md(data.signer)])
    # Whole, where a reader checks them; the visit table gives the first twelve digits.
    if data.corrects_sha256:
        rows.append([md(labels["corrects_sha256"]), _whole(data.corrects_sha256)])
    if data.follow_up_of:
        rows.append(
            [
                md(labels["follow_up_sha256"]),
                f"{md(data.follow_up_of)}{labels['colon']}{_whole(data.follow_up_sha256)}",
            ]
        )
    rows += [
        [
            md(labels["checklist_files"]),
            f"{md(s.checklist_id)} {md(s.version)}{labels['colon']}`{s.sha256}`",
        ]
        for s in data.sections
    ]
    return [f"## {md(labels['integrity'])}", "", *_table([" ", " "], rows)]


def _evidence(data: ReportData) -> list[str]:
    """The attached files, listed: Markdown carries no pictures (mail strips them anyway)."""
    if not data.evidence:
        return []
    labels = data.labels
    count = sum(len(group.files) for group in data.evidence)
    keys = ("number", "item", "file_name", "file_type", "taken_at", "place", "file_sha256")
    rows = []
    for group in data.evidence:
        for file in group.files:
            name = md(file.name)
            if file.problem:
                name += f"<br>**{md(file.problem_label)}**"
            rows.append(
                [
                    md(group.number),
                    md(group.title),
                    name,
                    md(f"{file.kind}, {file.size}"),
                    md(file.taken_at),
                    md(file.place),
                    f"`{file.sha256}`" if _plain_hash(file.sha256) else md(file.sha256),
                ]
            )
    return [
        f"## {md(labels['evidence'])} ({count})",
        "",
        *_table([md(labels[k]) for k in keys], rows),
    ]


def _whole(sha256: str) -> str:
    return f"`{sha256}`" if _plain_hash(sha256) else md(sha256)


def _plain_hash(text: str) -> bool:
    # A hash from a hand-edited record could hold a backtick and break out of the code span.
    return re.fullmatch(r"[0-9a-f]{64}", text) is not None
