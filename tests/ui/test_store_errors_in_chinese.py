"""A store's trouble is told in the UI's language: no English sentence in the Chinese UI."""

from __future__ import annotations

import errno
from pathlib import Path

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Session
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import SharedBusy, SharedMissing
from pos_tui.store.storage import StoreDamaged, StoreWriteFailed
from pos_tui.store.writer_lock import StoreLocked
from pos_tui.ui.screens.base import error_text
from tests.helpers.ui import settle, technician_app
from tests.helpers.visits import signed_with_a_failure


async def test_syncing_to_a_share_that_is_not_there_says_so_in_chinese(
    store: LocalStore, checklists: list[Checklist], session: Session, tmp_path: Path
) -> None:
    signed_with_a_failure(store, session)
    gone = tmp_path / "共享盘" / "pos"
    settings = Settings(technician="张伟", device_id="laptop-1", shared_store=str(gone))
    app = technician_app(store, checklists, tmp_path, "zh", settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        await settle(app, pilot)
        [said] = [n.message for n in app._notifications if n.severity == "error"]
    assert said.startswith("找不到共享存储文件夹") and "U 盘" in said
    assert not any("a" <= ch <= "z" for ch in said.replace(str(gone), ""))


def test_every_store_error_a_technician_can_meet_has_its_chinese(tmp_path: Path) -> None:
    errors = [
        SharedMissing(tmp_path),
        SharedBusy(tmp_path, 30),
        StoreDamaged(tmp_path / "index.json", "not JSON"),
        StoreWriteFailed(tmp_path / "index.json", OSError(errno.ENOSPC, "No space left")),
        StoreLocked(tmp_path, None),
    ]
    for error in errors:
        chinese, english = error_text(error, "zh"), error_text(error, "en")
        assert chinese != english and english == str(error)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese), chinese
    assert "another" not in error_text(StoreLocked(tmp_path, None), "zh")
