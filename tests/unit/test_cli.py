"""The command line, run as a user would: exit codes, messages, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pos_tui import __version__
from pos_tui.cli import main
from pos_tui.domain.session import Outcome, Session
from pos_tui.store.local import LocalStore
from tests.helpers.visits import save_answer

ROOT = Path(__file__).resolve().parents[2]


def pos_tui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_tui", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_version_and_help() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--version"]).output.strip() == f"pos-tui, version {__version__}"
    top = runner.invoke(main, ["--help"])
    assert top.exit_code == 0
    for command in main.commands:
        assert command in top.output
        sub = runner.invoke(main, [command, "--help"])
        assert sub.exit_code == 0 and "Usage: main " in sub.output, command


def test_validate_passes_on_the_shipped_checklists() -> None:
    done = pos_tui("validate")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok  ") == 8
    assert "card-acceptance version 1.1, 9 items" in done.stdout
    assert "relocation version 1.1, 4 items" in done.stdout


def test_validate_reports_every_problem_of_a_broken_folder(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "id: a\nversion: 1.10\ntitle: A\nitems: []\n", encoding="utf-8"
    )
    (tmp_path / "b.yaml").write_bytes(b"\xff\xfe garbage")
    (tmp_path / "c.yaml").write_text("id: [\n", encoding="utf-8")
    done = pos_tui("validate", str(tmp_path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines == [
        f"{tmp_path}/a.yaml:2:10: version: expected text, but YAML reads 1.10 as a number;"
        ' quote it: "1.10"',
        f"{tmp_path}/a.yaml:4:8: items: must not be empty",
        f"{tmp_path}/b.yaml:1:1: not UTF-8 text: save the file as UTF-8",
        f"{tmp_path}/c.yaml:2:1: invalid YAML: while parsing a flow node,"
        " did not find expected node content",
        "4 problems found.",
    ]


def test_demo_then_list(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    runner = CliRunner()
    made = runner.invoke(main, ["demo", "--sessions", "30", "--data-dir", str(folder)])
    assert made.exit_code == 0, made.output
    assert f"Added 30 signed visits to {folder}." in made.output
    listed = runner.invoke(main, ["list", "--json", "--data-dir", str(folder)])
    rows = json.loads(listed.output)
    assert len(rows) == 30
    assert {row["status"] for row in rows} == {"signed"}
    assert all(row["technician"] and row["merchant_name"] for row in rows)
    assert [r["updated_at"] for r in rows] == sorted((r["updated_at"] for r in rows), reverse=True)
    table = runner.invoke(main, ["list", "--data-dir", str(folder)], env={"COLUMNS": "140"})
    assert "30 visits." in table.output
    assert rows[0]["merchant_name"] in table.output


def test_list_filters_by_status(tmp_path: Path, info, checklists) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        draft = Session.start(info, checklists)
        store.create(draft)
        save_answer(store, draft, "card", "void", Outcome.FAIL, note="打印机缺纸")
    runner = CliRunner()
    drafts = json.loads(
        runner.invoke(
            main, ["list", "--status", "draft", "--json", "--data-dir", str(folder)]
        ).output
    )
    signed = json.loads(
        runner.invoke(
            main, ["list", "--status", "signed", "--json", "--data-dir", str(folder)]
        ).output
    )
    assert [(d["uuid"], d["answered"], d["failures"]) for d in drafts] == [(draft.uuid, 1, 1)]
    assert signed == []


def test_list_without_a_store_is_a_plain_error(tmp_path: Path) -> None:
    done = pos_tui("list", "--data-dir", str(tmp_path / "nowhere"))
    assert done.returncode == 1
    assert done.stderr.strip() == f"pos-tui: there is no local store at {tmp_path / 'nowhere'} yet."


def test_data_dir_from_the_environment(tmp_path: Path) -> None:
    import os

    env = dict(os.environ, POS_TUI_DATA_DIR=str(tmp_path / "envdata"))
    done = pos_tui("demo", "--sessions", "2", env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "envdata" / "index.json").exists()


@pytest.mark.parametrize("damaged", [b"", b"{not json"])
def test_damaged_store_is_a_plain_error_and_recover_restores(
    tmp_path: Path, damaged: bytes
) -> None:
    folder = tmp_path / "data"
    assert pos_tui("demo", "--sessions", "3", "--data-dir", str(folder)).returncode == 0
    assert (
        pos_tui("demo", "--sessions", "2", "--seed", "8", "--data-dir", str(folder)).returncode == 0
    )
    index = folder / "index.json"
    index.write_bytes(damaged)
    listed = pos_tui("list", "--data-dir", str(folder))
    assert listed.returncode == 1
    assert "Traceback" not in listed.stderr
    assert f"The store file {index} is damaged" in listed.stderr
    assert f"pos-tui recover {index}" in listed.stderr
    assert index.read_bytes() == damaged
    recovered = pos_tui("recover", str(index))
    assert recovered.returncode == 0, recovered.stderr
    assert "damaged file is kept as" in recovered.stdout
    relisted = pos_tui("list", "--json", "--data-dir", str(folder))
    assert len(json.loads(relisted.stdout)) == 3


def test_demo_refuses_a_folder_in_use(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    with LocalStore.open(folder):
        done = pos_tui("demo", "--sessions", "1", "--data-dir", str(folder))
    assert done.returncode == 1
    assert "is in use by process" in done.stderr
    assert "Traceback" not in done.stderr
