"""Horizontal bar charts in the terminal, exact in width even with Chinese labels.

Bars are runs of background-coloured spaces, not block characters: '█' and its eighths
have an ambiguous width and are drawn two cells wide by terminals set up for Chinese.
Labels are padded and cut by display cells (`rich.cells`), so wide characters line up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.color import Color
from textual.events import Resize
from textual.widgets import Static

MIN_BAR = 10
MIN_LABEL = 8


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    """Zero or more; the chart's biggest value gets the full length."""
    note: str
    """Shown after the bar, e.g. "12.5%  3/24"."""


def fit(label: str, width: int) -> str:
    """`label` in exactly `width` cells: padded, or cut with ".." when too long."""
    if cell_len(label) <= width:
        return set_cell_size(label, width)
    return set_cell_size(set_cell_size(label, max(width - 2, 0)) + "..", width)


def chart(
    title: str, bars: Sequence[Bar], width: int, colours: tuple[str, str] = ("red", "dark_red")
) -> Text:
    """The chart as lines of text exactly `width` cells wide (or wider when very narrow).

    The biggest value fills the bar's room, so small rates can still be told apart; the
    notes carry the figures. Bars alternate between two colours: there is no gap between
    lines, and bars of one colour would merge into one block.
    """
    out = Text(end="")
    out.append(title, style="bold")
    if not bars:
        return out
    note_width = max(cell_len(bar.note) for bar in bars)
    label_width = max(cell_len(bar.label) for bar in bars)
    room = max(width - note_width - 2, MIN_LABEL + MIN_BAR)
    label_width = max(min(label_width, room - MIN_BAR, width * 2 // 5), MIN_LABEL)
    bar_width = max(room - label_width, 1)
    biggest = max(max(bar.value for bar in bars), 0.0)
    for index, bar in enumerate(bars):
        value = min(max(bar.value, 0.0), biggest) / biggest if biggest else 0.0
        filled = round(value * bar_width)
        if value > 0 and filled == 0:
            filled = 1  # a rare failure still shows
        out.append("\n")
        out.append(fit(bar.label, label_width) + " ")
        out.append(" " * filled, style=f"on {colours[index % 2]}")
        out.append(" " * (bar_width - filled) + " ")
        out.append(set_cell_size(bar.note, note_width), style="bold" if value else "dim")
    return out


class BarChart(Static):
    """A titled bar chart that redraws itself to its width."""

    DEFAULT_CSS = """
    BarChart {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.chart_title = ""
        self.bars: list[Bar] = []

    def show(self, title: str, bars: Sequence[Bar]) -> None:
        self.chart_title, self.bars = title, list(bars)
        self._draw()

    def on_resize(self, event: Resize) -> None:
        self._draw()

    def _draw(self) -> None:
        width = self.content_size.width or max(self.app.size.width - 4, 20)
        colour = Color.parse(self.app.current_theme.error or "red")
        shades = (colour.hex, colour.darken(0.12).hex)
        self.update(chart(self.chart_title, self.bars, width, shades))
