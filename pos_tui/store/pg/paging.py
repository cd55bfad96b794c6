"""The review list's filters, order, pages and figures, worked out by the database.

A supervisor's laptop holds one page of rows, never the whole store: `page` returns
`limit` rows, `count` how many match, `stats` the figures, each one query over indexed
columns of `visits`. Filters and sort keys are named here, never taken as SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from psycopg import sql

from pos_tui.store.storage import StoreError

ROW_COLUMNS = "id, uuid, revision, record_hash, conflict, superseded, synced_at, host, summary"
ROWS_FROM = "visits JOIN visit_bodies USING (record_hash)"
"""Where whole rows come from: the narrow index row and its summary."""

SORTS = ("synced_at", "updated_at", "merchant_name", "technician", "status", "verdict", "revision")
"""What the list sorts by; "-name" for descending. Ties go by id, the order of arrival."""

MAX_PAGE = 1000

_SEARCHED = "merchant_search || ' ' || technician_search || ' ' || uuid"
"""What the search box looks in: the columns lowered when written, and the uuid."""

GRAMS = (
    "pos_tui_grams(lower(merchant_name || ' ' || merchant_number) || ' ' || lower(technician)"
    " || ' ' || uuid)"
)
"""The grams of what the search box looks in (`_SEARCHED`, spelt out from the columns it
is lowered from): the expression of the index of migration 4, which a query names exactly
as it is written there for the index to answer it."""


@dataclass(frozen=True)
class Filters:
    status: str = ""
    verdict: str = ""
    merchant: str = ""
    """Part of the merchant's name or number, any case."""
    technician: str = ""
    """Part of the technician's name, any case."""
    synced_from: str = ""
    """Synced at or after this ISO time (as the rows write it)."""
    synced_to: str = ""
    """Synced before this ISO time."""
    conflict: bool | None = None
    superseded: bool | None = False
    """False (the default): the current version of each visit, as the review list shows."""
    uuid_prefix: str = ""
    text: str = ""
    """Every word, any case, somewhere in the merchant's name or number, the technician's
    name or the uuid: the review list's search box."""
    technician_is: str = ""
    """Exactly this technician (the list's technician choice)."""
    updated_from: str = ""
    """Finished on or after this day, `YYYY-MM-DD`."""
    updated_to: str = ""
    """Finished on or before this day, `YYYY-MM-DD` (the day included)."""

    @classmethod
    def of(cls, given: Filters | Mapping[str, Any] | None) -> Filters:
        if given is None:
            return cls()
        if isinstance(given, Filters):
            return given
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise StoreError(f"The review list has no filter named {', '.join(unknown)}.")
        return cls(**dict(given))


def grams_of(word: str) -> list[str]:
    """The grams a row holding `word` holds (migration 3's `pos_tui_grams`, cut the same
    way): its pairs of characters, or itself when it is one character outside ASCII; none
    for one ASCII character, which the index does not keep."""
    if len(word) > 1:
        return sorted({word[i : i + 2] for i in range(len(word) - 1)})
    return [word] if word and ord(word) > 127 else []


def where(filters: Filters, indexed: bool = True) -> tuple[sql.Composable, list[Any]]:
    """The WHERE clause of `filters`. `indexed`: the words of the search also narrowed by
    the index of grams (for a clause over the table, not over rows already picked out)."""
    parts: list[sql.Composable] = []
    params: list[Any] = []

    def add(clause: str, *values: Any) -> None:
        parts.append(sql.SQL(clause))
        params.extend(values)

    if filters.status:
        add("status = %s", filters.status)
    if filters.verdict:
        add("verdict = %s", filters.verdict)
    if filters.merchant:
        add("strpos(merchant_search, %s) > 0", filters.merchant.lower())
    if filters.technician:
        add("strpos(technician_search, %s) > 0", filters.technician.lower())
    if filters.synced_from:
        add("synced_at >= %s", filters.synced_from)
    if filters.synced_to:
        add("synced_at < %s", filters.synced_to)
    if filters.conflict is not None:
        add("conflict = %s", filters.conflict)
    if filters.superseded is not None:
        add("superseded = %s", filters.superseded)
    if filters.uuid_prefix:
        add("uuid LIKE %s", filters.uuid_prefix.lower().replace("%", "").replace("_", "") + "%")
    words = filters.text.lower().split()
    grams = sorted({gram for word in words for gram in grams_of(word)})
    if indexed and grams:
        add(f"{GRAMS} @> %s::text[]", grams)
    for word in words:
        # A word that is one gram (two characters, or one outside ASCII) is in a row
        # exactly when the gram is: the index has said so, reading the text again would
        # only cost (at 100,000 rows, some 15 ms for a word in 17,500 of them).
        if not (indexed and grams_of(word) == [word]):
            add(f"strpos({_SEARCHED}, %s) > 0", word)
    if filters.technician_is:
        add("technician = %s", filters.technician_is)
    if filters.updated_from:
        add("left(updated_at, 10) >= %s", filters.updated_from)
    if filters.updated_to:
        add("left(updated_at, 10) <= %s", filters.updated_to)
    if not parts:
        return sql.SQL("TRUE"), params
    return sql.SQL(" AND ").join(parts), params


