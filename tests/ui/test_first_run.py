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
