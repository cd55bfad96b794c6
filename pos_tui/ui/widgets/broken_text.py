"""A Rich `Text` drawn in lines broken as Chinese is typeset, for Rich's own layouts.

`WrappedText` does this for a whole widget; a line of an OptionList is a Rich renderable
(a grid of a status column and a title), whose cells Rich wraps by cells, so a long
Chinese title could start its second line with `，`. This renderable takes the width Rich
gives its cell and breaks the text there by `domain/line_breaking.py`, keeping its styles.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text as RichText

from pos_tui.domain.line_breaking import line_spans, narrowest, text_width


def broken_lines(text: RichText, width: int) -> list[RichText]:
    """`text` cut into the lines `wrap` makes of its plain text, each with its styles."""
    return [text[start:end] for start, end in line_spans(text.plain, width)]


class BrokenText:
    """`text`, broken into lines at the width it is drawn in."""

    def __init__(self, text: RichText) -> None:
        self.text = text

    @property
    def plain(self) -> str:
        return self.text.plain

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        plain = self.text.plain
        widest = max((text_width(line) for line in plain.split("\n")), default=0)
        return Measurement(min(narrowest(plain), options.max_width), widest)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from broken_lines(self.text, options.max_width)
