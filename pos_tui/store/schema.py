"""What each kind of store document must look like, checked as it is read.

Every store file can be damaged or written by someone else (the shared store is on a share
anyone may write to). Code further up indexes rows and records freely (`row["uuid"]`,
`int(row["revision"])`), so the shape is checked once, here, where the store reads it: a
document that passes is one pos-tui could have written, and one that does not becomes a
`ShapeError` saying which part is wrong, which the store turns into `StoreDamaged` naming
the file. Keep these in step with what `Session.to_dict`, `VisitSummary.to_row`, the sync
and the review decisions write; unknown keys are let through so that a newer pos-tui's
rows still read.

Nothing here recurses: JSON nesting is bounded before `json.loads` ever sees the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pos_tui.domain.session import Outcome, Status

MAX_DEPTH = 64
"""Deepest nesting of any store document; what pos-tui writes stays under 10."""


class ShapeError(ValueError):
    """Part of a document is not what pos-tui writes; the message says which part and how."""


# -- JSON text ---------------------------------------------------------------------------

_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"')
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_QUOTED = re.compile(rb'"[^"]*"')


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when the JSON text nests deeper than `limit`, found without recursion.

    The brackets outside strings are kept (escapes first, so an escaped quote does not end
    a string), then innermost pairs are peeled off once per level. A truncated file leaves
    only unclosed openers, never a pair, so it is not mistaken for a deep one.
    """
    if b"\\" in raw:
        raw = _ESCAPE.sub(b"", raw)
    # Merging `""` keeps quotes paired: it is an empty string or the seam of two strings.
    marks = raw.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    brackets = _QUOTED.sub(b"", marks) if b'"' in marks else marks
    for _ in range(limit):
        if not brackets:
            return False
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(brackets):
            return False
        brackets = shorter
    return b"[]" in brackets or b"{}" in brackets