def order_by(sort: str) -> sql.Composable:
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name not in SORTS:
        raise StoreError(
            f"The review list cannot be sorted by {name!r}; it sorts by {', '.join(SORTS)}."
        )
    direction = sql.SQL("DESC" if descending else "ASC")
    return sql.SQL("{} {}, id {}").format(sql.Identifier(name), direction, direction)


def page_query(
    filters: Filters, sort: str, offset: int, limit: int
) -> tuple[sql.Composed, list[Any]]:
    if offset < 0 or not 0 < limit <= MAX_PAGE:
        raise StoreError(f"A page holds 1 to {MAX_PAGE} rows from an offset of 0 or more.")
    clause, params = where(filters)
    if filters.text.split():
        # Planned on its own (OFFSET 0), the search's scan cannot walk an index in order and
        # cut each row it meets into grams (0.1 ms a row) until it has a page.
        rows = sql.SQL(
            "(SELECT * FROM visits WHERE {} OFFSET 0) AS visits JOIN visit_bodies"
            " USING (record_hash)"
        ).format(clause)
    else:
        rows = sql.SQL("{} WHERE {}").format(sql.SQL(ROWS_FROM), clause)
    query = sql.SQL("SELECT {} FROM {} ORDER BY {} OFFSET %s LIMIT %s").format(
        sql.SQL(ROW_COLUMNS), rows, order_by(sort)
    )
    return query, [*params, offset, limit]


def count_query(filters: Filters) -> tuple[sql.Composed, list[Any]]:
    clause, params = where(filters)
    return sql.SQL("SELECT count(*) FROM visits WHERE {}").format(clause), params


def stats_query(filters: Filters) -> tuple[sql.Composed, list[Any]]:
    clause, params = where(filters)
    query = sql.SQL(
        "SELECT status, verdict, count(*), count(*) FILTER (WHERE conflict),"
        " coalesce(sum(failures), 0) FROM visits WHERE {} GROUP BY status, verdict"
    ).format(clause)
    return query, params


def stats_of(groups: list[tuple[str, str, int, int, int]]) -> dict[str, Any]:
    by_status: dict[str, int] = {}
    by_verdict: dict[str, int] = {}
    for status, verdict, count, _conflicts, _failures in groups:
        by_status[status] = by_status.get(status, 0) + count
        by_verdict[verdict] = by_verdict.get(verdict, 0) + count
    return {
        "visits": sum(g[2] for g in groups),
        "conflicts": sum(g[3] for g in groups),
        "failures": sum(int(g[4]) for g in groups),
        "by_status": by_status,
        "by_verdict": by_verdict,
    }


# -- the review list's own orders and pages --------------------------------------------

_VERDICT_RANK = (
    "CASE verdict WHEN 'fail' THEN 0 WHEN 'incomplete' THEN 1"
    " WHEN 'pass_with_remarks' THEN 2 WHEN 'pass' THEN 3 ELSE 4 END"
)
NEEDS_ATTENTION = "failures > 0 OR conflict"
"""What the database knows of "needs attention": failures or a conflict. The review state
and the integrity are worked out by the program, for the rows of a page. Migration 4's
index of the words of these rows names it as it is written here."""

