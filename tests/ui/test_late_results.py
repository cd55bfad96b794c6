"""A result that arrives while the app shuts down is not shown: the screens' widgets are
being taken down, and showing it would fail on them (`base._while_running`)."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from pathlib import Path

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.store.local import LocalStore
from pos_tui.ui.screens.base import PosScreen
from tests.helpers.ui import settle, technician_app


class _Asking(PosScreen[None]):
    """Asks for a result that comes only as the screen is taken down with the app."""

    def __init__(self) -> None:
        super().__init__()
        self.answer: Future[str] = Future()
        self.told: list[str] = []

    def on_mount(self) -> None:
        self.when_done(self.answer, self.told.append)

    def on_unmount(self) -> None:
        self.answer.set_result("too late")


async def _loop_has_run_what_is_queued() -> None:
    """Everything queued on the loop from a thread so far has run (it runs in order)."""
    done = asyncio.Event()
    asyncio.get_running_loop().call_soon_threadsafe(done.set)
    await done.wait()


async def test_a_result_told_from_a_worker_after_the_app_shut_down_is_not_shown(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en", settings=Settings(technician="李娜"))
    told: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tell = app.screen.from_worker(told.append)
        tell("while running")
        await _loop_has_run_what_is_queued()
        assert told == ["while running"]
    tell("after the app shut down")
    await _loop_has_run_what_is_queued()
    assert told == ["while running"]


async def test_a_result_that_comes_while_the_screens_are_taken_down_is_not_shown(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    app = technician_app(store, checklists, tmp_path, "en", settings=Settings(technician="李娜"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = _Asking()
        await app.push_screen(screen)
        await settle(app, pilot)
        assert screen.told == []
    await _loop_has_run_what_is_queued()
    assert screen.answer.done()
    assert screen.told == []
