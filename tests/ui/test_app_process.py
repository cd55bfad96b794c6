"""The real app in a real terminal: answer, SIGKILL, start again, resume with every answer."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.services.technician import Services
from pos_tui.store.local import LocalStore
from pos_tui.store.storage import read_json_document
from pos_tui.ui.app import make_app

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_CHECKLISTS = ROOT / "tests" / "fixtures" / "checklists"
DEADLINE_S = 60


class Terminal:
    """pos-tui running in a pseudo-terminal, as a technician's terminal emulator runs it."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pos_tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b""

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        """Keep the terminal drained until `condition` holds; fail after a generous deadline."""
        deadline = time.monotonic() + DEADLINE_S
        while not condition():
            if time.monotonic() > deadline or self.process.poll() is not None:
                tail = self.seen[-2000:].decode("utf-8", "replace")
                raise AssertionError(f"never saw {what}; the screen ended with:\n{tail}")
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                with contextlib.suppress(OSError):  # the app closed its end
                    self.seen += os.read(self.master, 65536)

    def wait_for_text(self, text: str) -> None:
        self.wait_for(lambda: text.encode() in self.seen, repr(text))

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=DEADLINE_S)
        os.close(self.master)


def app_env(tmp_path: Path) -> dict[str, str]:
    """The environment of the real app in a test: its own settings, the fixture checklists."""
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(json.dumps({"technician": "张伟", "language": "en"}), "utf-8")
    return dict(
        os.environ,
        POS_TUI_CONFIG_FILE=str(settings_file),
        POS_TUI_CHECKLISTS=str(FIXTURE_CHECKLISTS),
        TERM="xterm-256color",
    )


def saved_answers(folder: Path, uuid: str) -> list[dict[str, object]]:
    document = read_json_document(folder / "visits" / f"{uuid}.json") or {}
    [visit] = document["visit"].values()
    return list(visit["answers"])


