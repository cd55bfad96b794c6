"""Times as a printed report shows them: in the zone of the computer that prints it.

A record keeps each time as ISO 8601 with the offset of the laptop that wrote it
(`2026-12-01T07:30:50+00:00` from a laptop left on UTC). On paper that offset is noise
in every cell, and two visits' times only compare once they are in one zone; so the
report shows `2026-12-01 15:30` in the printing computer's zone and names the zone once
(`zone_name`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo


def laptop_zone() -> tzinfo:
    """The zone of this computer now (its TZ setting), as a fixed offset."""
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None  # astimezone() always gives an aware time
    return zone


def _parsed(stamp: str, zone: tzinfo) -> datetime | None:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        # A time without an offset (hand-edited, or from an older record) cannot be moved
        # to another zone without guessing which one it was written in.
        return None
    return moment.astimezone(zone)


def local_time(stamp: str, zone: tzinfo) -> str:
    """`2026-12-01T07:30:50+00:00` as `2026-12-01 15:30` in `zone`; "" stays "".

    A stamp that is not an ISO time with an offset is shown as it is, the `T` made a space:
    a report prints what the record says rather than dropping it."""
    if not stamp:
        return ""
    moment = _parsed(stamp, zone)
    if moment is None:
        return stamp.replace("T", " ")
    return moment.strftime("%Y-%m-%d %H:%M")


def local_clock(stamp: str, day_of: str, zone: tzinfo) -> str:
    """Only `15:30` when `stamp` falls on the same local day as `day_of` (the visit's
    start, which the visit table gives with its date), else the date and the time."""
    moment, day = _parsed(stamp, zone), _parsed(day_of, zone)
    if moment is None or day is None or moment.date() != day.date():
        return local_time(stamp, zone)
    return moment.strftime("%H:%M")


def zone_name(zone: tzinfo) -> str:
    """`UTC+08:00`, `UTC-05:00`, `UTC+00:00`: an offset reads the same in every language,
    where zone names ("CST") are ambiguous and differ from system to system."""
    offset = datetime.now(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"
