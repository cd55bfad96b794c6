"""pos_tui uses Textual through its public API only: private attributes change without notice
between releases, and writing them (the binding tables, the screen stacks) once hung the app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pos_tui"
PRIVATE = re.compile(
    r"\._bindings\b|_screen_stacks|_thread_id|textual\._context|_handle_exception|\._loop\b"
    r"|from textual\._|import textual\._"
)


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_textual_attribute(path: Path) -> None:
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if PRIVATE.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_check_finds_what_it_looks_for() -> None:
    assert PRIVATE.search("self._bindings.key_to_bindings[key] = []")
    assert PRIVATE.search("from textual._context import active_app")
    assert not PRIVATE.search("self.active_bindings")
