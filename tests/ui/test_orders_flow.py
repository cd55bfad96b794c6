"""A work order from the bank's list to the approval, by keys, on real stores: imported,
assigned in review, pulled by the laptop's sync, the visit started from it with its details
filled in (another serial found on site recorded as a difference), signed, synced, sent
back, reopened, approved; the order's state read at each step where each side sees it."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, SelectionList

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Status
from pos_tui.store import orders as order_store
from pos_tui.store.local import LocalStore
from pos_tui.store.order_import import read_orders
from pos_tui.ui.app import PosApp, make_app
from pos_tui.ui.screens.home import HomeScreen
from pos_tui.ui.screens.order_visit import OrderVisitScreen
from pos_tui.ui.screens.orders import AssignScreen, OrdersScreen
from pos_tui.ui.screens.review_decision import ReviewDecisionScreen
from pos_tui.ui.screens.review_detail import ReviewDetailScreen
from pos_tui.ui.screens.review_list import ReviewListScreen
from pos_tui.ui.screens.runner import RunnerScreen
from pos_tui.ui.screens.sign_off import SignOffScreen
from pos_tui.ui.screens.summary import SummaryScreen
from tests.helpers.bank import Bank, open_bank
from tests.helpers.ui import settle, technician_app

NUMBER = "WO-20261201-001"


def dispatch_list(folder: Path) -> Path:
    """The bank's list as its system exports it: GB18030, Chinese headers, no assignee."""
    text = io.StringIO()
    csv.writer(text).writerows(
        [
            ["工单号", "作业类型", "商户编号", "商户名称", "地址", "联系人", "终端号", "序列号",
             "型号", "终端功能", "预约时间", "截止日期", "技术员"],
            [NUMBER, "新装机", "310104000000001", "上海老王面馆", "徐汇区漕溪北路1号",
             "王老板", "20240001", "SN-ORDER-1", "PAX A920", "打印机", "2026-12-01 09:30",
             "2099-12-31", ""],
        ]
    )  # fmt: skip
    path = folder / "派工单.csv"
    path.write_bytes(text.getvalue().encode("gb18030"))
    return path


@asynccontextmanager
async def review(bank: Bank) -> AsyncIterator[tuple[PosApp, Pilot[None]]]:
    app = make_app(None, "en", review=bank.review_services())
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewListScreen)
        yield app, pilot


async def open_orders(app: PosApp, pilot: Pilot[None]) -> OrdersScreen:
    await pilot.press("w")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, OrdersScreen)
    return screen


def order_cell(screen: OrdersScreen, column: str) -> str:
    table = screen.query_one("#orders-table", DataTable)
    row = table.get_row_index(NUMBER)
    return str(table.get_cell_at(Coordinate(row, table.get_column_index(column))))


async def supervisor_sees(bank: Bank, state: str) -> None:
    async with review(bank) as (app, pilot):
        screen = await open_orders(app, pilot)
        assert order_cell(screen, "state") == state


