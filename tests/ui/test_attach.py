"""Attaching photos and files at the counter, driven with keys and pastes on a real store.

The visit is the fixture `photo_session`: site-photos (storefront: photo, 1 to 3, required;
serial-plate: photo, required; parameter-slip: file, optional) before the card and receipt
checklists. Every picture is a real JPEG made by the test, with EXIF.
"""

from __future__ import annotations

import json
import os
import shlex
import threading
from datetime import datetime, timedelta
from pathlib import Path

from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, SelectionList

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session
from pos_tui.store.local import LocalStore
from pos_tui.ui.app import PosApp
from pos_tui.ui.screens.attach import AttachScreen, FolderScreen
from pos_tui.ui.screens.runner import RunnerScreen
from tests.helpers.photos import jpeg, write
from tests.helpers.ui import key_bar_text, settle, static_text, technician_app

STOREFRONT = ("site-photos", "storefront")
SLIP = ("site-photos", "parameter-slip")
CHIP = ("card", "chip-pin")


def make(
    store: LocalStore, checklists: list[Checklist], tmp_path: Path, photo_folder: str = ""
) -> PosApp:
    settings = Settings(technician="张伟", device_id="laptop-1", photo_folder=photo_folder)
    return technician_app(store, checklists, tmp_path, "en", settings=settings)


async def runner_at(
    app: PosApp, pilot: Pilot[None], session: Session, key: tuple[str, str]
) -> RunnerScreen:
    await app.push_screen(RunnerScreen(session, start_at=key))
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunnerScreen)
    return screen


async def open_dialog(app: PosApp, pilot: Pilot[None]) -> AttachScreen:
    await pilot.press("a")
    await settle(app, pilot)
    dialog = app.screen
    assert isinstance(dialog, AttachScreen)
    return dialog


def messages(app: PosApp) -> list[str]:
    return [n.message for n in app._notifications]


def on_disk(store: LocalStore, session: Session, key: tuple[str, str]) -> list[str]:
    return [ref.name for ref in store.load(session.uuid).evidence_of(*key)]


async def test_a_typed_path_attaches_the_photo_and_the_item_counts_it(
    store, evidence_checklists, photo_session, tmp_path
):
    photo = write(tmp_path, "门头.jpg", jpeg(seed=1, taken_at=datetime.now().astimezone()))
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        runner = await runner_at(app, pilot, photo_session, STOREFRONT)
        assert "a Attach" in key_bar_text(runner)
        assert static_text(runner, "#detail-evidence-title") == "photos 0 of 1 needed"
        dialog = await open_dialog(app, pilot)
        assert dialog.focused is dialog.query_one("#attach-path", Input)
        await pilot.press(*str(photo), "enter")
        await settle(app, pilot)
        assert on_disk(store, photo_session, STOREFRONT) == ["门头.jpg"]
        assert static_text(dialog, "#attach-status") == "1 attached: 门头.jpg"
        files = dialog.query_one("#attach-files", OptionList)
        line = str(files.get_option_at_index(0).prompt)
        assert line.startswith("门头.jpg  ") and " KB  taken " in line
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is runner
        assert static_text(runner, "#detail-evidence-title") == "photos 1 of 1 needed"
        assert static_text(runner, "#detail-evidence").startswith("门头.jpg")
        prompt = runner.items.get_option(f"{STOREFRONT[0]}/{STOREFRONT[1]}").prompt
        assert "[1/1]" in "".join(cell.plain for cell in prompt.columns[1].cells)  # type: ignore[union-attr]


async def test_the_key_shows_only_on_items_that_take_evidence(
    store, evidence_checklists, photo_session, tmp_path
):
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        runner = await runner_at(app, pilot, photo_session, CHIP)
        assert "Attach" not in key_bar_text(runner)
        await pilot.press("a")
        await pilot.pause()
        assert app.screen is runner
        runner.jump_to(SLIP)
        await pilot.pause()
        assert "a Attach" in key_bar_text(runner)