def parse_json(raw: bytes) -> Any:
    """The JSON value of `raw`, or ShapeError with a reason fit to show."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ShapeError("not UTF-8 text") from None
    if not text.strip():
        raise ShapeError("it is empty")
    if too_deep(raw):
        raise ShapeError(f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ShapeError(f"not valid JSON at line {error.lineno}, column {error.colno}") from None
    except RecursionError:  # too_deep has refused what json would recurse on; a backstop
        raise ShapeError(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # a number of thousands of digits, over Python's conversion limit
        raise ShapeError("a number in it is too long to read") from None


def tinydb_document(data: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """A TinyDB file: tables of records under decimal ids, as TinyDB itself insists."""
    if type(data) is not dict or not all(type(table) is dict for table in data.values()):
        raise ShapeError("not a TinyDB store: expected tables of records")
    for table in data.values():
        for doc_id, record in table.items():
            if type(record) is not dict:
                raise ShapeError("not a TinyDB store: a record is not a mapping")
            if not doc_id.isdecimal() or not doc_id.isascii():
                raise ShapeError(
                    f"not a TinyDB store: the record id {doc_id[:20]!r} is not a number"
                )
    return data


# -- kinds of values ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kind:
    test: Callable[[Any], bool]
    said: str


def _described(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"{value[:40]!r}" if len(value) <= 40 else "other text"
    return "a list" if isinstance(value, list) else "a mapping"


def _is_text_list(value: Any) -> bool:
    return type(value) is list and all(type(item) is str for item in value)


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BATCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}\.jsonl")

TEXT = Kind(lambda v: type(v) is str, "text")
COUNT = Kind(lambda v: type(v) is int and v >= 0, "a whole number")
FLAG = Kind(lambda v: type(v) is bool, "true or false")
TEXTS = Kind(_is_text_list, "a list of texts")
MAPPING = Kind(lambda v: type(v) is dict, "a mapping")
# A visit's id becomes a file name: no dots or slashes, so it cannot point outside the store.
NAME = Kind(
    lambda v: type(v) is str and _NAME.fullmatch(v) is not None, "an id of letters, digits and -"
)
SHA256 = Kind(lambda v: type(v) is str and _SHA256.fullmatch(v) is not None, "a sha256 in hex")
BATCH = Kind(lambda v: type(v) is str and _BATCH.fullmatch(v) is not None, "a batch file name")
TEXT_PAIR = Kind(lambda v: _is_text_list(v) and len(v) == 2, "a pair of texts")
TEXT_MAP = Kind(
    lambda v: type(v) is dict and all(type(x) is str for x in v.values()), "a mapping of texts"
)


def optional(kind: Kind) -> Kind:
    return Kind(lambda v: v is None or kind.test(v), f"{kind.said} or null")


def one_of(values: tuple[str, ...]) -> Kind:
    allowed = frozenset(values)
    return Kind(lambda v: type(v) is str and v in allowed, "one of " + ", ".join(values))


STATUS = one_of(tuple(str(status) for status in Status))
OUTCOME = one_of(tuple(str(outcome) for outcome in Outcome))

Fields = Mapping[str, Kind]


def check(
    value: Any, where: str, required: Fields, optional_fields: Fields | None = None
) -> dict[str, Any]:
    """`value` as a mapping with every required field and every field of its kind."""
    if type(value) is not dict:
        raise ShapeError(f"{where} is {_described(value)}, not a mapping")
    for name, kind in required.items():
        if name not in value:
            raise ShapeError(f"{where} has no {name!r}")
        if not kind.test(value[name]):
            raise ShapeError(f"{where}: {name!r} is {_described(value[name])}, not {kind.said}")
    for name, kind in (optional_fields or {}).items():
        if name in value and not kind.test(value[name]):
            raise ShapeError(f"{where}: {name!r} is {_described(value[name])}, not {kind.said}")
    return value


# -- the local index ---------------------------------------------------------------------

_SUMMARY_REQUIRED: Fields = {
    "uuid": NAME,
    "status": STATUS,
    "verdict": TEXT,
    "created_at": TEXT,
    "updated_at": TEXT,
    "merchant_name": TEXT,
    "merchant_number": TEXT,
    "terminal_number": TEXT,
    "technician": TEXT,
    "job_type": TEXT,
    "answered": COUNT,
    "failures": COUNT,
    "revision": COUNT,
    "content_sha256": optional(TEXT),
}
_SUMMARY_OPTIONAL: Fields = {
    "device_id": TEXT,
    "checklist_ids": TEXTS,
    "failed_items": TEXTS,
    "review_decision": TEXT,
    "review_comment": TEXT,
    "review_items": TEXTS,
    "amendment": COUNT,
    "follow_up_of": TEXT,
    "order_number": TEXT,
}


# The quick test of summary_row: the type of every field but one in a single C-level
# pass, a missing required field getting a type that matches nothing.
class _Missing:
    pass


_QUICK: dict[str, tuple[object, type]] = {
    name: (_Missing(), int if kind is COUNT else str)
    for name, kind in _SUMMARY_REQUIRED.items()
    if name != "content_sha256"
} | {
    name: ("", str) if kind is TEXT else (0, int) if kind is COUNT else ([], list)
    for name, kind in _SUMMARY_OPTIONAL.items()
}
_QUICK_NAMES = tuple(_QUICK)
_QUICK_DEFAULTS = tuple(default for default, _ in _QUICK.values())
_QUICK_TYPES = tuple(expected for _, expected in _QUICK.values())
_STATUS_VALUES = frozenset(str(status) for status in Status)
_TEXT_OR_NONE = (str, type(None))
_ONLY_TEXT = frozenset({str})


def summary_row(row: Any, where: str = "the index row") -> dict[str, Any]:
    """A row of the laptop's index (`VisitSummary.to_row`)."""
    # Run for every visit on every list, so first the quick test; the full check, which
    # says what is wrong, only for a row that fails it.
    if (
        type(row) is dict
        and tuple(map(type, map(row.get, _QUICK_NAMES, _QUICK_DEFAULTS))) == _QUICK_TYPES
        and type(row.get("content_sha256", 0)) in _TEXT_OR_NONE
        and row["status"] in _STATUS_VALUES
        and _NAME.fullmatch(row["uuid"]) is not None
        and min(row["answered"], row["failures"], row["revision"], row.get("amendment", 0)) >= 0
        and set(map(type, row.get("checklist_ids", ()))) <= _ONLY_TEXT
        and set(map(type, row.get("failed_items", ()))) <= _ONLY_TEXT
        and set(map(type, row.get("review_items", ()))) <= _ONLY_TEXT
    ):
        return row
    return check(row, where, _SUMMARY_REQUIRED, _SUMMARY_OPTIONAL)


# -- the shared store --------------------------------------------------------------------

MAX_RECORD_BYTES = 64 * 1024 * 1024
"""A visit record in a batch; real ones are a few kilobytes (photos are separate files)."""

