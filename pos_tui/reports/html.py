"""The acceptance report as one self-contained HTML page that prints on A4.

No scripts, no web fonts, no links, and no image but the visit's own photos, embedded as
data: URIs: the page must open and print the same on a merchant's office PC with no
network. Every piece of text from a visit goes through `html.escape`, since notes,
merchant names and the names of attached files come from people and their phones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

from pos_tui.reports import words
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

# A captured value that is one number or identifier (digits, letters, a few separators):
# 202503040001, 0.01, PA0012345678, 8986001234567890120.
_TOKEN = re.compile(r"[0-9A-Za-z.,:+\-/*#]{1,64}")
# How many characters of an identifier fit on one line in half a facts table (54 mm).
_HALF_ROW = 28

# The fonts that render Chinese, named where each system has them: Noto Sans CJK SC
# (Debian, most Linux), Source Han Sans SC (the same face under Adobe's name), PingFang SC
# (macOS), Microsoft YaHei (Windows); the generic sans-serif last, the fallback a browser
# fills with whatever CJK face it has. The page margin boxes do not inherit the body's
# font, so they name it too.
FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",'
    ' "Hiragino Sans GB", "WenQuanYi Micro Hei", sans-serif'
)

# thead repeats on every printed page; rows never split across pages; the failure marks
# are a word and a thick border as well as a colour, so they survive a grey printout.
# Tables are laid out by their colgroups (table-layout: fixed), so every table of a kind
# has the same columns from page to page whatever its rows hold; the widths were chosen
# for what each column holds: numbers and times never wrap, the note is free text that
# may wrap anywhere, the values hold identifiers up to a 20-digit ICCID on one line.
CSS = f"""\
@page {{ size: A4; margin: 14mm 15mm 18mm; }}
* {{ box-sizing: border-box; }}
html {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
body {{
  font-family: {FONTS};
  font-size: 9.5pt; line-height: 1.4; color: #111; margin: 0 auto; max-width: 180mm;
}}
/* Latin glyphs of CJK fonts are wide: English reports prefer a Latin face first. */
html[lang="en"] body {{
  font-family: "Helvetica Neue", Arial, "Liberation Sans", {FONTS};
}}
h1 {{ font-size: 16pt; margin: 0 0 3mm; }}
h2 {{ font-size: 12pt; margin: 6mm 0 2mm; break-after: avoid; page-break-after: avoid; }}
table {{ width: 100%; border-collapse: collapse; margin: 0 0 3mm; table-layout: fixed; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; page-break-inside: avoid; }}
th, td {{
  border: 0.25mm solid #999; padding: 1mm 1.5mm; text-align: left; vertical-align: top;
  overflow-wrap: break-word;
}}
th {{ background: #eee; font-weight: bold; word-break: keep-all; }}
/* Column headings stay on one line (no 审核结 / 论); their columns are wide enough. */
.items thead th, .failures thead th, .decisions thead th {{ white-space: nowrap; }}
/* Short Chinese words (严重, 不通过, 有问题) break between words, never inside one. */
.severity, .outcome, .decision {{ word-break: keep-all; }}
/* Typed text can hold a long run without spaces (a URL, a pasted code): it may break
   anywhere rather than run into the next column. */
.text {{ overflow-wrap: anywhere; white-space: pre-line; }}
.facts td {{ overflow-wrap: anywhere; }}
.banner {{
  border: 1mm solid #b00020; color: #b00020; font-weight: bold; font-size: 12pt;
  padding: 2mm 3mm; margin: 0 0 3mm; text-align: center;
}}
/* Fixed elements repeat on every printed page. */
.watermark {{
  position: fixed; top: 40%; left: 0; right: 0; text-align: center; z-index: -1;
  font-size: 72pt; font-weight: bold; color: rgba(176, 0, 32, 0.12); transform: rotate(-30deg);
}}
.summary {{ break-inside: avoid; page-break-inside: avoid; margin: 0 0 2mm; }}
.summary h2 {{ margin-top: 0; }}
.summary p {{ margin: 0 0 1.5mm; }}
.verdict {{ font-size: 13pt; font-weight: bold; border: 0.6mm solid #111; padding: 2mm 3mm; }}
.verdict-fail, .verdict-incomplete {{ border-color: #b00020; color: #b00020; }}
.verdict-pass_with_remarks {{ border-color: #8a5a00; color: #8a5a00; }}
.verdict-pass {{ border-color: #1b5e20; color: #1b5e20; }}
tr.fail td {{ background: #fde4e4; }}
tr.fail td:first-child {{ border-left: 1.2mm solid #b00020; }}
tr.fail .outcome {{ color: #b00020; font-weight: bold; }}
tr.na .outcome, tr.off .outcome {{ color: #555; }}
tr.off td {{ color: #666; }}
tr.missing .outcome {{ font-style: italic; font-weight: bold; }}
/* Numbers, identifiers, dates and times are never broken inside: a merchant number or a
   reference split over two lines is misread. A date and its time may go on two lines. */
.num {{ white-space: nowrap; }}
.when {{ font-size: 8.5pt; }}
.hash {{ font-family: "DejaVu Sans Mono", Consolas, monospace; word-break: break-all; }}
.altered {{ color: #b00020; font-weight: bold; }}
.muted {{ color: #555; }}
/* Filled in by hand, so never split over two pages: the three boxes and their heading
   stay together. A company stamp is about 40 mm across; the boxes hold one. */
.signatures {{ break-inside: avoid; page-break-inside: avoid; margin: 6mm 0 0; }}
.signatures h2 {{ margin-top: 0; }}
.sign-boxes {{ display: flex; gap: 4mm; }}
.sign-box {{
  flex: 1 1 0; height: 48mm; border: 0.35mm solid #111; padding: 2mm 2.5mm;
  display: flex; flex-direction: column; justify-content: space-between;
}}
.sign-box p {{ margin: 0; }}
.sign-label {{ font-weight: bold; }}
.sign-date {{ font-size: 8.5pt; white-space: nowrap; }}
footer {{ margin-top: 6mm; font-size: 8pt; color: #555; }}
"""

# Each table kind's column widths, in per cent of the page's width, one per column.
COLUMNS = {
    "items": (6, 21, 9.5, 11, 16, 26, 10.5),
    "failures": (6, 20, 28, 9.5, 36.5),
    "decisions": (17, 16, 19, 48),
    "amendments": (8, 14, 12, 22, 24, 20),
    "facts": (18, 32, 18, 32),
    "integrity": (24, 76),
}

# Only in reports that have evidence, so a report without any is the page it always was.
# Two photos side by side fill the A4 width; a photo never splits across pages.
EVIDENCE_CSS = """\
h3 { font-size: 10.5pt; margin: 4mm 0 1.5mm; break-after: avoid; page-break-after: avoid; }
.evidence-file {
  display: inline-block; vertical-align: top; width: 88mm; margin: 0 0 3mm;
  break-inside: avoid; page-break-inside: avoid;
}
/* A flex row of items rather than a line of inline blocks: Chromium keeps the annex's
   heading with a first row of flex items, but moves it to the next page with a first
   line of inline blocks, leaving the rest of the page empty. */
.evidence-groups { display: flex; flex-wrap: wrap; column-gap: 4mm; align-items: flex-start; }
.evidence-item { flex: 0 0 100%; }
.evidence-item.single { flex: 0 0 88mm; break-inside: avoid; page-break-inside: avoid; }
.evidence-item.single .evidence-file { width: 100%; }
/* At most 58 mm tall (a 4:3 photo a little narrower than its figure), so that two rows
   of photos with their facts fit on a page. */
.evidence-file img { display: block; max-width: 100%; max-height: 58mm; margin: 0 0 1mm; }
.evidence-file table { font-size: 8pt; }
.evidence-file .hash { font-size: 7pt; }
/* A file's facts are few and short: the table sizes to them, unlike the record's tables. */
.evidence-file table { table-layout: auto; }
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
        f"<style>\n{CSS}{_page_css(data)}{EVIDENCE_CSS if data.evidence else ''}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(labels['title'])}</h1>",
    ]
    if data.watermark:
        parts.append(f'<div class="watermark" aria-hidden="true">{_e(data.watermark)}</div>')
    parts += [f'<div class="banner">{_e(banner)}</div>' for banner in data.banners]
    # The verdict and whether the record is as signed come first, on the first page,
    # where whoever files or checks the paper looks; the details that back them follow.
    parts += _summary(data)
    parts += _facts_table(labels["merchant"], data.merchant)
    parts += _facts_table(labels["terminal"], data.terminal)
    parts += _facts_table(labels["visit"], data.visit)
    parts += _failures(data)
    for section in data.sections:
        parts += _section(section, labels)
    parts += _signoff(data)
    parts += _amendments(data.amendments, labels)
    parts += _decisions(data.decisions, labels)
    parts += _integrity(data)
    # The boxes close the record; the photos follow as its annex.
    parts += _signature_boxes(data)
    parts += _evidence(data)
    parts += [f"<footer>{_e(labels['footer'])}</footer>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _e(text: str) -> str:
    return escape(text, quote=True)


def _lang_tag(lang: str) -> str:
    # The tag picks the CJK glyph variants in browsers that honour it.
    return "zh-CN" if lang == "zh" else "en"


def _css_string(text: str) -> str:
    """`text` as a CSS string: every character that is not a letter, digit or plain
    punctuation is a hex escape, so nothing in a record can end the string or the style
    element (`"`, `\\`, `<`, a line break)."""
    safe = "".join(
        ch if ch.isalnum() or ch in " -_.,:/()（）" else f"\\{ord(ch):06x}" for ch in text
    )
    return f'"{safe}"'


def _page_css(data: ReportData) -> str:
    """The page's number and the visit id at the foot of every printed page, in the @page
    margin boxes (Chromium prints them since version 131): filed pages that come apart
    can be put back together and told from another visit's."""
    template, visit_label = words.page_footer(data.lang)
    before, _, rest = template.partition("{page}")
    between, _, after = rest.partition("{pages}")
    number = " ".join(
        part
        for part in (
            _css_string(before) if before else "",
            "counter(page)",
            _css_string(between),
            "counter(pages)",
            _css_string(after) if after else "",
        )
        if part
    )
    visit = _css_string(f"{visit_label} {data.visit_uuid}")
    box = f"font-family: {FONTS}; font-size: 8pt; color: #333;"
    return (
        "@page {\n"
        f"  @bottom-left {{ content: {visit}; {box} }}\n"
        f"  @bottom-right {{ content: {number}; {box} }}\n"
        "}\n"
    )


def _colgroup(kind: str) -> str:
    cols = "".join(f'<col style="width: {width}%">' for width in COLUMNS[kind])
    return f"<colgroup>{cols}</colgroup>"


def _when(text: str) -> str:
    """A date and time that may go on two lines between the date and the time, never
    inside either."""
    return " ".join(f'<span class="num">{_e(part)}</span>' for part in text.split(" ") if part)


def _head(cells: Iterable[str]) -> str:
    return "<thead><tr>" + "".join(f"<th>{_e(cell)}</th>" for cell in cells) + "</tr></thead>"


def _summary(data: ReportData) -> list[str]:
    labels = data.labels
    colon = labels["colon"]
    # The integrity statement as the table at the end gives it, in one line: the state in
    # words and the first digits of the content hash to compare with the filed copy.
    check_class = " altered" if data.integrity_alarm else ""
    digest = (
        f' <span class="muted">· {_e(labels["content_sha256"])}{_e(colon)}'
        f'<span class="hash">{_e(short_hash(data.content_sha256))}</span></span>'
        if data.content_sha256
        else ""
    )
    return [
        '<section class="summary">',
        f"<h2>{_e(labels['verdict'])}</h2>",
        f'<p class="verdict verdict-{_e(data.verdict)}">{_e(data.verdict_label)}</p>',
        f"<p>{_e(labels['progress'])}{_e(colon)}{_e(data.progress)}</p>",
        f'<p class="integrity-summary{check_class}" data-state="{_e(data.integrity_state)}">'
        f"{_e(labels['integrity'])}{_e(colon)}{_e(data.integrity_label)}{digest}</p>",
        "</section>",
    ]


def _facts_table(heading: str, facts: tuple[Fact, ...]) -> list[str]:
    if not facts:
        return []
    rows = []
    pair: list[Fact] = []
    for fact in facts:
        if _wide(fact):
            # A visit id (36 characters) does not fit half the table on one line: it gets
            # the whole row rather than a break inside it.
            rows.append(
                f'<tr><th>{_e(fact.label)}</th><td colspan="3">{_fact_value(fact.value)}</td></tr>'
            )
            continue
        pair.append(fact)
        if len(pair) == 2:
            rows.append(_facts_row(pair))
            pair = []
    if pair:
        rows.append(_facts_row(pair))
    return [
        f"<h2>{_e(heading)}</h2>",
        '<table class="facts">',
        _colgroup("facts"),
        *rows,
        "</table>",
    ]


def _wide(fact: Fact) -> bool:
    return len(fact.value) > _HALF_ROW and _TOKEN.fullmatch(fact.value) is not None


def _fact_value(value: str) -> str:
    return f'<span class="num">{_e(value)}</span>' if _TOKEN.fullmatch(value) else _e(value)


def _facts_row(pair: list[Fact]) -> str:
    cells = "".join(f"<th>{_e(f.label)}</th><td>{_fact_value(f.value)}</td>" for f in pair)
    if len(pair) == 1:
        cells += "<th></th><td></td>"
    return f"<tr>{cells}</tr>"


def _failures(data: ReportData) -> list[str]:
    labels = data.labels
    out = [f"<h2>{_e(labels['failures'])} ({len(data.failures)})</h2>"]
    if not data.failures:
        return [*out, f"<p>{_e(labels['no_failures'])}</p>"]
    out += [
        '<table class="failures">',
        _colgroup("failures"),
        _head([labels[key] for key in ("number", "checklist", "item", "severity", "note")]),
        "<tbody>",
    ]
    for failure in data.failures:
        out.append(
            '<tr class="fail">'
            f'<td class="num">{_e(failure.number)}</td><td>{_e(failure.checklist)}</td>'
            f'<td>{_e(failure.item)}</td><td class="severity">{_e(failure.severity)}</td>'
            f'<td class="text">{_e(failure.note)}</td></tr>'
        )
    return [*out, "</tbody>", "</table>"]


def _section(section: Section, labels: dict[str, str]) -> list[str]:
    about = f"({section.checklist_id} {labels['version']} {section.version}, {section.progress})"
    out = [
        f'<h2>{_e(section.title)} <span class="muted">{_e(about)}</span></h2>',
        '<table class="items">',
        _colgroup("items"),
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


def _value(value: str) -> str:
    # A reference, an amount, a serial: kept on one line. Anything else a technician typed
    # is text, which may wrap.
    if _TOKEN.fullmatch(value):
        return f'<span class="num">{_e(value)}</span>'
    return f'<span class="text">{_e(value)}</span>'


def _item_row(row: ItemRow, colon: str) -> str:
    values = "<br>".join(f"{_e(v.label)}{_e(colon)}{_value(v.value)}" for v in row.values)
    return (
        f'<tr class="{_row_class(row)}" data-item="{_e(row.item_id)}">'
        f'<td class="num">{_e(row.number)}</td><td>{_e(row.title)}</td>'
        f'<td class="severity">{_e(row.severity)}</td>'
        f'<td class="outcome">{_e(row.outcome_label)}</td>'
        f'<td class="text">{_e(row.note)}</td><td>{values}</td>'
        f'<td class="when">{_when(row.answered_at)}</td></tr>'
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
        _colgroup("amendments"),
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
            f'<td class="num">{_e(a.number)}</td><td class="when">{_when(a.at)}</td>'
            f'<td>{_e(a.who)}</td><td class="text">{_e(a.reason)}</td>'
            f'<td class="text">{_e(a.changes)}</td>'
            f'<td><span class="hash">{_e(short_hash(a.corrects))}</span> → {signed}</td></tr>'
        )
    return [*out, "</tbody>", "</table>"]


def _decisions(decisions: tuple[Decision, ...], labels: dict[str, str]) -> list[str]:
    out = [f"<h2>{_e(labels['review'])}</h2>"]
    if not decisions:
        return [*out, f"<p>{_e(labels['not_reviewed'])}</p>"]
    out += [
        '<table class="decisions">',
        _colgroup("decisions"),
        _head([labels["decision"], labels["reviewer"], labels["reviewed_at"], labels["comment"]]),
        "<tbody>",
    ]
    for d in decisions:
        out.append(
            f'<tr><td class="decision">{_e(d.decision)}</td><td>{_e(d.reviewer)}</td>'
            f'<td class="when">{_when(d.at)}</td><td class="text">{_e(d.comment)}</td></tr>'
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
    return [
        f"<h2>{_e(labels['integrity'])}</h2>",
        '<table class="integrity">',
        _colgroup("integrity"),
        *rows,
        "</table>",
    ]


def _signature_boxes(data: ReportData) -> list[str]:
    """Room for the technician's and the merchant's handwritten signatures and the
    merchant's stamp, each with a line for the date; only on a visit signed in the app."""
    if not data.signable:
        return []
    labels = data.labels
    boxes = [
        f'<div class="sign-box" data-box="{box}">'
        f'<p class="sign-label">{_e(labels[key])}</p>'
        f'<p class="sign-date">{_e(labels["date_line"])}</p></div>'
        for box, key in (
            ("technician", "technician_signature"),
            ("merchant", "merchant_signature_box"),
            ("stamp", "merchant_stamp"),
        )
    ]
    return [
        '<section class="signatures">',
        f"<h2>{_e(labels['signatures'])}</h2>",
        '<div class="sign-boxes">',
        *boxes,
        "</div>",
        "</section>",
    ]


def _evidence(data: ReportData) -> list[str]:
    """The attached files, item by item, after the record: an annex that may run to pages."""
    if not data.evidence:
        return []
    labels = data.labels
    count = sum(len(group.files) for group in data.evidence)
    out = [
        f'<h2 id="evidence">{_e(labels["evidence"])} ({count})</h2>',
        '<div class="evidence-groups">',
    ]
    for group in data.evidence:
        out += _evidence_group(group, labels)
    return [*out, "</div>"]


def _evidence_class(group: EvidenceGroup) -> str:
    # An item with one file takes half the page's width, so two such items share a row
    # instead of each leaving half a row (and, photo and facts being tall, half a page)
    # empty.
    return "evidence-item single" if len(group.files) == 1 else "evidence-item"


def _evidence_group(group: EvidenceGroup, labels: dict[str, str]) -> list[str]:
    heading = f"{group.number} {group.title}".strip()
    out = [
        f'<section class="{_evidence_class(group)}" data-checklist="{_e(group.checklist_id)}"'
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
