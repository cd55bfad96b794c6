"""Shared fixtures: real checklist files, real stores in tmp_path."""

from __future__ import annotations

import os
import uuid as uuid_module
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import LocalStore
from tests.pg_server import NoServer, PgServer

FIXTURES = Path(__file__).parent / "fixtures"
ALL_CAPABILITIES = ("chip", "magstripe", "contactless", "pinpad", "printer", "qr_display")


@pytest.fixture
def checklists() -> list[Checklist]:
    result = load_checklists([FIXTURES / "checklists"])
    assert result.ok, result.problems
    return result.checklists


@pytest.fixture
def info() -> VisitInfo:
    return VisitInfo(
        merchant_name="上海老王面馆",
        merchant_number="310104000000001",
        terminal_number="20240001",
        technician="张伟",
        capabilities=("chip", "pinpad", "printer"),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore.open(tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def session(store: LocalStore, info: VisitInfo, checklists: list[Checklist]) -> Session:
    started = Session.start(info, checklists)
    store.create(started)
    return started


@pytest.fixture
def evidence_checklists() -> list[Checklist]:
    """The card and receipt checklists, and one that asks for photos and a file."""
    result = load_checklists([FIXTURES / "evidence", FIXTURES / "checklists"])
    assert result.ok, result.problems
    return result.checklists


@pytest.fixture
def photo_session(
    store: LocalStore, info: VisitInfo, evidence_checklists: list[Checklist]
) -> Session:
    started = Session.start(info, evidence_checklists)
    store.create(started)
    return started


# -- a real PostgreSQL server, for the PostgreSQL shared store ---------------------------


def _pg_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("POS_TUI_REQUIRE_PG"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One server for the whole run, started on first use and stopped at the end. Skipped
    with the reason when none can be started here; a failure under CI or
    POS_TUI_REQUIRE_PG, where skipping would hide that nothing was tested."""
    try:
        server = PgServer.start()
    except NoServer as why:
        if _pg_required():
            pytest.fail(f"PostgreSQL is required here (CI or POS_TUI_REQUIRE_PG): {why}")
        pytest.skip(str(why))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database of that server for one test, dropped after it."""
    name = f"t_{uuid_module.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    try:
        yield url
    finally:
        pg_server.drop_database(name)


# -- both kinds of shared store: the same test against a folder and against PostgreSQL -----


@pytest.fixture(params=["folder", "pg"])
def shared_kind(request: pytest.FixtureRequest) -> str:
    """Which kind of shared store a test written once against a target runs on; a test
    that takes it runs twice (the pg run skips, saying why, where no server can start)."""
    return str(request.param)


@pytest.fixture
def shared_target(shared_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """Where a shared store of that kind is to be made, nothing made yet: a folder under
    tmp_path, or the URL of a fresh database (`pg_url`: no schema yet)."""
    if shared_kind == "pg":
        return str(request.getfixturevalue("pg_url"))
    return tmp_path / "shared"


@pytest.fixture
def empty_shared(shared_target: Path | str) -> Path | str:
    """An initialised, empty shared store of that kind, with no keyring (the store sync
    makes with `create=True`, or `PgSharedStore.init`)."""
    from tests.helpers.kinds import init_empty

    init_empty(shared_target)
    return shared_target
