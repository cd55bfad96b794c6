"""Settings the app honours: keys remapped by binding id, the theme kept between runs."""

from __future__ import annotations

import json
from pathlib import Path

from pos_tui.config import Settings, load_settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import LocalStore
from pos_tui.ui.screens.runner import RunnerScreen
from tests.helpers.ui import key_bar_text, settle, technician_app


async def test_a_keymap_from_the_settings_moves_an_action_to_another_key(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path, session: Session
) -> None:
    settings = Settings(technician="张伟", keymap={"item.na": "x"})
    app = technician_app(store, checklists, tmp_path, settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.push_screen(RunnerScreen(store.load(session.uuid)))
        await settle(app, pilot)
        runner = app.screen
        assert isinstance(runner, RunnerScreen)
        await pilot.press("j", "j", "j")  # onto the optional shield: n/a needs no reason
        key = runner.current_key
        await pilot.press("x")
        await settle(app, pilot)
        assert key is not None and runner.session.answer(*key).outcome is Outcome.NA  # type: ignore[union-attr]
        assert "x N/A" in key_bar_text(runner)


async def test_the_theme_chosen_is_saved_and_used_next_time(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path, info: VisitInfo
) -> None:
    app = technician_app(store, checklists, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.theme = "nord"
        await settle(app, pilot)
    saved = load_settings(tmp_path / "settings.json")
    assert saved.theme == "nord"
    assert json.loads((tmp_path / "settings.json").read_text("utf-8"))["theme"] == "nord"
    again = technician_app(store, checklists, tmp_path, settings=saved)
    async with again.run_test(size=(80, 24)) as pilot:
        assert again.theme == "nord"
