"""The cyclic garbage collector, held off while an app starts.

Starting the app imports some four hundred modules and builds its first screen: a great
many allocations, each hundred of which can start a collection, and the collector's passes
over everything alive find next to nothing to free, as nearly all of it lives as long as
the app. Measured on the review list on PostgreSQL (2 cores): ready in 0.97 s held, 1.07 s
not. So an app command holds the collector from its start until its first screen has
shown its data; then what is alive is frozen (the collector no longer walks it) and the
collector runs again on what comes after.
"""

from __future__ import annotations

import gc

_held = False


def hold() -> None:
    """Hold the collector off until `release`."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release() -> None:
    """Freeze what is alive now, and let the collector run again if `hold` stopped it.

    Called each time a screen has shown what lives as long as it does (the list's rows);
    the first time, it ends the hold.
    """
    gc.freeze()
    end_hold()


def end_hold() -> None:
    """Let the collector run again if `hold` stopped it, freezing nothing: the app's last
    resort, for a start whose first screen never showed its data."""
    global _held
    if _held:
        _held = False
        gc.enable()
