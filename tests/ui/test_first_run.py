"""The first start asks the technician's name, and says how to confirm it."""

from __future__ import annotations

from pathlib import Path

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.store.local import LocalStore
from pos_tui.ui.screens.first_run import FirstRunScreen
from tests.helpers.ui import settle, static_text, technician_app


async def test_the_first_run_dialog_says_that_enter_confirms_in_both_languages(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    for lang, said in (("en", "press Enter"), ("zh", "按 Enter 确认")):
        app = technician_app(store, checklists, tmp_path, lang, settings=Settings())
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert isinstance(app.screen, FirstRunScreen)
            assert said in static_text(app.screen, "#first-run-confirm")
            await pilot.press(*"李娜", "enter")
            await settle(app, pilot)
            assert not isinstance(app.screen, FirstRunScreen)
            assert app.services.settings.technician == "李娜"


async def test_ctrl_q_quits_from_the_first_run_dialog_and_every_other(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path
) -> None:
    """Textual keeps the app's own keys from a modal screen: someone who started the app by
    mistake could not leave it without typing a name."""
    app = technician_app(store, checklists, tmp_path, "en", settings=Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, FirstRunScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running
    assert app.services.settings.technician == ""
