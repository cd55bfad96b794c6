"""A text box of several lines whose lines break as Chinese is typeset.

The note was a TextArea, whose soft wrap folds a run of Chinese wherever the width runs
out, so while a technician typed, a line could start with `，`. Its wrapping has no hook
(it is computed inside Textual's private document classes), so the note has an editor of
its own: the text and a cursor index, drawn through the line API in the lines
`domain/line_breaking.line_spans` gives, and the keys a note needs: typing (an input
method's characters as they come), Enter for a new line, Backspace and Delete, the
arrows by character and by drawn line, Home and End of a drawn line, Ctrl+Home and
Ctrl+End, a paste, a click, Ctrl+Z and Ctrl+Y. What it does not have that a TextArea
has: selecting text, and copying from it. See docs/decisions.md.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pos_tui.domain.line_breaking import cell_width, line_spans, text_width

UNDO_DEPTH = 200


@dataclass(frozen=True, slots=True)
class _State:
    text: str
    cursor: int


class NoteEditor(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    NoteEditor {
        background: $boost;
        color: $foreground;
        height: auto;
        scrollbar-size-vertical: 1;
        /* Always room for the scroll bar: a bar that came and went would change the width
           the lines are broken at, and so whether the bar is needed. */
        scrollbar-gutter: stable;
        /* Lines are broken to fit, so nothing scrolls sideways; and with a stable gutter
           Textual counts a sideways bar into an auto height unless it has no size. */
        overflow-x: hidden;
        scrollbar-size-horizontal: 0;
        & > .note-editor--cursor {
            text-style: reverse;
        }
        & > .note-editor--placeholder {
            color: $text-muted;
        }
    }
    """
    COMPONENT_CLASSES = {"note-editor--cursor", "note-editor--placeholder"}
    KEYS = {
        "left": "left",
        "right": "right",
        "up": "up",
        "down": "down",
        "home": "line_start",
        "end": "line_end",
        "ctrl+home": "text_start",
        "ctrl+end": "text_end",
        "backspace": "delete_left",
        "delete": "delete_right",
        "enter": "new_line",
        "ctrl+z": "undo",
        "ctrl+y": "redo",
    }
    """The editor's keys, each handled as it comes, not as a binding: a binding runs once
    the key has gone up to the app, after the characters typed behind it in the same burst
    (a fast Enter or Backspace would land after the next word)."""

    class Changed(Message):
        def __init__(self, editor: NoteEditor, value: str) -> None:
            super().__init__()
            self.editor = editor
            self.value = value

        @property
        def control(self) -> NoteEditor:
            return self.editor

    def __init__(
        self,
        text: str = "",
        *,
        placeholder: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._text = _plain(text)
        self.cursor = 0
        """An index into the text; at first its start, so a long note shows its beginning."""
        self._placeholder = placeholder
        self._undo: list[_State] = []
        self._redo: list[_State] = []
        self._last_edit = ""
        """What the last edit was ("type", "back", "delete"): the next of the same kind
        joins its undo step, so Ctrl+Z takes back a word typed, not one character."""
        self._spans: list[tuple[int, int]] = [(0, len(self._text))]
        self._wrapped_at = -1

    # -- the text ---------------------------------------------------------------------

    @property
    def value(self) -> str:
        return self._text

    @value.setter
    def value(self, text: str) -> None:
        self._remember("")
        self._set(_plain(text), len(_plain(text)))

    @property
    def placeholder(self) -> str:
        return self._placeholder

    @placeholder.setter
    def placeholder(self, words: str) -> None:
        self._placeholder = words
        self.refresh()

    def insert(self, text: str) -> None:
        """`text` at the cursor, the cursor after it."""
        text = _plain(text)
        if not text:
            return
        self._remember("type" if len(text) == 1 and not text.isspace() else "")
        at = self.cursor
        self._set(self._text[:at] + text + self._text[at:], at + len(text))

    def _set(self, text: str, cursor: int) -> None:
        changed = text != self._text
        self._text = text
        self.cursor = max(0, min(cursor, len(text)))
        self._rewrap()
        self._scroll_to_cursor()
        self.refresh()
        if changed:
            self.post_message(self.Changed(self, text))

    def _remember(self, edit: str) -> None:
        if not (edit and edit == self._last_edit):
            self._undo.append(_State(self._text, self.cursor))
            del self._undo[:-UNDO_DEPTH]
        self._redo.clear()
        self._last_edit = edit

    # -- lines --------------------------------------------------------------------------

    def _room(self, width: int | None = None) -> int:
        """Cells a line may take: the width less one, where the cursor sits at a line's end."""
        width = self.scrollable_content_region.width if width is None else width
        return max(2, width - 1)

    def _rewrap(self) -> None:
        width = self.scrollable_content_region.width
        self._wrapped_at = self._room()
        self._spans = line_spans(self._text, self._wrapped_at)
        if width:  # not before the first layout, when a width of 0 would make it tall
            self.virtual_size = Size(width, len(self._spans))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        gutter = self.styles.scrollbar_size_vertical  # the gutter is kept (see the CSS)
        return len(line_spans(self._text, self._room(width - gutter)))

    def on_resize(self) -> None:
        if self._room() != self._wrapped_at:
            self._rewrap()
            self._scroll_to_cursor()

    def _line_of(self, index: int) -> int:
        """The drawn line the cursor at `index` is on: the last one starting at or before
        it (at a break, the start of the next line)."""
        return max(0, bisect_right(self._spans, (index, math.inf)) - 1)

    def _column_of(self, index: int) -> int:
        start, end = self._spans[self._line_of(index)]
        return text_width(self._text[start : min(index, end)])

    def _index_at(self, line: int, column: int) -> int:
        """The index on drawn `line` nearest to `column` cells, never past its end."""
        start, end = self._spans[line]
        used = 0
        for index in range(start, end):
            width = cell_width(self._text[index])
            if used + width > column:
                return index
            used += width
        return end

    # -- drawing ------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        number = y + self.scroll_offset.y
        if not self._text and number == 0 and self._placeholder:
            words = base + self.get_component_rich_style("note-editor--placeholder")
            first, rest = self._placeholder[:1], self._placeholder[1:]
            if self.has_focus:
                cursor = base + self.get_component_rich_style("note-editor--cursor")
                segments = [Segment(first, cursor), Segment(rest, words)]
            else:
                segments = [Segment(self._placeholder, words)]
            return Strip(segments).crop_extend(0, width, base)
        if number >= len(self._spans):
            return Strip.blank(width, base)
        start, end = self._spans[number]
        line = self._text[start:end]
        if self.has_focus and self._line_of(self.cursor) == number:
            return self._with_cursor(line, start, end, base).crop_extend(0, width, base)
        return Strip([Segment(line, base)]).crop_extend(0, width, base)

    def _with_cursor(self, line: str, start: int, end: int, base: Style) -> Strip:
        cursor = base + self.get_component_rich_style("note-editor--cursor")
        at = min(self.cursor, end) - start
        under = line[at : at + 1] if self.cursor < end else " "
        return Strip(
            [
                Segment(line[:at], base),
                Segment(under, cursor),
                Segment(line[at + len(under) :] if self.cursor < end else "", base),
            ]
        )

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        line = self._line_of(self.cursor)
        top = self.scroll_offset.y
        height = max(1, self.scrollable_content_region.height)
        if line < top:
            self.scroll_to(y=line, animate=False, immediate=True)
        elif line >= top + height:
            self.scroll_to(y=line - height + 1, animate=False, immediate=True)

    # -- keys and the mouse -------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        action = self.KEYS.get(event.key)
        if action is not None:
            getattr(self, f"action_{action}")()
        elif event.is_printable and event.character:
            self.insert(event.character)
        else:
            return  # Tab, Escape, Ctrl+S: the screen's
        event.stop()
        event.prevent_default()

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self._last_edit = ""
        self.insert(event.text)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        line = min(offset.y + self.scroll_offset.y, len(self._spans) - 1)
        self._move(self._index_at(line, offset.x))

    def _move(self, index: int) -> None:
        self._last_edit = ""
        self.cursor = max(0, min(index, len(self._text)))
        self._scroll_to_cursor()
        self.refresh()

    def action_left(self) -> None:
        self._move(self.cursor - 1)

    def action_right(self) -> None:
        self._move(self.cursor + 1)

    def _vertical(self, step: int) -> None:
        line = self._line_of(self.cursor) + step
        if 0 <= line < len(self._spans):
            self._move(self._index_at(line, self._column_of(self.cursor)))

    def action_up(self) -> None:
        self._vertical(-1)

    def action_down(self) -> None:
        self._vertical(1)

    def action_line_start(self) -> None:
        self._move(self._spans[self._line_of(self.cursor)][0])

    def action_line_end(self) -> None:
        self._move(self._spans[self._line_of(self.cursor)][1])

    def action_text_start(self) -> None:
        self._move(0)

    def action_text_end(self) -> None:
        self._move(len(self._text))

    def action_delete_left(self) -> None:
        if self.cursor > 0:
            self._remember("back")
            at = self.cursor
            self._set(self._text[: at - 1] + self._text[at:], at - 1)

    def action_delete_right(self) -> None:
        if self.cursor < len(self._text):
            self._remember("delete")
            at = self.cursor
            self._set(self._text[:at] + self._text[at + 1 :], at)

    def action_new_line(self) -> None:
        self.insert("\n")

    def action_undo(self) -> None:
        self._step(self._undo, self._redo)

    def action_redo(self) -> None:
        self._step(self._redo, self._undo)

    def _step(self, back_to: list[_State], keep_in: list[_State]) -> None:
        """The text as `back_to`'s last state had it; the present kept in `keep_in`."""
        if back_to:
            keep_in.append(_State(self._text, self.cursor))
            state = back_to.pop()
            self._last_edit = ""
            self._set(state.text, state.cursor)


def _plain(text: str) -> str:
    """Line breaks as `\\n`, tabs as a space: a tab's width would depend on the terminal."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
