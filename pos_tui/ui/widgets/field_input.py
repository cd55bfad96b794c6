"""Input widgets for a checklist field, and the radio button the note dialog uses."""

from __future__ import annotations

from typing import Any

from textual.widget import Widget
from textual.widgets import Input, RadioButton, Select

from pos_tui.domain.checklist import Field, FieldKind
from pos_tui.ui.widgets.in_order_input import InOrderInput


class PlainRadioButton(RadioButton):
    """A radio button drawn without ambiguous-width half blocks (they misalign in CJK terminals)."""

    BUTTON_LEFT = ""
    BUTTON_INNER = " X "
    BUTTON_RIGHT = ""


def field_widget_id(field_id: str) -> str:
    return f"field-{field_id}"


def field_widget(item_field: Field, value: str, prompt: str) -> Widget:
    """The widget to capture `item_field`; Chinese text input works in every text field."""
    widget_id = field_widget_id(item_field.id)
    if item_field.kind is FieldKind.CHOICE:
        choices = list(item_field.choices)
        select: Select[str] = Select(
            [(choice, choice) for choice in choices],
            value=value if value in choices else Select.NULL,
            allow_blank=True,
            prompt=prompt,
            compact=True,
            id=widget_id,
        )
        return select
    if item_field.kind is FieldKind.LAST4:
        # Not limited to four characters: a full card number typed or scanned here must end
        # as its last four digits, not its first (the note dialog keeps the last four).
        return InOrderInput(value, compact=True, id=widget_id)
    if item_field.kind is FieldKind.NUMBER:
        return InOrderInput(value, type="number", compact=True, id=widget_id, valid_empty=True)
    return InOrderInput(value, compact=True, id=widget_id)


def field_value(widget: Widget) -> str:
    """What the technician entered, as text; an empty choice is ""."""
    if isinstance(widget, Select):
        chosen: Any = widget.value
        return "" if chosen is Select.NULL else str(chosen)
    if isinstance(widget, Input):
        return widget.value.strip()
    return ""
