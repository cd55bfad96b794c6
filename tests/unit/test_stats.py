"""Failure rates from index rows: per item, per area, per technician, per month."""

from __future__ import annotations

from typing import Any

from pos_tui.domain.stats import Rate, failure_stats, most_failed


def row(
    technician: str = "张伟",
    month: str = "2026-03",
    ran: tuple[str, ...] = ("preflight", "card"),
    failed: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "technician": technician,
        "updated_at": f"{month}-15T10:00:00+08:00",
        "checklist_ids": list(ran),
        "failed_items": list(failed),
    }


def test_item_rate_is_over_the_visits_that_ran_its_checklist() -> None:
    rows = [
        row(failed=("card/void", "card/refund")),
        row(failed=("card/void",)),
        row(),
        row(ran=("preflight",)),  # never ran "card": not counted for card items
    ]
    stats = failure_stats(rows)
    assert stats.visits == 4
    assert stats.items == [Rate("card/void", 2, 3), Rate("card/refund", 1, 3)]
    assert stats.items[0].rate == 2 / 3


def test_area_counts_a_visit_once_however_many_items_failed() -> None:
    rows = [row(failed=("card/void", "card/refund")), row(), row(failed=("preflight/seal",))]
    stats = failure_stats(rows)
    assert stats.areas == [Rate("card", 1, 3), Rate("preflight", 1, 3)]


def test_technicians_most_failed_first_and_months_in_order() -> None:
    rows = [
        row("王芳", "2026-04", failed=("card/void",)),
        row("王芳", "2026-04"),
        row("张伟", "2026-02", failed=("card/void",)),
        row("Zhao Lei", "2026-03"),
    ]
    stats = failure_stats(rows)
    assert stats.technicians == [Rate("张伟", 1, 1), Rate("王芳", 1, 2), Rate("Zhao Lei", 0, 1)]
    assert [m.key for m in stats.months] == ["2026-02", "2026-03", "2026-04"]
    assert stats.months[2] == Rate("2026-04", 1, 2)


def test_no_rows_no_rates() -> None:
    stats = failure_stats([])
    assert (stats.visits, stats.items, stats.areas, stats.technicians, stats.months) == (
        0,
        [],
        [],
        [],
        [],
    )
    assert Rate("x", 0, 0).rate == 0.0


def test_an_item_failed_outside_its_listed_checklists_never_exceeds_100_percent() -> None:
    stats = failure_stats([row(ran=(), failed=("card/void",))])
    assert stats.items == [Rate("card/void", 1, 1)]


def test_ties_break_by_count_then_name() -> None:
    rates = [Rate("b", 1, 2), Rate("a", 1, 2), Rate("c", 2, 4), Rate("d", 0, 5)]
    assert [r.key for r in most_failed(rates)] == ["c", "a", "b", "d"]
