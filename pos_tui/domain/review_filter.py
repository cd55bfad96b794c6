"""The supervisor's list of visits: review states, filtering and sorting.

Pure and cheap, because it runs on every keystroke over the whole shared store: each row's
search text is lower-cased once when the row is built, a sort is done once per sort order
and filtering keeps that order, so a keystroke costs one pass over the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pos_tui.domain.evidence_checks import CODES, REUSE
from pos_tui.domain.integrity import STATE_ORDER, Integrity

UNREVIEWED = "unreviewed"
APPROVED = "approved"
HAS_ISSUES = "has_issues"
REJECTED = "rejected"
DECISIONS = (APPROVED, HAS_ISSUES, REJECTED)
"""What a supervisor may decide; `has_issues` goes back to the technician on their next sync."""
NEEDS_COMMENT = frozenset({HAS_ISSUES, REJECTED})
REVIEW_STATES = (UNREVIEWED, *DECISIONS)

# Worst first: sorting by verdict or review state puts what needs a look at the top.
VERDICT_ORDER = {"fail": 0, "incomplete": 1, "pass_with_remarks": 2, "pass": 3}
REVIEW_ORDER = {UNREVIEWED: 0, HAS_ISSUES: 1, REJECTED: 2, APPROVED: 3}


def review_states(decisions: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each visit's review state: its latest decision wins (ties: the later one written)."""
    latest: dict[str, tuple[str, int, str]] = {}
    for order, decision in enumerate(decisions):
        uuid, at = decision.get("uuid", ""), str(decision.get("at", ""))
        known = latest.get(uuid)
        if known is None or (at, order) >= known[:2]:
            latest[uuid] = (at, order, str(decision.get("decision", "")))
    return {uuid: state for uuid, (_, _, state) in latest.items()}


def record_states(
    decisions: Iterable[Mapping[str, Any]], records: Mapping[str, tuple[str, str]]
) -> dict[str, str]:
    """The review state of each record in `records` (by row key: (uuid, record_sha256)),
    decided only by the decisions that name that very record: an amendment is undecided
    until a decision of its own, whatever the revision before it was given."""
    wanted: dict[tuple[str, str], list[str]] = {}
    for key, named in records.items():
        wanted.setdefault(named, []).append(key)
    mine = [
        d for d in decisions if (str(d.get("uuid", "")), str(d.get("record_sha256", ""))) in wanted
    ]
    states = review_states({**d, "uuid": f"{d['uuid']}/{d['record_sha256']}"} for d in mine)
    return {
        key: states.get(f"{uuid}/{sha}", UNREVIEWED)
        for (uuid, sha), keys in wanted.items()
        for key in keys
    }


@dataclass(slots=True)
class ReviewRow:
    """One visit as the review list shows it; `row` is the shared index row it came from."""

    key: str
    uuid: str
    updated_at: str
    merchant_name: str
    merchant_number: str
    terminal_number: str
    technician: str
    verdict: str
    failures: int
    conflict: bool
    review_state: str
    search: str
    row: Mapping[str, Any]
    integrity: Integrity | None = None
    """None until the background pass (or opening the visit) has checked its record: the
    index row alone cannot say, and reading every record would hold up the list."""
    untrusted: bool = False
    """Checked, and found not to be trusted; False while not yet checked. Kept beside
    `integrity` (see `checked`) because filters and counts ask it of every row."""

    evidence: frozenset[str] | None = None
    """The photo warnings (`domain.evidence_checks` codes) on the visit's evidence; None
    until the background pass has read its record. Reuse codes grow as the pass reads the
    visits that share a photo with it."""
    follow_up_of: str = ""
    """The uuid of the visit this one follows up; "" for a visit of its own."""
    amendment: int = 0
    """Which amendment this revision is: 0 for a visit never amended."""

    def checked(self, verdict: Integrity) -> None:
        self.integrity, self.untrusted = verdict, not verdict.trusted

    @property
    def day(self) -> str:
        return self.updated_at[:10]

    @property
    def when(self) -> str:
        return self.updated_at[:16].replace("T", " ")

    @property
    def needs_attention(self) -> bool:
        """Unreviewed with failures, a conflict or a record that cannot be trusted: what a
        supervisor should see first."""
        return self.review_state == UNREVIEWED and (
            self.failures > 0 or self.conflict or self.untrusted
        )