_LOCATION: Fields = {
    "uuid": NAME,
    "batch": BATCH,
    "offset": COUNT,
    "length": Kind(
        lambda v: type(v) is int and 0 < v <= MAX_RECORD_BYTES,
        f"a length of 1 to {MAX_RECORD_BYTES} bytes",
    ),
}
_SHARED_REQUIRED: Fields = {**_LOCATION, "revision": COUNT, "record_hash": TEXT}
_SHARED_OPTIONAL: Fields = {
    **{name: kind for name, kind in _SUMMARY_REQUIRED.items() if name not in _SHARED_REQUIRED},
    **_SUMMARY_OPTIONAL,
    "conflict": FLAG,
    "superseded": FLAG,
    "synced_at": TEXT,
    "host": TEXT,
}


def shared_row(row: Any, where: str = "the index row") -> dict[str, Any]:
    """A row of the shared index: a visit's summary and where its record lies."""
    return check(row, where, _SHARED_REQUIRED, _SHARED_OPTIONAL)


def record_location(row: Any, where: str = "the index row") -> dict[str, Any]:
    """Just what finding a record needs: a row handed back by a caller is checked again."""
    return check(row, where, _LOCATION)


_REVIEW_REQUIRED: Fields = {"id": TEXT, "uuid": TEXT, "decision": TEXT}
_REVIEW_OPTIONAL: Fields = {
    "at": TEXT,
    "comment": TEXT,
    "reviewer": TEXT,
    "prev": TEXT,
    "record_sha256": TEXT,
    "signature": MAPPING,
}


def review_row(row: Any, where: str = "the review decision") -> dict[str, Any]:
    return check(row, where, _REVIEW_REQUIRED, _REVIEW_OPTIONAL)


# -- the laptop's sync ledger ------------------------------------------------------------

_LEDGER_REQUIRED: Fields = {"uuid": TEXT, "revision": COUNT, "target": TEXT}
_LEDGER_OPTIONAL: Fields = {"record_hash": TEXT, "at": TEXT}


def ledger_row(row: Any, where: str = "the ledger row") -> dict[str, Any]:
    return check(row, where, _LEDGER_REQUIRED, _LEDGER_OPTIONAL)


# -- a visit: its record and its events --------------------------------------------------

_INFO_TEXTS = (
    "job_type",
    "reason",
    "merchant_name",
    "merchant_number",
    "terminal_number",
    "terminal_serial",
    "model",
    "site_address",
    "merchant_contact",
    "technician",
    "device_id",
    "notes",
    "language",
)
_INFO: Fields = {name: TEXT for name in _INFO_TEXTS} | {"capabilities": TEXTS}
_REF: Fields = {"id": TEXT, "version": TEXT, "sha256": SHA256}
_ANSWER_REQUIRED: Fields = {"checklist_id": TEXT, "item_id": TEXT, "outcome": OUTCOME, "at": TEXT}
_ANSWER_OPTIONAL: Fields = {"note": TEXT, "values": TEXT_MAP, "revision": COUNT}
_SIGNOFF: Fields = {"technician": TEXT, "merchant_representative": TEXT, "at": TEXT}
_SIGNOFF_OPTIONAL: Fields = {"carried": FLAG}
_LIST = Kind(lambda v: type(v) is list, "a list")
_EVIDENCE_ENTRY: Fields = {"checklist_id": TEXT, "item_id": TEXT, "files": _LIST}
_EVIDENCE_FILE: Fields = {
    "sha256": SHA256,
    "name": TEXT,
    "size": COUNT,
    "media_type": TEXT,
    "attached_at": TEXT,
}
_EVIDENCE_FILE_OPTIONAL: Fields = {
    **{name: TEXT for name in ("source", "taken_at", "camera", "latitude", "longitude", "phash")},
    "width": COUNT,
    "height": COUNT,
}
_CORRECTS: Fields = {"content_sha256": SHA256, "reason": TEXT, "number": COUNT}
_CORRECTS_OPTIONAL: Fields = {
    "at": TEXT,
    "who": TEXT,
    "merchant_part_sha256": TEXT,
    "representative": TEXT,
}
_FOLLOW_UP: Fields = {"of_uuid": NAME, "items": _LIST}
_FOLLOW_UP_OPTIONAL: Fields = {"of_content_sha256": TEXT}
_VISIT_REQUIRED: Fields = {
    "uuid": NAME,
    "created_at": TEXT,
    "info": MAPPING,
    "checklists": Kind(lambda v: type(v) is list, "a list"),
    "status": STATUS,
    "revision": COUNT,
}
_VISIT_OPTIONAL: Fields = {
    "answers": Kind(lambda v: type(v) is list, "a list"),
    "signoff": optional(MAPPING),
    "content_sha256": optional(TEXT),
    "review": optional(MAPPING),
    "position": optional(TEXT_PAIR),
    "undo": Kind(lambda v: type(v) is list, "a list"),
    "verdict": TEXT,
    "evidence": _LIST,
    "corrects": optional(MAPPING),
    "follow_up": optional(MAPPING),
}
_EVENT_REQUIRED: Fields = {"at": TEXT, "what": TEXT}
_EVENT_OPTIONAL: Fields = {"who": TEXT, "detail": MAPPING}


