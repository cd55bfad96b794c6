"""The top line: the screen's title and sub-title, in one widget.

Textual's Header composes an icon and a title widget (a clock too, if asked); this draws the
same words as one line, which is what a screen at the shop counter needs, and starts faster.
"""

from __future__ import annotations

from textual.app import RenderResult
from textual.widget import Widget


class TitleBar(Widget):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        content-align: center middle;
        text-style: bold;
    }
    """

    def on_mount(self) -> None:
        for node in (self.app, self.screen):
            self.watch(node, "title", self._redraw, init=False)
            self.watch(node, "sub_title", self._redraw, init=False)

    def _redraw(self) -> None:
        self.refresh()

    def render(self) -> RenderResult:
        screen, app = self.screen, self.app
        title = screen.title if screen.title is not None else app.title
        sub_title = screen.sub_title if screen.sub_title is not None else app.sub_title
        return app.format_title(title, sub_title)
