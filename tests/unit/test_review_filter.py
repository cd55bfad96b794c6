"""The review list's filtering, sorting and review states, on plain index rows."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pos_tui.domain.review_filter import (
    APPROVED,
    ATTENTION,
    HAS_ISSUES,
    REJECTED,
    SORT_KEYS,
    UNREVIEWED,
    Filter,
    apply,
    filter_rows,
    parse_day,
    review_rows,
    review_states,
    sort_rows,
)


def index_row(n: int, **changes: Any) -> dict[str, Any]:
    row = {
        "uuid": f"uuid-{n:05d}",
        "record_hash": f"h{n}",
        "updated_at": f"2026-03-{n % 28 + 1:02d}T10:{n % 60:02d}:00+08:00",
        "merchant_name": f"上海老王面馆{n}",
        "merchant_number": f"3101040000{n:05d}",
        "terminal_number": f"2024{n:04d}",
        "technician": "张伟",
        "verdict": "pass",
        "failures": 0,
        "conflict": False,
    }
    return row | changes


ROWS = [
    index_row(1, merchant_name="北京好邻居药房", technician="王芳"),
    index_row(2, verdict="fail", failures=2),
    index_row(3, merchant_name="Golden Noodle", technician="Zhao Lei"),
    index_row(4, verdict="pass_with_remarks", failures=1, updated_at="2026-05-01T09:00:00+08:00"),
    index_row(5, updated_at="2026-01-31T23:59:00+08:00"),
]


def test_latest_decision_wins_and_ties_go_to_the_later_written() -> None:
    decisions = [
        {"uuid": "a", "decision": APPROVED, "at": "2026-03-02T10:00:00+08:00"},
        {"uuid": "a", "decision": HAS_ISSUES, "at": "2026-03-01T10:00:00+08:00"},
        {"uuid": "b", "decision": HAS_ISSUES, "at": "2026-03-01T10:00:00+08:00"},
        {"uuid": "b", "decision": REJECTED, "at": "2026-03-01T10:00:00+08:00"},
    ]
    assert review_states(decisions) == {"a": APPROVED, "b": REJECTED}


def test_rows_carry_their_state_and_unreviewed_by_default() -> None:
    rows = review_rows(ROWS, {"uuid-00002": HAS_ISSUES})
    assert [r.review_state for r in rows][:3] == [UNREVIEWED, HAS_ISSUES, UNREVIEWED]
    assert rows[0].key == "uuid-00001/h1"
    assert rows[0].day == "2026-03-02"


def test_text_matches_every_word_in_any_field_chinese_and_case_too() -> None:
    rows = review_rows(ROWS, {})
    assert [r.uuid for r in filter_rows(rows, Filter(text="好邻居"))] == ["uuid-00001"]
    assert [r.uuid for r in filter_rows(rows, Filter(text="golden zhao"))] == ["uuid-00003"]
    assert [r.uuid for r in filter_rows(rows, Filter(text="20240002"))] == ["uuid-00002"]
    assert filter_rows(rows, Filter(text="王芳 Golden")) == []


def test_state_verdict_technician_and_dates_combine() -> None:
    rows = review_rows(ROWS, {"uuid-00002": APPROVED})
    assert [r.uuid for r in filter_rows(rows, Filter(verdict="fail"))] == ["uuid-00002"]
    assert [r.uuid for r in filter_rows(rows, Filter(review_state=APPROVED))] == ["uuid-00002"]
    unreviewed = filter_rows(rows, Filter(review_state=UNREVIEWED, technician="张伟"))
    assert [r.uuid for r in unreviewed] == ["uuid-00004", "uuid-00005"]
    march = filter_rows(rows, Filter(date_from="2026-03-01", date_to="2026-03-31"))
    assert {r.uuid for r in march} == {"uuid-00001", "uuid-00002", "uuid-00003"}
    assert [r.uuid for r in filter_rows(rows, Filter(date_to="2026-01-31"))] == ["uuid-00005"]
    assert Filter().matches(rows[0]) and not Filter(verdict="fail").matches(rows[0])


def test_dates_are_yyyy_mm_dd_or_nothing() -> None:
    assert parse_day(" 2026-03-01 ") == "2026-03-01"
    assert parse_day("") is None
    for bad in ("2026-13-01", "20260301", "2026-3-1", "tomorrow"):
        with pytest.raises(ValueError):
            parse_day(bad)


def test_default_order_puts_unreviewed_failures_first_then_newest() -> None:
    rows = review_rows(ROWS, {})
    ordered = [r.uuid for r in sort_rows(rows)]
    assert ordered[:2] == ["uuid-00004", "uuid-00002"]  # both failed; newest first
    assert ordered[2:] == ["uuid-00003", "uuid-00001", "uuid-00005"]
    decided = review_rows(ROWS, {"uuid-00004": APPROVED})
    assert sort_rows(decided)[0].uuid == "uuid-00002"


def test_a_conflict_needs_attention_too() -> None:
    rows = review_rows([*ROWS, index_row(6, conflict=True)], {})
    first = {r.uuid for r in sort_rows(rows, ATTENTION)[:3]}
    assert first == {"uuid-00002", "uuid-00004", "uuid-00006"}


@pytest.mark.parametrize("column", list(SORT_KEYS))
def test_every_column_sorts_both_ways(column: str) -> None:
    rows = review_rows(ROWS, {"uuid-00003": REJECTED})
    up, down = sort_rows(rows, column), sort_rows(rows, column, reverse=True)
    key = SORT_KEYS[column]
    assert [key(r) for r in up] == sorted(key(r) for r in rows)
    assert [key(r) for r in down] == sorted((key(r) for r in rows), reverse=True)


def test_verdict_and_review_sort_worst_first() -> None:
    rows = review_rows(ROWS, {"uuid-00001": APPROVED, "uuid-00003": HAS_ISSUES})
    assert sort_rows(rows, "verdict")[0].verdict == "fail"
    assert [r.review_state for r in sort_rows(rows, "review")][-1] == APPROVED


def test_apply_filters_then_keeps_the_order() -> None:
    rows = review_rows(ROWS, {})
    found = apply(rows, Filter(technician="张伟"), "failures", reverse=True)
    assert [r.failures for r in found] == [2, 1, 0]


def test_filtering_ten_thousand_rows_is_quick() -> None:
    rows = review_rows((index_row(n) for n in range(10_000)), {})
    ordered = sort_rows(rows)
    started = time.perf_counter()
    for text in ("上", "上海", "上海老", "面馆99", "9"):
        filter_rows(ordered, Filter(text=text, technician="张伟"))
    per_keystroke = (time.perf_counter() - started) / 5
    assert per_keystroke < 0.05, per_keystroke  # measured about 2 ms; generous for slow CI