def visit_record(visit: Any, where: str = "the visit record") -> dict[str, Any]:
    """A stored session (`Session.to_dict`), as `Session.from_dict` and `summarize` read it."""
    check(visit, where, _VISIT_REQUIRED, _VISIT_OPTIONAL)
    check(visit["info"], f"{where}: info", {}, _INFO)
    for index, ref in enumerate(visit["checklists"]):
        check(ref, f"{where}: checklists[{index}]", _REF)
    for index, answer in enumerate(visit.get("answers", ())):
        check(answer, f"{where}: answers[{index}]", _ANSWER_REQUIRED, _ANSWER_OPTIONAL)
    signoff = visit.get("signoff")
    if signoff:
        check(signoff, f"{where}: signoff", _SIGNOFF, _SIGNOFF_OPTIONAL)
        extra = sorted(set(signoff) - set(_SIGNOFF) - set(_SIGNOFF_OPTIONAL))
        if extra:
            raise ShapeError(f"{where}: signoff has an unknown key {extra[0]!r}")
    review = visit.get("review") or {}
    check(review, f"{where}: review", {}, {"decision": TEXT, "comment": TEXT})
    _links(visit, where)
    for index, entry in enumerate(visit.get("undo", ())):
        spot = f"{where}: undo[{index}]"
        check(entry, spot, {"key": TEXT_PAIR, "previous": optional(MAPPING)})
        if entry["previous"] is not None:
            check(entry["previous"], f"{spot}.previous", _ANSWER_REQUIRED, _ANSWER_OPTIONAL)
    return visit


def _links(visit: dict[str, Any], where: str) -> None:
    """Evidence, corrections and follow-ups: what `Session.from_dict` builds objects from."""
    for index, entry in enumerate(visit.get("evidence", ())):
        spot = f"{where}: evidence[{index}]"
        check(entry, spot, _EVIDENCE_ENTRY)
        for number, file in enumerate(entry["files"]):
            check(file, f"{spot}.files[{number}]", _EVIDENCE_FILE, _EVIDENCE_FILE_OPTIONAL)
    if visit.get("corrects"):
        check(visit["corrects"], f"{where}: corrects", _CORRECTS, _CORRECTS_OPTIONAL)
    if visit.get("follow_up"):
        follow_up = check(
            visit["follow_up"], f"{where}: follow_up", _FOLLOW_UP, _FOLLOW_UP_OPTIONAL
        )
        for index, key in enumerate(follow_up["items"]):
            if not _is_text_list(key) or len(key) != 2:
                raise ShapeError(f"{where}: follow_up.items[{index}] is not a pair of texts")


def event(row: Any, where: str = "the event") -> dict[str, Any]:
    return check(row, where, _EVENT_REQUIRED, _EVENT_OPTIONAL)


def visit_document(document: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A visit file's TinyDB document (already `tinydb_document`): its record and its log."""
    visits = list(document.get("visit", {}).values())
    if len(visits) != 1:
        raise ShapeError("the visit record is missing" if not visits else "it holds two visits")
    visit = visit_record(visits[0])
    events = sorted(document.get("events", {}).items(), key=lambda pair: int(pair[0]))
    return visit, [event(row, f"event {doc_id}") for doc_id, row in events]


def table_rows(
    document: Mapping[str, Any] | None,
    table: str,
    checker: Callable[[Any, str], dict[str, Any]],
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The table's good rows and, apart, why each bad one is bad, both by record id: one
    bad row spoils no other."""
    good: dict[str, dict[str, Any]] = {}
    bad: dict[str, str] = {}
    for doc_id, row in ((document or {}).get(table) or {}).items():
        try:
            good[doc_id] = checker(row, f"row {doc_id} of {table!r}")
        except ShapeError as error:
            bad[doc_id] = str(error)
    return good, bad
