"""The review list's table: a DataTable of one-line cells that are cheap to draw.

Each keystroke in the filter refills the table, and drawing its cells was most of the
keystroke's time: a Rich `Text` goes through wrapping and justifying on every draw. A
`Cell` is one line already, so it is cut or padded to its width and drawn as one segment
(measured at 10,000 visits: 32 -> 15 ms to draw a refilled table).
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.widgets import DataTable


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

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        room = options.max_width
        if self.width > room:
            text = set_cell_size(self.text, room)
        elif self.right:
            text = " " * (room - self.width) + self.text
        else:
            text = self.text + " " * (room - self.width)
        yield Segment(text, self.style)


class ReviewTable(DataTable[Cell]):
    BINDINGS = [
        # DataTable's own Enter has no footer text, and the focused widget's binding is the
        # one the footer shows: this one opens the visit (RowSelected) and says so.
        Binding("enter", "select_cursor", "Open", id="review.open"),
        # A list of rows: Home and End go to the first and last row, not the side columns.
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]
