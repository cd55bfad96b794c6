"""Failure rates over synced visits, from index rows alone (no visit file is opened).

Each rate is a share of visits, so a visit counts once however many items it failed:
- per item: visits that failed the item / visits that ran the item's checklist. The index
  does not say which items applied to each terminal, so an item that applies only to some
  terminals (say, contactless) is measured against every visit that ran its checklist;
- per area (checklist): visits with at least one failed item in that checklist / visits
  that ran it;
- per technician and per month (of `updated_at`, when the visit was finished): visits
  with at least one failed item / all their visits.
Rows need `failed_items` ("checklist_id/item_id"), `checklist_ids`, `technician` and
`updated_at`, as in the shared index.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Rate:
    key: str
    failed: int
    total: int

    @property
    def rate(self) -> float:
        return self.failed / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class FailureStats:
    visits: int
    items: list[Rate]
    """Most failed first; only items that failed at least once (the index names no others)."""
    areas: list[Rate]
    """Most failed first; every checklist that ran."""
    technicians: list[Rate]
    """Most failed first."""
    months: list[Rate]
    """Oldest month first, `YYYY-MM`."""


def failure_stats(rows: Iterable[Mapping[str, Any]]) -> FailureStats:
    ran: Counter[str] = Counter()
    item_failed: Counter[str] = Counter()
    area_failed: Counter[str] = Counter()
    tech_total: Counter[str] = Counter()
    tech_failed: Counter[str] = Counter()
    month_total: Counter[str] = Counter()
    month_failed: Counter[str] = Counter()
    visits = 0
    for row in rows:
        visits += 1
        failed_items = set(row.get("failed_items") or ())
        ran.update(set(row.get("checklist_ids") or ()))
        item_failed.update(failed_items)
        area_failed.update({key.partition("/")[0] for key in failed_items})
        technician, month = str(row.get("technician", "")), str(row.get("updated_at", ""))[:7]
        tech_total[technician] += 1
        month_total[month] += 1
        if failed_items:
            tech_failed[technician] += 1
            month_failed[month] += 1
    items = [
        Rate(key, count, max(ran[key.partition("/")[0]], count))
        for key, count in item_failed.items()
    ]
    areas = [Rate(area, area_failed[area], total) for area, total in ran.items()]
    technicians = [Rate(name, tech_failed[name], total) for name, total in tech_total.items()]
    months = [Rate(month, month_failed[month], month_total[month]) for month in month_total]
    return FailureStats(
        visits=visits,
        items=most_failed(items),
        areas=most_failed(areas),
        technicians=most_failed(technicians),
        months=sorted(months, key=lambda rate: rate.key),
    )


def most_failed(rates: Iterable[Rate]) -> list[Rate]:
    """Highest rate first; then the most failures; then by name, so the order is stable."""
    return sorted(rates, key=lambda rate: (-rate.rate, -rate.failed, rate.key))
