"""Shared fixtures: real checklist files, real stores in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import LocalStore

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