async def decide(bank: Bank, key: str, comment: str) -> None:
    async with review(bank) as (app, pilot):
        await pilot.press("enter")  # the one visit in the store
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewDetailScreen)
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, ReviewDecisionScreen)
        await pilot.press(*comment, "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewDetailScreen)


async def sync_home(app: PosApp, pilot: Pilot[None]) -> HomeScreen:
    home = app.screen
    assert isinstance(home, HomeScreen)
    await pilot.press("y")
    await settle(app, pilot)
    await settle(app, pilot)  # the sync, then the orders pulled, then the lists read again
    return home


def home_orders(home: HomeScreen) -> list[str]:
    shown = home.query_one("#orders", OptionList)
    if not shown.display:
        return []
    return [str(shown.get_option_at_index(i).prompt) for i in range(shown.option_count)]


async def test_an_order_from_import_to_approval(
    tmp_path: Path, store: LocalStore, checklists: list[Checklist]
) -> None:
    bank = open_bank(tmp_path, reviewer_name="李主管")
    bank.trust_laptop(store.folder, "张伟")
    bank.trust_laptop(tmp_path / "other-laptop", "李娜")

    # Imported: nobody has it yet.
    found = read_orders(dispatch_list(tmp_path))
    assert found.problems == [] and found.encoding == "gb18030"
    order_store.import_orders(bank.shared, found.orders, "李主管", "派工单.csv")
    await supervisor_sees(bank, "Open")

    # Assigned in review, picked from the keyring's technicians.
    async with review(bank) as (app, pilot):
        screen = await open_orders(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, AssignScreen)
        names = picker.query_one("#assign-names", OptionList)
        shown = [str(names.get_option_at_index(i).prompt) for i in range(names.option_count)]
        assert shown == ["张伟", "李娜", "(take back: nobody)"]
        await pilot.press("enter")
        await settle(app, pilot)
        await settle(app, pilot)
        assert app.screen is screen
        assert (order_cell(screen, "state"), order_cell(screen, "assignee")) == ("Assigned", "张伟")
    assert order_store.all_orders(bank.shared)[NUMBER].assignee == "张伟"

    settings = Settings(technician="张伟", device_id="laptop-1", shared_store=str(bank.shared))
    app = technician_app(store, checklists, tmp_path, "en", settings=settings)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        home = app.screen
        assert isinstance(home, HomeScreen) and home_orders(home) == []

        # The laptop's sync pulls its order; home lists it with its appointment.
        await sync_home(app, pilot)
        [line] = home_orders(home)
        assert line.startswith(f"2026-12-01 09:30  {NUMBER}  上海老王面馆") and "Assigned" in line

        # Started from the order: the details are filled in; another serial is on the device.
        orders = home.query_one("#orders", OptionList)
        orders.focus()
        orders.highlighted = 0
        await pilot.press("enter")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, OrderVisitScreen)
        filled = {
            name: form.query_one(f"#{name}", Input).value
            for name in ("work_order", "merchant_name", "merchant_number", "terminal_number",
                         "terminal_serial", "model", "merchant_contact")
        }  # fmt: skip
        assert filled == {
            "work_order": NUMBER,
            "merchant_name": "上海老王面馆",
            "merchant_number": "310104000000001",
            "terminal_number": "20240001",
            "terminal_serial": "SN-ORDER-1",
            "model": "PAX A920",
            "merchant_contact": "王老板",
        }
        assert form.query_one("#work_order", Input).disabled
        assert form.query_one("#capabilities", SelectionList).selected == ["printer"]
        form.query_one("#terminal_serial", Input).value = "SN-FOUND-2"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await settle(app, pilot)
        runner = app.screen
        assert isinstance(runner, RunnerScreen)
        visit = store.load(runner.session.uuid)
        assert (visit.info.work_order, visit.info.terminal_serial) == (NUMBER, "SN-FOUND-2")
        assert visit.info.site_address == "徐汇区漕溪北路1号"
        [changed] = [e for e in visit.events if e.what == "details_changed"]
        assert changed.detail["changes"] == {"terminal_serial": ["SN-ORDER-1", "SN-FOUND-2"]}
        assert store.summaries()[0].order_number == NUMBER

        # Answered and signed at the counter.
        for key in (("card", "void"), ("receipt", "masked"), ("receipt", "clock")):
            runner.jump_to(key)
            await pilot.press("p")
            await settle(app, pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        sign_off = app.screen
        assert isinstance(sign_off, SignOffScreen)
        sign_off.query(Input)[1].focus()
        await pilot.press(*"王老板", "ctrl+s")
        await settle(app, pilot)
        assert store.load(visit.uuid).status is Status.SIGNED
        while not isinstance(app.screen, HomeScreen):
            await pilot.press("escape")
            await settle(app, pilot)
        assert home_orders(home) == []  # signed: the technician's part is done

        await sync_home(app, pilot)
    await supervisor_sees(bank, "Signed")

    # Sent back: the order is open for its technician again, on both sides.
    await decide(bank, "i", "序列号与工单不符，请拍照")
    await supervisor_sees(bank, "Sent back")
    app = technician_app(store, checklists, tmp_path, "zh", settings=settings)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        [line] = home_orders(await sync_home(app, pilot))
        assert NUMBER in line and "已退回" in line

    # Approved: done.
    await decide(bank, "a", "")
    await supervisor_sees(bank, "Approved")
