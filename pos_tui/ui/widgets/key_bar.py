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
        seen_actions: set[str] = set()
        pieces: list[Content] = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.show or not binding.description or binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            shown_key = self.app.get_key_display(binding)
            style = "" if active.enabled else "dim"
            # Key and words run together, as in Textual's compact footer: at 80 columns the
            # runner's nine keys only fit in Chinese that way.
            pieces.append(
                Content.assemble(
                    (shown_key, f"bold $footer-key-foreground {style}".strip()),
                    (binding.description, style),
                ).stylize(f"@click=app.simulate_key('{key}')")
            )
        return Content(" ") + Content("  ").join(pieces)
