"""The review list's own table (`ReviewTable`): columns as wide as their widest cell in
terminal cells, a row cursor the keys and the mouse move, and the messages the review
screen listens for."""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate

from pos_tui.ui.widgets.review_table import Cell, ReviewTable

ROWS = 60
NAMES = ["上海老王面馆", "Cafe", "北京烤鸭店（朝阳）"]


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.heard: list[tuple[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield ReviewTable(id="table")

    def on_mount(self) -> None:
        table = self.query_one(ReviewTable)
        for key, label in (("day", "日期"), ("merchant", "商户"), ("fails", "Fails")):
            table.add_column(label, key=key)
        table.add_rows(
            (
                f"row-{n}",
                [Cell(f"2026-11-{n % 28 + 1:02}"), Cell(NAMES[n % 3]), Cell(str(n), right=True)],
            )
            for n in range(ROWS)
        )
        table.focus()

    def on_review_table_row_highlighted(self, event: ReviewTable.RowHighlighted) -> None:
        self.heard.append(("highlighted", event.row_key))

    def on_review_table_row_selected(self, event: ReviewTable.RowSelected) -> None:
        self.heard.append(("selected", event.row_key))

    def on_review_table_header_selected(self, event: ReviewTable.HeaderSelected) -> None:
        self.heard.append(("header", event.column_key))


def line(table: ReviewTable, y: int) -> str:
    return table.render_line(y).text


async def test_columns_are_as_wide_as_their_widest_cell_in_terminal_cells() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(ReviewTable)
        widths = [column.width for column in table.ordered_columns]
        assert widths == [10, max(cell_len(name) for name in NAMES), 5]
        header = line(table, 0)
        # Every line is the table's width, and each column starts at the same cell in
        # the header and in the rows, Chinese or not.
        start = widths[0] + 2
        for y in range(6):
            drawn = line(table, y)
            assert cell_len(drawn) == table.scrollable_content_region.width
        merchant_at = cell_len(header[: header.index("商户")])
        assert merchant_at == start + 1
        for y, name in ((1, NAMES[0]), (2, NAMES[1]), (3, NAMES[2])):
            drawn = line(table, y)
            assert cell_len(drawn[: drawn.index(name)]) == merchant_at
        # A right-aligned cell ends where its column does.
        assert line(table, 2).rstrip().endswith(" 1")
        assert str(table.get_cell_at(Coordinate(2, 1))) == NAMES[2]


async def test_keys_move_the_cursor_keep_it_in_view_and_say_so() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(ReviewTable)
        rows_shown = table.scrollable_content_region.height - 1  # under the header
        await pilot.press("down", "down")
        assert table.cursor_row == 2 and app.heard[-2:] == [
            ("highlighted", "row-1"),
            ("highlighted", "row-2"),
        ]
        await pilot.press("pagedown")
        assert table.cursor_row > 2 + rows_shown // 2
        assert table.scroll_offset.y <= table.cursor_row < table.scroll_offset.y + rows_shown
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == ROWS - 1 and table.cursor_key == f"row-{ROWS - 1}"
        assert table.scroll_offset.y == ROWS + 1 - table.scrollable_content_region.height
        assert str(ROWS - 1) in line(table, rows_shown)  # the last row is the last line
        await pilot.press("home")
        await pilot.pause()
        assert (table.cursor_row, table.scroll_offset.y) == (0, 0)
        await pilot.press("up")  # nowhere to go: nothing said
        assert app.heard[-1] == ("highlighted", "row-0")
        await pilot.press("enter")
        assert app.heard[-1] == ("selected", "row-0")


async def test_a_click_moves_the_cursor_a_second_opens_and_a_header_click_sorts() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(ReviewTable)
        await pilot.click(ReviewTable, offset=(3, 4))
        assert table.cursor_row == 3 and app.heard[-1] == ("highlighted", "row-3")
        await pilot.click(ReviewTable, offset=(3, 4))
        assert app.heard[-1] == ("selected", "row-3")
        fails_at = sum(column.get_render_width() for column in table.ordered_columns[:2])
        await pilot.click(ReviewTable, offset=(fails_at + 1, 0))
        assert app.heard[-1] == ("header", "fails")
        await pilot.click(ReviewTable, offset=(1, 0))
        assert app.heard[-1] == ("header", "day")


async def test_a_cell_changed_in_place_is_drawn_and_a_row_key_is_kept_once() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(ReviewTable)
        before = line(table, 2)
        table.update_cell("row-1", "merchant", Cell("新名字"))
        assert "新名字" in line(table, 2) and line(table, 2) != before
        with pytest.raises(ValueError, match="row-1"):
            table.add_row(Cell("x"), Cell("y"), Cell("z"), key="row-1")
        table.clear()
        assert table.row_count == 0 and table.cursor_key is None
        assert line(table, 1).strip() == ""
        assert "商户" in line(table, 0)  # the columns stay


async def test_a_table_wider_than_the_terminal_scrolls_sideways_header_and_rows_together() -> None:
    app = TableApp()
    async with app.run_test(size=(20, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(ReviewTable)
        assert table.virtual_size.width > table.scrollable_content_region.width
        assert "Fails" not in line(table, 0)
        await pilot.press(*["right"] * 40)  # as far as it goes
        await pilot.pause()
        shown_from = table.scroll_offset.x
        assert shown_from == table.virtual_size.width - table.scrollable_content_region.width
        header, first = line(table, 0), line(table, 1)
        assert cell_len(header) == cell_len(first) == table.scrollable_content_region.width
        # The last column, header and cell alike, ends one cell before the table does.
        assert header.rstrip().endswith("Fails") and first.rstrip().endswith(" 0")
        assert cell_len(header.rstrip()) == cell_len(first.rstrip())
        await pilot.press("end")
        assert table.cursor_row == ROWS - 1 and table.scroll_offset.x == shown_from
