"""An Input whose editing keys keep their place among the characters typed around them.

Textual's Input inserts a character as its key event reaches it, but runs Backspace, the
arrows, Home, End and the rest as bindings, once the key has gone up to the app: after
the characters that came behind it in the same read. Over a slow link (a remote
terminal), from a scanner or from a fast typist, `abc`, Backspace, `d` arriving together
became `abc`, not `abd` (measured in a pseudo-terminal). This Input runs the same actions
as its keys arrive, in order. Enter stays a binding: the forms' own Enter moves on first
(`screens.base.ENTER_MOVES_ON`).
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input


def _editing_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for binding in Input.BINDINGS:
        made = binding if isinstance(binding, Binding) else Binding(*binding)
        if made.action == "submit":
            continue
        for key in made.key.split(","):
            keys[key.strip()] = made.action
    return keys


class InOrderInput(Input):
    EDITING_KEYS = _editing_keys()
    """Input's own keys and the actions they run (its bindings, less Enter's)."""

    async def on_key(self, event: events.Key) -> None:
        action = self.EDITING_KEYS.get(event.key)
        if action is None:
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)
