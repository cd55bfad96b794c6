"""One altered record, and every place that shows it says so: the review list and detail,
the HTML and Markdown reports, the JSON and CSV exports.

The tampering is the one that once split them: a failed answer turned into a pass in a
synced record on the share, and only the visit's own content hash recomputed to match.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import Input, Static

from pos_tui.cli import main
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.services import review as review_services
from pos_tui.services.review import ReviewServices
from pos_tui.store import checklist_copies
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import SharedStore
from pos_tui.store.sources import SharedSource
from pos_tui.store.sync import sync
from pos_tui.ui.app import PosApp, make_app
from pos_tui.ui.screens.review_detail import ReviewDetailScreen
from pos_tui.ui.screens.review_list import ReviewListScreen
from pos_tui.ui.widgets.review_table import ReviewTable
from tests.helpers.bank import open_bank
from tests.helpers.visits import save_answer, save_sign

VISITS = 4
TAMPERED = "20240002"
"""The terminal number of the visit whose record is edited on the share."""


def make_visits(folder: Path, info: VisitInfo, checklists: list[Checklist]) -> list[Session]:
    made = []
    with LocalStore.open(folder) as store:
        laptop = ensure_key(folder, DEVICE)[0]
        for n in range(1, VISITS + 1):
            session = Session.start(replace(info, terminal_number=f"2024000{n}"), checklists)
            store.create(session)
            save_answer(store, session, "card", "void", Outcome.FAIL, note="撤销后没有打印小票")
            save_answer(store, session, "receipt", "masked", Outcome.PASS)
            save_sign(store, session, info.technician, "王老板", signer=laptop)
            made.append(session)
    return made


def pass_the_failure_on_the_share(shared: Path) -> dict[str, Any]:
    """Edit the batch line in place: the failed answer passes, and the visit's own
    content_sha256 is recomputed. The index row and the "signed" event are left alone."""
    [row] = [r for r in SharedStore(shared).rows() if r["terminal_number"] == TAMPERED]
    path = shared / "batches" / row["batch"]
    data = bytearray(path.read_bytes())
    start, end = row["offset"], row["offset"] + row["length"]
    document = json.loads(data[start:end].decode("utf-8"))
    [visit] = document["visit"].values()
    [answer] = [a for a in visit["answers"] if a["item_id"] == "void"]
    assert answer["outcome"] == "fail"
    answer["outcome"] = "pass"
    checklists = [checklist_copies.load(shared, ref["sha256"]) for ref in visit["checklists"]]
    events = [document["events"][k] for k in sorted(document["events"], key=int)]
    visit["content_sha256"] = Session.from_dict(visit, checklists, events).content_hash()
    line = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert len(line) <= row["length"]
    # Padded to the old length, so the index's offsets still point at whole records.
    data[start:end] = line + b" " * (row["length"] - len(line))
    path.write_bytes(bytes(data))
    return row


@pytest.fixture
def shared(tmp_path: Path, info: VisitInfo, checklists: list[Checklist]) -> Path:
    """A bank's store: every visit signed by a laptop the administrator trusts."""
    bank = open_bank(tmp_path)
    make_visits(tmp_path / "data", info, checklists)
    bank.trust_laptop(tmp_path / "data")
    with LocalStore.open(tmp_path / "data") as store:
        assert len(sync(store, bank.shared).pushed.added) == VISITS
    return bank.shared


