"""The review list's filters, order, pages and figures, worked out by the database.

A supervisor's laptop holds one page of rows, never the whole store: `page` returns
`limit` rows, `count` how many match, `stats` the figures, each one query over indexed
columns of `visits`. Filters and sort keys are named here, never taken as SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from psycopg import sql

from pos_tui.store.storage import StoreError

ROW_COLUMNS = "id, uuid, revision, record_hash, conflict, superseded, synced_at, host, summary"
ROWS_FROM = "visits JOIN visit_bodies USING (record_hash)"
"""Where whole rows come from: the narrow index row and its summary."""

SORTS = ("synced_at", "updated_at", "merchant_name", "technician", "status", "verdict", "revision")
"""What the list sorts by; "-name" for descending. Ties go by id, the order of arrival."""

MAX_PAGE = 1000


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


def where(filters: Filters) -> tuple[sql.Composable, list[Any]]:
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
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} OFFSET %s LIMIT %s").format(
        sql.SQL(ROW_COLUMNS), sql.SQL(ROWS_FROM), clause, order_by(sort)
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
