"""The collector held off while an app starts (`pos_tui.startup_gc`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from pos_tui import startup_gc


@pytest.fixture(autouse=True)
def collector_running_after() -> Iterator[None]:
    yield
    gc.enable()


def test_a_hold_ends_at_the_first_release_and_later_ones_only_freeze() -> None:
    startup_gc.hold()
    assert not gc.isenabled()
    startup_gc.release()
    assert gc.isenabled()
    gc.disable()  # someone else's, not the start's hold
    startup_gc.release()
    assert not gc.isenabled()


def test_a_release_without_a_hold_leaves_the_collector_as_it_was() -> None:
    assert gc.isenabled()
    startup_gc.release()
    assert gc.isenabled()
    gc.disable()
    startup_gc.hold()  # already off: not the start's to turn back on
    startup_gc.release()
    assert not gc.isenabled()


def test_the_apps_last_resort_ends_the_hold_and_freezes_nothing() -> None:
    startup_gc.hold()
    frozen = gc.get_freeze_count()
    startup_gc.end_hold()
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    gc.disable()  # not the start's hold: left as it is
    startup_gc.end_hold()
    assert not gc.isenabled()
