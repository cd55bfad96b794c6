"""What the main screens look like, in both languages (pytest --snapshot-update to renew)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from textual.pilot import Pilot

from pos_tui.config import Settings
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.services.review import ReviewServices
from pos_tui.services.technician import Services
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import SharedSource
from pos_tui.store.sync import sync
from pos_tui.ui.app import PosApp, make_app
from pos_tui.ui.screens.runner import RunnerScreen
from tests.helpers.ui import settle
from tests.helpers.visits import save_answer, save_sign

CHINA = timezone(timedelta(hours=8))
CLOCK_NOTE = (
    "终端时间比北京时间慢了5分钟，已在管理菜单中重新同步，商户确认小票时间正确（重启后复查）"
)
SnapCompare = Callable[..., bool]


def ticking_clock(start: datetime) -> Callable[[], datetime]:
    moments = iter(start + timedelta(seconds=37 * n) for n in range(10_000))
    return lambda: next(moments)


@pytest.fixture
def visit_store(
    tmp_path: Path, checklists: list[Checklist]
) -> Iterator[tuple[LocalStore, Session]]:
    info = VisitInfo(
        merchant_name="上海老王面馆",
        merchant_number="310104000000001",
        terminal_number="20240001",
        technician="张伟",
        capabilities=("chip", "pinpad", "printer"),
    )
    with LocalStore.open(tmp_path / "data") as store:
        finished = Session.start(
            info, checklists, clock=ticking_clock(datetime(2026, 11, 20, 9, tzinfo=CHINA))
        )
        finished.uuid = "3479f53c-c5e2-421c-b1b4-6d0416457c83"  # the review detail shows it
        store.create(finished)
        for item_id in ("chip-pin", "void"):
            values = {"reference": "000012345678", "amount": "0.01", "last4": "1234"}
            save_answer(
                store,
                finished,
                "card",
                item_id,
                Outcome.PASS,
                values=values if item_id == "chip-pin" else None,
            )
        save_answer(store, finished, "receipt", "masked", Outcome.PASS)
        save_answer(store, finished, "receipt", "clock", Outcome.FAIL, note="终端时间慢了5分钟")
        save_sign(store, finished, "张伟", "王老板")
        draft = Session.start(
            info, checklists, clock=ticking_clock(datetime(2026, 11, 26, 14, tzinfo=CHINA))
        )
        store.create(draft)
        save_answer(store, draft, "card", "void", Outcome.FAIL, note="撤销后小票未打印")
        save_answer(store, draft, "card", "shield", Outcome.NA)
        save_answer(store, draft, "receipt", "clock", Outcome.FAIL, note=CLOCK_NOTE)
        yield store, draft


def app_for(store: LocalStore, checklists: list[Checklist], tmp_path: Path, lang: str) -> PosApp:
    settings = Settings(technician="张伟", device_id="laptop-1")
    services = Services(
        store,
        checklists,
        settings,
        settings_path=tmp_path / "settings.json",
        clock=lambda: datetime(2026, 11, 26, 14, 12, 34, tzinfo=CHINA),
    )
    return make_app(services, lang)


async def open_runner_on(pilot: Pilot[None], draft: Session, key: tuple[str, str]) -> None:
    await pilot.app.push_screen(RunnerScreen(draft, start_at=key))
    await pilot.pause()


# The home screen changes with the work orders on it: its snapshots come last (see the end).


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_runner(
    snap_compare: SnapCompare, visit_store, checklists, tmp_path: Path, lang: str
) -> None:  # type: ignore[no-untyped-def]
    store, draft = visit_store

    async def open_runner(pilot: Pilot[None]) -> None:
        await pilot.app.push_screen(RunnerScreen(store.load(draft.uuid)))
        await pilot.pause()

    app = app_for(store, checklists, tmp_path, lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_runner)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_note(
    snap_compare: SnapCompare, visit_store, checklists, tmp_path: Path, lang: str
) -> None:  # type: ignore[no-untyped-def]
    """The fail dialog of the clock item, opened on its long note: the beginning shows."""
    store, draft = visit_store

    async def open_note(pilot: Pilot[None]) -> None:
        await open_runner_on(pilot, store.load(draft.uuid), ("receipt", "clock"))
        await pilot.press("f")
        await pilot.pause()

    app = app_for(store, checklists, tmp_path, lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_note)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_summary(
    snap_compare: SnapCompare, visit_store, checklists, tmp_path: Path, lang: str
) -> None:  # type: ignore[no-untyped-def]
    """Two failures, one of them with a long Chinese note, and the open items."""
    store, draft = visit_store

    async def open_summary(pilot: Pilot[None]) -> None:
        await pilot.app.push_screen(RunnerScreen(store.load(draft.uuid)))
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()

    app = app_for(store, checklists, tmp_path, lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_summary)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sign_off(
    snap_compare: SnapCompare, visit_store, checklists, tmp_path: Path, lang: str
) -> None:  # type: ignore[no-untyped-def]
    """Signing an incomplete visit: the warning and the confirmation box."""
    store, draft = visit_store

    async def open_sign_off(pilot: Pilot[None]) -> None:
        await pilot.app.push_screen(RunnerScreen(store.load(draft.uuid)))
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()

    app = app_for(store, checklists, tmp_path, lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_sign_off)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_new_visit(
    snap_compare: SnapCompare, visit_store, checklists, tmp_path: Path, lang: str
) -> None:  # type: ignore[no-untyped-def]
    store, _ = visit_store

    async def open_new_visit(pilot: Pilot[None]) -> None:
        await settle(pilot.app, pilot)  # type: ignore[arg-type]
        await pilot.press("n")
        await settle(pilot.app, pilot)  # type: ignore[arg-type]

    app = app_for(store, checklists, tmp_path, lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_new_visit)


@pytest.fixture
def review_services(visit_store) -> Iterator[ReviewServices]:  # type: ignore[no-untyped-def]
    """The finished visit synced into a shared store at a fixed path: the list's sub-title
    names the folder, so a temporary one would make every run's picture different."""
    store, _ = visit_store
    folder = Path(tempfile.gettempdir()) / "pos-tui-snapshots" / "shared"
    shutil.rmtree(folder.parent, ignore_errors=True)
    folder.mkdir(parents=True)
    sync(store, folder, create=True)
    services = ReviewServices(SharedSource(folder))
    yield services
    services.close()
    shutil.rmtree(folder.parent, ignore_errors=True)