async def test_pass_needs_the_photo_first_then_is_accepted(
    store, evidence_checklists, photo_session, tmp_path
):
    photo = write(tmp_path, "shop.jpg", jpeg(seed=2))
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        runner = await runner_at(app, pilot, photo_session, STOREFRONT)
        await pilot.press("p")
        await settle(app, pilot)
        assert any("press a to attach" in message for message in messages(app))
        assert store.load(photo_session.uuid).answer(*STOREFRONT) is None
        assert runner.items.current_key == STOREFRONT  # back on the item that needs it

        app.post_message(events.Paste(shlex.quote(str(photo))))
        await settle(app, pilot)
        assert on_disk(store, photo_session, STOREFRONT) == ["shop.jpg"]
        await pilot.press("p")
        await settle(app, pilot)
        answer = store.load(photo_session.uuid).answer(*STOREFRONT)
        assert answer is not None and answer.outcome is Outcome.PASS


async def test_a_paste_on_the_runner_attaches_dropped_files(
    store, evidence_checklists, photo_session, tmp_path
):
    folder = tmp_path / "dropped files"
    folder.mkdir()
    first = write(folder, "plate 1.jpg", jpeg(seed=3))
    second = write(folder, "plate 2.jpg", jpeg(seed=4))
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        runner = await runner_at(app, pilot, photo_session, STOREFRONT)
        # As a file manager drops two files on a terminal: quoted, on one line.
        app.post_message(events.Paste(f"{shlex.quote(str(first))} {shlex.quote(str(second))} "))
        await settle(app, pilot)
        assert on_disk(store, photo_session, STOREFRONT) == ["plate 1.jpg", "plate 2.jpg"]
        assert "2 attached: plate 1.jpg, plate 2.jpg" in messages(app)
        assert static_text(runner, "#detail-evidence-title") == "photos 2 of 1 needed"

        # Text that is not paths of files here is left alone: nothing saved, nothing said.
        before = len(messages(app))
        app.post_message(events.Paste("hello there"))
        app.post_message(events.Paste("/no/such/photo.jpg"))
        await settle(app, pilot)
        assert len(messages(app)) == before
        assert len(on_disk(store, photo_session, STOREFRONT)) == 2

        # On an item that takes no evidence, a paste is ignored too.
        runner.jump_to(CHIP)
        await pilot.pause()
        app.post_message(events.Paste(str(first)))
        await settle(app, pilot)
        assert store.load(photo_session.uuid).evidence_of(*CHIP) == ()


async def test_a_text_file_named_jpg_is_refused_and_the_good_photo_attached(
    store, evidence_checklists, photo_session, tmp_path
):
    fake = tmp_path / "fake.jpg"
    fake.write_text("not a picture at all\n", encoding="utf-8")
    good = write(tmp_path, "good.jpg", jpeg(seed=5))
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await runner_at(app, pilot, photo_session, STOREFRONT)
        dialog = await open_dialog(app, pilot)
        # A file manager's copy: one path a line, which Input alone would cut to one.
        app.post_message(events.Paste(f"{fake}\n{good}\n"))
        await pilot.pause()
        assert dialog.query_one("#attach-path", Input).value == (
            f"{shlex.quote(str(fake))} {shlex.quote(str(good))}"
        )
        # The worker held busy (a slow disk): the dialog says it is at work and stays usable.
        release = threading.Event()
        app.services.worker.submit(release.wait, 10)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert static_text(dialog, "#attach-status") == "Attaching 2 file(s)..."
        await pilot.press("x")
        assert dialog.query_one("#attach-path", Input).value == "x"
        release.set()
        await settle(app, pilot)
        assert on_disk(store, photo_session, STOREFRONT) == ["good.jpg"]
        assert static_text(dialog, "#attach-status") == "1 attached: good.jpg"
        refused = static_text(dialog, "#attach-refused")
        assert refused.startswith("fake.jpg is not a JPEG, PNG or HEIC photo or a PDF")