def review_rows(
    rows: Iterable[Mapping[str, Any]],
    states: Mapping[str, str],
    by_record: Mapping[str, str] | None = None,
) -> list[ReviewRow]:
    """`states` by uuid; `by_record`, by row key, for the rows whose decisions had to be
    matched to their record (`record_states`), which wins over the uuid's."""
    by_record = by_record or {}
    built: list[ReviewRow] = []
    append = built.append
    for row in rows:
        uuid = row["uuid"]
        name = row.get("merchant_name", "")
        number = row.get("merchant_number", "")
        terminal = row.get("terminal_number", "")
        technician = row.get("technician", "")
        key = f"{uuid}/{row.get('record_hash', '')}"
        of = str(row.get("follow_up_of", ""))
        append(
            ReviewRow(
                key,
                uuid,
                row.get("updated_at", ""),
                name,
                number,
                terminal,
                technician,
                row.get("verdict", ""),
                int(row.get("failures", 0)),
                bool(row.get("conflict")),
                by_record.get(key) or states.get(uuid, UNREVIEWED),
                # The followed-up visit's uuid too: searching it finds the whole group.
                f"{name} {number} {terminal} {technician} {uuid} {of}".casefold(),
                row,
                follow_up_of=of,
                amendment=int(row.get("amendment", 0) or 0),
            )
        )
    return built


def parse_day(text: str) -> str | None:
    """`YYYY-MM-DD` as typed, or None when empty; ValueError when it is not a date."""
    text = text.strip()
    if not text:
        return None
    if len(text) != 10:  # fromisoformat also takes 20260301, which nobody means here
        raise ValueError(f"not a YYYY-MM-DD date: {text}")
    return date.fromisoformat(text).isoformat()


@dataclass(frozen=True, slots=True)
class Filter:
    """Empty or None fields match everything; text matches every word, in any field."""

    text: str = ""
    review_state: str | None = None
    verdict: str | None = None
    technician: str | None = None
    date_from: str | None = None
    """First day included, `YYYY-MM-DD`."""
    date_to: str | None = None
    """Last day included, `YYYY-MM-DD`."""
    integrity: str | None = None
    """An integrity state, or `INTEGRITY_PROBLEM` for any record that cannot be trusted;
    rows not checked yet match neither."""
    evidence: str | None = None
    """A photo warning's code, `REUSED` for either kind of reuse, or `ANY_EVIDENCE_WARNING`
    for any; rows whose evidence is not checked yet match none."""
    follow_ups: bool = False
    """Only the visits that have follow-ups, and the follow-ups (the groups)."""

    @property
    def empty(self) -> bool:
        return self == Filter()

    def matches(self, row: ReviewRow) -> bool:
        return bool(filter_rows([row], self))


def filter_rows(rows: Sequence[ReviewRow], chosen: Filter) -> list[ReviewRow]:
    """The rows that match, in the order given.

    One list comprehension per condition, each over what the last one left: a keystroke
    over 10,000 rows costs a millisecond or two, where one combined test per row costs ten.
    """
    found = list(rows)
    for word in chosen.text.casefold().split():
        found = [r for r in found if word in r.search]
    if chosen.review_state is not None:
        found = [r for r in found if r.review_state == chosen.review_state]
    if chosen.verdict is not None:
        found = [r for r in found if r.verdict == chosen.verdict]
    if chosen.technician is not None:
        found = [r for r in found if r.technician == chosen.technician]
    if chosen.date_from is not None:
        first = chosen.date_from
        found = [r for r in found if r.updated_at[:10] >= first]
    if chosen.date_to is not None:
        last = chosen.date_to
        found = [r for r in found if r.updated_at[:10] <= last]
    if chosen.integrity == INTEGRITY_PROBLEM:
        found = [r for r in found if r.untrusted]
    elif chosen.integrity is not None:
        state = chosen.integrity
        found = [r for r in found if r.integrity is not None and r.integrity.state == state]
    if chosen.evidence is not None:
        wanted = EVIDENCE_FILTERS.get(chosen.evidence, frozenset({chosen.evidence}))
        found = [r for r in found if r.evidence and not r.evidence.isdisjoint(wanted)]
    if chosen.follow_ups:
        followed = {r.follow_up_of for r in rows if r.follow_up_of}
        found = [r for r in found if r.follow_up_of or r.uuid in followed]
    return found