async def test_killed_app_resumes_with_every_saved_answer(
    tmp_path: Path, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    session = draft_visit(folder, checklists)
    env = app_env(tmp_path)
    terminal = Terminal(["--data-dir", str(folder), "run"], env)
    try:
        terminal.wait_for_text("Laowang Noodles")
        terminal.type("\r")  # resume the unfinished visit
        terminal.wait_for_text("Chip and PIN")
        # Chip and PIN needs its values: start on the next item, whose pass needs none.
        terminal.type("j")
        for count in (1, 2, 3):
            terminal.type("p")
            terminal.wait_for(
                lambda count=count: len(saved_answers(folder, session.uuid)) == count,
                f"{count} saved answers",
            )
    finally:
        terminal.kill()
    on_disk = saved_answers(folder, session.uuid)
    assert [a["outcome"] for a in on_disk] == [Outcome.PASS] * 3

    with LocalStore.open(folder) as store:
        app = make_app(Services(store, checklists, Settings(technician="张伟")), "en")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            await pilot.pause()
            resumed = app.screen.session  # type: ignore[attr-defined]
            assert len(resumed.answers) == 3
            assert {(a["checklist_id"], a["item_id"]) for a in on_disk} == set(resumed.answers)
            # Work carries on at the item after the last one answered.
            assert app.screen.current_key == resumed.next_unanswered(resumed.position)  # type: ignore[attr-defined]


def test_a_burst_of_typing_lands_in_the_right_fields(tmp_path: Path) -> None:
    """A barcode scanner or a fast typist: Enter and the next field's text in one burst."""
    folder = tmp_path / "data"
    env = app_env(tmp_path)
    terminal = Terminal(["--data-dir", str(folder), "run"], env)
    try:
        terminal.wait_for_text("No unfinished visits")
        terminal.type("n")
        terminal.wait_for_text("Merchant name")
        # With slips corrected in the same burst (Backspace; Left, Delete, a digit, End): a
        # binding's key would run after the characters behind it.
        terminal.type("Laowang Noodlez\x7fs\r310104000000001\r2024009\x1b[D\x1b[3~0\x1b[F1\r\x13")

        def started() -> bool:
            if not (folder / "index.json").exists():
                return False
            with LocalStore.open(folder, read_only=True) as store:
                return bool(store.drafts())

        terminal.wait_for(started, "the visit to start")
    finally:
        terminal.kill()
    with LocalStore.open(folder, read_only=True) as store:
        [draft] = store.drafts()
    assert (draft.merchant_name, draft.merchant_number, draft.terminal_number) == (
        "Laowang Noodles",
        "310104000000001",
        "20240001",
    )


def test_a_chinese_note_typed_in_the_real_terminal_is_saved_as_typed(
    tmp_path: Path, checklists: list[Checklist]
) -> None:
    """The note's own editor in a real terminal: what an input method commits (Chinese
    characters and full-width marks as UTF-8), Enter for a new line, a bracketed paste,
    Backspace; saved with Ctrl+S, exactly as typed."""
    folder = tmp_path / "data"
    session = draft_visit(folder, checklists)
    terminal = Terminal(["--data-dir", str(folder), "run"], app_env(tmp_path))
    try:
        terminal.wait_for_text("Laowang Noodles")
        terminal.type("\r")  # resume the unfinished visit
        terminal.wait_for_text("Chip and PIN")
        terminal.type("j")
        terminal.type("f")  # fail: the note dialog, on the note
        terminal.wait_for_text("Ctrl+S")
        # In one burst, as a fast typist's or an input method's keys come: each in order.
        terminal.type("小票未打印，已重试（两次）")
        terminal.type("\r")
        terminal.type("\x1b[200~商户确认。\x1b[201~")  # a paste, as the terminal sends it
        terminal.type("错\x7f")  # a slip, and Backspace
        terminal.type("\x13")  # ctrl+s
        terminal.wait_for(
            lambda: len(saved_answers(folder, session.uuid)) == 1, "the answer to be saved"
        )
    finally:
        terminal.kill()
    [answer] = saved_answers(folder, session.uuid)
    assert answer["outcome"] == Outcome.FAIL
    assert answer["note"] == "小票未打印，已重试（两次）\n商户确认。"


def draft_visit(folder: Path, checklists: list[Checklist]) -> Session:
    info = VisitInfo(
        merchant_name="Laowang Noodles",
        merchant_number="310104000000001",
        terminal_number="20240001",
        technician="张伟",
        capabilities=("chip", "contactless", "printer"),
    )
    with LocalStore.open(folder) as store:
        session = Session.start(info, checklists)
        store.create(session)
    return session


def test_quitting_headless_with_saves_queued_exits_and_keeps_them(
    tmp_path: Path, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    session = draft_visit(folder, checklists)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.helpers.quit_while_saving",
            str(folder),
            str(FIXTURE_CHECKLISTS),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "exited 3"
    assert [a["outcome"] for a in saved_answers(folder, session.uuid)] == [Outcome.PASS] * 3


def test_quitting_in_a_terminal_right_after_answering_keeps_every_answer(
    tmp_path: Path, checklists: list[Checklist]
) -> None:
    """The keys and ctrl+q arrive in one burst: the saves are still on their way at the quit."""
    folder = tmp_path / "data"
    session = draft_visit(folder, checklists)
    env = app_env(tmp_path)
    terminal = Terminal(["--data-dir", str(folder), "run"], env)
    try:
        terminal.wait_for_text("Laowang Noodles")
        terminal.type("\r")
        terminal.wait_for_text("Chip and PIN")
        terminal.type("jppp\x11")  # \x11: ctrl+q
        terminal.wait_for(lambda: terminal.process.poll() is not None, "the app to exit")
    finally:
        if terminal.process.poll() is None:
            terminal.kill()
        else:
            os.close(terminal.master)
    assert terminal.process.returncode == 0
    assert [a["outcome"] for a in saved_answers(folder, session.uuid)] == [Outcome.PASS] * 3


def test_a_photo_dragged_onto_the_real_terminal_is_attached_and_lets_the_item_pass(
    tmp_path: Path, evidence_checklists: list[Checklist]
) -> None:
    """The terminal sends a dropped file's path as a bracketed paste: the item gets it."""
    import shutil

    from tests.helpers.photos import jpeg

    checklist_folder = tmp_path / "checklists"
    checklist_folder.mkdir()
    for source in (ROOT / "tests" / "fixtures" / "evidence").glob("*.yaml"):
        shutil.copy(source, checklist_folder)
    folder = tmp_path / "data"
    session = draft_visit(folder, [c for c in evidence_checklists if c.id == "site-photos"])
    photo = tmp_path / "门头 照片.jpg"
    photo.write_bytes(jpeg(5))
    env = app_env(tmp_path) | {"POS_TUI_CHECKLISTS": str(checklist_folder)}
    terminal = Terminal(["--data-dir", str(folder), "run"], env)

    def visit() -> dict[str, object]:
        document = read_json_document(folder / "visits" / f"{session.uuid}.json") or {}
        [found] = document["visit"].values()
        return dict(found)

    try:
        terminal.wait_for_text("Laowang Noodles")
        terminal.type("\r")
        terminal.wait_for_text("Storefront")
        terminal.type("p")  # refused: the photo is not there yet
        terminal.wait_for_text("(0 attached)")
        # Quoted, as file managers drop a name with a space in it.
        terminal.type(f"\x1b[200~'{photo}'\x1b[201~")
        terminal.wait_for(lambda: bool(visit().get("evidence")), "the photo to be attached")
        terminal.type("p")
        terminal.wait_for(lambda: bool(visit()["answers"]), "the pass to be saved")
    finally:
        terminal.kill()
    [entry] = visit()["evidence"]  # type: ignore[misc]
    assert entry["files"][0]["name"] == "门头 照片.jpg"
    assert visit()["answers"][0]["outcome"] == Outcome.PASS  # type: ignore[index]