async def test_the_camera_folder_offers_pictures_since_the_visit_started_newest_first(
    store, evidence_checklists, photo_session, tmp_path
):
    camera = tmp_path / "DCIM" / "Camera"
    camera.mkdir(parents=True)
    started = datetime.fromisoformat(photo_session.created_at)
    pictures = {
        "IMG_old.jpg": started - timedelta(hours=2),
        "IMG_first.jpg": started + timedelta(minutes=3),
        "IMG_second.jpg": started + timedelta(minutes=9),
    }
    for seed, (name, moment) in enumerate(pictures.items()):
        path = write(camera, name, jpeg(seed=10 + seed, taken_at=moment))
        os.utime(path, (moment.timestamp(), moment.timestamp()))
    (camera / "notes.txt").write_text("not a picture", encoding="utf-8")
    app = make(store, evidence_checklists, tmp_path, photo_folder=str(tmp_path / "DCIM"))
    async with app.run_test(size=(100, 32)) as pilot:
        await runner_at(app, pilot, photo_session, STOREFRONT)
        dialog = await open_dialog(app, pilot)
        chooser = dialog.query_one("#attach-pictures", SelectionList)
        shown = [str(chooser.get_option_at_index(n).prompt) for n in range(chooser.option_count)]
        assert [line.split()[-1] for line in shown] == ["IMG_second.jpg", "IMG_first.jpg"]
        second = pictures["IMG_second.jpg"].astimezone()
        assert shown[0].startswith(f"{second:%H:%M:%S}  ") and " KB  " in shown[0]
        assert "2 since the visit started" in static_text(dialog, "#attach-folder")

        chooser.focus()
        await pilot.press("space", "down", "space", "ctrl+s")
        await settle(app, pilot)
        refs = store.load(photo_session.uuid).evidence_of(*STOREFRONT)
        assert [ref.name for ref in refs] == ["IMG_second.jpg", "IMG_first.jpg"]
        assert {ref.source for ref in refs} == {"folder"}
        assert chooser.selected == []


async def test_the_camera_folder_is_chosen_once_and_kept(
    store, evidence_checklists, photo_session, tmp_path
):
    camera = tmp_path / "phone"
    camera.mkdir()
    write(camera, "IMG_1.jpg", jpeg(seed=20))  # made now: after the visit started
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await runner_at(app, pilot, photo_session, STOREFRONT)
        dialog = await open_dialog(app, pilot)
        assert "No camera folder: Ctrl+O" in static_text(dialog, "#attach-folder")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, FolderScreen)
        # Dropped on the terminal: the path arrives quoted.
        app.post_message(events.Paste(shlex.quote(str(camera))))
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is dialog
        assert "1 since the visit started" in static_text(dialog, "#attach-folder")
        saved = json.loads((tmp_path / "settings.json").read_text("utf-8"))
        assert saved["photo_folder"] == str(camera)


async def test_a_missing_camera_folder_is_said_plainly(
    store, evidence_checklists, photo_session, tmp_path
):
    app = make(store, evidence_checklists, tmp_path, photo_folder=str(tmp_path / "unplugged"))
    async with app.run_test(size=(100, 32)) as pilot:
        await runner_at(app, pilot, photo_session, STOREFRONT)
        dialog = await open_dialog(app, pilot)
        assert "is not there: Ctrl+O chooses another" in static_text(dialog, "#attach-folder")


async def test_an_attached_file_is_removed(store, evidence_checklists, photo_session, tmp_path):
    first = write(tmp_path, "one.jpg", jpeg(seed=30))
    second = write(tmp_path, "two.jpg", jpeg(seed=31))
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        runner = await runner_at(app, pilot, photo_session, STOREFRONT)
        dialog = await open_dialog(app, pilot)
        assert "Remove" not in key_bar_text(dialog)  # nothing to remove yet
        dialog.query_one("#attach-path", Input).value = f"{first} {second}"
        await pilot.press("enter")
        await settle(app, pilot)
        assert on_disk(store, photo_session, STOREFRONT) == ["one.jpg", "two.jpg"]
        assert "^r Remove" in key_bar_text(dialog)
        dialog.query_one("#attach-files", OptionList).highlighted = 1
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert on_disk(store, photo_session, STOREFRONT) == ["one.jpg"]
        assert static_text(dialog, "#attach-status") == "Removed two.jpg"
        await pilot.press("escape")
        await pilot.pause()
        assert static_text(runner, "#detail-evidence-title") == "photos 1 of 1 needed"


async def test_the_dialog_speaks_chinese(store, evidence_checklists, photo_session, tmp_path):
    photo = write(tmp_path, "a.jpg", jpeg(seed=40))
    app = make(store, evidence_checklists, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        runner = await runner_at(app, pilot, photo_session, STOREFRONT)
        await pilot.press("f2")
        await pilot.pause()
        assert "a 附件" in key_bar_text(runner)
        assert static_text(runner, "#detail-evidence-title") == "照片 0/1"
        dialog = await open_dialog(app, pilot)
        assert static_text(dialog, "#attach-title") == "附件：门头照"
        await pilot.press(*str(photo), "enter")
        await settle(app, pilot)
        assert static_text(dialog, "#attach-status") == "已附上 1 个文件：a.jpg"
        assert static_text(dialog, "#attach-count").startswith("照片 1/1")
