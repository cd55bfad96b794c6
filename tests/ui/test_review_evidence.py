"""The supervisor's review of photos, on the real app over a bank's shared store: each
warning in the detail and as a list filter, the picture, and the viewer's verified copy.

The visits are made as a technician makes them: real JPEGs drawn in the test with EXIF
time and GPS written in, taken in through the one intake, signed by a trusted laptop and
synced; nothing of the store is mocked.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Select

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Session, local_now
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.services.review import ReviewServices
from pos_tui.store.evidence_files import EvidenceFiles
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import SharedSource
from pos_tui.store.sync import sync
from pos_tui.ui.app import PosApp, make_app
from pos_tui.ui.screens.review_detail import ReviewDetailScreen
from pos_tui.ui.screens.review_list import ReviewListScreen
from pos_tui.ui.widgets.evidence_picture import EvidencePicture
from tests.conftest import FIXTURES
from tests.helpers import photos
from tests.helpers.bank import open_bank
from tests.helpers.ui import settle
from tests.helpers.ui import static_text as text_of
from tests.helpers.visits import save_attach, save_sign

SHOP = (31.230400, 121.473700)
"""Where every visit is: the position the technician recorded."""
NEAR = (31.230900, 121.474100)  # about 65 m away: GPS in a street
FAR = (31.250000, 121.473700)  # about 2.2 km north


@dataclass(frozen=True)
class Made:
    shared: Path
    reviewer: Path
    photos: dict[str, bytes]
    """The photo attached to each visit's storefront item, by terminal number."""


CLEAN, SAME_1, SAME_2, RESAVED_1, RESAVED_2, EARLY, AWAY, BARE = (
    f"3100000{n}" for n in range(1, 9)
)


def the_photos(now: datetime) -> dict[str, bytes]:
    during = now + timedelta(minutes=2)
    shared_photo = photos.jpeg(seed=21, taken_at=during, position=NEAR)
    original = photos.jpeg(seed=22, taken_at=during, position=NEAR)
    return {
        CLEAN: photos.jpeg(seed=20, taken_at=during, position=NEAR),
        SAME_1: shared_photo,
        SAME_2: shared_photo,  # the same bytes: the storefront photo of another visit
        RESAVED_1: original,
        RESAVED_2: photos.resaved(original),  # re-saved: other bytes, the same picture
        EARLY: photos.jpeg(seed=23, taken_at=now - timedelta(hours=3), position=NEAR),
        AWAY: photos.jpeg(seed=24, taken_at=during, position=FAR),
        BARE: photos.jpeg(seed=25, exif=False),
    }


def make_store(root: Path, info: VisitInfo, checklists: list[Checklist]) -> Made:
    bank = open_bank(root)
    data = root / "data"
    made = the_photos(local_now())
    with LocalStore.open(data) as store:
        laptop = ensure_key(data, DEVICE)[0]
        for terminal, data_bytes in made.items():
            visit_info = replace(
                info,
                terminal_number=terminal,
                latitude=f"{SHOP[0]:.6f}",
                longitude=f"{SHOP[1]:.6f}",
            )
            session = Session.start(visit_info, checklists)
            store.create(session)
            save_attach(store, session, "site-photos", "storefront", [("IMG_1.jpg", data_bytes)])
            save_sign(store, session, info.technician, "王老板", signer=laptop)
    bank.trust_laptop(data)
    with LocalStore.open(data) as store:
        assert len(sync(store, bank.shared).pushed.added) == len(made)
    files = EvidenceFiles(bank.shared)
    for data_bytes in made.values():  # sync carried each photo, under its hash
        assert files.check(hashlib.sha256(data_bytes).hexdigest()) is None
    return Made(bank.shared, bank.reviewer, made)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    loaded = load_checklists([FIXTURES / "evidence", FIXTURES / "checklists"])
    assert loaded.ok, loaded.problems
    info = VisitInfo(
        merchant_name="上海老王面馆",
        merchant_number="310104000000001",
        terminal_number="31000001",
        technician="张伟",
        capabilities=("chip", "pinpad", "printer"),
    )
    return make_store(tmp_path_factory.mktemp("evidence"), info, loaded.checklists)


