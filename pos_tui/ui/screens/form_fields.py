"""Pieces the forms share: a labelled field (or a row of them) with its message under it,
and Select options."""

from __future__ import annotations

from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

from pos_tui.ui.i18n import Text

REQUIRED_MARK = " [$error]*[/]"


def field_row(name: str, widget: Widget) -> Horizontal:
    """`#{name}-label`, then `widget` with `#{name}-message` under it, in `#{name}-row`."""
    return Horizontal(
        Static(id=f"{name}-label", classes="field-label"),
        Vertical(
            widget,
            Static(id=f"{name}-message", classes="field-message"),
            classes="field-body",
        ),
        id=f"{name}-row",
        classes="field-row",
    )


def inline_label(name: str) -> Static:
    """`#{name}-inline`: the short label before a field that shares its row with another."""
    return Static(id=f"{name}-inline", classes="inline-label")


def label_text(label: Text, lang: str, required: bool) -> str:
    return label.get(lang) + (REQUIRED_MARK if required else "")


def show_message(widget: Static, text: str, kind: str = "field-error") -> None:
    """Show `text` styled as `kind`, or hide `widget` when there is none. Typing calls this
    on every key, so nothing is redrawn when nothing changed."""
    if str(widget.content) != text:
        widget.update(text)
    widget.display = bool(text)
    for name in ("field-error", "field-warning"):
        widget.set_class(bool(text) and kind == name, name)


def options(names: dict[str, Text], lang: str) -> list[tuple[str, str]]:
    """(label, value) pairs for a `Select`, in the order of `names`."""
    return [(name.get(lang), str(value)) for value, name in names.items()]
