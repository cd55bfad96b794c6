"""What the home screen and the palette must tell the technician, in the right words."""

from __future__ import annotations

import gc
import json
from pathlib import Path

from pos_tui import startup_gc
from pos_tui.config import load_settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Session
from pos_tui.store.local import LocalStore
from tests.helpers.ui import settle, static_text, technician_app


def test_a_device_id_made_up_on_first_run_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"technician": "张伟"}), "utf-8")
    first = load_settings(path)
    assert first.device_id
    assert load_settings(path).device_id == first.device_id
    assert json.loads(path.read_text("utf-8"))["device_id"] == first.device_id


async def test_damaged_visit_files_found_at_start_are_shown_on_home(
    tmp_path: Path, checklists: list[Checklist], session: Session, store: LocalStore
) -> None:
    folder = store.folder
    store.close()
    (folder / "visits" / f"{session.uuid}.json").write_text('{"visit": {"1": [', "utf-8")
    with LocalStore.open(folder) as reopened:
        assert reopened.report.damaged
        app = technician_app(reopened, checklists, tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            line = static_text(app.screen, "#damaged")
            assert "1 visit file(s) are damaged" in line and "pos-tui recover" in line
            assert app.screen.query_one("#damaged").display


async def test_the_palette_in_chinese_lists_our_commands_in_chinese_only(
    tmp_path: Path, checklists: list[Checklist], store: LocalStore
) -> None:
    app = technician_app(store, checklists, tmp_path, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "退出" in titles and "帮助：所有按键" in titles
        assert any(title.startswith("新建访问") for title in titles)
        framework = {"Keys", "Maximize", "Minimize", "Screenshot", "Theme", "Quit"}
        assert framework.isdisjoint(titles)


async def test_the_collector_held_while_the_app_starts_runs_again_once_home_shows(
    tmp_path: Path, checklists: list[Checklist], store: LocalStore
) -> None:
    app = technician_app(store, checklists, tmp_path, "en")
    startup_gc.hold()  # as `pos-tui run` does
    try:
        assert not gc.isenabled()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert gc.isenabled()
    finally:
        gc.enable()
