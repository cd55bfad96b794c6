"""The supervisor's spreadsheet: `pos-tui export --format xlsx` (issue #19).

A workbook with a sheet of visits (one row each) and a sheet of answers (one row per item,
the CSV's columns). Unlike the CSV, each cell has its type: identifiers are text, so a
15-digit merchant number or checklist version "1.0" is never turned into a number; times
are real date-times in this computer's local time; codes are words in the visit's
language. Written with XlsxWriter in `constant_memory` mode: each row goes to a temporary
file as soon as the next starts, and strings are written inline rather than into a shared
table, so memory does not grow with the number of visits (bench/export.py).

XlsxWriter is imported when an export runs, never on the app's start-up path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pos_tui.domain.checklist import Text
from pos_tui.domain.integrity import INTEGRITY_NAMES
from pos_tui.domain.integrity import REASON_NAMES as INTEGRITY_REASON_NAMES
from pos_tui.domain.names import DECISION_NAMES, SEVERITY_NAMES, STATUS_NAMES
from pos_tui.domain.progress import VERDICT_NAMES
from pos_tui.domain.visit_info import JOB_TYPE_NAMES
from pos_tui.domain.visit_info import REASON_NAMES as JOB_REASON_NAMES
from pos_tui.reports import words
from pos_tui.reports.export import (
    CSV_COLUMNS,
    TIME_COLUMNS,
    ExportStats,
    Progress,
    captured_fields,
    csv_rows,
    local_time,
    spreadsheet_cell,
    value_column,
    visit_date,
    visit_records,
)
from pos_tui.reports.masking import masked
from pos_tui.reports.model import effective_status
from pos_tui.store.sources import VisitRecord, VisitSource

VISITS_SHEET = "visits"
ANSWERS_SHEET = "answers"

MAX_ROWS = 1_048_576
"""Rows in one Excel sheet, the header included. The answers of more visits than fit
(about 18,000 visits of 56 items) go on into `answers 2`, `answers 3`…, each with its own
header; a test lowers this to check it."""

MAX_SHEET_BYTES = 1_500_000_000
"""About how much XML one sheet may hold before the answers go on into the next. A part
of the zip over 2 GiB needs ZIP64, which Python's zipfile writes in a way Excel does not
open without "repairing" it: measured, a full sheet of demo answers is 2.26 GB, and an
export of 100,000 visits failed at its very end (`FileSizeError`). So a sheet is closed
well before (`_Sheet.size`, counted as the cells are written: about a quarter over the
XML really written, on demo visits)."""

CELL_XML = 64
"""Bytes of XML around one cell's text (`<c r="AB1048575" s="3" t="inlineStr"><is><t>…`),
rounded up; a row's own tags are counted as one more cell."""

APPLICABLE_NAMES: dict[str, Text] = {
    "true": Text("适用", "Yes"),
    "false": Text("不适用（终端无此功能）", "No (terminal lacks it)"),
}
"""The answers sheet's `applicable` column; the words the report uses for an item the
terminal cannot do."""

VISIT_COLUMNS = (
    "visit_uuid",
    "visit_date",
    "status",
    "verdict",
    "merchant_name",
    "merchant_number",
    "terminal_number",
    "terminal_serial",
    "model",
    "technician",
    "job_type",
    "job_reason",
    "work_order",
    "registered_name",
    "credit_code",
    "mcc",
    "tusn",
    "pinpad_serial",
    "sim_iccid",
    "install_address",
    "device_id",
    "language",
    "arrived_at",
    "signed_at",
    "merchant_representative",
    "checklists",
    "items_answered",
    "items_applicable",
    "failures",
    "evidence_count",
    "review_decision",
    "reviewer",
    "reviewed_at",
    "review_comment",
    "content_sha256",
    "integrity",
    "integrity_reasons",
    "reviewer_key",
    "forged_decision",
    "forged_reviewer",
    "forged_comment",
    "forged_reasons",
    "amendment",
    "supersedes",
    "amendment_reason",
    "follow_up_of",
    "follow_up_of_sha256",
)
"""One row per visit; the names, and the meaning, of the answers sheet's columns where
both have one."""

CODES: dict[str, dict[str, Text]] = {
    "status": STATUS_NAMES,
    "verdict": VERDICT_NAMES,
    "job_type": JOB_TYPE_NAMES,
    "job_reason": JOB_REASON_NAMES,
    "severity": SEVERITY_NAMES,
    "outcome": words.OUTCOME_NAMES,
    "applicable": APPLICABLE_NAMES,
    "review_decision": DECISION_NAMES,
    "forged_decision": DECISION_NAMES,
    "integrity": INTEGRITY_NAMES,
}
"""Columns of codes, written as words in the visit's language (a code without a word, from
a newer version, as itself)."""

