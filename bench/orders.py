"""Work orders: importing the bank's list of 10,000, and a laptop's sync pulling its 20.

    python bench/orders.py [--orders 10000] [--per-technician 20]

Builds a dispatch list of N orders for N / 20 technicians as a UTF-8 CSV (and as XLSX),
and times, each in this process:
- reading and checking the CSV (`read_orders`), and the XLSX;
- importing it into an empty shared store (`import_orders`), then the same file again
  (nothing changes, nothing is written) and a file with 1% of the orders changed;
- one laptop's sync with nothing to send (`store.sync.sync`) followed by the pull of its
  orders (`pull_for_laptop`), and the pull alone, with the bytes of the files it reads
  beside the size of `orders/all.json`.
One JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pos_tui.services.orders import pull_for_laptop  # noqa: E402
from pos_tui.store import orders as order_store  # noqa: E402
from pos_tui.store.local import LocalStore  # noqa: E402
from pos_tui.store.order_import import read_orders  # noqa: E402
from pos_tui.store.shared import SharedStore  # noqa: E402
from pos_tui.store.sync import sync  # noqa: E402

HEADER = ["工单号", "作业类型", "商户编号", "商户名称", "地址", "联系人", "终端号", "序列号",
          "型号", "终端功能", "预约时间", "截止日期", "技术员"]  # fmt: skip


def rows(count: int, per: int, changed_every: int = 0) -> list[list[str]]:
    made = []
    for n in range(count):
        serial = f"SN{n:08d}" + ("X" if changed_every and n % changed_every == 0 else "")
        made.append(
            [
                f"WO-{n:06d}", "新装机", f"31010400{n:07d}", f"商户{n}号店", f"上海市徐汇区{n}号",
                "王老板 13800000000", f"{20000000 + n}", serial, "PAX A920", "芯片、打印机",
                f"2026-12-{1 + n % 28:02d} {8 + n % 10:02d}:30", "2026-12-31",
                f"技术员{n // per:04d}",
            ]
        )  # fmt: skip
    return made


def write_csv(path: Path, body: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([HEADER, *body])
    return path


def write_xlsx(path: Path, body: list[list[str]]) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in body:
        sheet.append(row)
    book.save(path)
    return path


def timed(call):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = call()
    return result, round(time.perf_counter() - start, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--per-technician", type=int, default=20)
    args = parser.parse_args()
    count, per = args.orders, args.per_technician
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shared = root / "shared"
        shared.mkdir()
        SharedStore.open(shared, create=True)
        body = rows(count, per)
        csv_path = write_csv(root / "orders.csv", body)
        xlsx_path = write_xlsx(root / "orders.xlsx", body)
        found, read_csv_s = timed(lambda: read_orders(csv_path))
        assert not found.problems, found.said("orders.csv")[:3]
        xlsx, read_xlsx_s = timed(lambda: read_orders(xlsx_path))
        assert len(xlsx.orders) == count
        first, import_s = timed(lambda: order_store.import_orders(shared, found.orders, "b", "f"))
        assert len(first.added) == count
        again, reimport_s = timed(
            lambda: order_store.import_orders(shared, read_orders(csv_path).orders, "b", "f")
        )
        assert len(again.unchanged) == count
        changed = read_orders(write_csv(root / "changed.csv", rows(count, per, 100))).orders
        update, update_s = timed(lambda: order_store.import_orders(shared, changed, "b", "f"))
        assert len(update.updated) == count // 100

        laptop = root / "laptop"
        name = "技术员0007"
        with LocalStore.open(laptop) as store:
            _report, sync_s = timed(lambda: sync(store, shared))
            pulled, pull_s = timed(lambda: pull_for_laptop(laptop, shared, name))
            assert pulled == per
            again_pulled, pull_again_s = timed(lambda: pull_for_laptop(laptop, shared, name))
        own = shared / "orders" / "by-assignee" / f"{order_store.assignee_key(name)}.json"
        print(
            json.dumps(
                {
                    "orders": count,
                    "technicians": count // per,
                    "csv_bytes": csv_path.stat().st_size,
                    "read_csv_s": read_csv_s,
                    "read_xlsx_s": read_xlsx_s,
                    "import_s": import_s,
                    "reimport_same_s": reimport_s,
                    "reimport_1pct_changed_s": update_s,
                    "laptop_sync_nothing_to_send_s": sync_s,
                    "laptop_pull_20_s": pull_s,
                    "laptop_pull_again_s": pull_again_s,
                    "laptop_sync_plus_pull_s": round(sync_s + pull_s, 3),
                    "pull_reads_bytes": own.stat().st_size,
                    "all_json_bytes": (shared / "orders" / "all.json").stat().st_size,
                    "pulled": again_pulled,
                }
            )
        )


if __name__ == "__main__":
    main()
