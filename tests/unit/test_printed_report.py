"""The HTML report printed on A4 by a real browser, read back as the bank's clerk reads it.

A realistic visit (the shipped checklists, in Chinese, with failures, photos on the items
that ask for them, a supervisor's decision) is recorded on a laptop whose clock says UTC
and printed on one in Beijing; Debian's chromium prints it to PDF (`--print-to-pdf`,
which lays out `@page` and its margin boxes as the print dialog does) and pdftotext
reads each page back. Skipped only where chromium or the poppler tools are absent: .ci/run
installs both.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pos_tui.demo import SMART_TERMINAL
from pos_tui.demo import _answer as demo_answer
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.reports.report import write_report
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import open_source
from pos_tui.store.sync import sync
from tests.helpers.bank import open_bank
from tests.helpers.photos import jpeg
from tests.helpers.visits import laptop_key, save_answer, save_attach, save_sign

ROOT = Path(__file__).resolve().parents[2]
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOTEXT = shutil.which("pdftotext")
PDFINFO = shutil.which("pdfinfo")
pytestmark = pytest.mark.skipif(
    BROWSER is None or PDFTOTEXT is None or PDFINFO is None,
    reason="needs chromium and poppler-utils (pdftotext, pdfinfo) to print and read the PDF",
)

UTC = UTC
STARTED = datetime(2026, 12, 1, 7, 20, 0, tzinfo=UTC)  # 15:20 in Beijing
# What a phone in Beijing writes: its own clock and offset, quoted as such by the report.
TAKEN = datetime(2026, 12, 1, 15, 31, 10, tzinfo=timezone(timedelta(hours=8)))
FAILED = {
    ("card-acceptance", "same-day-void"): "撤销后没有打印小票，需复测",
    ("receipt-printing", "print-quality"): "打印模糊，已更换热敏纸，仍偏淡",
    ("data-backup", "settlement-totals"): "结算超时，备用链路切换后仍未成功",
}


def zone(tz: str) -> None:
    """The computer's zone, as the TZ variable sets it (POSIX form: no tzdata needed)."""
    import os

    os.environ["TZ"] = tz
    time.tzset()


def shipped_checklists() -> list[Checklist]:
    result = load_checklists([ROOT / "checklists"])
    assert result.ok, result.problems
    return result.checklists


def clock(start: datetime, rng: random.Random) -> Callable[[], datetime]:
    moment = [start]

    def tick() -> datetime:
        moment[0] += timedelta(seconds=rng.randrange(20, 70))
        return moment[0]

    return tick


def record_visit(store: LocalStore) -> Session:
    """Every applicable item answered as a technician would, three of them failed."""
    rng = random.Random(19)
    info = VisitInfo(
        job_type="new_install",
        merchant_name="上海老王面馆 & <小吃>",
        registered_name="上海老王餐饮管理有限公司",
        merchant_number="310104000000001",
        credit_code="91350100M000100Y43",
        mcc="5812",
        terminal_number="20240001",
        terminal_serial="PA0012345678",
        model="PAX A920",
        capabilities=SMART_TERMINAL,
        sim_iccid="8986001234567890120",
        site_address="上海市徐汇区漕溪北路 88 号",
        merchant_contact="13800000000",
        technician="张伟",
        device_id="laptop-07",
        language="zh",
    )
    session = Session.start(info, shipped_checklists(), clock=clock(STARTED, rng))
    store.create(session)
    photo = 0
    for checklist in session.checklists:
        for item in checklist.items:
            if not session.applies(item):
                continue
            key = (checklist.id, item.id)
            if key in FAILED:
                save_answer(store, session, *key, Outcome.FAIL, note=FAILED[key])
                continue
            if item.evidence is not None and item.evidence.needed:
                photo += 1
                shot = jpeg(photo, TAKEN + timedelta(minutes=photo), (31.188, 121.437))
                save_attach(store, session, *key, [(f"IMG_{photo:04d}.jpg", shot)])
            # The demo's answers: values that pass each field's checks (the demo keeps no
            # photos, so it is asked about the item as if it needed none).
            outcome, note, values = demo_answer(
                replace(item, evidence=None), rng, 0.0, session.info
            )
            save_answer(store, session, *key, outcome, note=note, values=values)
    save_sign(store, session, "张伟", "王老板", signer=laptop_key(store))
    return session


@dataclass
class Printed:
    html: str
    pages: list[str]
    """Each page's text, whitespace collapsed (pdftotext spaces CJK as it likes)."""
    pdf: Path
    uuid: str


