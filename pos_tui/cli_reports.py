"""`pos-tui report` and `pos-tui export` (registered on the main command group)."""

from __future__ import annotations
