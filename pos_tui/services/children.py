"""Child processes of the review side (the integrity checkers, the first page's reader):
each runs this very pos_tui, installed or run from a checkout."""

from __future__ import annotations

import os
from pathlib import Path


def child_env() -> dict[str, str]:
    """The environment of a child: this one, with this pos_tui first on the import path."""
    here = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])
    return os.environ | {"PYTHONPATH": path}
