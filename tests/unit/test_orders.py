"""Work orders: states derived from the visits that carry the order's number and the
decisions on them, a laptop's pull of its own orders, and the annual inspections."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.orders import (
    APPROVED,
    ASSIGNED,
    CLOSED,
    OPEN,
    OVERDUE,
    SENT_BACK,
    SIGNED,
    VISITED,
    Order,
    differences,
    due_inspections,
    order_state,
    parse_period,
    starting_info,
    visit_state,
)
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.services.orders import (
    inspections,
    laptop_visits,
    lines,
    pull_for_laptop,
    review_state_rows,
    shared_visits,
)
from pos_tui.store import orders as order_store
from pos_tui.store.local import LocalStore
from pos_tui.store.sync import sync
from tests.helpers.bank import Bank, open_bank
from tests.helpers.visits import laptop_key, save_answer, save_sign

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("assignee", "visits", "due", "closed", "state"),
    [
        ("", [], "", False, OPEN),
        ("张伟", [], "2026-12-05", False, ASSIGNED),
        ("张伟", [], "2026-11-30", False, OVERDUE),
        ("", [], "2026-12-01", False, OPEN),  # due today is not yet overdue
        ("张伟", [("draft", "")], "2026-12-05", False, VISITED),
        ("张伟", [("draft", "")], "2026-11-01", False, OVERDUE),
        ("张伟", [("signed", "")], "2026-11-01", False, SIGNED),  # the technician's part done
        ("张伟", [("synced", "")], "", False, SIGNED),
        ("张伟", [("reviewed", "approved")], "2026-11-01", False, APPROVED),
        ("张伟", [("reviewed", "has_issues")], "2026-12-05", False, SENT_BACK),
        ("张伟", [("reviewed", "rejected")], "2026-11-01", False, OVERDUE),
        # The amendment of a visit sent back, under way: the order is being worked on.
        ("张伟", [("draft", "has_issues")], "2026-12-05", False, VISITED),
        # A follow-up signed after the visit sent back: signed again.
        ("张伟", [("reviewed", "has_issues"), ("signed", "")], "", False, SIGNED),
        ("张伟", [("discarded", "")], "", False, ASSIGNED),
        ("张伟", [("reviewed", "approved")], "", True, CLOSED),
    ],
)
def test_an_orders_state_follows_from_its_visits(
    assignee: str, visits: list[tuple[str, str]], due: str, closed: bool, state: str
) -> None:
    said = [visit_state(status, decision) for status, decision in visits]
    assert order_state(assignee, said, due, TODAY, closed) == state


def test_overdue_first_then_sent_back_then_by_appointment() -> None:
    def entry(number: str, appointment: str, due: str) -> order_store.OrderEntry:
        order = Order(number, "310104000000001", "店", appointment=appointment, due=due)
        return order_store.OrderEntry(order, order.digest(), "张伟")

    entries = {
        "A": entry("A", "2026-12-01T15:00", "2026-12-09"),
        "B": entry("B", "2026-12-01T09:00", "2026-12-09"),
        "C": entry("C", "2026-11-28T09:00", "2026-11-29"),
        "D": entry("D", "", "2026-12-09"),
        "E": entry("E", "2026-12-01T16:00", "2026-12-09"),
    }
    found = lines(entries, {"E": [("u1", SENT_BACK)]}, TODAY)
    assert [(line.number, line.state) for line in found] == [
        ("C", OVERDUE),
        ("E", SENT_BACK),
        ("B", ASSIGNED),
        ("A", ASSIGNED),
        ("D", ASSIGNED),
    ]


def test_what_differs_on_site_is_a_difference_not_the_starting_value() -> None:
    order = Order(
        "WO-1", "310104000000001", "上海老王面馆", terminal_number="20240001",
        terminal_serial="SN-ORDER", site_address="徐汇区1号",
    )  # fmt: skip
    found = VisitInfo(
        merchant_name="上海老王面馆",
        merchant_number="310104000000001",
        terminal_number="20240001",
        terminal_serial="SN-FOUND",
        model="PAX A920",  # the order had no model: filling it in is no difference
        technician="张伟",
    )
    assert differences(order, found) == {"terminal_serial": "SN-FOUND"}
    start = starting_info(order, found)
    assert (start.terminal_serial, start.model, start.work_order, start.site_address) == (
        "SN-ORDER",
        "PAX A920",
        "WO-1",
        "徐汇区1号",
    )


def test_periods() -> None:
    assert parse_period("365d") == timedelta(days=365)
    assert parse_period("52w") == timedelta(weeks=52)
    assert parse_period("1y") == timedelta(days=365)
    with pytest.raises(ValueError, match="not a period"):
        parse_period("a year")


def test_due_inspections_are_merchants_without_a_recent_approved_visit() -> None:
    visits = [
        {"merchant_number": "M-OLD", "merchant_name": "老店", "updated_at": "2025-10-01T10:00",
         "review_state": "approved"},
        {"merchant_number": "M-OLD", "merchant_name": "老店", "updated_at": "2026-11-01T10:00",
         "review_state": "has_issues"},  # not approved: it does not count
        {"merchant_number": "M-NEW", "merchant_name": "新店", "updated_at": "2026-06-01T10:00",
         "review_state": "approved"},
        {"merchant_number": "M-NEVER", "merchant_name": "没批过", "updated_at": "2026-11-20",
         "review_state": "unreviewed"},
        {"merchant_number": "M-OPEN", "merchant_name": "已派", "updated_at": "2024-01-01",
         "review_state": "approved"},
    ]  # fmt: skip
    due = due_inspections(visits, timedelta(days=365), TODAY, open_inspections=["M-OPEN"])
    assert [(d.merchant_number, d.last_approved) for d in due] == [
        ("M-NEVER", ""),
        ("M-OLD", "2025-10-01"),
    ]


# -- with a shared store, a laptop and a supervisor --------------------------------------


@pytest.fixture
def bank(tmp_path: Path) -> Bank:
    return open_bank(tmp_path, reviewer_name="李主管")


def order(number: str, assignee: str, merchant: str = "310104000000001") -> Order:
    return Order(number, merchant, "上海老王面馆", terminal_number="20240001",
                 due="2099-12-31", assignee=assignee)  # fmt: skip


def test_a_laptop_pulls_only_its_own_file(tmp_path: Path, bank: Bank, store: LocalStore) -> None:
    bank.trust_laptop(store.folder, "张伟")
    orders = [order(f"WO-{n}", "张伟" if n < 3 else "李娜") for n in range(6)]
    order_store.import_orders(bank.shared, orders, "李主管", "list.csv")
    # all.json damaged: a pull that read it would fail; the laptop's own file is enough.
    (bank.shared / "orders" / "all.json").write_text("{", "utf-8")
    assert pull_for_laptop(store.folder, bank.shared, "张伟") == 3
    assert sorted(order_store.laptop_orders(store.folder)) == ["WO-0", "WO-1", "WO-2"]


def test_the_order_moves_with_its_visit_from_signed_to_approved_and_back(
    tmp_path: Path, bank: Bank, store: LocalStore, checklists: list[Checklist]
) -> None:
    bank.trust_laptop(store.folder, "张伟")
    order_store.import_orders(bank.shared, [order("WO-1", "张伟")], "李主管", "list.csv")
    assert pull_for_laptop(store.folder, bank.shared, "") == 1  # found by the keyring's name
    entries = order_store.laptop_orders(store.folder)

    def laptop_state() -> str:
        [line] = lines(entries, laptop_visits(store.summaries()), TODAY)
        return line.state

    def shared_state() -> str:
        services = bank.review_services()
        try:
            rows = services.rows().result()
        finally:
            services.close()
        [line] = lines(order_store.all_orders(bank.shared), shared_visits(rows), TODAY)
        return line.state

    assert (laptop_state(), shared_state()) == (ASSIGNED, ASSIGNED)
    info = entries["WO-1"].order.visit_info("张伟", "laptop-1")
    session = Session.start(info, checklists)
    store.create(session)
    assert store.summaries()[0].order_number == "WO-1"
    assert laptop_state() == VISITED
    save_answer(store, session, "card", "void", Outcome.FAIL, "撤销失败")
    save_sign(store, session, "张伟", "王老板", signer=laptop_key(store))
    assert laptop_state() == SIGNED
    sync(store, bank.shared)
    assert shared_state() == SIGNED
    bank.decide(session.uuid, "has_issues", "重新测试撤销")
    assert shared_state() == SENT_BACK
    sync(store, bank.shared)
    assert laptop_state() == SENT_BACK
    bank.decide(session.uuid, "approved", "已核对")
    assert shared_state() == APPROVED
    order_store.close(bank.shared, "WO-1", "done", "李主管")
    assert shared_state() == CLOSED


def test_due_inspections_create_orders_once(
    tmp_path: Path, bank: Bank, store: LocalStore, checklists: list[Checklist], info: VisitInfo
) -> None:
    bank.trust_laptop(store.folder, "张伟")
    session = Session.start(info, checklists)
    store.create(session)
    save_sign(store, session, "张伟", "王老板", signer=laptop_key(store))
    sync(store, bank.shared)
    bank.decide(session.uuid, "approved", "")
    rows = review_state_rows(bank.shared, bank.reviewer)
    today = date.fromisoformat(rows[0]["updated_at"][:10])
    assert inspections(bank.shared, rows, timedelta(days=365), today).due == []
    later = today + timedelta(days=400)
    found = inspections(bank.shared, rows, timedelta(days=365), later, create=True)
    assert [d.merchant_number for d in found.due] == [info.merchant_number]
    [number] = found.created
    made = order_store.all_orders(bank.shared)[number]
    assert (made.order.kind, made.order.due) == (
        "inspection",
        (later + timedelta(days=30)).isoformat(),
    )
    # Its inspection order still to do, the merchant is not due again.
    again = inspections(bank.shared, rows, timedelta(days=365), later, create=True)
    assert (again.due, again.created) == ([], [])


def test_due_inspections_command(tmp_path: Path, bank: Bank) -> None:
    env = dict(os.environ, POS_TUI_CONFIG_FILE=str(tmp_path / "settings.json"))
    command = [sys.executable, "-m", "pos_tui", "--data-dir", str(bank.reviewer), "orders"]
    done = subprocess.run(
        [*command, "due-inspections", "--older-than", "ten", "--store", str(bank.shared)],
        cwd=ROOT, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "'ten' is not a period" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(
        [*command, "due-inspections", "--older-than", "365d", "--store", str(bank.shared)],
        cwd=ROOT, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "0 merchant(s) due an inspection." in done.stderr


def test_a_write_cut_off_before_the_assignee_files_is_finished_by_the_next(
    bank: Bank,
) -> None:
    """What a write killed after all.json and before the assignee files leaves: the pending
    names, and their files a change behind. The next write of any kind puts them right."""
    order_store.import_orders(bank.shared, [order("WO-1", "张伟")], "李主管", "list.csv")
    folder = bank.shared / "orders"
    mine = folder / "by-assignee" / f"{order_store.assignee_key('张伟')}.json"
    stale = mine.read_bytes()
    order_store.assign(bank.shared, ["WO-1"], "李娜", "李主管")
    mine.write_bytes(stale)  # as if the write had stopped before rewriting it
    (folder / order_store.PENDING).write_text('{"assignees": ["张伟", "李娜"]}', "utf-8")
    assert "WO-1" in order_store.assignee_orders(bank.shared, "张伟")
    order_store.import_orders(bank.shared, [order("WO-1", "张伟")], "李主管", "list.csv")
    assert order_store.assignee_orders(bank.shared, "张伟") == {}
    assert list(order_store.assignee_orders(bank.shared, "李娜")) == ["WO-1"]
    assert not (folder / order_store.PENDING).exists()