CODE_LISTS: dict[str, dict[str, Text]] = {"integrity_reasons": INTEGRITY_REASON_NAMES}
"""Columns of codes joined by `; `, each written as its words."""

NUMBERS = frozenset(
    {"items_answered", "items_applicable", "failures", "evidence_count", "amendment"}
)
"""Counts: numbers, so that a supervisor can add them up. Nothing else is a number."""

DATES = frozenset({"visit_date"})

WIDTHS: dict[str, int] = {
    "visit_uuid": 38,
    "visit_date": 11,
    "merchant_name": 28,
    "merchant_number": 17,
    "terminal_number": 11,
    "terminal_serial": 16,
    "registered_name": 28,
    "credit_code": 20,
    "tusn": 22,
    "sim_iccid": 22,
    "install_address": 36,
    "checklists": 30,
    "item_title": 36,
    "note": 40,
    "values": 30,
    "review_comment": 36,
    "amendment_reason": 30,
    "evidence_names": 30,
    "integrity_reasons": 30,
    "content_sha256": 20,
    "supersedes": 20,
    "follow_up_of": 20,
    "follow_up_of_sha256": 20,
    "evidence_sha256": 20,
    "reviewer_key": 20,
}
"""Characters; a hash or uuid column is narrower than its content (filter or widen it),
free text wider. Set up front: the rows are gone before their widths could be measured."""
TIME_WIDTH = 19
NUMBER_WIDTH = 9
DEFAULT_WIDTH = 14

WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # Belt and braces: every text cell is written with write_string, which never makes a
    # formula, a number or a link; these keep a later `write` from guessing either.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


@dataclass
class _Sheet:
    """One worksheet being written: rows go down in order (constant_memory needs that)."""

    sheet: Any
    columns: Sequence[str]
    next_row: int = 1
    size: int = 0
    """The XML written so far, counted from the cells' text as XlsxWriter escapes it."""

    @property
    def full(self) -> bool:
        return self.next_row >= MAX_ROWS or self.size >= MAX_SHEET_BYTES


class _Writer:
    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self.header = workbook.add_format({"bold": True, "bg_color": "#DDDDDD", "border": 1})
        self.time = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        # "@": text, so a number typed into an identifier cell later stays text as well.
        self.text = workbook.add_format({"num_format": "@"})

    def sheet(self, name: str, columns: Sequence[str]) -> _Sheet:
        sheet = self.workbook.add_worksheet(name)
        for col, column in enumerate(columns):
            sheet.set_column(col, col, _width(column), self._column_format(column))
            sheet.write_string(0, col, spreadsheet_cell(column), self.header)
        sheet.freeze_panes(1, 0)
        return _Sheet(sheet, columns)

    def _column_format(self, column: str) -> Any:
        if column in TIME_COLUMNS:
            return self.time
        if column in DATES:
            return self.date
        return None if column in NUMBERS else self.text

    def row(self, target: _Sheet, cells: Sequence[str], lang: str) -> None:
        sheet, row = target.sheet, target.next_row
        target.size += CELL_XML
        for col, (column, value) in enumerate(zip(target.columns, cells, strict=True)):
            if not value:
                continue  # empty stays empty, not a 0 or a date of 1900
            target.size += CELL_XML + _xml_size(value)
            if column in TIME_COLUMNS or column in DATES:
                moment = _moment(value, column)
                if moment is not None:
                    sheet.write_datetime(row, col, moment, self._column_format(column))
                    continue
            elif column in NUMBERS and value.isdigit():
                sheet.write_number(row, col, int(value))
                continue
            elif column in CODES:
                value = words.name_of(CODES[column], value, lang)
            elif column in CODE_LISTS:
                names = CODE_LISTS[column]
                value = "; ".join(words.name_of(names, code, lang) for code in value.split("; "))
            # Text, identifiers included: write_string, so it is never a number or formula.
            sheet.write_string(row, col, spreadsheet_cell(value))
        target.next_row += 1

    def finish(self, target: _Sheet) -> None:
        target.sheet.autofilter(0, 0, max(target.next_row - 1, 1), len(target.columns) - 1)


