"""Line breaking for Chinese (and the English mixed into it), measured in terminal cells.

Textual wraps at spaces and folds a run without spaces wherever the width runs out, so a
Chinese sentence could put `，` or `）` at the start of a line. The rules followed here are
those of Chinese typesetting (GB/T 15834, and the kinsoku rules CJK typesetting shares): no
line starts with a pause or stop mark or a closing bracket or quote, no line ends with an
opening one. A line may break between any two Chinese characters and at spaces; a run of
Latin letters or digits breaks only at its spaces, unless it is wider than a whole line.
When a mark would start a line, the character before it goes down with it.
"""

from __future__ import annotations

import unicodedata

NO_LINE_START = frozenset(
    "、，。．：；！？）］｝」』】》〉〕〗〙〛”’…‥·・ー々〻ゝゞヽヾ"
    "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
    ",.:;!?)]}%"
)
"""Marks that never start a line: pause and stop marks, closing brackets and quotes."""

NO_LINE_END = frozenset("（［｛「『【《〈〔〖〘〚“‘([{")
"""Marks that never end a line: opening brackets and quotes."""


def cell_width(character: str) -> int:
    """The cells a character takes in a terminal: two for wide (CJK) ones, none for
    combining marks and joiners."""
    if unicodedata.combining(character) or character in "\u200b\u200d\u2060\ufeff":
        return 0
    return 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1


def text_width(text: str) -> int:
    return sum(cell_width(character) for character in text)


def _breaks_around(character: str) -> bool:
    """A character a line may break before or after (a Chinese one, or a wide mark)."""
    return cell_width(character) == 2


def _units(paragraph: str) -> list[str]:
    """The pieces a line is made of and never split: one wide character, a run of narrow
    non-space characters (a word, a number), or a run of spaces."""
    units: list[str] = []
    for character in paragraph:
        if units:
            last = units[-1]
            same_kind = (
                (character == " ") == (last[-1] == " ")
                and not _breaks_around(character)
                and not _breaks_around(last[-1])
            )
            if same_kind:
                units[-1] = last + character
                continue
        units.append(character)
    return units


def _glued(units: list[str]) -> list[str]:
    """Units joined where no line may break between them: before a mark that may not
    start a line, after one that may not end it."""
    glued: list[str] = []
    join_next = False
    for unit in units:
        starts_forbidden = unit[0] in NO_LINE_START
        if glued and glued[-1][-1] != " " and unit[0] != " " and (join_next or starts_forbidden):
            glued[-1] += unit
        else:
            glued.append(unit)
        join_next = unit[-1] in NO_LINE_END
    return glued


def _fold(piece: str, width: int) -> list[str]:
    """A piece wider than a line, cut by cells: the last resort, as any wrapper does."""
    lines, line, used = [], "", 0
    for character in piece:
        size = cell_width(character)
        if line and used + size > width:
            lines.append(line)
            line, used = "", 0
        line += character
        used += size
    if line:
        lines.append(line)
    return lines


def wrap_paragraph(paragraph: str, width: int) -> list[str]:
    lines: list[str] = []
    line, used = "", 0
    for piece in _glued(_units(paragraph)):
        size = text_width(piece)
        if piece.startswith(" "):
            if line and used + size < width:
                line, used = line + piece, used + size
            elif line:
                lines.append(line)
                line, used = "", 0
            continue
        if used + size <= width:
            line, used = line + piece, used + size
            continue
        if line:
            lines.append(line.rstrip(" "))
        if size > width:
            *full, line = _fold(piece, width)
            lines.extend(full)
            used = text_width(line)
        else:
            line, used = piece, size
    lines.append(line.rstrip(" "))
    return lines


def wrap(text: str, width: int) -> list[str]:
    """`text` as lines of at most `width` cells (each paragraph of it on its own lines),
    broken where Chinese typesetting allows."""
    if width <= 0:
        return text.split("\n")
    return [line for paragraph in text.split("\n") for line in wrap_paragraph(paragraph, width)]


def narrowest(text: str) -> int:
    """The width of the widest piece of `text` that no line may break: the least width
    it can be drawn in without folding a piece."""
    return max(
        (
            text_width(piece)
            for paragraph in text.split("\n")
            for piece in _glued(_units(paragraph))
            if not piece.startswith(" ")
        ),
        default=0,
    )


def line_spans(text: str, width: int) -> list[tuple[int, int]]:
    """Where each line of `wrap(text, width)` lies in `text`: (start, end) indices, for an
    editor that must map its cursor to a line and back. A paragraph's first line starts
    at the paragraph (its leading spaces kept); the spaces a break swallows lie between one
    line's end and the next one's start. An empty text is one empty line; a width of 0 or
    less breaks no line, as `wrap`."""
    spans: list[tuple[int, int]] = []
    paragraph_start = 0
    for paragraph in text.split("\n"):
        paragraph_end = paragraph_start + len(paragraph)
        at = paragraph_start
        lines = wrap_paragraph(paragraph, width) if width > 0 else [paragraph]
        for number, line in enumerate(lines):
            found = text.find(line, at, paragraph_end) if line else at
            start = paragraph_start if number == 0 else found
            spans.append((start, found + len(line)))
            at = found + len(line)
        paragraph_start = paragraph_end + 1
    return spans
