"""The review list's table: rows of one-line cells drawn through Textual's line API.

Each keystroke in the filter refills the table, and with a DataTable drawing the refilled
rows was most of the keystroke's time: every cell went through Rich's padding, styling and
line splitting (about 57 ms for a screen of rows, and 23 ms more measuring the new rows'
widths). The list needs less than a DataTable gives: cells of one line, one row cursor, a
header that sorts. So each row here is one strip of segments, made once and kept until the
row, the column widths or the styles change; a screen of rows draws in a few milliseconds
(`bench/review.py`). See docs/decisions.md.

The calls the review screen and its tests use are named as DataTable names them
(`add_row`, `clear`, `update_cell`, `move_cursor`, `get_cell_at`, `RowSelected` ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip


class Cell:
    """One line of user text (never markup), optionally styled and right-aligned."""

    __slots__ = ("right", "style", "text", "width")

    def __init__(self, text: str, style: str = "", right: bool = False) -> None:
        self.text = " ".join(text.split())  # a line break would make the row two lines
        self.width = cell_len(self.text)
        self.style = Style.parse(style) if style else None
        self.right = right

    def __str__(self) -> str:
        return self.text

    def fitted(self, width: int) -> str:
        """The text cut or padded to exactly `width` cells."""
        if self.width > width:
            return set_cell_size(self.text, width)
        room = " " * (width - self.width)
        return room + self.text if self.right else self.text + room


@dataclass(slots=True)
class Column:
    key: str
    label: str
    width: int
    """Cells of the widest of its label and its cells; each is drawn one cell wider on
    either side (`PADDING`)."""

    def get_render_width(self, _table: ReviewTable | None = None) -> int:
        return self.width + 2 * PADDING


PADDING = 1
"""Blank cells either side of each cell, as a DataTable has."""


class ReviewTable(ScrollView, can_focus=True):
    """A table of rows with keys, a row cursor and a header of columns that can be clicked."""

    DEFAULT_CSS = """
    ReviewTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .review-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .review-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .review-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .review-table--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .review-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .review-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    COMPONENT_CLASSES = {
        "review-table--header",
        "review-table--even-row",
        "review-table--cursor",
    }
    BINDINGS = [
        # The focused widget's binding is the one the footer shows: Enter opens the visit
        # (RowSelected) and says so.
        Binding("enter", "select_cursor", "Open", id="review.open"),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        # A list of rows: Home and End go to the first and last row, not the side columns.
        Binding("home", "first_row", "First", show=False),
        Binding("end", "last_row", "Last", show=False),
    ]

    class RowHighlighted(Message):
        def __init__(self, table: ReviewTable, cursor_row: int, row_key: str) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> ReviewTable:
            return self.table

    class RowSelected(RowHighlighted):
        pass

    class HeaderSelected(Message):
        def __init__(self, table: ReviewTable, column_key: str, column_index: int) -> None:
            super().__init__()
            self.table = table
            self.column_key = column_key
            self.column_index = column_index

        @property
        def control(self) -> ReviewTable:
            return self.table

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns: dict[str, Column] = {}
        self.rows: dict[str, int] = {}
        """Each row's key and its index."""
        self._cells: list[list[Cell]] = []
        self._keys: list[str] = []
        self.cursor_row = 0
        self._strips: dict[tuple[int, bool], Strip] = {}
        """Each row's strip as drawn (by index, and whether the cursor is on it)."""
        self._header: Strip | None = None

    # -- columns and rows ---------------------------------------------------------------

    @property
    def ordered_columns(self) -> list[Column]:
        return list(self.columns.values())

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def cursor_coordinate(self) -> Coordinate:
        return Coordinate(self.cursor_row, 0)

    @property
    def cursor_key(self) -> str | None:
        return self._keys[self.cursor_row] if self._keys else None

    def add_column(self, label: str, *, key: str) -> None:
        self.columns[key] = Column(key, label, cell_len(label))
        self._widths_changed()

    def clear(self, columns: bool = False) -> None:
        if columns:
            self.columns.clear()
        self.rows.clear()
        self._cells.clear()
        self._keys.clear()
        self.cursor_row = 0
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._widths_changed()

    def add_row(self, *cells: Cell, key: str) -> None:
        self.add_rows([(key, cells)])

    def add_rows(self, rows: Iterable[tuple[str, Sequence[Cell]]]) -> None:
        """Rows at the end, each its key and one cell a column."""
        columns = self.ordered_columns
        widths = [column.width for column in columns]
        for key, cells in rows:
            if key in self.rows:
                raise ValueError(f"The table has a row with the key {key!r} already.")
            self.rows[key] = len(self._keys)
            self._keys.append(key)
            self._cells.append(list(cells))
            for at, cell in enumerate(cells):
                if cell.width > widths[at]:
                    widths[at] = cell.width
        if widths != [column.width for column in columns]:
            for column, width in zip(columns, widths, strict=True):
                column.width = width
            self._widths_changed()
        else:
            self._size_changed()

    def update_cell(self, row_key: str, column_key: str, value: Cell) -> None:
        """A new cell in place, the column keeping its width (a wider one is cut)."""
        index = self.rows[row_key]
        self._cells[index][self.get_column_index(column_key)] = value
        self._strips.pop((index, False), None)
        self._strips.pop((index, True), None)
        self.refresh_line(index - self.scroll_offset.y + 1)

    def get_row_index(self, key: str) -> int:
        return self.rows[key]

    def get_column_index(self, key: str) -> int:
        return list(self.columns).index(key)

    def get_cell_at(self, coordinate: Coordinate) -> Cell:
        return self._cells[coordinate.row][coordinate.column]

    def _widths_changed(self) -> None:
        self._strips.clear()
        self._header = None
        self._size_changed()

    def _size_changed(self) -> None:
        width = sum(column.get_render_width() for column in self.columns.values())
        self.virtual_size = Size(width, len(self._keys) + 1)  # the header's line too
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._header = None

    def on_focus(self) -> None:
        self._strips.pop((self.cursor_row, True), None)
        self.refresh_line(self.cursor_row - self.scroll_offset.y + 1)

    on_blur = on_focus

    # -- drawing ------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            strip = self._header_strip()
        else:
            index = scroll_y + y - 1
            if index >= len(self._keys):
                return Strip.blank(width, base)
            strip = self._row_strip(index)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _header_strip(self) -> Strip:
        if self._header is None:
            style = self.rich_style + self.get_component_rich_style("review-table--header")
            pad = " " * PADDING
            self._header = Strip(
                [
                    Segment(pad + Cell(column.label).fitted(column.width) + pad, style)
                    for column in self.columns.values()
                ]
            )
        return self._header

    def _row_strip(self, index: int) -> Strip:
        cursor = index == self.cursor_row
        key = (index, cursor)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._make_row_strip(index, cursor)
        return strip

    def _make_row_strip(self, index: int, cursor: bool) -> Strip:
        row_style = self.rich_style
        if index % 2:
            row_style += self.get_component_rich_style("review-table--even-row")
        # The cursor's colours win over a cell's own (a red failure count stays legible).
        cursor_style = self.get_component_rich_style("review-table--cursor") if cursor else None
        pad = " " * PADDING
        segments = []
        for column, cell in zip(self.columns.values(), self._cells[index], strict=False):
            style = row_style + cell.style if cell.style else row_style
            if cursor_style is not None:
                style += cursor_style
            segments.append(Segment(pad + cell.fitted(column.width) + pad, style))
        return Strip(segments)

    # -- the cursor ---------------------------------------------------------------------

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        if not self._keys:
            return
        row = max(0, min(row, len(self._keys) - 1))
        old = self.cursor_row
        self.cursor_row = row
        top = self.scroll_offset.y
        for changed in (old, row):
            self.refresh_line(changed - top + 1)
        self._scroll_to_cursor(animate)
        if row != old:
            self.post_message(self.RowHighlighted(self, row, self._keys[row]))

    def _scroll_to_cursor(self, animate: bool) -> None:
        top = self.scroll_offset.y
        rows = max(1, self.scrollable_content_region.height - 1)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=animate, immediate=True)
        elif self.cursor_row >= top + rows:
            self.scroll_to(y=self.cursor_row - rows + 1, animate=animate, immediate=True)

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + self._page())

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=len(self._keys) - 1)

    def action_select_cursor(self) -> None:
        if self._keys:
            self.post_message(self.RowSelected(self, self.cursor_row, self._keys[self.cursor_row]))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        scroll_x, scroll_y = self.scroll_offset
        if offset.y == 0:
            edge = 0
            for at, column in enumerate(self.columns.values()):
                edge += column.get_render_width()
                if offset.x + scroll_x < edge:
                    self.post_message(self.HeaderSelected(self, column.key, at))
                    return
            return
        index = scroll_y + offset.y - 1
        if index >= len(self._keys):
            return
        if index == self.cursor_row:  # a click on the cursor's row opens it, as in a DataTable
            self.action_select_cursor()
        else:
            self.move_cursor(row=index)
