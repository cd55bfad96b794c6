"""The bank's dispatch list, read from real CSV (UTF-8, UTF-8 with BOM, GB18030) and XLSX
files into the shared store: every bad cell said exactly, the same file twice changes
nothing, a changed order is updated with an event."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from pos_tui.store import orders as order_store
from pos_tui.store.order_import import read_orders
from tests.helpers.bank import Bank, open_bank

ROOT = Path(__file__).resolve().parents[2]

HEADER_ZH = ["工单号", "作业类型", "原因", "商户编号", "商户名称", "地址", "联系人", "终端号",
             "序列号", "型号", "终端功能", "预约时间", "截止日期", "技术员"]  # fmt: skip
HEADER_EN = ["Order number", "Job type", "Reason", "Merchant number", "Merchant name",
             "Address", "Contact", "Terminal number", "Serial", "Model", "Capabilities",
             "Appointment", "Due date", "Assignee"]  # fmt: skip
ROWS = [
    ["WO-20261201-001", "新装机", "", "310104000000001", "上海老王面馆", "徐汇区漕溪北路1号",
     "王老板 13800000000", "20240001", "SN-A920-0001", "PAX A920", "芯片、密码键盘、打印机",
     "2026-12-01 09:30", "2026-12-03", "张伟"],
    ["WO-20261201-002", "重新激活", "设备故障", "310104000000002", "静安小笼包",
     "静安区南京西路2号", "", "20240002", "", "", "chip, contactless", "2026/12/01 14:00",
     "2026/12/05", "李娜"],
]  # fmt: skip


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> Path:
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])  # quoted as a bank's export quotes
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_reads_the_same_orders(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "派工单.csv", HEADER_ZH, ROWS, encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")  # really not UTF-8: the reader had to sniff it
    found = read_orders(path)
    assert found.problems == []
    assert found.encoding == encoding
    first, second = found.orders
    assert (first.order_number, first.merchant_name, first.assignee) == (
        "WO-20261201-001",
        "上海老王面馆",
        "张伟",
    )
    assert first.capabilities == ("chip", "pinpad", "printer")
    assert (first.appointment, first.due) == ("2026-12-01T09:30", "2026-12-03")
    assert (second.job_type, second.reason) == ("reactivation", "device_fault")
    assert second.capabilities == ("chip", "contactless")


def test_english_headers_and_an_xlsx_file_with_real_dates(tmp_path: Path) -> None:
    rows: list[list[object]] = [list(row) for row in ROWS]
    rows[0][11] = datetime(2026, 12, 1, 9, 30)
    rows[0][12] = date(2026, 12, 3)
    rows[1][7] = 20240002  # a clerk's spreadsheet holds the terminal number as a number
    found = read_orders(write_xlsx(tmp_path / "orders.xlsx", HEADER_EN, rows))
    assert found.problems == [] and found.encoding == "xlsx"
    assert [o.order_number for o in found.orders] == ["WO-20261201-001", "WO-20261201-002"]
    assert (found.orders[0].appointment, found.orders[0].due) == ("2026-12-01T09:30", "2026-12-03")
    assert found.orders[1].terminal_number == "20240002"


def test_every_bad_cell_is_said_at_once_as_file_row_column(tmp_path: Path) -> None:
    rows = [
        ROWS[0],
        ["", "新装机", "", "31010400000000", "", "", "", "2024", "", "", "芯片,传真",
         "明天上午", "2026-13-01", ""],
        ["WO-3", "拆机", "", "310104000000003", "某店", "", "", "", "", "", "",
         "", "", ""],
        ["WO-4", "重新激活", "", "310104000000004", "某店", "", "", "", "", "", "", "", "", ""],
        [*ROWS[0][:4], "重复的工单", *ROWS[0][5:]],
    ]  # fmt: skip
    path = write_csv(tmp_path / "bad.csv", HEADER_ZH, rows, "utf-8")
    found = read_orders(path)
    assert [o.order_number for o in found.orders] == ["WO-20261201-001"]
    assert found.said(str(path)) == [
        f"{path}:3:1: order number: required",
        f"{path}:3:4: merchant number: must be 15 characters (now 14)",
        f"{path}:3:5: merchant name: required",
        f"{path}:3:8: terminal number: must be 8 digits",
        f"{path}:3:11: capabilities: unknown capabilities: 传真 (known: chip, magstripe,"
        " contactless, pinpad, printer, qr_display, qr_scanner, ethernet, wifi, cellular)",
        f"{path}:3:12: appointment: '明天上午' is not a date and time like 2026-12-01 09:30",
        f"{path}:3:13: due date: '2026-13-01' is not a day like 2026-12-31",
        f"{path}:4:2: job type: unknown job type '拆机' (new_install, reactivation,"
        " replacement, relocation)",
        f"{path}:5:3: reason: a re-activation needs its reason",
        f"{path}:6:1: order number WO-20261201-001 is already on row 2",
    ]
    assert found.said(str(path), "zh")[0] == f"{path}:3:1: 工单号：必填"


def test_bad_headers_stop_at_the_header_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", ["工单号", "商户名称", "备注", "商户名称"], [], "utf-8")
    assert read_orders(path).said("h.csv") == [
        "h.csv:1:3: unknown column '备注'",
        "h.csv:1:4: column '商户名称' is the same as column 2",
        "h.csv:1:1: the required column 'merchant number' (商户编号) is missing",
    ]


def test_files_that_are_not_a_list_are_refused_at_1_1(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    assert read_orders(fifo).said("f")[0].startswith("f:1:1: not read: it is a FIFO")
    link = tmp_path / "link.csv"
    link.symlink_to(write_csv(tmp_path / "real.csv", HEADER_ZH, ROWS, "utf-8"))
    assert "symbolic link" in read_orders(link).said("l")[0]
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as file:
        file.truncate(40 * 1024 * 1024)
    assert "over the limit" in read_orders(huge).said("h")[0]
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    assert read_orders(binary).said("b") == [
        "b:1:1: not UTF-8 or GB18030 text: save it as CSV (UTF-8) and try again"
    ]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    assert read_orders(broken).said("x")[0].startswith("x:1:1: not a readable XLSX file")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert read_orders(empty).said("e") == ["e:1:1: the file is empty"]


@pytest.fixture
def bank(tmp_path: Path) -> Bank:
    return open_bank(tmp_path)


def test_reimport_changes_nothing_and_a_changed_order_is_updated_with_an_event(
    tmp_path: Path, bank: Bank
) -> None:
    path = write_csv(tmp_path / "list.csv", HEADER_ZH, ROWS, "gb18030")
    first = order_store.import_orders(bank.shared, read_orders(path).orders, "王主管", path.name)
    assert (len(first.added), first.updated, first.unchanged) == (2, [], [])
    folder = bank.shared / "orders"
    files = {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}

    again = order_store.import_orders(bank.shared, read_orders(path).orders, "王主管", path.name)
    assert (again.added, again.updated, len(again.unchanged)) == ([], [], 2)
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()} == files

    # The supervisor gives the second order to someone else; the bank then moves the
    # first one's appointment. The supervisor's assignment stands: the file did not change it.
    order_store.assign(bank.shared, ["WO-20261201-002"], "张伟", "王主管")
    changed = [list(row) for row in ROWS]
    changed[0][11] = "2026-12-02 10:00"
    changed[0][8] = "SN-A920-0009"
    path = write_csv(tmp_path / "list.csv", HEADER_ZH, changed, "utf-8")
    later = order_store.import_orders(bank.shared, read_orders(path).orders, "王主管", path.name)
    assert (later.added, later.updated, later.unchanged) == (
        [],
        ["WO-20261201-001"],
        ["WO-20261201-002"],
    )
    entries = order_store.all_orders(bank.shared)
    assert entries["WO-20261201-001"].order.appointment == "2026-12-02T10:00"
    assert entries["WO-20261201-002"].assignee == "张伟"
    history = order_store.events(bank.shared, "WO-20261201-001")
    assert [e["what"] for e in history] == ["imported", "updated"]
    assert history[1]["changes"] == {
        "terminal_serial": ["SN-A920-0001", "SN-A920-0009"],
        "appointment": ["2026-12-01T09:30", "2026-12-02T10:00"],
    }
    assert history[1]["by"] == "王主管"
    # Each technician's file holds their orders alone: a laptop reads just that one.
    mine = order_store.assignee_orders(bank.shared, "张伟")
    assert sorted(mine) == ["WO-20261201-001", "WO-20261201-002"]
    assert order_store.assignee_orders(bank.shared, "李娜") == {}


def test_a_damaged_orders_file_is_said_and_left_untouched(tmp_path: Path, bank: Bank) -> None:
    path = write_csv(tmp_path / "list.csv", HEADER_ZH, ROWS, "utf-8")
    order_store.import_orders(bank.shared, read_orders(path).orders, "王主管", path.name)
    target = bank.shared / "orders" / "all.json"
    target.write_text('{"orders": {"WO-1": {"order": 3}}}', "utf-8")
    with pytest.raises(order_store.StoreError, match="is damaged"):
        order_store.import_orders(bank.shared, read_orders(path).orders, "王主管", path.name)
    assert json.loads(target.read_text("utf-8")) == {"orders": {"WO-1": {"order": 3}}}


def test_the_command_says_bad_cells_and_exits_1_then_imports(tmp_path: Path, bank: Bank) -> None:
    env = dict(os.environ, POS_TUI_CONFIG_FILE=str(tmp_path / "settings.json"))
    command = [sys.executable, "-m", "pos_tui", "--data-dir", str(bank.reviewer), "orders"]
    bad = write_csv(tmp_path / "bad.csv", HEADER_ZH, [["WO-1", *ROWS[0][1:4], ""]], "utf-8")
    done = subprocess.run(
        [*command, "import", str(bad), "--store", str(bank.shared)],
        cwd=ROOT, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{bad}:2:5: merchant name: required",
        f"pos-tui: 1 problem(s) in {bad}: nothing was imported.",
    ]
    assert not (bank.shared / "orders" / "all.json").exists()
    good = write_xlsx(tmp_path / "good.xlsx", HEADER_ZH, [list(r) for r in ROWS])
    done = subprocess.run(
        [*command, "import", str(good), "--store", str(bank.shared)],
        cwd=ROOT, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 new, 0 updated, 0 unchanged" in done.stdout
    assert "张伟, 李娜" in done.stderr  # nobody of that name is trusted as a technician yet


def test_a_card_number_typed_into_a_cell_is_stored_masked(tmp_path: Path, bank: Bank) -> None:
    # The dispatch list is typed by people: a card number pasted beside a contact (with
    # spaces, or in full-width digits) must never reach the shared store whole.
    rows = [list(row) for row in ROWS]
    rows[0][6] = "王老板 卡号 4111 1111 1111 1111"
    rows[1][2] = "客户卡 ４１１１１１１１１１１１１１１１ 刷卡失败"
    path = write_csv(tmp_path / "list.csv", HEADER_ZH, rows, "utf-8")
    order_store.import_orders(bank.shared, read_orders(path).orders, "王主管", path.name)
    stored = "".join(
        p.read_text("utf-8") for p in (bank.shared / "orders").rglob("*.json") if p.is_file()
    )
    for whole in ("4111 1111 1111 1111", "4111111111111111", "４１１１１１１１１１１１１１１１"):
        assert whole not in stored
    assert "1111" in stored  # masked to its last four, not dropped
