"""A progress bar drawn with coloured spaces.

Textual's bar uses box-drawing characters (U+2501 and friends) whose width is ambiguous:
terminals set up for Chinese draw them two cells wide and the line overflows. Spaces with a
background colour have one width everywhere.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text
from textual.renderables.bar import Bar
from textual.widgets import ProgressBar


class SpaceBar(Bar):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = self.width or options.max_width
        filled = max(0, min(width, round(self.highlight_range[1])))
        done = console.get_style(self.highlight_style).color
        left = console.get_style(self.background_style).color
        bar = Text(end="")
        bar.append(" " * filled, style=Style(bgcolor=done))
        bar.append(" " * (width - filled), style=Style(bgcolor=left))
        yield bar


class CellSafeProgressBar(ProgressBar):
    BAR_RENDERABLE = SpaceBar
