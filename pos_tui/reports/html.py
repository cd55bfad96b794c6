"""The acceptance report as one self-contained HTML page that prints on A4.

No scripts, no web fonts, no links, and no image but the visit's own photos, embedded as
data: URIs: the page must open and print the same on a merchant's office PC with no
network. Every piece of text from a visit goes through `html.escape`, since notes,
merchant names and the names of attached files come from people and their phones.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from pos_tui.reports.model import (
    Amendment,
    Decision,
    EvidenceFile,
    EvidenceGroup,
    Fact,
    ItemRow,
    ReportData,
    Section,
)
from pos_tui.reports.words import short_hash

# thead repeats on every printed page; rows never split across pages; the failure marks
# are a word and a thick border as well as a colour, so they survive a grey printout.
CSS = """\
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
    "Hiragino Sans GB", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif;
  font-size: 9.5pt; line-height: 1.4; color: #111; margin: 0 auto; max-width: 180mm;
}
/* Latin glyphs of CJK fonts are wide: English reports prefer a Latin face first. */
html[lang="en"] body {
  font-family: "Helvetica Neue", Arial, "Liberation Sans", "Noto Sans CJK SC", "PingFang SC",
    "Microsoft YaHei", sans-serif;
}
h1 { font-size: 16pt; margin: 0 0 3mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; break-after: avoid; page-break-after: avoid; }
table { width: 100%; border-collapse: collapse; margin: 0 0 3mm; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 0.25mm solid #999; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eee; font-weight: bold; }
td { overflow-wrap: anywhere; }
/* Widths follow the content (a visit without notes gives the values the room), but the
   short columns never wrap and the titles keep a readable minimum. */
.items th, .failures th { white-space: nowrap; }
.items td:nth-child(2), .failures td:nth-child(3) { min-width: 35mm; }
.items td:nth-child(4) { min-width: 14mm; }
.facts th { width: 18%; }
.facts td { width: 32%; }
.banner {
  border: 1mm solid #b00020; color: #b00020; font-weight: bold; font-size: 12pt;
  padding: 2mm 3mm; margin: 0 0 3mm; text-align: center;
}
/* Fixed elements repeat on every printed page. */
.watermark {
  position: fixed; top: 40%; left: 0; right: 0; text-align: center; z-index: -1;
  font-size: 72pt; font-weight: bold; color: rgba(176, 0, 32, 0.12); transform: rotate(-30deg);
}
.verdict { font-size: 13pt; font-weight: bold; border: 0.6mm solid #111; padding: 2mm 3mm; }
.verdict-fail, .verdict-incomplete { border-color: #b00020; color: #b00020; }
.verdict-pass_with_remarks { border-color: #8a5a00; color: #8a5a00; }
.verdict-pass { border-color: #1b5e20; color: #1b5e20; }
tr.fail td { background: #fde4e4; }
tr.fail td:first-child { border-left: 1.2mm solid #b00020; }
tr.fail .outcome { color: #b00020; font-weight: bold; }
tr.na .outcome, tr.off .outcome { color: #555; }
tr.off td { color: #666; }
tr.missing .outcome { font-style: italic; font-weight: bold; }
.num { white-space: nowrap; }
.when { white-space: nowrap; font-size: 8.5pt; }
.hash { font-family: "DejaVu Sans Mono", Consolas, monospace; word-break: break-all; }
.altered { color: #b00020; font-weight: bold; }
.muted { color: #555; }
footer { margin-top: 6mm; font-size: 8pt; color: #555; }
"""

# Only in reports that have evidence, so a report without any is the page it always was.
# Two photos side by side fill the A4 width; a photo never splits across pages.
EVIDENCE_CSS = """\
h3 { font-size: 10.5pt; margin: 4mm 0 1.5mm; break-after: avoid; page-break-after: avoid; }
.evidence-file {
  display: inline-block; vertical-align: top; width: 88mm; margin: 0 0 3mm;
  break-inside: avoid; page-break-inside: avoid;
}
.evidence-file img { display: block; max-width: 100%; max-height: 90mm; margin: 0 0 1mm; }
.evidence-file th { width: 28%; white-space: nowrap; }
.evidence-warning { border: 0.6mm solid #b00020; color: #b00020; font-weight: bold; padding: 2mm; }
.evidence-note { border: 0.25mm dashed #999; color: #555; padding: 2mm; }
"""


def render_html(data: ReportData) -> str:
    labels = data.labels
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{_lang_tag(data.lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{_e(labels['title'])} {_e(data.visit_uuid[:8])}</title>",
        f"<style>\n{CSS}{EVIDENCE_CSS if data.evidence else ''}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(labels['title'])}</h1>",
    ]
    if data.watermark:
        parts.append(f'<div class="watermark" aria-hidden="true">{_e(data.watermark)}</div>')
    parts += [f'<div class="banner">{_e(banner)}</div>' for banner in data.banners]
    parts += _facts_table(labels["merchant"], data.merchant)
    parts += _facts_table(labels["terminal"], data.terminal)
    parts += _facts_table(labels["visit"], data.visit)
    parts += [
        f"<h2>{_e(labels['verdict'])}</h2>",
        f'<p class="verdict verdict-{_e(data.verdict)}">{_e(data.verdict_label)}</p>',
        f"<p>{_e(labels['progress'])}{_e(labels['colon'])}{_e(data.progress)}</p>",
    ]
    parts += _failures(data)
    for section in data.sections:
        parts += _section(section, labels)
    parts += _signoff(data)
    parts += _amendments(data.amendments, labels)
    parts += _decisions(data.decisions, labels)
    parts += _integrity(data)
    parts += _evidence(data)
    parts += [f"<footer>{_e(labels['footer'])}</footer>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _e(text: str) -> str:
    return escape(text, quote=True)


def _lang_tag(lang: str) -> str:
    # The tag picks the CJK glyph variants in browsers that honour it.
    return "zh-CN" if lang == "zh" else "en"


def _head(cells: Iterable[str]) -> str:
    return "<thead><tr>" + "".join(f"<th>{_e(cell)}</th>" for cell in cells) + "</tr></thead>"


def _facts_table(heading: str, facts: tuple[Fact, ...]) -> list[str]:
    if not facts:
        return []
    rows = []
    for start in range(0, len(facts), 2):
        pair = facts[start : start + 2]
        cells = "".join(f"<th>{_e(f.label)}</th><td>{_e(f.value)}</td>" for f in pair)
        if len(pair) == 1:
            cells += "<th></th><td></td>"
        rows.append(f"<tr>{cells}</tr>")
    return [f"<h2>{_e(heading)}</h2>", '<table class="facts">', *rows, "</table>"]


def _failures(data: ReportData) -> list[str]:
    labels = data.labels
    out = [f"<h2>{_e(labels['failures'])} ({len(data.failures)})</h2>"]
    if not data.failures:
        return [*out, f"<p>{_e(labels['no_failures'])}</p>"]
    out += [
        '<table class="failures">',
        _head([labels[key] for key in ("number", "checklist", "item", "severity", "note")]),
        "<tbody>",
    ]
    for failure in data.failures:
        out.append(
            '<tr class="fail">'
            f'<td class="num">{_e(failure.number)}</td><td>{_e(failure.checklist)}</td>'
            f"<td>{_e(failure.item)}</td><td>{_e(failure.severity)}</td>"
            f"<td>{_e(failure.note)}</td></tr>"
        )
    return [*out, "</tbody>", "</table>"]


def _section(section: Section, labels: dict[str, str]) -> list[str]:
    about = f"({section.checklist_id} {labels['version']} {section.version}, {section.progress})"
    out = [
        f'<h2>{_e(section.title)} <span class="muted">{_e(about)}</span></h2>',
        '<table class="items">',
        _head(
            [
                labels["number"],
                labels["item"],
                labels["severity"],
                labels["outcome"],
                labels["note"],
                labels["values"],
                labels["answered_at"],
            ]
        ),
        "<tbody>",
    ]
    out += [_item_row(row, labels["colon"]) for row in section.rows]
    return [*out, "</tbody>", "</table>"]


def _row_class(row: ItemRow) -> str:
    if not row.applicable:
        return "off"
    if row.missing:
        return "missing"
    return row.outcome or "open"


def _item_row(row: ItemRow, colon: str) -> str:
    values = "<br>".join(f"{_e(v.label)}{_e(colon)}{_e(v.value)}" for v in row.values)
    return (
        f'<tr class="{_row_class(row)}" data-item="{_e(row.item_id)}">'
        f'<td class="num">{_e(row.number)}</td><td>{_e(row.title)}</td>'
        f"<td>{_e(row.severity)}</td>"
        f'<td class="outcome">{_e(row.outcome_label)}</td>'
        f"<td>{_e(row.note)}</td><td>{values}</td>"
        f'<td class="when">{_e(row.answered_at)}</td></tr>'
    )


def _signoff(data: ReportData) -> list[str]:
    if not data.signoff:
        return [f"<h2>{_e(data.labels['signoff'])}</h2>", f"<p>{_e(data.labels['not_signed'])}</p>"]
    return _facts_table(data.labels["signoff"], data.signoff)


def _amendments(amendments: tuple[Amendment, ...], labels: dict[str, str]) -> list[str]:
    """Each amendment with its reason, in order; nothing for a visit never amended."""
    if not amendments:
        return []
    out = [
        f'<h2 id="amendments">{_e(labels["amendments"])}</h2>',
        '<table class="amendments">',
        _head(
            [
                labels[key]
                for key in (
                    "amendment_number",
                    "amended_at",
                    "amended_by",
                    "amendment_reason",
                    "amendment_changes",
                    "amendment_revisions",
                )
            ]
        ),
        "<tbody>",
    ]
    for a in amendments:
        signed = (
            f'<span class="hash">{_e(short_hash(a.signed_as))}</span>'
            if a.signed_as
            else f'<span class="muted">{_e(labels["amendment_open"])}</span>'
        )
        out.append(
            f'<tr data-corrects="{_e(a.corrects)}" data-signed-as="{_e(a.signed_as)}">'
            f'<td class="num">{_e(a.number)}</td><td class="when">{_e(a.at)}</td>'
            f"<td>{_e(a.who)}</td><td>{_e(a.reason)}</td><td>{_e(a.changes)}</td>"
            f'<td><span class="hash">{_e(short_hash(a.corrects))}</span> → {signed}</td></tr>'
        )
    return [*out, "</tbody>", "</table>"]


def _decisions(decisions: tuple[Decision, ...], labels: dict[str, str]) -> list[str]:
    out = [f"<h2>{_e(labels['review'])}</h2>"]
    if not decisions:
        return [*out, f"<p>{_e(labels['not_reviewed'])}</p>"]
    out += [
        '<table class="decisions">',
        _head([labels["decision"], labels["reviewer"], labels["reviewed_at"], labels["comment"]]),
        "<tbody>",
    ]
    for d in decisions:
        out.append(
            f"<tr><td>{_e(d.decision)}</td><td>{_e(d.reviewer)}</td>"
            f'<td class="when">{_e(d.at)}</td><td>{_e(d.comment)}</td></tr>'
        )
    return [*out, "</tbody>", "</table>"]


def _integrity(data: ReportData) -> list[str]:
    labels = data.labels
    # Anything short of trusted is marked like an alteration: the page is not to be relied on.
    check_class = ' class="altered"' if data.integrity_alarm else ""
    rows = [
        f"<tr><th>{_e(labels['content_sha256'])}</th>"
        f'<td class="hash">{_e(data.content_sha256)}</td></tr>',
        f"<tr><th>{_e(labels['hash_check'])}</th>"
        f'<td id="hash-check" data-state="{_e(data.integrity_state)}"{check_class}>'
        f"{_e(data.integrity_label)}</td></tr>",
    ]
    if data.integrity_reasons:
        reasons = "<br>".join(_e(reason) for reason in data.integrity_reasons)
        rows.append(
            f"<tr><th>{_e(labels['integrity_reasons'])}</th>"
            f'<td id="integrity-reasons"{check_class}>{reasons}</td></tr>'
        )
    if data.signer:
        rows.append(
            f'<tr><th>{_e(labels["signer"])}</th><td class="hash">{_e(data.signer)}</td></tr>'
        )
    # Whole, where a reader checks them; the visit table gives the first twelve digits.
    if data.corrects_sha256:
        rows.append(
            f"<tr><th>{_e(labels['corrects_sha256'])}</th>"
            f'<td class="hash" id="corrects">{_e(data.corrects_sha256)}</td></tr>'
        )
    if data.follow_up_of:
        rows.append(
            f"<tr><th>{_e(labels['follow_up_sha256'])}</th>"
            f'<td id="follow-up-of" data-uuid="{_e(data.follow_up_of)}">{_e(data.follow_up_of)}'
            f'{_e(labels["colon"])}<span class="hash">{_e(data.follow_up_sha256)}</span></td></tr>'
        )
    files = "<br>".join(
        f"{_e(s.checklist_id)} {_e(s.version)}{_e(labels['colon'])}"
        f'<span class="hash">{_e(s.sha256)}</span>'
        for s in data.sections
    )
    rows.append(f"<tr><th>{_e(labels['checklist_files'])}</th><td>{files}</td></tr>")
    return [f"<h2>{_e(labels['integrity'])}</h2>", '<table class="integrity">', *rows, "</table>"]


def _evidence(data: ReportData) -> list[str]:
    """The attached files, item by item, after the record: an annex that may run to pages."""
    if not data.evidence:
        return []
    labels = data.labels
    count = sum(len(group.files) for group in data.evidence)
    out = [f'<h2 id="evidence">{_e(labels["evidence"])} ({count})</h2>']
    for group in data.evidence:
        out += _evidence_group(group, labels)
    return out


def _evidence_group(group: EvidenceGroup, labels: dict[str, str]) -> list[str]:
    heading = f"{group.number} {group.title}".strip()
    out = [
        f'<section class="evidence-item" data-checklist="{_e(group.checklist_id)}"'
        f' data-item="{_e(group.item_id)}">',
        f"<h3>{_e(heading)}</h3>",
    ]
    out += [_evidence_file(file, labels) for file in group.files]
    return [*out, "</section>"]


def _evidence_file(file: EvidenceFile, labels: dict[str, str]) -> str:
    state = file.problem or "ok"
    if file.picture:
        # The URI is base64 (letters, digits, + / =), made here: nothing from outside.
        shown = f'<img src="{_e(file.picture)}" alt="{_e(file.name)}">'
    elif file.problem in ("missing", "replaced", "unreadable"):
        shown = f'<p class="evidence-warning">{_e(file.problem_label)}</p>'
    elif file.problem:
        shown = f'<p class="evidence-note">{_e(file.problem_label)}</p>'
    else:
        shown = ""  # a PDF: listed, not pictured
    facts = [
        ("file_name", file.name),
        ("file_type", f"{file.kind}, {file.size}"),
        ("taken_at", file.taken_at),
        ("camera", file.camera),
        ("place", file.place),
        ("attached_at", file.attached_at),
    ]
    rows = [f"<tr><th>{_e(labels[k])}</th><td>{_e(v)}</td></tr>" for k, v in facts if v]
    rows.append(
        f'<tr><th>{_e(labels["file_sha256"])}</th><td class="hash">{_e(file.sha256)}</td></tr>'
    )
    return (
        f'<figure class="evidence-file" data-sha256="{_e(file.sha256)}" data-state="{_e(state)}">'
        f"{shown}<figcaption><table>{''.join(rows)}</table></figcaption></figure>"
    )