VIEWER = """
import hashlib, os, pathlib, sys
given = pathlib.Path(sys.argv[-1])
out = pathlib.Path(sys.argv[1])
part = out.with_suffix(".part")
part.write_text(given.name + "\\n" + hashlib.sha256(given.read_bytes()).hexdigest())
os.replace(part, out)
"""


def services(made: Made, shared: Path | None = None, **options: Any) -> ReviewServices:
    return ReviewServices(SharedSource(shared or made.shared, made.reviewer), **options)


async def until(pilot: Pilot[None], done: Any, seconds: float = 60.0) -> None:
    """The integrity pass runs in other processes, the viewer in another: wait for what
    they do, without a fixed sleep."""
    for _ in range(int(seconds / 0.05)):
        if done():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


async def listed(app: PosApp, pilot: Pilot[None]) -> ReviewListScreen:
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, ReviewListScreen) and screen.loaded
    await until(pilot, lambda: screen.integrity_done)
    return screen


async def opened(app: PosApp, pilot: Pilot[None], terminal: str) -> ReviewDetailScreen:
    screen = app.screen
    assert isinstance(screen, ReviewListScreen)
    [row] = [r for r in screen.rows if r.terminal_number == terminal]
    detail = ReviewDetailScreen(row, screen.decided)
    await app.push_screen(detail)
    await until(pilot, lambda: detail.evidence is not None)
    await until(pilot, lambda: detail.picture_ready)
    await settle(app, pilot)
    return detail


EXPECTED = {
    CLEAN: [],
    SAME_1: [f"the same file is in visit {SAME_2}"],
    SAME_2: [f"the same file is in visit {SAME_1}"],
    RESAVED_1: [f"a re-saved copy is in visit {RESAVED_2}"],
    RESAVED_2: [f"a re-saved copy is in visit {RESAVED_1}", "photo has no EXIF at all"],
    EARLY: ["outside the visit"],
    AWAY: ["km from the visit's position"],
    BARE: ["photo has no EXIF at all"],
}


async def test_each_warning_is_shown_in_the_detail_with_the_picture(made: Made) -> None:
    app = make_app(None, "en", review=services(made))
    async with app.run_test(size=(120, 60)) as pilot:
        await listed(app, pilot)
        for terminal, warnings in EXPECTED.items():
            detail = await opened(app, pilot, terminal)
            said = text_of(detail, "#detail-evidence", width=160)
            sha = hashlib.sha256(made.photos[terminal]).hexdigest()
            assert "Storefront with its signage" in said and "IMG_1.jpg" in said
            assert sha[:12] in said
            for warning in warnings:
                assert warning in said, (terminal, said)
            assert ("!" in said) == bool(warnings), (terminal, said)
            if terminal != BARE and terminal != RESAVED_2:
                assert "Xiaomi 14" in said and "taken " in said
            if terminal == CLEAN:
                assert "from the visit)" in said and " m from the visit" in said
            # The picture itself, decoded off the UI thread from the verified file.
            assert detail.query_one(EvidencePicture).shown == sha
            assert "File 1 of 1: IMG_1.jpg" in text_of(detail, "#detail-picture-caption")
            await pilot.press("escape")
            await pilot.pause()


async def test_the_detail_in_chinese(made: Made) -> None:
    app = make_app(None, "zh", review=services(made))
    async with app.run_test(size=(120, 60)) as pilot:
        await listed(app, pilot)
        detail = await opened(app, pilot, SAME_1)
        said = text_of(detail, "#detail-evidence", width=160)
        assert "门头照" in said and f"同一文件也在访问 {SAME_2}" in said
        assert "凭证（1）" in text_of(detail, "#detail-evidence-title")


FILTERS = {
    "any": {SAME_1, SAME_2, RESAVED_1, RESAVED_2, EARLY, AWAY, BARE},
    "reused": {SAME_1, SAME_2, RESAVED_1, RESAVED_2},
    "outside_time": {EARLY},
    "far_away": {AWAY},
    "no_exif": {BARE, RESAVED_2},
}


async def test_each_warning_is_a_list_filter(made: Made) -> None:
    app = make_app(None, "en", review=services(made))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await listed(app, pilot)
        # The pass delivers the photo warnings beside the integrity verdicts.
        await until(pilot, lambda: all(row.evidence is not None for row in screen.rows))
        assert "7 with photo warnings" in text_of(screen, "#review-count")
        select: Select[str] = screen.query_one("#filter-photos", Select)
        for choice, terminals in FILTERS.items():
            select.value = choice
            await pilot.pause()
            assert {row.terminal_number for row in screen.matches} == terminals, choice
        await pilot.press("c")  # clear: every visit again
        await pilot.pause()
        assert len(screen.matches) == len(EXPECTED)