def _xml_size(value: str) -> int:
    """Bytes of `value` in the sheet's XML: UTF-8, with `&`, `<`, `>` and `"` escaped
    (a code's words in the visit's language are no longer than this counts, in bytes,
    give or take the margin `MAX_SHEET_BYTES` leaves)."""
    size = len(value.encode("utf-8"))
    for mark, extra in (("&", 4), ("<", 3), (">", 3), ('"', 5)):
        if mark in value:
            size += extra * value.count(mark)
    return size


def _moment(value: str, column: str) -> datetime | None:
    if column in DATES:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return local_time(value)


def _width(column: str) -> int:
    if column in WIDTHS:
        return WIDTHS[column]
    if column in TIME_COLUMNS:
        return TIME_WIDTH
    if column in NUMBERS:
        return NUMBER_WIDTH
    return max(DEFAULT_WIDTH, len(column) + 2)


def visit_row(record: VisitRecord, answers: Sequence[list[str]]) -> list[str]:
    """The visits sheet's row of a visit, mostly from its answer rows (`answers`, one per
    item, in the CSV's columns), so both sheets say the same."""
    session = record.session
    first = dict(zip(CSV_COLUMNS, answers[0], strict=False)) if answers else {}
    progress = session.progress()
    evidence = sum(1 for _ in session.all_evidence())
    own = {
        "visit_uuid": session.uuid,
        "visit_date": visit_date(record.row) or session.created_at[:10],
        "status": effective_status(record),
        "verdict": str(session.verdict()),
        "checklists": ", ".join(f"{c.id} {c.version}" for c in session.checklists),
        "items_answered": str(progress.answered),
        "items_applicable": str(progress.applicable),
        "failures": str(len(session.failures())),
        "evidence_count": str(evidence),
    }
    info = session.info
    if not first:
        # A visit whose checklists have no items: the details come from the visit itself.
        first = {
            "merchant_name": masked(info.merchant_name),
            "merchant_number": info.merchant_number,
            "terminal_number": info.terminal_number,
            "technician": masked(info.technician),
            "job_type": info.job_type,
            "arrived_at": session.arrived_at,
        }
    return [own.get(column, first.get(column, "")) for column in VISIT_COLUMNS]


def write_xlsx(
    source: VisitSource,
    rows: Iterable[dict[str, Any]],
    path: Path,
    lang: str | None = None,
    progress: Progress | None = None,
    fields: Sequence[str] | None = None,
) -> ExportStats:
    """Write the workbook to `path` (the caller renames it into place when whole).

    `lang`: the words of codes and item titles, else each visit's own language. `fields`:
    the `value:` columns, by field id; None for those of `captured_fields`.
    """
    import xlsxwriter

    if fields is None:
        rows = list(rows)  # read twice, so held: the command gives `fields` to stream them
        fields = captured_fields(source, rows)
    answer_columns = [*CSV_COLUMNS, *map(value_column, fields)]
    stats = ExportStats()
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    try:
        writer = _Writer(workbook)
        # Both sheets exist before any row: a sheet cannot be put before another later.
        visits = writer.sheet(VISITS_SHEET, VISIT_COLUMNS)
        answers = writer.sheet(ANSWERS_SHEET, answer_columns)
        answer_sheets = [answers]
        for record in visit_records(source, rows, stats, progress):
            visit_lang = words.report_language(lang, record.session.info.language)
            lines = list(csv_rows(record, lang, fields))  # one visit's items: small
            writer.row(visits, visit_row(record, lines), visit_lang)
            for line in lines:
                if answers.full:
                    answers = writer.sheet(
                        f"{ANSWERS_SHEET} {len(answer_sheets) + 1}", answer_columns
                    )
                    answer_sheets.append(answers)
                writer.row(answers, line, visit_lang)
                stats.rows += 1
        for sheet in (visits, *answer_sheets):
            writer.finish(sheet)
    finally:
        _close(workbook)
    return stats


def _close(workbook: Any) -> None:
    """Close the workbook (this writes the file); a failure to write is an OSError, as for
    the other formats, so that the command says it in one sentence."""
    from xlsxwriter.exceptions import FileCreateError, FileSizeError

    try:
        workbook.close()
    except FileSizeError:
        raise OSError(
            "the spreadsheet would be larger than an XLSX file can be without ZIP64, which"
            " Excel does not open cleanly: export fewer visits at a time (--since),"
            " or as CSV"
        ) from None
    except FileCreateError as error:
        cause = error.args[0] if error.args else None
        if isinstance(cause, OSError):
            raise cause from None
        raise OSError(str(error)) from None