INTEGRITY_PROBLEM = "problem"
"""`Filter.integrity` for every record that is not trusted, whatever its state."""


ANY_EVIDENCE_WARNING = "any"
REUSED = "reused"
EVIDENCE_FILTERS: dict[str, frozenset[str]] = {
    ANY_EVIDENCE_WARNING: frozenset(CODES),
    REUSED: REUSE,
    **{code: frozenset({code}) for code in CODES if code not in REUSE},
}
"""`Filter.evidence`'s choices, in the order the filter bar offers them, and the codes
each keeps: the two kinds of reuse are one choice, as a supervisor asks for them."""


def integrity_rank(row: ReviewRow) -> int:
    """Worst first; rows not checked yet after every checked one."""
    if row.integrity is None:
        return len(STATE_ORDER)
    return STATE_ORDER.get(row.integrity.state, 0)  # a state this version does not know


ATTENTION = "attention"
SORT_KEYS: dict[str, Callable[[ReviewRow], Any]] = {
    "date": lambda r: r.updated_at,
    "merchant": lambda r: r.merchant_name,
    "merchant_number": lambda r: r.merchant_number,
    "terminal": lambda r: r.terminal_number,
    "technician": lambda r: r.technician,
    "verdict": lambda r: VERDICT_ORDER.get(r.verdict, len(VERDICT_ORDER)),
    "failures": lambda r: r.failures,
    "review": lambda r: REVIEW_ORDER.get(r.review_state, len(REVIEW_ORDER)),
    "integrity": integrity_rank,
}
"""The list's columns, in order, and how each sorts (ascending)."""


def sort_rows(
    rows: Iterable[ReviewRow], by: str = ATTENTION, reverse: bool = False
) -> list[ReviewRow]:
    """Newest first within equal keys; `attention` puts unreviewed failures first.

    With `reverse`, the chosen column's order flips but ties stay newest first. Follow-ups
    come right under the visit they follow up (`group_follow_ups`).
    """
    ordered = sorted(rows, key=SORT_KEYS["date"], reverse=True)
    if by == ATTENTION:
        ordered.sort(key=lambda r: not r.needs_attention, reverse=reverse)
    else:
        ordered.sort(key=SORT_KEYS[by], reverse=reverse)
    return group_follow_ups(ordered)


def group_follow_ups(ordered: list[ReviewRow]) -> list[ReviewRow]:
    """Each follow-up moved right under the visit it follows up (oldest follow-up first,
    a follow-up's own follow-ups under it), the rest in the order given. Done on the sorted
    rows, not in the table: filtering keeps this order, so a page of the DataTable never
    splits what it shows from where it belongs, and a follow-up whose visit is filtered out
    stays where that visit would be."""
    present = {r.uuid for r in ordered}
    children: dict[str, list[ReviewRow]] = {}
    for row in ordered:
        if row.follow_up_of and row.follow_up_of in present and row.follow_up_of != row.uuid:
            children.setdefault(row.follow_up_of, []).append(row)
    if not children:
        return ordered
    for group in children.values():
        group.sort(key=SORT_KEYS["date"])
    placed: set[int] = set()
    grouped: list[ReviewRow] = []

    def put(row: ReviewRow) -> None:
        if id(row) in placed:  # a loop of follow-ups, which only a hand-edit makes
            return
        placed.add(id(row))
        grouped.append(row)
        for child in children.get(row.uuid, ()):
            put(child)

    for row in ordered:
        if not (row.follow_up_of in present and row.follow_up_of != row.uuid):
            put(row)
    for row in ordered:  # only rows in a loop are left
        put(row)
    return grouped


def apply(
    rows: Iterable[ReviewRow], chosen: Filter, by: str = ATTENTION, reverse: bool = False
) -> list[ReviewRow]:
    return filter_rows(sort_rows(rows, by, reverse), chosen)