LIST_SORTS: dict[str, str] = {
    "attention": f"NOT ({NEEDS_ATTENTION})",
    "date": "updated_at",
    "merchant": "merchant_name",
    "merchant_number": "merchant_number",
    "technician": "technician",
    "verdict": _VERDICT_RANK,
    "failures": "failures",
}
"""The review list's columns the database sorts by, each as the SQL of its ascending order
(`domain.review_filter.SORT_KEYS`: worst verdict first); ties newest first either way."""

_LIST_COLUMNS = "id, uuid, revision, record_hash, conflict, superseded, synced_at, host"


PROBE = 4000
"""Rows of an order's index a search looks at first (`list_queries`)."""


def list_queries(
    filters: Filters, sort: str, descending: bool, offset: int, limit: int
) -> list[tuple[sql.Composed, list[Any]]]:
    """The queries of one page of the review list, to run in turn until one gives a full
    page (the last one's answer stands whatever it gives): each the rows' columns and
    summaries, in order.

    Without words to search for, the page is the first rows of an index of `visits` in
    that order (migration 2). Words are searched for in each row, and the planner cannot
    tell how many rows a word matches: for one that matches few, walking the index in order
    reads all of it, row by row. So a search looks first among the first `PROBE` rows of
    the index (a common word fills its page there), and only then at the rows the index of
    grams gives for its words (migrations 3 and 4), each read for the words themselves and
    sorted in one pass. The list's first order looks first at every visit needing
    attention that holds the words, through their own index, then among the first of the
    others. Not counted here: a count reads every matching row, and the page need not
    wait for it (`count_query`)."""
    if offset < 0 or not 0 < limit <= MAX_PAGE:
        raise StoreError(f"A page holds 1 to {MAX_PAGE} rows from an offset of 0 or more.")
    expression = LIST_SORTS.get(sort)
    if expression is None:
        raise StoreError(
            f"The review list cannot be sorted by {sort!r} in the database; it sorts by"
            f" {', '.join(LIST_SORTS)}."
        )
    direction = "DESC" if descending else "ASC"
    if expression == "updated_at":  # its own tie-break: the index of dates, both ways
        order = f"sort_key {direction}, id {direction}"
    else:
        order = f"sort_key {direction}, updated_at DESC, id DESC"
    in_index = order.replace("sort_key", expression, 1)
    parts = {
        "columns": sql.SQL(_LIST_COLUMNS),
        "key": sql.SQL(expression),
        "order": sql.SQL(order),
        "in_index": sql.SQL(in_index),
    }
    page = sql.SQL(
        "SELECT {columns}, summary FROM ({rows}) AS page"
        " JOIN visit_bodies USING (record_hash) ORDER BY {order}"
    )
    clause, params = where(filters)
    if not filters.text.split():
        rows = sql.SQL(
            "SELECT {columns}, updated_at, {key} AS sort_key FROM visits WHERE {clause}"
            " ORDER BY {in_index} OFFSET %s LIMIT %s"
        ).format(clause=clause, **parts)
        return [(page.format(rows=rows, **parts), [*params, offset, limit])]
    others, other_params = where(replace(filters, text=""))
    words, word_params = where(Filters(superseded=None, text=filters.text), indexed=False)
    probe = max(PROBE, 2 * (offset + limit))

    def first_of(rows: str) -> sql.Composed:
        """The rows among the first `probe` of the order's index (`rows`: a further
        condition) that hold the words, in order; its offset and limit are parameters."""
        return sql.SQL(
            "SELECT {columns}, updated_at, sort_key FROM (SELECT {columns}, updated_at,"
            " {key} AS sort_key, merchant_search, technician_search FROM visits"
            " WHERE {others}{rows} ORDER BY {in_index} LIMIT %s) AS head WHERE {words}"
            " ORDER BY {order} OFFSET %s LIMIT %s"
        ).format(others=others, words=words, rows=sql.SQL(rows), **parts)

    # OFFSET 0: planned on its own, the scan cannot walk an index in order and cut each row
    # it meets into grams (0.1 ms a row) until it has a page.
    every = sql.SQL(
        "SELECT * FROM (SELECT {columns}, updated_at, {key} AS sort_key FROM visits"
        " WHERE {clause} OFFSET 0) AS matching ORDER BY {order} OFFSET %s LIMIT %s"
    ).format(clause=clause, **parts)
    head = (
        page.format(rows=first_of(""), **parts),
        [*other_params, probe, *word_params, offset, limit],
    )
    indexed = any(grams_of(word) for word in filters.text.lower().split())
    if sort == "attention" and not descending and filters.superseded is False and indexed:
        # The list's first order. The visits that need attention are few, and have an index
        # of their words of their own (migration 4): all of theirs that hold the words,
        # then the first of the others in order. Else a word found only in visits that
        # passed misses the first rows, which all need attention, and is sorted from every
        # row holding it (at 100,000 visits, a word in 17,500 rows: 40 ms, against 5).
        # Not for a word the index does not hold (one letter or digit): the first rows of
        # the order are where it is found.
        needing = sql.SQL(
            "SELECT * FROM (SELECT {columns}, updated_at, {key} AS sort_key FROM visits"
            " WHERE {clause} AND ({needs}) OFFSET 0) AS needing ORDER BY {order} LIMIT %s"
        ).format(clause=clause, needs=sql.SQL(NEEDS_ATTENTION), **parts)
        # "IS TRUE" keeps the order's expression whole, as its index holds it; written
        # out, the planner would split it into two conditions the index does not hold.
        passed = first_of(f" AND ({expression}) IS TRUE")
        groups = sql.SQL(
            "SELECT * FROM (({needing}) UNION ALL ({passed})) AS found"
            " ORDER BY {order} OFFSET %s LIMIT %s"
        ).format(needing=needing, passed=passed, **parts)
        wanted = offset + limit
        head = (
            page.format(rows=groups, **parts),
            [*params, wanted, *other_params, probe, *word_params, 0, wanted, offset, limit],
        )
    return [head, (page.format(rows=every, **parts), [*params, offset, limit])]


