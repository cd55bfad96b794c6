"""The review list of a store that pages in its database: what a page holds and how the
list's filter and order become the database's.

A store with `list_page` (PostgreSQL) filters, sorts, counts and pages itself, so the
supervisor's laptop holds the rows of the pages looked at, never the whole store. The
program still decides what the database cannot be believed on: the review state of each
row comes from the decisions on the page's visits, each signature checked against the
keyring (`domain.decisions.check_log`), and the integrity verdict from the page's records.

What the database does not know is not filtered there: the review state (decided by
signatures the server cannot check), the photo warnings and the integrity verdict (read
from the records), and the follow-up groups. The list says so rather than filter a page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pos_tui.domain.decisions import CheckedDecision, check_log, counted
from pos_tui.domain.keyring import Keyring
from pos_tui.domain.review_filter import (
    ATTENTION,
    Filter,
    ReviewRow,
    record_states,
    review_rows,
    review_states,
)

FETCH = 100
"""Rows asked of the database at a time: more come as the cursor nears the end."""

DATABASE_SORTS = (
    "attention", "date", "merchant", "merchant_number", "technician", "verdict", "failures"
)  # fmt: skip
"""The list's columns the database sorts by (`store.pg.paging.LIST_SORTS`)."""

NOT_IN_DATABASE = ("review_state", "evidence", "integrity", "follow_ups")
"""`Filter` fields the database cannot decide (see the module's docstring)."""


@dataclass(frozen=True, slots=True)
class PageQuery:
    filter: Filter = field(default_factory=Filter)
    sort_by: str = ATTENTION
    descending: bool = False
    offset: int = 0
    limit: int = FETCH


@dataclass(slots=True)
class Page:
    query: PageQuery
    rows: list[ReviewRow]
    matched: int | None
    """How many rows of the store match the filter (all pages), when the page says so (it
    is not full); None: `ReviewServices.count` counts them, which takes longer."""
    total: int | None
    """How many visits the store holds (their current versions), whatever the filter;
    None until `ReviewServices.count` has counted them (after the first page)."""


def refused(chosen: Filter) -> list[str]:
    """The fields of `chosen` set that the database cannot filter on."""
    empty = Filter()
    return [name for name in NOT_IN_DATABASE if getattr(chosen, name) != getattr(empty, name)]


def database_filter(chosen: Filter) -> dict[str, Any]:
    """The `store.pg.paging.Filters` fields of what the list's filter bar chose; the fields
    of `NOT_IN_DATABASE` are left out (the screen says so)."""
    return {
        "text": chosen.text,
        "verdict": chosen.verdict or "",
        "technician_is": chosen.technician or "",
        "updated_from": chosen.date_from or "",
        "updated_to": chosen.date_to or "",
    }


def read_page(
    store: Any,
    ring: Keyring,
    query: PageQuery,
    total: int | None,
    record_sha256: Callable[[dict[str, Any]], str],
) -> tuple[Page, dict[str, list[CheckedDecision]]]:
    """One page of rows with their review states, and the checked decisions of its
    visits by uuid. `record_sha256` reads what a row's record is signed as: asked only for
    a visit with several rows in the store and decisions to tell apart between them."""
    sort = query.sort_by if query.sort_by in DATABASE_SORTS else ATTENTION
    rows, matched = store.list_page(
        database_filter(query.filter), sort, query.descending, query.offset, query.limit
    )
    uuids = [row["uuid"] for row in rows]
    # Checked one by one; the gaps of the chain are a matter of the whole log, which the
    # detail of a visit and `shared check` read, not of the decisions of one page.
    checked = check_log(store.decisions_of(uuids), ring) if uuids else []
    by_visit: dict[str, list[CheckedDecision]] = {}
    for decision in checked:
        by_visit.setdefault(decision.uuid, []).append(decision)
    decisions = counted(checked)
    decided = {d["uuid"] for d in decisions}
    versions = store.versions_of(decided) if decided else {}
    several = {
        f"{row['uuid']}/{row.get('record_hash', '')}": (row["uuid"], record_sha256(row))
        for row in rows
        if versions.get(row["uuid"], 1) > 1
    }
    many = {uuid for uuid, _sha in several.values()}
    by_record = record_states(decisions, several)
    single = review_states(d for d in decisions if d["uuid"] not in many)
    built = review_rows(rows, single, by_record)
    return Page(query, built, matched, total), by_visit


def decisions_by_visit(
    checked: Mapping[str, list[CheckedDecision]],
) -> dict[str, list[dict[str, Any]]]:
    return {uuid: counted(found) for uuid, found in checked.items()}