async def test_the_viewer_is_handed_a_verified_copy(made: Made, tmp_path: Path) -> None:
    script = tmp_path / "viewer.py"
    script.write_text(VIEWER, "utf-8")
    out = tmp_path / "viewed.txt"
    review = services(made, viewer_command=[sys.executable, str(script), str(out)])
    app = make_app(None, "en", review=review)
    async with app.run_test(size=(120, 40)) as pilot:
        await listed(app, pilot)
        detail = await opened(app, pilot, CLEAN)
        assert "v Viewer" in str(detail.query_one("KeyBar").render())
        await pilot.press("v")
        await settle(app, pilot)
        await until(pilot, out.exists)
    name, digest = out.read_text("utf-8").splitlines()
    assert digest == hashlib.sha256(made.photos[CLEAN]).hexdigest()
    assert name.endswith(".jpg")  # the type's extension, so the viewer knows what it is


async def test_the_viewer_from_the_environment(
    made: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "viewer.py"
    script.write_text(VIEWER, "utf-8")
    out = tmp_path / "viewed.txt"
    monkeypatch.setenv("POS_TUI_VIEWER", f"{sys.executable} {script} {out}")
    app = make_app(None, "en", review=services(made))
    async with app.run_test(size=(120, 40)) as pilot:
        await listed(app, pilot)
        await opened(app, pilot, AWAY)
        await pilot.press("v")
        await settle(app, pilot)
        await until(pilot, out.exists)
    assert out.read_text("utf-8").splitlines()[1] == hashlib.sha256(made.photos[AWAY]).hexdigest()


@pytest.mark.parametrize("harm", ["replaced", "missing"])
async def test_a_replaced_or_missing_file_is_said_plainly(
    made: Made, tmp_path: Path, harm: str
) -> None:
    shared = Path(shutil.copytree(made.shared, tmp_path / "shared"))
    sha = hashlib.sha256(made.photos[CLEAN]).hexdigest()
    path = EvidenceFiles(shared).path(sha)
    os.chmod(path, 0o644)
    if harm == "replaced":
        path.write_bytes(photos.jpeg(seed=99))  # the same size or not: the hash says
    else:
        path.unlink()
    script = tmp_path / "viewer.py"
    script.write_text(VIEWER, "utf-8")
    out = tmp_path / "viewed.txt"
    review = services(made, shared, viewer_command=[sys.executable, str(script), str(out)])
    app = make_app(None, "en", review=review)
    async with app.run_test(size=(120, 60)) as pilot:
        await listed(app, pilot)
        detail = await opened(app, pilot, CLEAN)
        picture = detail.query_one(EvidencePicture)
        assert picture.shown is None
        said = text_of(detail, "#detail-picture Static")
        expected = "was replaced" if harm == "replaced" else "is missing from the shared store"
        assert said.startswith("Cannot show it") and expected in said
        assert "WARNING: the file" in text_of(detail, "#detail-evidence", width=160)
        assert detail.query_one("#detail-banner").has_class("-altered")
        await pilot.press("v")  # refused: the viewer never gets a file that is not the one
        await settle(app, pilot)
        assert not out.exists()


def test_the_picture_protocol_comes_from_the_environment() -> None:
    """textual-image asks the terminal when imported, which cannot work under a running
    Textual: the terminal's own variables (or POS_TUI_PICTURES) choose instead."""
    from pos_tui.ui.widgets.evidence_picture import CELLS, KITTY, SIXEL, protocol

    assert protocol({"TERM": "xterm-kitty"}) == KITTY
    assert protocol({"TERM": "xterm-256color", "KITTY_WINDOW_ID": "1"}) == KITTY
    assert protocol({"TERM": "foot"}) == SIXEL
    assert protocol({"TERM_PROGRAM": "WezTerm"}) == SIXEL
    assert protocol({"TERM": "xterm-256color"}) == CELLS
    assert protocol({"TERM": "xterm-kitty", "POS_TUI_PICTURES": "cells"}) == CELLS