def text_of(screen: Any, selector: str) -> str:
    content = screen.query_one(selector, Static).content
    if isinstance(content, str):
        return content
    console = Console(width=116, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


def column(screen: ReviewListScreen, key: str) -> list[str]:
    table = screen.query_one("#review-table", ReviewTable)
    index = table.get_column_index(key)
    return [str(table.get_cell_at(Coordinate(i, index))) for i in range(table.row_count)]


async def until(pilot: Pilot[None], done: Any, seconds: float = 60.0) -> None:
    """The integrity pass runs in another process: wait for it, without a fixed sleep."""
    for _ in range(int(seconds / 0.05)):
        if done():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


async def settle(app: PosApp, pilot: Pilot[None]) -> None:
    await asyncio.to_thread(app.review.worker.flush)
    await pilot.pause()
    await pilot.pause()


def invoke(*args: str) -> str:
    done = CliRunner().invoke(main, list(args))
    assert done.exit_code == 0, done.output
    return done.output


async def test_an_altered_record_is_altered_everywhere(shared: Path, tmp_path: Path) -> None:
    row = pass_the_failure_on_the_share(shared)
    uuid = row["uuid"]
    reports = tmp_path / "reports"
    services = ReviewServices(SharedSource(shared), reports_dir=reports)

    # -- the review list and detail, on the real app
    app = make_app(None, "en", review=services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReviewListScreen) and screen.loaded
        await until(pilot, lambda: screen.integrity_done)
        by_terminal = dict(
            zip(column(screen, "terminal"), column(screen, "integrity"), strict=True)
        )
        assert by_terminal.pop(TAMPERED) == "ALTERED"
        assert set(by_terminal.values()) == {"Verified"}
        assert "1 untrusted" in text_of(screen, "#review-count")
        screen.sort("integrity")
        assert screen.matches[0].terminal_number == TAMPERED  # worst first
        assert column(screen, "integrity")[0] == "ALTERED"
        await pilot.press("i")
        await pilot.pause()
        assert [r.terminal_number for r in screen.matches] == [TAMPERED]
        await pilot.press("i")
        await pilot.pause()
        assert len(screen.matches) == VISITS

        screen.query_one("#filter-text", Input).focus()
        await pilot.press(*TAMPERED, "enter", "enter")
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, ReviewDetailScreen)
        banner = detail.query_one("#detail-banner", Static)
        assert banner.display and banner.has_class("-altered")
        said = text_of(detail, "#detail-banner")
        assert "ALTERED AFTER SIGNING" in said
        assert "the hash the shared index recorded at sync" in said
        await pilot.press("ctrl+r")  # the report the supervisor prints from the screen
        await settle(app, pilot)
    [from_screen] = reports.glob("*.html")

    # -- both report formats, and both exports, from the same share
    html = from_screen.read_text("utf-8")
    markdown = invoke(
        "report", uuid, "--store", str(shared), "--format", "md", "--lang", "en", "--out", "-"
    )
    cli_html = invoke(
        "report", uuid, "--store", str(shared), "--format", "html", "--lang", "en", "--out", "-"
    )
    for page in (html, cli_html):
        assert 'data-state="altered"' in page
        assert "WARNING: this record was changed after it was signed" in page
        assert "matches the content as signed" not in page
    assert "DOES NOT MATCH" in markdown and "WARNING: this record was changed" in markdown
    assert "matches the content as signed" not in markdown

    out = tmp_path / "visits.json"
    invoke("export", "--store", str(shared), "--format", "json", "--out", str(out))
    documents = {d["uuid"]: d for d in json.loads(out.read_text("utf-8"))}
    tampered = documents.pop(uuid)
    assert tampered["integrity"]["state"] == "altered"
    assert "index_differs" in tampered["integrity"]["reasons"]
    assert tampered["content_matches"] is False
    assert {d["integrity"]["state"] for d in documents.values()} == {"verified"}
    assert {d["content_matches"] for d in documents.values()} == {True}

    out = tmp_path / "visits.csv"
    invoke("export", "--store", str(shared), "--format", "csv", "--out", str(out))
    with open(out, encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    states = {r["visit_uuid"]: set() for r in rows}
    for r in rows:
        states[r["visit_uuid"]].add((r["integrity"], r["integrity_reasons"]))
    assert states.pop(uuid) == {("altered", "index_differs; signed_event_differs; signature_fails")}
    assert set().union(*states.values()) == {("verified", "")}


async def test_the_list_shows_before_any_record_is_checked(
    shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkers that never answer: the list is there all the same, saying "checking"."""
    monkeypatch.setattr(
        review_services, "_integrity_executor", lambda: review_services._Checkers(0)
    )
    app = make_app(None, "en", review=ReviewServices(SharedSource(shared)))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReviewListScreen) and screen.loaded
        assert len(screen.matches) == VISITS and not screen.integrity_done
        assert set(column(screen, "integrity")) == {"checking"}
        assert f"integrity: checking 0/{VISITS}" in text_of(screen, "#review-count")
        # Opening a visit checks that one at once, and its row says so on the way back.
        screen.query_one("#filter-text", Input).focus()
        await pilot.press(*TAMPERED, "enter", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewDetailScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert column(screen, "integrity") == ["Verified"]


async def test_checkers_that_cannot_start_cost_speed_not_results(
    shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pass_the_failure_on_the_share(shared)
    monkeypatch.setattr(review_services, "_CHILD", "raise SystemExit(3)")
    app = make_app(None, "en", review=ReviewServices(SharedSource(shared)))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReviewListScreen)
        await until(pilot, lambda: screen.integrity_done)
        by_terminal = dict(
            zip(column(screen, "terminal"), column(screen, "integrity"), strict=True)
        )
        assert by_terminal.pop(TAMPERED) == "ALTERED"
        assert set(by_terminal.values()) == {"Verified"}


async def test_a_reload_checks_again(shared: Path) -> None:
    app = make_app(None, "en", review=ReviewServices(SharedSource(shared)))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReviewListScreen)
        await until(pilot, lambda: screen.integrity_done)
        assert set(column(screen, "integrity")) == {"Verified"}
        assert "all verified" in text_of(screen, "#review-count")
        pass_the_failure_on_the_share(shared)
        await pilot.press("f5")
        await settle(app, pilot)
        await until(pilot, lambda: screen.integrity_done)
        by_terminal = dict(
            zip(column(screen, "terminal"), column(screen, "integrity"), strict=True)
        )
        assert by_terminal[TAMPERED] == "ALTERED"
