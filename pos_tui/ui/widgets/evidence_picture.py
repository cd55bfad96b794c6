"""A photo in the terminal: Kitty's graphics protocol or Sixel where the terminal speaks
them (through textual-image), coloured half-blocks everywhere else.

textual-image finds out what the terminal can do by asking it, when it is first imported;
once Textual runs, Textual's input thread takes the terminal's answer, so asking then
would wait out a timeout and may swallow a key. So it is used only where the environment
already says what the terminal is (`protocol`), and imported then, on the first picture:
never on the app's start-up path. Half-blocks need nothing but colour: two pixels a cell,
the top one as the foreground of "▀" and the bottom one as its background.

The image given is small already (the services decode it off the UI thread); drawing it
is a resize to the widget's size, done once per size.
"""

from __future__ import annotations

import os
from typing import Any

from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Container
from textual.widget import Widget
from textual.widgets import Static

PICTURES_ENV = "POS_TUI_PICTURES"
"""`kitty`, `sixel` or `cells`: how to draw photos, when the terminal's own variables do
not say (or say wrong)."""
KITTY, SIXEL, CELLS = "kitty", "sixel", "cells"
_SIXEL_TERMS = ("foot", "mlterm", "yaft", "contour")


def protocol(environ: dict[str, str] | None = None) -> str:
    """How this terminal can draw a picture, from what its environment says of it."""
    env = os.environ if environ is None else environ
    chosen = env.get(PICTURES_ENV, "").strip().lower()
    if chosen in (KITTY, SIXEL, CELLS):
        return chosen
    term = env.get("TERM", "")
    if env.get("KITTY_WINDOW_ID") or "kitty" in term or env.get("TERM_PROGRAM") == "ghostty":
        return KITTY
    if env.get("TERM_PROGRAM") == "WezTerm" or term.startswith(_SIXEL_TERMS):
        return SIXEL
    return CELLS


class HalfBlocks:
    """A Rich renderable: the picture in "▀" cells, fitted to the width and height given."""

    def __init__(self, image: Any, width: int, height: int) -> None:
        from PIL import Image

        fitted = image.copy()
        fitted.thumbnail((max(1, width), max(2, height * 2)), Image.Resampling.BILINEAR)
        self.width, self.pixels_high = fitted.size
        raw = fitted.convert("RGB").tobytes()
        self.pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width, pixels = self.width, self.pixels
        styles: dict[tuple[Any, Any], Style] = {}
        for top in range(0, self.pixels_high - 1, 2):
            row = top * width
            for x in range(width):
                pair = (pixels[row + x], pixels[row + width + x])
                style = styles.get(pair)
                if style is None:
                    style = styles[pair] = Style(
                        color=Color.from_rgb(*pair[0]), bgcolor=Color.from_rgb(*pair[1])
                    )
                yield Segment("▀", style)
            yield Segment.line()


class _Cells(Widget):
    """The half-block drawing of one picture, redrawn only when it or its size changes."""

    def __init__(self) -> None:
        super().__init__()
        self.image: Any = None
        self._drawn: tuple[int, int, HalfBlocks] | None = None

    def draw(self, image: Any) -> None:
        self.image, self._drawn = image, None
        self.refresh()

    def render(self) -> Any:
        width, height = self.content_size
        if self.image is None:
            return ""
        if self._drawn is None or self._drawn[:2] != (width, height):
            self._drawn = (width, height, HalfBlocks(self.image, width, height))
        return self._drawn[2]


class EvidencePicture(Container):
    """Shows one photo (`show`) or a sentence instead (`say`): a file missing or replaced
    in the store is a sentence, never a traceback."""

    DEFAULT_CSS = """
    EvidencePicture {
        height: 18;
        width: 1fr;
    }
    EvidencePicture > * {
        height: 1fr;
        width: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: str | None = None
        """The SHA-256 of the photo shown; None while a sentence is."""
        self.kind = protocol()
        self.pixels = 320 if self.kind == CELLS else 1280
        """The longest side worth decoding: half-blocks show two pixels a cell, so 320 is
        more than a wide terminal shows; Kitty and Sixel draw real pixels."""
        self._graphics: Widget | None = None
        """textual-image's widget of the photo shown, in a Kitty or Sixel terminal."""

    def compose(self) -> ComposeResult:
        # Both kept, one shown: showing another photo is a refresh, not a new widget.
        yield Static(classes="picture-words")
        yield _Cells()

    def on_mount(self) -> None:
        self.query_one(_Cells).display = False

    def say(self, words: str) -> None:
        self.shown = None
        self._drop_graphics()
        self.query_one(_Cells).display = False
        words_box = self.query_one(".picture-words", Static)
        words_box.update(words)
        words_box.display = True

    def show(self, sha256: str, image: Any) -> None:
        self.shown = sha256
        self.query_one(".picture-words", Static).display = False
        self._drop_graphics()
        if self.kind == CELLS:
            cells = self.query_one(_Cells)
            cells.display = True
            cells.draw(image)
            return
        self.query_one(_Cells).display = False
        self._graphics = self._drawing(image)
        self.mount(self._graphics)

    def _drawing(self, image: Any) -> Widget:
        if self.kind == KITTY:
            from textual_image.widget import TGPImage

            return TGPImage(image)
        from textual_image.widget import SixelImage

        return SixelImage(image)

    def _drop_graphics(self) -> None:
        if self._graphics is not None:
            self._graphics.remove()
            self._graphics = None


__all__ = ["CELLS", "KITTY", "PICTURES_ENV", "SIXEL", "EvidencePicture", "HalfBlocks", "protocol"]
