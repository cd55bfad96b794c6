"""What the UI tests share: waiting for the worker, and reading what a screen shows."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.services.technician import Services
from pos_tui.store.local import LocalStore
from pos_tui.ui.app import PosApp, make_app
from pos_tui.ui.widgets.key_bar import KeyBar


async def settle(app: PosApp, pilot: Pilot[None]) -> None:
    """Every job queued on the app's workers has finished and its result has been shown."""
    # First let the messages already posted (a paste, a key) run their handlers: a job
    # they submit must be queued before the workers are flushed, or it would be missed.
    await pilot.pause()
    for side in ("services", "review"):
        try:
            services = getattr(app, side)
        except RuntimeError:  # that side of the app was not started
            continue
        await asyncio.to_thread(services.worker.flush)
    await pilot.pause()
    await pilot.pause()


def key_bar_text(screen: Any) -> str:
    """The key bar's line as the technician reads it."""
    return str(screen.query_one(KeyBar).render())


def technician_app(
    store: LocalStore,
    checklists: list[Checklist],
    tmp_path: Path,
    lang: str = "en",
    **options: Any,
) -> PosApp:
    """The technician's app on a real store, with its settings file in the test's folder."""
    settings = options.pop("settings", Settings(technician="张伟", device_id="laptop-1"))
    services = Services(
        store, checklists, settings, settings_path=tmp_path / "settings.json", **options
    )
    return make_app(services, lang)


def static_text(screen: Any, selector: str, width: int = 116) -> str:
    """What a Static shows, as plain text, whatever it was given (str, Text, a Rich table)."""
    import io

    from rich.console import Console
    from textual.widgets import Static

    content = screen.query_one(selector, Static).content
    if isinstance(content, str):
        return content
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


def lines_starting_with_a_mark(screen: Any) -> list[tuple[str, str]]:
    """Every drawn line of the screen's widgets that starts with a mark no Chinese line
    may start with (`domain.line_breaking.NO_LINE_START`): (the widget, the line)."""
    from textual.geometry import Region

    from pos_tui.domain.line_breaking import NO_LINE_START

    found = []
    for widget in screen.walk_children(with_self=False):
        width, height = widget.size
        if widget.children or not widget.display or not width or not height:
            continue
        for strip in widget.render_lines(Region(0, 0, width, height)):
            line = strip.text.strip()
            if line and line[0] in NO_LINE_START:
                found.append((f"{type(widget).__name__}#{widget.id}", line))
    return found