DECISIONS_OF = "SELECT seq, body FROM decisions WHERE uuid = ANY(%s) ORDER BY seq"
VERSIONS_OF = "SELECT uuid, count(*) FROM visits WHERE uuid = ANY(%s) GROUP BY uuid"
TECHNICIANS = (
    "SELECT DISTINCT technician FROM visits WHERE NOT superseded AND technician <> ''"
    " ORDER BY technician"
)


# -- failure rates (`domain.stats`), counted by the database ---------------------------

_ARRAY = "CASE jsonb_typeof(summary->{name}) WHEN 'array' THEN summary->{name} ELSE '[]' END"


def _array(name: str) -> str:
    return _ARRAY.format(name=f"'{name}'")


def failure_queries(filters: Filters) -> dict[str, tuple[sql.Composed, list[Any]]]:
    """The counts `domain.stats.failure_stats` makes from rows, each a GROUP BY here, so
    the figures of 100,000 visits come back as a few hundred numbers."""
    clause, params = where(filters)
    source = sql.SQL("visits JOIN visit_bodies USING (record_hash)")
    failed = sql.SQL("jsonb_array_length(" + _array("failed_items") + ") > 0")
    checklists, items = _array("checklist_ids"), _array("failed_items")
    queries = {
        "ran": "SELECT c, count(DISTINCT id) FROM {source},"
        " jsonb_array_elements_text(" + checklists + ") AS c WHERE {clause} GROUP BY c",
        "items": "SELECT i, count(DISTINCT id) FROM {source},"
        " jsonb_array_elements_text(" + items + ") AS i WHERE {clause} GROUP BY i",
        "areas": "SELECT split_part(i, '/', 1), count(DISTINCT id) FROM {source},"
        " jsonb_array_elements_text(" + items + ") AS i WHERE {clause} GROUP BY 1",
        "technicians": "SELECT technician, count(*), count(*) FILTER (WHERE {failed})"
        " FROM {source} WHERE {clause} GROUP BY technician",
        "months": "SELECT left(updated_at, 7), count(*), count(*) FILTER (WHERE {failed})"
        " FROM {source} WHERE {clause} GROUP BY 1",
    }
    return {
        name: (sql.SQL(text).format(source=source, clause=clause, failed=failed), list(params))
        for name, text in queries.items()
    }
