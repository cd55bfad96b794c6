"""The review list's first page, read from PostgreSQL by a child process while the app
starts (`services/first_page.py`, `services/review_start.py`), on a real server.

The child only helps: what it reads must be what this process would read, a store it
cannot open is said in the same sentence, and a child that cannot start, or answers
nonsense, leaves the review to open and read the store itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pos_tui.cli import main
from pos_tui.services.first_page import FirstPageReader
from pos_tui.services.review_pages import PageQuery, read_page
from pos_tui.services.review_start import start_review
from pos_tui.store.sources import SharedSource
from pos_tui.store.storage import StoreError
from tests.helpers.bank import Bank, demo_bank

VISITS = 12


@pytest.fixture
def bank(pg_url: str, tmp_path: Path) -> Bank:
    return demo_bank(tmp_path, pg_url, VISITS, "李主管")


def shown(rows: list) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return [(row.key, row.review_state, row.technician) for row in rows]


def test_the_childs_page_is_the_page_this_process_reads(bank: Bank) -> None:
    reader = FirstPageReader(str(bank.shared), bank.reviewer)
    names = reader.opened()
    found = reader.page()
    assert names is not None and names[bank.reviewer_key.fingerprint] == "李主管"
    assert found is not None
    source = SharedSource(bank.shared, bank.reviewer)
    try:
        page, checked = read_page(
            source.store, source.keyring, PageQuery(), None, source.record_sha256_of
        )
    finally:
        source.close()
    assert len(found.page.rows) == VISITS
    assert shown(found.page.rows) == shown(page.rows)
    assert found.page.matched == page.matched == VISITS
    assert found.checked == checked


def test_the_review_names_its_reviewer_before_this_process_opens_the_store(bank: Bank) -> None:
    services = start_review(bank.shared, bank.reviewer)
    try:
        assert services.first_page is not None and not services.source.is_open
        assert services.reviewer == "李主管"
        services.prefetch()
        page = services.page(PageQuery()).result()
        assert page is not None and len(page.rows) == VISITS
        assert services.first_page is None  # its child is done, and gone
        # The first call that needs the store opens this process's own connection.
        assert services.count(page.query.filter).result() == (VISITS, VISITS)
        assert services.source.is_open and services.reviewer == "李主管"
    finally:
        services.close()


def test_a_store_the_child_cannot_open_is_said_before_the_app_starts(
    pg_url: str, tmp_path: Path
) -> None:
    # A database with no pos-tui schema: the sentence is the store's own.
    with pytest.raises(StoreError) as child_said:
        start_review(pg_url, tmp_path / "reviewer")
    with pytest.raises(StoreError) as here:
        SharedSource(pg_url, tmp_path / "reviewer")
    assert str(child_said.value) == str(here.value)
    assert child_said.value.zh == here.value.zh
    said = CliRunner().invoke(
        main,
        ["review", "--store", pg_url, "--data-dir", str(tmp_path / "reviewer")],
        env={"POS_TUI_CONFIG_FILE": str(tmp_path / "settings.json")},
    )
    assert said.exit_code == 1
    assert str(here.value) in said.output and "Traceback" not in said.output


def stand_in(tmp_path: Path, says: str) -> str:
    """An "interpreter" that prints `says` whatever it is asked: a child gone wrong."""
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\ncat > /dev/null\nprintf '{says}'\n", encoding="utf-8")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(
    "child", ["missing", "nonsense", "no page"], ids=["cannot start", "nonsense", "no page"]
)
def test_a_child_gone_wrong_costs_speed_not_the_list(
    bank: Bank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, child: str
) -> None:
    if child == "missing":
        executable = str(tmp_path / "no-such-python")
    elif child == "nonsense":
        executable = stand_in(tmp_path, "<html>502</html>\\n")
    else:
        executable = stand_in(tmp_path, '{"names": {}}\\nnot a pickle')
    monkeypatch.setattr(sys, "executable", executable)
    services = start_review(bank.shared, bank.reviewer)
    monkeypatch.undo()  # the integrity checkers start real children
    try:
        assert services.reviewer_key is not None
        if child == "no page":  # the hello came, the page did not: read here
            assert services.first_page is not None and services.reviewer == ""
        else:  # no hello: opened here at once, as without a child
            assert services.first_page is None and services.source.is_open
            assert services.reviewer == "李主管"
        services.prefetch()
        page = services.page(PageQuery()).result()
        assert page is not None and len(page.rows) == VISITS
        assert services.source.is_open
    finally:
        services.close()
