"""The footer: the keys of the current screen, in one widget.

Textual's Footer mounts a widget per key and restyles each one, which was a quarter of
the app's start-up time (docs/decisions.md). This draws the same line as one piece of
text; clicking a key presses it.
"""

from __future__ import annotations

from textual.app import RenderResult
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        link-style: none;
        link-color: $footer-foreground;
        link-background: $footer-background;
        link-style-hover: reverse;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def render(self) -> RenderResult:
        from pos_tui.ui.screens.base import screen_keys

        lang = str(getattr(self.app, "lang", "en"))
        pieces: list[Content] = []
        room = self.size.width - 1
        for shown, words, binding, enabled in screen_keys(self.screen, lang):
            if not binding.show:
                continue
            style = "" if enabled else "dim"
            piece = Content.assemble(
                (shown, f"bold $footer-key-foreground {style}".strip()),
                " ",
                (words, style),
            ).stylize(f"@click=app.simulate_key('{binding.key}')")
            # Whole keys or none: at 80 columns in Chinese the last of the app's own keys
            # (help and the palette are in F1 too) give way rather than show cut in half.
            needed = piece.cell_length + (2 if pieces else 0)
            if room and needed > room:
                break
            room -= needed
            pieces.append(piece)
        return Content(" ") + Content("  ").join(pieces)