def print_to_pdf(html: Path, pdf: Path) -> None:
    assert BROWSER is not None
    done = subprocess.run(
        [
            BROWSER,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and pdf.exists(), done.stderr


def page_count(pdf: Path) -> int:
    assert PDFINFO is not None
    info = subprocess.run([PDFINFO, str(pdf)], capture_output=True, text=True, check=True)
    found = re.search(r"^Pages:\s+(\d+)$", info.stdout, re.MULTILINE)
    assert found, info.stdout
    return int(found.group(1))


def pages_of(pdf: Path) -> list[str]:
    assert PDFTOTEXT is not None
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    # pdftotext ends every page with a form feed.
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return [re.sub(r"\s+", "", page) for page in pages]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Printed]:
    import os

    before = os.environ.get("TZ")
    tmp = tmp_path_factory.mktemp("printed")
    try:
        zone("UTC0")  # the laptop that recorded the visit
        bank = open_bank(tmp, reviewer_name="李主管")
        with LocalStore.open(tmp / "data") as store:
            session = record_visit(store)
            bank.trust_laptop(store.folder)
            sync(store, bank.shared, create=True)
        bank.decide_at(session.uuid, "has_issues", "请复测撤销交易", "2026-12-02T02:15:00+00:00")
        zone("CST-8")  # the computer in Beijing that prints it
        source = open_source(bank.shared)
        try:
            [row] = source.rows()
            record = source.record(row)
        finally:
            source.close()
        out: dict[str, Printed] = {}
        for lang in ("zh", "en"):
            html = write_report(record, tmp / f"report.{lang}.html", lang=lang)
            pdf = tmp / f"report.{lang}.pdf"
            print_to_pdf(html, pdf)
            out[lang] = Printed(html.read_text("utf-8"), pages_of(pdf), pdf, session.uuid)
        return out
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


NUMBERING = {
    "zh": re.compile(r"第(\d+)页/共(\d+)页"),
    "en": re.compile(r"Page(\d+)of(\d+)"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_has_its_number_and_the_visit_id(printed: dict[str, Printed], lang: str) -> None:
    report = printed[lang]
    count = page_count(report.pdf)
    # The visit's 40-odd items, photos and boxes take several pages, not one squeezed page
    # and not a page per table.
    assert 3 <= count <= 12, count
    assert len(report.pages) == count
    for number, page in enumerate(report.pages, start=1):
        assert report.uuid in page, f"page {number} lacks the visit id"
        found = NUMBERING[lang].findall(page)
        assert found == [(str(number), str(count))], (number, found)


def test_the_first_page_has_the_verdict_and_the_integrity_statement(
    printed: dict[str, Printed],
) -> None:
    first = printed["zh"].pages[0]
    assert "结论" in first and "不通过" in first
    assert "记录完整性：签名有效，与签署时的内容一致" in first
    english = printed["en"].pages[0]
    assert "VerdictFail" in english
    assert "Recordintegrity:signaturevalid:thecontentassigned" in english


def test_times_are_local_and_the_zone_is_named_once(printed: dict[str, Printed]) -> None:
    report = printed["zh"]
    text = "".join(report.pages)
    assert "+00:00" not in text and "+00:00" not in report.html
    # Recorded at 07:20 UTC; printed in Beijing: 15:20, said once to be UTC+08:00.
    assert "开始时间2026-12-0115:2" in text
    assert text.count("UTC+08:00") == 1
    assert "2026-12-0210:15" in text  # the supervisor's decision, 02:15 UTC


def test_the_signature_and_stamp_boxes_are_whole_on_one_page(
    printed: dict[str, Printed],
) -> None:
    for lang, labels in (
        ("zh", ["技术员签字", "商户签字", "商户盖章", "日期"]),
        ("en", ["Technician'ssignature", "Merchant'ssignature", "Merchant'sstamp", "Date"]),
    ):
        pages = printed[lang].pages
        holding = [n for n, page in enumerate(pages) if labels[2] in page]
        assert len(holding) == 1, (lang, holding)
        page = pages[holding[0]]
        for label in labels:
            assert label in page, (lang, label)
        heading = "签字与盖章" if lang == "zh" else "Signaturesandstamp"
        assert heading in page


def test_numbers_are_never_broken_across_lines(printed: dict[str, Printed]) -> None:
    """Read with the layout kept: each identifier whole on one line of some page."""
    assert PDFTOTEXT is not None
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(printed["zh"].pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for number in ("310104000000001", "8986001234567890120", "91350100M000100Y43"):
        assert number in text, number
    # Every 12-digit reference the technician captured is on one line.
    shown = re.sub(r"<[^>]+>", "", printed["zh"].html)
    references = set(re.findall(r"参考号：(\d{12})", shown))
    assert references
    for reference in references:
        assert reference in text, reference
