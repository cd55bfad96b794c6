"""The QR code as terminal text: two rows of modules per line, in half blocks.

Drawn dark on light whatever the terminal's theme (the screen styles it black on white):
phone cameras read dark modules on a light ground, and many cannot read the inverse.
"""

from __future__ import annotations

QUIET = 2
"""Modules of light border; the widget's white padding adds to it."""
_CELLS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


def qr_text(data: str) -> str:
    import segno

    code = segno.make(data, error="l", micro=False)
    rows = [[bool(module) for module in row] for row in code.matrix_iter(border=QUIET)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    lines = [
        "".join(_CELLS[top, bottom] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(rows[0::2], rows[1::2], strict=True)
    ]
    return "\n".join(lines)