async def checked_list(pilot: Pilot[None]) -> None:
    from pos_tui.ui.screens.review_list import ReviewListScreen

    await settle(pilot.app, pilot)  # type: ignore[arg-type]
    screen = pilot.app.screen
    assert isinstance(screen, ReviewListScreen)
    for _ in range(500):  # the integrity pass runs in child processes: wait for its answer
        if screen.integrity_done:
            break
        await pilot.pause(0.01)
    await pilot.pause()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_review_list(snap_compare: SnapCompare, review_services: ReviewServices, lang: str) -> None:
    app = make_app(None, lang, review=review_services)
    assert snap_compare(app, terminal_size=(80, 24), run_before=checked_list)


def test_review_detail(snap_compare: SnapCompare, review_services: ReviewServices) -> None:
    async def open_detail(pilot: Pilot[None]) -> None:
        await checked_list(pilot)
        pilot.app.screen.query_one("#review-table").focus()
        await pilot.press("enter")
        await settle(pilot.app, pilot)  # type: ignore[arg-type]

    app = make_app(None, "en", review=review_services)
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_detail)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_home(
    snap_compare: SnapCompare, visit_store, checklists, tmp_path: Path, lang: str
) -> None:  # type: ignore[no-untyped-def]
    store, _ = visit_store

    async def shown(pilot: Pilot[None]) -> None:
        await settle(pilot.app, pilot)  # type: ignore[arg-type]

    app = app_for(store, checklists, tmp_path, lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=shown)


@pytest.mark.parametrize("columns", [60, 80, 100])
async def test_no_line_of_the_main_screens_starts_with_a_stop_mark(
    visit_store, checklists, tmp_path: Path, columns: int
) -> None:  # type: ignore[no-untyped-def]
    """Every widget's drawn lines on the counter's screens, in Chinese, at three widths:
    none starts with `，`, `。`, a closing bracket or the like (the rule of
    `domain/line_breaking.py`, wherever Rich or Textual would fold by cells)."""
    from tests.helpers.ui import lines_starting_with_a_mark

    store, draft = visit_store
    app = app_for(store, checklists, tmp_path, "zh")
    seen = []
    async with app.run_test(size=(columns, 120)) as pilot:  # tall: the whole item list
        await settle(app, pilot)
        seen.append(("home", lines_starting_with_a_mark(app.screen)))
        await open_runner_on(pilot, store.load(draft.uuid), ("receipt", "clock"))
        seen.append(("runner", lines_starting_with_a_mark(app.screen)))
        await pilot.press("f")
        await pilot.pause()
        seen.append(("note", lines_starting_with_a_mark(app.screen)))
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        seen.append(("summary", lines_starting_with_a_mark(app.screen)))
        await pilot.press("ctrl+s")
        await pilot.pause()
        seen.append(("sign-off", lines_starting_with_a_mark(app.screen)))
    assert [name for name, _ in seen] == ["home", "runner", "note", "summary", "sign-off"]
    assert all(not found for _, found in seen), seen
