"""Plain text wrapped as Chinese is typeset: no line starts with `，` or `）`.

Textual folds a run of Chinese wherever the width runs out; this widget draws its text
broken into lines by `domain/line_breaking.py` at its own width, and says how tall that
is. Its content stays the text as given, so what it holds reads the same at any width.
"""

from __future__ import annotations

from textual.app import RenderResult
from textual.content import Content
from textual.geometry import Size
from textual.widgets import Static

from pos_tui.domain.line_breaking import wrap


class WrappedText(Static):
    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None):
        super().__init__(text, markup=False, id=id, classes=classes)
        self.plain = text
        """The text as given, before it is broken into lines."""

    def set_text(self, text: str) -> None:
        self.plain = text
        self.update(text)

    def render(self) -> RenderResult:
        width = self.size.width
        return Content("\n".join(wrap(self.plain, width))) if width > 0 else super().render()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(wrap(self.plain, width)) if self.plain else 0
