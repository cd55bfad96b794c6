"""The bank's dispatch list, read from a CSV or XLSX file into orders and cell problems.

Chinese banks' systems export CSV in GB18030 as often as in UTF-8, with or without a BOM;
nothing in the file says which, so the bytes are tried in order: a BOM decides, else strict
UTF-8, else GB18030 (which is never tried first: it decodes most UTF-8 into nonsense rather
than failing). An XLSX file is read with openpyxl, imported only here, for its values
(cached results of formulas, never the formulas). The file is read through
`safe_read`: a FIFO, a device, a link or a file over the limit is refused before a byte
is parsed. Every problem of every row is collected, so the clerk fixes the file once.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pos_tui.domain.checklist import Text
from pos_tui.domain.order_rows import CellProblem, duplicate_problem, read_header, read_row
from pos_tui.domain.orders import Order
from pos_tui.domain.safe_read import RefusedFile, read_regular_file

MAX_FILE_BYTES = 32 * 1024 * 1024
"""A dispatch list of 10,000 orders is about 3 MB as CSV and 1 MB as XLSX."""
MAX_ROWS = 200_000
MAX_PROBLEMS = 1_000
"""Past this many, a file is not a dispatch list with mistakes but the wrong file."""
_ZIP = b"PK\x03\x04"


@dataclass
class ImportFile:
    orders: list[Order] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    encoding: str = ""
    """How the file was read: utf-8-sig, utf-8, gb18030 or xlsx."""

    def said(self, path: str, lang: str = "en") -> list[str]:
        return [problem.said(path, lang) for problem in self.problems]


def read_orders(path: Path) -> ImportFile:
    """Every order of the file, or the problems that keep it from being imported.

    OSError for a file that cannot be opened (missing, not allowed); a file that is not a
    regular file or is too big is a problem at 1:1, as is one that is not text."""
    try:
        data = read_regular_file(path, MAX_FILE_BYTES, follow_links=False)
    except RefusedFile as refused:
        return _refused(Text(f"不读取此文件：{refused.reason}", f"not read: {refused.reason}"))
    if data.startswith(_ZIP) or path.suffix.lower() == ".xlsx":
        try:
            rows = _xlsx_rows(data)
        except ValueError as error:
            return _refused(
                Text(f"不是可读的 XLSX 文件：{error}", f"not a readable XLSX file: {error}")
            )
        return _orders(rows, "xlsx")
    text, encoding = _decoded(data)
    if text is None:
        return _refused(
            Text(
                "不是 UTF-8 或 GB18030 编码的文本：请另存为 CSV（UTF-8）",
                "not UTF-8 or GB18030 text: save it as CSV (UTF-8) and try again",
            )
        )
    return _orders(_csv_rows(text), encoding)


def _refused(message: Text) -> ImportFile:
    return ImportFile(problems=[CellProblem(1, 1, message)])


def _decoded(data: bytes) -> tuple[str | None, str]:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return None, ""
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None, ""


def _csv_rows(text: str) -> Iterator[Sequence[Any]]:
    first = text.split("\n", 1)[0]
    # Some exports use tabs or semicolons; a header with none of the others is what decides.
    delimiter = max(",\t;", key=first.count) if first else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(data: bytes) -> Iterator[Sequence[Any]]:
    """The first sheet's rows, read whole here so that a damaged sheet fails here."""
    from openpyxl import load_workbook

    rows: list[Sequence[Any]] = []
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for row in book.worksheets[0].iter_rows(values_only=True):
                rows.append(row)
                if len(rows) > MAX_ROWS:
                    break
        finally:
            book.close()
    # openpyxl and the XML and zip readers under it raise what they like on a damaged or
    # hostile file; each is this file's problem, said with its reason, not a crash.
    except Exception as error:
        raise ValueError(str(error) or type(error).__name__) from None
    return iter(rows)


def _orders(rows: Iterator[Sequence[Any]], encoding: str) -> ImportFile:
    found = ImportFile(encoding=encoding)
    header: dict[int, str] | None = None
    first_row: dict[str, int] = {}
    for number, cells in enumerate(rows, start=1):
        if number > MAX_ROWS:
            found.problems.append(
                CellProblem(
                    number,
                    1,
                    Text(
                        f"超过 {MAX_ROWS} 行：请分多个文件导入",
                        f"over {MAX_ROWS} rows: split the file",
                    ),
                )
            )
            break
        if header is None:
            header, problems = read_header([_cell_text(c) for c in cells])
            found.problems += problems
            if problems:
                break  # with the columns wrong, every row would be wrong the same way
            continue
        if not any(_cell_text(c) for c in cells):
            continue
        order, problems = read_row(number, list(cells), header)
        found.problems += problems
        if order is not None:
            seen = first_row.setdefault(order.order_number, number)
            if seen != number:
                column = next(at for at, name in header.items() if name == "order_number")
                found.problems.append(
                    duplicate_problem(number, column + 1, seen, order.order_number)
                )
            else:
                found.orders.append(order)
        if len(found.problems) >= MAX_PROBLEMS:
            break
    if header is None:
        found.problems.append(CellProblem(1, 1, Text("文件是空的", "the file is empty")))
    return found


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()
