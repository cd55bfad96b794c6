"""CSV and JSON exports of many visits, streamed: one visit in memory at a time.

The callers hand in the store rows to export (small summaries), best as an iterator from
the store (`SharedSource.iter_rows`): each visit is read, written out and dropped before
the next is read, and the rows themselves come a shard or a cursor's chunk at a time, so
100,000 visits cost no more memory than ten. What must be known before the first line (the
`value:` columns, the progress bar's total) comes from a first pass over the rows alone,
`survey`. The columns and documents are described in docs/exports.md.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from pos_tui.domain.integrity import UNSIGNED
from pos_tui.domain.loader import ChecklistError
from pos_tui.domain.session import Session, Status
from pos_tui.reports import words
from pos_tui.reports.masking import dumps_masked, masked
from pos_tui.reports.model import effective_status
from pos_tui.store.sources import VisitRecord, VisitSource
from pos_tui.store.storage import StoreError

CSV_COLUMNS = (
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
    "checklist_id",
    "checklist_version",
    "item_id",
    "item_title",
    "severity",
    "applicable",
    "outcome",
    "note",
    "values",
    "answered_at",
    "review_decision",
    "review_comment",
    "content_sha256",
    "integrity",
    "integrity_reasons",
    "reviewer_key",
    "forged_decision",
    "forged_reviewer",
    "forged_comment",
    "forged_reasons",
    "evidence_count",
    "evidence_names",
    "evidence_sha256",
    "evidence_problems",
    # Last, so that a sheet or script that reads the columns above by position still works.
    "amendment",
    "supersedes",
    "amendment_reason",
    "follow_up_of",
    "follow_up_of_sha256",
    # Issue #19, after the five above for the same reason: the visit's other details, when
    # it happened (local times) and who signed and reviewed it.
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
    "reviewer",
    "reviewed_at",
)
"""The fixed columns of the CSV (and of the XLSX's answers sheet); one `value:<field id>`
column per captured value follows them, see `captured_fields`."""

VALUE_PREFIX = "value:"
"""Before a field's id in the name of its column: `value:last4`. The prefix keeps a field
called `note` or `status` from colliding with the fixed columns."""

TIME_COLUMNS = frozenset({"answered_at", "arrived_at", "signed_at", "reviewed_at"})
"""Stored as ISO 8601 with the offset of the laptop that recorded them; exported in the
local time of the computer that exports (`local_time`)."""

Progress = Callable[[int], None]
"""Called once per visit written (or skipped) with the number done so far."""


@dataclass
class ExportStats:
    visits: int = 0
    rows: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(visit uuid, why) for each visit that could not be read."""


def visit_date(row: dict[str, Any]) -> str:
    """The day a visit was last worked on (its sign-off for a finished one), YYYY-MM-DD."""
    return str(row.get("updated_at") or row.get("created_at") or "")[:10]


def rows_since(rows: Iterable[dict[str, Any]], since: date | None) -> Iterator[dict[str, Any]]:
    """The rows last worked on `since` or later, as they come (a generator: the rows of a
    whole store are never held)."""
    if since is None:
        yield from rows
        return
    first = since.isoformat()
    yield from (row for row in rows if visit_date(row) >= first)


def exportable(rows: Iterable[dict[str, Any]], drafts: bool = False) -> Iterator[dict[str, Any]]:
    """The rows to export: never a discarded visit (given up, kept only as a record of
    that); a draft, an amendment under way included, only when `drafts` is asked for,
    since a spreadsheet of results should hold what was signed. As they come."""
    left_out = {str(Status.DISCARDED)} | (set() if drafts else {str(Status.DRAFT)})
    return (row for row in rows if str(row.get("status", "")) not in left_out)


@dataclass
class RowSurvey:
    """What an export must know before it writes its first line, from one pass over the
    rows alone (no record read): how many visits, for the progress bar, and which
    checklists they ran, for the `value:` columns."""

    count: int = 0
    checklist_ids: set[str] = field(default_factory=set)
    every_checklist: bool = False
    """A row names no checklists (an index written before rows did): every kept
    checklist's fields get a column."""


def survey(rows: Iterable[dict[str, Any]]) -> RowSurvey:
    found = RowSurvey()
    for row in rows:
        found.count += 1
        ids = row.get("checklist_ids")
        if isinstance(ids, list | tuple):
            found.checklist_ids.update(str(i) for i in ids)
        else:
            found.every_checklist = True
    return found


def visit_records(
    source: VisitSource,
    rows: Iterable[dict[str, Any]],
    stats: ExportStats,
    progress: Progress | None,
) -> Iterator[VisitRecord]:
    for done, row in enumerate(rows, start=1):
        try:
            record = source.record(row)
        except (StoreError, ChecklistError) as error:
            stats.skipped.append((row["uuid"], str(error).splitlines()[0]))
        except (KeyError, ValueError, TypeError):
            # A hand-edited or truncated record; the visit is named so someone can look.
            stats.skipped.append((row["uuid"], "its record is damaged"))
        else:
            # The index row said otherwise (an index older than the visit's file): the
            # visit's own status decides, and a discarded visit is never exported.
            if record.session.status is not Status.DISCARDED:
                yield record
                stats.visits += 1
        if progress is not None:
            progress(done)


def _latest_decision(record: VisitRecord) -> dict[str, Any]:
    return record.latest_decision or {}


def csv_rows(
    record: VisitRecord, lang: str | None = None, fields: Sequence[str] = ()
) -> Iterator[list[str]]:
    """One row per item of every checklist the visit ran, answered or not: the cells of
    `CSV_COLUMNS`, then the item's captured value of each field id in `fields` ("" where
    the item has none). Codes and times as stored; the writers turn them into what their
    format shows (`write_csv`: local times; the XLSX: words, real date-times)."""
    session = record.session
    info = session.info
    item_lang = words.report_language(lang, info.language)
    decision = _latest_decision(record)
    verdict = record.integrity
    visit = [
        session.uuid,
        visit_date(record.row) or session.created_at[:10],
        effective_status(record),
        str(session.verdict()),
        masked(info.merchant_name),
        info.merchant_number,
        info.terminal_number,
        masked(info.terminal_serial),
        masked(info.model),
        masked(info.technician),
        info.job_type,
    ]
    # The latest decision that does not count, as it was written: a spreadsheet reader
    # must see that someone tried, and that it was not taken.
    forged = record.forged[-1] if record.forged else None
    forged_row = forged.row if forged is not None else {}
    signature = decision.get("signature") or {}
    tail = [
        str(decision.get("decision", "")),
        masked(str(decision.get("comment", ""))),
        session.content_sha256 or "",
        verdict.state,
        "; ".join(verdict.reasons),
        str(signature.get("fingerprint", "")) if isinstance(signature, dict) else "",
        masked(str(forged_row.get("decision", ""))),
        masked(str(forged_row.get("reviewer", ""))),
        masked(str(forged_row.get("comment", ""))),
        "; ".join(forged.reasons) if forged is not None else "",
    ]
    problems = record.file_problems
    links = _links(session)
    details = _details(record, decision)
    for checklist, item in session.all_items():
        answer = session.answer(checklist.id, item.id)
        # Masked once, for both the packed `values` cell and the one-per-field columns.
        captured = {k: masked(v) for k, v in answer.values.items()} if answer else {}
        values = "; ".join(f"{k}={v}" for k, v in captured.items())
        refs = session.evidence_of(checklist.id, item.id)
        yield [
            *visit,
            checklist.id,
            checklist.version,
            item.id,
            item.title.get(item_lang),
            str(item.severity),
            "true" if session.applies(item) else "false",
            str(answer.outcome) if answer else "",
            masked(answer.note) if answer else "",
            values,
            answer.at if answer else "",
            *tail,
            str(len(refs)),
            # File names come from phones and file managers: masked, then (as every cell)
            # made safe for spreadsheets by the writer.
            "; ".join(masked(ref.name) for ref in refs),
            "; ".join(ref.sha256 for ref in refs),
            "; ".join(
                f"{ref.sha256[:12]}={problems[ref.sha256]}"
                for ref in refs
                if ref.sha256 in problems
            ),
            *links,
            *details,
            *(captured.get(name, "") for name in fields),
        ]


def _links(session: Session) -> list[str]:
    """amendment, supersedes, amendment_reason, follow_up_of, follow_up_of_sha256."""
    correction, follow_up = session.corrects, session.follow_up
    return [
        str(correction.number) if correction else "0",
        correction.content_sha256 if correction else "",
        masked(correction.reason) if correction else "",
        follow_up.of_uuid if follow_up else "",
        follow_up.of_content_sha256 if follow_up else "",
    ]


def _details(record: VisitRecord, decision: dict[str, Any]) -> list[str]:
    """The columns from `job_reason` to `reviewed_at`."""
    session = record.session
    info = session.info
    signoff = session.signoff
    return [
        info.reason,
        masked(info.work_order),
        masked(info.registered_name),
        info.credit_code,
        info.mcc,
        info.tusn,
        masked(info.pinpad_serial),
        info.sim_iccid,
        masked(info.install_address),
        info.device_id,
        info.language,
        session.arrived_at,
        session.departed_at or "",
        masked(signoff.merchant_representative) if signoff else "",
        masked(str(decision.get("reviewer", ""))),
        str(decision.get("at", "")) if decision else "",
    ]


def value_column(field_id: str) -> str:
    return VALUE_PREFIX + field_id


def captured_fields(source: VisitSource, rows: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """The id of every field the checklists of these visits capture, one column each.

    Read from the store's copies of the checklists (a few files or rows), not from the
    visits, so the header can be written before the first visit is read and the export
    stays streamed. The index rows name their checklists' ids, not their versions, so every
    kept version of those checklists counts: a column may stay empty, none is missing. In
    the checklists' order, then their items' and fields' own."""
    return surveyed_fields(source, survey(rows))


def surveyed_fields(source: VisitSource, found: RowSurvey) -> tuple[str, ...]:
    """`captured_fields` of the rows `found` surveyed."""
    # A copy that does not load is the visit's problem, named when the visit is read.
    checklists = _kept_checklists(source)
    seen: dict[str, None] = {}
    for checklist in sorted(checklists, key=lambda c: (c.order, c.id, c.version)):
        if found.every_checklist or checklist.id in found.checklist_ids:
            for item in checklist.items:
                for one in item.fields:
                    seen.setdefault(one.id)
    return tuple(seen)


def _kept_checklists(source: VisitSource) -> list[Any]:
    """Every checklist copy of the store behind `source`, of either kind of shared store
    (their own `load_all_checklists`) or the laptop's folder."""
    from pos_tui.store.checklist_copies import load_all

    loader = getattr(getattr(source, "store", None), "load_all_checklists", None)
    if callable(loader):
        return list(loader()[0])
    folder = getattr(source, "folder", None)
    return list(load_all(folder)[0]) if isinstance(folder, Path) else []


def local_time(stored: str) -> datetime | None:
    """A stored time (ISO 8601 with its offset) in this computer's local time zone, without
    the zone (what a spreadsheet's date-time holds); None when empty or not a time."""
    if not stored:
        return None
    try:
        moment = datetime.fromisoformat(stored)
    except ValueError:
        return None
    # A time without an offset (hand-edited) is taken as local already.
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


def local_time_text(stored: str) -> str:
    """`2025-03-04 10:02:00`, the form Excel, LibreOffice and WPS read as a date-time and
    sort as one; a cell that is not a time is kept as it is."""
    moment = local_time(stored)
    return stored if moment is None else moment.isoformat(sep=" ", timespec="seconds")


def write_csv(
    source: VisitSource,
    rows: Iterable[dict[str, Any]],
    out: TextIO,
    lang: str | None = None,
    progress: Progress | None = None,
    fields: Sequence[str] | None = None,
) -> ExportStats:
    """`out` should be opened with encoding="utf-8-sig" and newline="" (Excel needs both).

    `fields`: the `value:` columns to add, by field id; None for those of `captured_fields`
    (which reads the rows twice, so they are held: give `fields` to stream them).
    """
    if fields is None:
        rows = list(rows)
        fields = captured_fields(source, rows)
    stats = ExportStats()
    writer = csv.writer(out)
    header = [*CSV_COLUMNS, *map(value_column, fields)]
    writer.writerow([spreadsheet_cell(column) for column in header])
    times = [index for index, name in enumerate(CSV_COLUMNS) if name in TIME_COLUMNS]
    for record in visit_records(source, rows, stats, progress):
        # A visit's own times are on each of its rows: each turned once per visit.
        shown: dict[str, str] = {}
        for line in csv_rows(record, lang, fields):
            for index in times:
                stored = line[index]
                if stored not in shown:
                    shown[stored] = local_time_text(stored)
                line[index] = shown[stored]
            writer.writerow([spreadsheet_cell(cell) for cell in line])
            stats.rows += 1
    return stats


# -- spreadsheets ------------------------------------------------------------------------
#
# A CSV is opened in Excel, LibreOffice or WPS, and a cell they read as a formula runs:
# =HYPERLINK(...) sends data away when clicked, =cmd|' /C calc'!A0 (DDE) starts a program.
# Merchant names, notes, technicians, models, serials, captured values and review comments
# are typed by people, and a store file can be edited by hand, so every cell goes through
# `spreadsheet_cell` (OWASP, "CSV Injection"). No column of the export is numeric (ids,
# codes, times and text only); a cell that is just a plain number, say -12.5 typed as a
# note, is left as it is: a spreadsheet reads it as that number, never as a formula.

_FORMULA_START = frozenset("=+-@")
_LEADING_BLANKS = re.compile(r"^[\s\u200b\u200c\u200d\u2060\ufeff]+")
"""Whitespace and the invisible characters a spreadsheet may skip before a formula."""
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def spreadsheet_cell(value: str) -> str:
    """`value` as a spreadsheet will show and never evaluate: a single quote put before any
    cell that starts with = + - @, a tab or a carriage return, after blanks too, and
    with their full-width forms (＝＋－＠, which some spreadsheets read as the ASCII ones)."""
    if not value:
        return value
    # Most cells start with a letter, a digit or a CJK character, never skipped and never
    # a formula: said at once (an export writes millions of cells).
    if not _may_start_formula(value[0]) or _PLAIN_NUMBER.fullmatch(value):
        return value
    if value[0] in "\t\r":
        return "'" + value
    first = _LEADING_BLANKS.sub("", value, count=1)[:1]
    if first and _formula_start(first):
        return "'" + value
    return value


@functools.lru_cache(maxsize=4096)
def _formula_start(char: str) -> bool:
    # NFKC folds ＝ (U+FF1D), ﹦ (U+FE66) and the like onto the character they look like.
    return unicodedata.normalize("NFKC", char)[:1] in _FORMULA_START


@functools.lru_cache(maxsize=4096)
def _may_start_formula(char: str) -> bool:
    """Whether a cell starting with `char` needs the full look: a formula's first
    character, or one a spreadsheet may skip before it."""
    return char in "\t\r" or bool(_LEADING_BLANKS.match(char)) or _formula_start(char)


def visit_document(record: VisitRecord) -> dict[str, Any]:
    """Everything about one visit, with codes rather than words, for other programs.

    Free text is not masked yet: `dumps_masked` does that as it writes the document.
    """
    session: Session = record.session
    content = session.content()
    verdict = record.integrity
    document = {
        "uuid": session.uuid,
        "visit_date": visit_date(record.row) or session.created_at[:10],
        "status": effective_status(record),
        "verdict": str(session.verdict()),
        "progress": {
            "answered": session.progress().answered,
            "applicable": session.progress().applicable,
        },
        "failures": len(session.failures()),
        "created_at": session.created_at,
        "info": content["info"],
        "checklists": content["checklists"],
        "answers": content["answers"],
        "signoff": content["signoff"],
        "content_sha256": session.content_sha256,
        # Which revision this is and which record it supersedes; the amendment history is
        # in `events` (each "amending" with its reason and the hash it corrects).
        "amendment": session.corrects.number if session.corrects else 0,
        "supersedes": session.corrects.content_sha256 if session.corrects else None,
        "amendment_reason": session.corrects.reason if session.corrects else "",
        "corrects": content.get("corrects"),
        "follow_up_of": session.follow_up.of_uuid if session.follow_up else None,
        "follow_up": content.get("follow_up"),
        # The one rule's verdict, as the review screen and the report give it.
        "integrity": {"state": verdict.state, "reasons": list(verdict.reasons)},
        "content_matches": None if verdict.state == UNSIGNED else verdict.trusted,
        "conflict": bool(record.row.get("conflict")),
        "review_decisions": sorted(record.decisions, key=lambda d: str(d.get("at", ""))),
        "forged_decisions": [
            dict(c.row) | {"state": c.state, "reasons": list(c.reasons)} for c in record.forged
        ],
        "decision_log_gap": record.log_has_gap,
        "events": [event.to_dict() for event in session.events],
        "evidence": evidence_document(record),
    }
    return document


EVIDENCE_FIELDS = (
    "sha256",
    "name",
    "size",
    "media_type",
    "taken_at",
    "camera",
    "latitude",
    "longitude",
    "width",
    "height",
    "source",
    "attached_at",
)


def evidence_document(record: VisitRecord) -> list[dict[str, Any]]:
    """Each item's attached files, every field present ("" when unknown) so a reader need
    not guess, and `file`: whether the store still holds the file whole (ok, missing,
    replaced), by the same check as the integrity state."""
    problems = record.file_problems
    by_item: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, ref in record.session.all_evidence():
        entry = {name: getattr(ref, name) for name in EVIDENCE_FIELDS}
        entry["file"] = problems.get(ref.sha256, "ok" if record.files is not None else "")
        by_item.setdefault(key, []).append(entry)
    return [
        {"checklist_id": key[0], "item_id": key[1], "files": files}
        for key, files in by_item.items()
    ]


def write_json(
    source: VisitSource,
    rows: Iterable[dict[str, Any]],
    out: TextIO,
    progress: Progress | None = None,
) -> ExportStats:
    """One JSON array, written a visit at a time: never the whole list in memory."""
    stats = ExportStats()
    out.write("[")
    separator = "\n"
    for record in visit_records(source, rows, stats, progress):
        out.write(separator)
        out.write(dumps_masked(visit_document(record)))
        stats.rows += 1
        separator = ",\n"
    out.write("\n]\n")
    return stats


__all__ = [
    "CSV_COLUMNS",
    "EVIDENCE_FIELDS",
    "TIME_COLUMNS",
    "VALUE_PREFIX",
    "ExportStats",
    "RowSurvey",
    "captured_fields",
    "csv_rows",
    "evidence_document",
    "exportable",
    "local_time",
    "local_time_text",
    "rows_since",
    "spreadsheet_cell",
    "survey",
    "surveyed_fields",
    "value_column",
    "visit_date",
    "visit_document",
    "visit_records",
    "write_csv",
    "write_json",
]
