"""Acceptance reports and exports, built from real stores on real files.

The golden files in tests/golden/ are the reports of one fixed visit; after a deliberate
change, regenerate them with `POS_TUI_UPDATE_GOLDEN=1 pytest tests/unit/test_reports.py`
and read the diff before committing.
"""

from __future__ import annotations

import csv
import difflib
import json
import os
import re
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pos_tui.cli import main
from pos_tui.cli import reports as cli_reports
from pos_tui.domain.checklist import Checklist
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.reports.export import CSV_COLUMNS, rows_since, write_csv, write_json
from pos_tui.reports.html import render_html
from pos_tui.reports.markdown import render_markdown
from pos_tui.reports.model import build_report
from pos_tui.reports.report import record_of, render_report, write_report
from pos_tui.reports.times import local_time
from pos_tui.store.keys import DEVICE
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import LocalSource, SharedSource, VisitRecord, find_row, open_source
from pos_tui.store.sync import sync
from tests.helpers.bank import fixed_key, open_bank
from tests.helpers.visits import save_answer, save_sign

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
UPDATE_GOLDEN = os.environ.get("POS_TUI_UPDATE_GOLDEN") == "1"
BEIJING = timezone(timedelta(hours=8))
VISIT_UUID = "5f0c2a9e-7d3b-4c1a-9e6f-2b8d4a1c0e37"
CARD = "4111 1111 1111 1111"  # a Luhn-valid test card number
VOID_NOTE = '撤销后没有打印小票 | 需复测 <b>"急"</b>'


@pytest.fixture(autouse=True)
def printed_in_beijing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Reports show times in the printing computer's zone: the golden files are printed
    in Beijing, where the fixture visit was recorded, whatever zone runs the tests."""
    monkeypatch.setenv("TZ", "CST-8")  # POSIX form: UTC+8, no tzdata needed
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def stepping_clock(start: datetime, step: timedelta = timedelta(minutes=2)) -> Callable[[], Any]:
    moment = [start]

    def clock() -> datetime:
        moment[0] += step
        return moment[0]

    return clock


def visit_info(**changes: Any) -> VisitInfo:
    base = VisitInfo(
        job_type="reactivation",
        reason="device_fault",
        merchant_name="上海老王面馆 & <小吃>",
        merchant_number="310104000000001",
        terminal_number="20240001",
        terminal_serial="PA0012345678",
        model="PAX A920",
        capabilities=("chip", "pinpad", "printer"),
        site_address="上海市徐汇区漕溪北路 88 号",
        merchant_contact="13800000000",
        technician="张伟",
        device_id="laptop-07",
        language="zh",
    )
    return replace(base, **changes)


def make_visit(
    store: LocalStore,
    checklists: list[Checklist],
    uuid: str = VISIT_UUID,
    info: VisitInfo | None = None,
    sign: bool = True,
) -> Session:
    """Failures (one major, one minor), an N/A answer, an item N/A by capability, Chinese."""
    start = datetime(2025, 3, 4, 9, 30, tzinfo=BEIJING)
    session = Session.start(info or visit_info(), checklists, clock=stepping_clock(start))
    session.uuid = uuid
    store.create(session)
    save_answer(
        store,
        session,
        "card",
        "chip-pin",
        Outcome.PASS,
        note="持卡人输入密码正常",
        values={"reference": "202503040001", "amount": "0.01", "last4": "1111"},
    )
    save_answer(store, session, "card", "void", Outcome.FAIL, note=VOID_NOTE)
    save_answer(store, session, "card", "shield", Outcome.NA, note="商户柜台已有遮挡")
    save_answer(store, session, "receipt", "masked", Outcome.PASS)
    save_answer(store, session, "receipt", "clock", Outcome.FAIL, note="终端时钟慢了7分钟")
    if sign:
        # One laptop key for every run, so the report's signer line is golden too.
        save_sign(store, session, "张伟", "王老板", signer=fixed_key(store.folder, DEVICE, 7))
    return session


@dataclass
class Stores:
    local: Path
    shared: Path
    uuid: str = VISIT_UUID


@pytest.fixture
def stores(tmp_path: Path, checklists: list[Checklist]) -> Stores:
    """The visit signed, synced, reviewed by a supervisor, the decision pulled back and the
    reviewed revision synced again: local and shared stores both hold the whole story."""
    bank = open_bank(tmp_path, reviewer_name="李主管")
    shared = bank.shared
    with LocalStore.open(tmp_path / "data") as store:
        make_visit(store, checklists)
        bank.trust_laptop(store.folder)
        sync(store, shared, create=True)
        bank.decide_at(
            VISIT_UUID, "has_issues", "请复测撤销交易，并补拍小票", "2025-03-05T10:15:00+08:00"
        )
        assert sync(store, shared).reviews_applied == 1
        sync(store, shared)
    return Stores(tmp_path / "data", shared)


def read_record(folder: Path, prefix: str = VISIT_UUID[:6]) -> VisitRecord:
    source = open_source(folder)
    try:
        return source.record(find_row(source, prefix))
    finally:
        source.close()


# -- golden files ------------------------------------------------------------------------


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
        return
    assert path.exists(), f"{path} is missing: run with POS_TUI_UPDATE_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"golden/{name}",
                "actual",
            )
        )
        pytest.fail(
            f"{name} differs from its golden file (POS_TUI_UPDATE_GOLDEN=1 to accept):\n{diff}"
        )


@pytest.mark.parametrize("fmt", ["html", "md"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_matches_its_golden_file(stores: Stores, lang: str, fmt: str) -> None:
    text = render_report(read_record(stores.local), fmt, lang)
    check_golden(f"report.{lang}.{fmt}", text)


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_the_shared_store_gives_the_same_report(stores: Stores, fmt: str) -> None:
    """The same visit, the same words; only the shared store can say whose key signed it
    (its keyring trusts the laptop), where the laptop's own copy says its signature holds."""
    from_local = render_report(read_record(stores.local), fmt, "zh")
    from_shared = render_report(read_record(stores.shared), fmt, "zh")
    fingerprint = "72AS-YEXT-VNGO-NLC5-W2NM-GUXZ-A3FR-WEPP"
    assert "签名有效，与签署时的内容一致" in from_shared and f"{fingerprint} (张伟)" in from_shared
    as_local = (
        from_shared.replace("签名有效，与签署时的内容一致", "与签署时的内容一致")
        .replace('data-state="verified"', 'data-state="intact"')
        .replace(f"{fingerprint} (张伟)", fingerprint)
    )
    assert as_local == from_local


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_a_postgresql_store_gives_the_same_report_as_a_folder(
    stores: Stores, fmt: str, tmp_path: Path, pg_url: str
) -> None:
    """The same laptop synced into a database, the same supervisor's key deciding at the
    same time: the report reads the same, word for word."""
    bank = open_bank(tmp_path, reviewer_name="李主管", shared=pg_url)
    with LocalStore.open(stores.local) as store:
        bank.trust_laptop(store.folder)
        sync(store, pg_url)
        bank.decide_at(
            VISIT_UUID, "has_issues", "请复测撤销交易，并补拍小票", "2025-03-05T10:15:00+08:00"
        )
        sync(store, pg_url)
    from_folder = render_report(read_record(stores.shared), fmt, "zh")
    source = SharedSource(pg_url, bank.reviewer)
    try:
        from_database = render_report(source.record(find_row(source, VISIT_UUID[:6])), fmt, "zh")
    finally:
        source.close()
    assert from_database == from_folder


# -- the HTML, parsed --------------------------------------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def find_all(self, tag: str, cls: str | None = None) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag and (
                    cls is None or cls in child.attrs.get("class", "").split()
                ):
                    yield child
                yield from child.find_all(tag, cls)


class TreeBuilder(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "link", "input", "hr", "col"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> TreeBuilder:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder


def test_the_html_report_holds_what_the_visit_holds(stores: Stores) -> None:
    record = read_record(stores.local)
    html = render_html(build_report(record, "zh"))
    page = parse(html)
    root = page.root
    assert not {"script", "link", "img", "iframe", "object"} & set(page.tags)
    assert "http://" not in html and "https://" not in html and "url(" not in html
    style = next(root.find_all("style")).text
    assert "@page { size: A4; margin: 14mm 15mm 18mm; }" in style
    # Each printed page's foot: the visit id and the page's number, in the report's words.
    assert "@bottom-left { content: " in style and "counter(page)" in style
    assert "counter(pages)" in style and "\\00007b" not in style
    assert '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei"' in style
    assert "thead { display: table-header-group; }" in style

    item_rows = [row for table in root.find_all("table", "items") for row in table.find_all("tr")]
    body_rows = [row for row in item_rows if row.attrs.get("data-item")]
    assert len(body_rows) == sum(len(c.items) for c in checklists_of(record))
    by_item = {row.attrs["data-item"]: row for row in body_rows}
    failed = [row for row in body_rows if "fail" in row.attrs["class"].split()]
    assert {row.attrs["data-item"] for row in failed} == {"void", "clock"}
    for row in failed:
        assert next(row.find_all("td", "outcome")).text == "不通过"
    assert VOID_NOTE in by_item["void"].text  # escaped on the way in, read back intact
    assert by_item["tap"].attrs["class"] == "off"
    assert "终端无此功能" in by_item["tap"].text
    assert by_item["shield"].attrs["class"] == "na" and "商户柜台已有遮挡" in by_item["shield"].text
    assert "参考号：202503040001" in by_item["chip-pin"].text

    assert next(root.find_all("p", "verdict")).text == "不通过"
    failures = next(root.find_all("table", "failures"))
    assert [r.attrs.get("class") for r in failures.find_all("tr")][1:] == ["fail", "fail"]
    decisions = next(root.find_all("table", "decisions")).text
    assert "有问题" in decisions and "李主管" in decisions and "补拍小票" in decisions
    assert record.session.content_sha256 and record.session.content_sha256 in html
    [check] = [n for n in root.find_all("td") if n.attrs.get("id") == "hash-check"]
    assert check.attrs["data-state"] == "intact"
    assert "上海老王面馆 & <小吃>" in root.text and "<小吃>" not in html
    assert not list(root.find_all("div", "banner")) and not list(root.find_all("div", "watermark"))
    assert "王老板" in root.text and "2025-03-04" in root.text
    # The paper: verdict and integrity first, boxes to sign and stamp by hand at the end.
    [summary] = root.find_all("section", "summary")
    assert "不通过" in summary.text and "与签署时的内容一致" in summary.text
    assert html.index('class="summary"') < html.index('class="facts"')
    [boxes] = root.find_all("section", "signatures")
    assert [b.attrs["data-box"] for b in boxes.find_all("div", "sign-box")] == [
        "technician",
        "merchant",
        "stamp",
    ]
    # Times in the printing computer's zone, without an offset each, the zone named once.
    assert re.search(r"\d\d:\d\d(:\d\d)?[+-]\d\d:\d\d", html) is None
    assert root.text.count("UTC+08:00") == 1


def test_nothing_in_a_record_escapes_the_page_footer(stores: Stores) -> None:
    """The visit id is printed by CSS (the @page margin boxes): a hand-edited id cannot end
    the CSS string or the style element."""
    data = build_report(read_record(stores.local), "en")
    hostile = 'x"; } body { display: none } </style><script>alert(1)</script>\\'
    page = parse(render_html(replace(data, visit_uuid=hostile)))
    assert "script" not in page.tags
    style = next(page.root.find_all("style")).text
    # The quote, the braces, the angle brackets and the backslash are hex escapes: the
    # whole text stays one CSS string.
    [footer] = [line for line in style.splitlines() if "@bottom-left" in line]
    content = footer.split("content: ", 1)[1].split("; font-family", 1)[0]
    assert content.startswith('"') and content.endswith('"')
    assert not set('"{}<>\\') & set(re.sub(r"\\[0-9a-f]{6}", "", content[1:-1]))
    for escaped in ("\\000022", "\\00007b", "\\00007d", "\\00003c", "\\00005c"):
        assert escaped in footer, escaped


def checklists_of(record: VisitRecord) -> list[Checklist]:
    return record.session.checklists


def test_markdown_tables_keep_their_columns(stores: Stores) -> None:
    text = render_markdown(build_report(read_record(stores.local), "en"))
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        widths = {len(line.replace("\\|", "").split("|")) for line in lines}
        assert len(widths) <= 1, block
    assert "\\| " in text and "\\<b\\>" in text
    assert "**✗ FAIL**" in text and "**Fail**" in text


def test_the_report_is_in_the_visits_language_unless_asked(
    tmp_path: Path, checklists: list[Checklist]
) -> None:
    with LocalStore.open(tmp_path / "data") as store:
        english = make_visit(store, checklists, "e" * 8, visit_info(language="en"))
        unknown = make_visit(store, checklists, "f" * 8, visit_info(language=""))
    assert "# POS 终端验收报告" in render_report(record_of(english), "md", "zh")
    assert "# POS terminal acceptance report" in render_report(record_of(english), "md")
    assert "# POS 终端验收报告" in render_report(record_of(unknown), "md")


def test_a_draft_says_it_is_not_signed(tmp_path: Path, checklists: list[Checklist]) -> None:
    with LocalStore.open(tmp_path / "data") as store:
        draft = make_visit(store, checklists, sign=False)
    page = parse(render_report(record_of(draft), "html", "en"))
    [banner] = page.root.find_all("div", "banner")
    assert banner.text.startswith("DRAFT: not signed")
    [watermark] = page.root.find_all("div", "watermark")
    assert watermark.text == "DRAFT"
    assert "Not signed yet." in page.root.text
    # Nothing to sign or stamp on paper: a draft must not pass for an acceptance.
    assert not list(page.root.find_all("section", "signatures"))
    [check] = [n for n in page.root.find_all("td") if n.attrs.get("id") == "hash-check"]
    assert check.attrs["data-state"] == "unsigned" and "class" not in check.attrs
    assert not [n for n in page.root.find_all("td") if n.attrs.get("id") == "integrity-reasons"]


def test_hand_edited_card_number_is_masked_and_the_change_is_flagged(
    tmp_path: Path, checklists: list[Checklist]
) -> None:
    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        make_visit(store, checklists)
        path = store.visit_path(VISIT_UUID)
    raw = path.read_text("utf-8").replace("终端时钟慢了7分钟", f"卡号 {CARD} 交易失败")
    path.write_text(raw.replace('"1111"', '"4111111111111111"'), "utf-8")
    record = read_record(folder)
    assert CARD in record.session.answers[("receipt", "clock")].note  # really in the file
    html = render_report(record, "html", "en")
    markdown = render_report(record, "md", "en")
    outputs = {"html": html, "md": markdown}
    for fmt in ("csv", "json"):
        out = tmp_path / f"export.{fmt}"
        done = CliRunner().invoke(main, ["export", "--store", str(folder), "--out", str(out)])
        assert done.exit_code == 0, done.output
        outputs[fmt] = out.read_text("utf-8-sig")
    for fmt, text in outputs.items():
        assert "4111111111111111" not in text.replace(" ", ""), fmt
        assert "****1111" in text.replace("\\*", "*"), fmt  # Markdown escapes the stars
    assert "WARNING: this record was changed after it was signed" in html
    assert 'data-state="altered"' in html
    assert json.loads(outputs["json"])[0]["content_matches"] is False


def test_a_conflict_in_the_shared_store_is_shown(
    tmp_path: Path, checklists: list[Checklist]
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with LocalStore.open(tmp_path / "data") as store:
        make_visit(store, checklists)
        sync(store, shared, create=True)
        path = store.visit_path(VISIT_UUID)
        path.write_text(path.read_text("utf-8").replace("王老板", "王老大"), "utf-8")
        (store.folder / "sync-ledger.json").unlink()
        assert sync(store, shared).pushed.conflicts == [VISIT_UUID]
    page = parse(render_report(read_record(shared), "html", "en"))
    banners = [banner.text for banner in page.root.find_all("div", "banner")]
    assert any(text.startswith("CONFLICT: the shared store holds two") for text in banners)


def test_identity_numbers_are_never_mistaken_for_card_numbers(
    tmp_path: Path, checklists: list[Checklist]
) -> None:
    luhn_valid_merchant = "310104000000005"  # passes the Luhn check, as one in ten do
    folder = tmp_path / "data"
    with LocalStore.open(folder) as store:
        make_visit(store, checklists, info=visit_info(merchant_number=luhn_valid_merchant))
    record = read_record(folder)
    assert luhn_valid_merchant in render_report(record, "html")
    for fmt in ("csv", "json"):
        out = tmp_path / f"x.{fmt}"
        CliRunner().invoke(main, ["export", "--store", str(folder), "--out", str(out)])
        text = out.read_text("utf-8-sig")
        assert luhn_valid_merchant in text and "****0005" not in text, fmt


# -- exports -----------------------------------------------------------------------------


def test_csv_export_reads_back_in_excel_terms(
    stores: Stores, tmp_path: Path, checklists: list[Checklist]
) -> None:
    with LocalStore.open(stores.local) as store:
        make_visit(store, checklists, "d" * 8, visit_info(language="en"), sign=False)
    out = tmp_path / "visits.csv"
    # --drafts: a draft is exported only when asked for (test_reports_corrections.py).
    args = ["export", "--format", "csv", "--store", str(stores.local), "--out", str(out)]
    done = CliRunner().invoke(main, [*args, "--drafts", "--no-value-columns"])
    assert done.exit_code == 0, done.output
    assert done.stdout == f"Exported 2 visit(s) (12 rows) to {out}.\n"
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(out, encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = list(reader)
    per_item = sum(len(c.items) for c in checklists)
    assert len(rows) == 2 * per_item
    mine = {r["item_id"]: r for r in rows if r["visit_uuid"] == VISIT_UUID}
    assert len(mine) == per_item
    assert mine["void"]["outcome"] == "fail" and mine["void"]["note"] == VOID_NOTE
    assert mine["void"]["item_title"] == "当日撤销"
    assert mine["tap"]["applicable"] == "false" and mine["tap"]["outcome"] == ""
    assert mine["shield"]["outcome"] == "na"
    assert mine["chip-pin"]["values"] == "reference=202503040001; amount=0.01; last4=1111"
    assert mine["void"]["merchant_name"] == "上海老王面馆 & <小吃>"
    assert {r["review_decision"] for r in mine.values()} == {"has_issues"}
    assert {r["verdict"] for r in mine.values()} == {"fail"}
    assert {r["status"] for r in mine.values()} == {"reviewed"}
    assert {r["visit_date"] for r in mine.values()} == {"2025-03-04"}
    draft = [r for r in rows if r["visit_uuid"] == "d" * 8]
    assert {r["status"] for r in draft} == {"draft"} and draft[0]["content_sha256"] == ""
    assert {(r["integrity"], r["integrity_reasons"]) for r in mine.values()} == {("intact", "")}
    assert {(r["integrity"], r["integrity_reasons"]) for r in draft} == {("unsigned", "not_signed")}
    assert "Same-day void" in {r["item_title"] for r in draft}  # each visit's own language


def test_json_export_is_one_document_per_visit(stores: Stores, tmp_path: Path) -> None:
    out = tmp_path / "visits.json"
    done = CliRunner().invoke(main, ["export", "--store", str(stores.shared), "--out", str(out)])
    assert done.exit_code == 0, done.output
    raw = out.read_bytes()
    assert "李主管".encode() in raw and not raw.startswith(b"\xef\xbb\xbf")
    [document] = json.loads(raw)
    assert document["uuid"] == VISIT_UUID
    assert (document["status"], document["verdict"], document["failures"]) == (
        "reviewed",
        "fail",
        2,
    )
    assert document["content_matches"] is True and document["conflict"] is False
    assert document["info"]["merchant_name"] == "上海老王面馆 & <小吃>"
    assert len(document["answers"]) == 5 and document["signoff"]["technician"] == "张伟"
    assert [d["decision"] for d in document["review_decisions"]] == ["has_issues"]
    # The shared store keeps the record as signed; the decision travels as a decision, not
    # as an event of a later revision the laptop would have to upload again.
    assert [e["what"] for e in document["events"]][-1] == "signed"


def test_since_keeps_visits_of_that_day_and_later() -> None:
    rows = [
        {"uuid": "a", "updated_at": "2025-03-03T23:59:59+08:00", "created_at": ""},
        {"uuid": "b", "updated_at": "2025-03-04T00:00:01+08:00", "created_at": ""},
        {"uuid": "c", "updated_at": "", "created_at": "2025-04-01T08:00:00+08:00"},
    ]
    assert [r["uuid"] for r in rows_since(rows, date(2025, 3, 4))] == ["b", "c"]
    assert len(list(rows_since(rows, None))) == 3


class CountingSource:
    """Wraps a source and counts how many visit records are alive at any one time."""

    def __init__(self, inner: LocalSource | SharedSource) -> None:
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


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exports_hold_one_visit_at_a_time(
    tmp_path: Path, checklists: list[Checklist], fmt: str
) -> None:
    with LocalStore.open(tmp_path / "data") as store:
        for n in range(12):
            make_visit(store, checklists, f"{n:08x}-0000", visit_info(language=""))
    source = CountingSource(LocalSource(tmp_path / "data"))
    with open(tmp_path / f"out.{fmt}", "w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            stats = write_csv(source, source.rows(), out)
        else:
            stats = write_json(source, source.rows(), out)
    source.close()
    assert stats.visits == 12 and not stats.skipped
    assert source.most_alive <= 2


def test_progress_goes_to_stderr_only_when_writing_a_file(
    stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_reports, "PROGRESS_AFTER", 0)
    runner = CliRunner()
    to_file = runner.invoke(
        main, ["export", "--store", str(stores.local), "--out", str(tmp_path / "x.csv")]
    )
    assert "Exporting visits" in to_file.stderr
    to_stdout = runner.invoke(main, ["export", "--store", str(stores.local), "--format", "json"])
    assert to_stdout.exit_code == 0 and to_stdout.stderr == ""
    assert json.loads(to_stdout.stdout)[0]["uuid"] == VISIT_UUID


def test_a_damaged_visit_is_skipped_named_and_fails_the_export(
    stores: Stores, tmp_path: Path, checklists: list[Checklist]
) -> None:
    with LocalStore.open(stores.local) as store:
        make_visit(store, checklists, "b" * 8)
        store.visit_path("b" * 8).write_text('{"visit": {"1": {"uuid": 1}}}', "utf-8")
    out = tmp_path / "x.csv"
    done = CliRunner().invoke(main, ["export", "--store", str(stores.local), "--out", str(out)])
    assert done.exit_code == 1
    assert f"skipped visit {'b' * 8}: The store file " in done.stderr
    assert f"{'b' * 8}.json is damaged" in done.stderr
    assert "1 visit(s) could not be read" in done.stderr
    assert len(out.read_text("utf-8-sig").splitlines()) == 1 + 6


def test_write_report_writes_the_file_whole(stores: Stores, tmp_path: Path) -> None:
    (folder := tmp_path / "reports").mkdir()
    path = write_report(read_record(stores.shared), folder / "r.md", lang="en")
    assert path.read_text("utf-8").startswith("# POS terminal acceptance report")
    assert [p.name for p in folder.iterdir()] == ["r.md"]


# -- the command line, as a user runs it ---------------------------------------------------


def pos_tui(
    *args: str, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_tui", *args],
        cwd=ROOT,
        env=dict(os.environ, **(env_extra or {})),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_report_command_by_prefix(stores: Stores, tmp_path: Path) -> None:
    args = ["--store", str(stores.shared), "--format", "md", "--lang", "en", "--out", "-"]
    done = pos_tui("report", VISIT_UUID[:5], *args)
    assert done.returncode == 0, done.stderr
    assert done.stdout == render_report(read_record(stores.shared), "md", "en")
    out = tmp_path / "report.html"
    written = pos_tui("report", VISIT_UUID[:5], "--store", str(stores.local), "--out", str(out))
    assert written.returncode == 0, written.stderr
    assert out.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert f"to {out}" in written.stdout


def test_report_command_errors_are_plain(
    stores: Stores, tmp_path: Path, checklists: list[Checklist]
) -> None:
    with LocalStore.open(stores.local) as store:
        make_visit(store, checklists, VISIT_UUID[:4] + "-other")
    cases = {
        ("report", "zzz"): "No visit in",
        ("report", VISIT_UUID[:4]): "2 visits have ids starting with",
        ("report", " "): "Give the visit's id",
        ("export", "--since", "2025-13-01"): "is not a date like 2025-03-31",
    }
    for args, message in cases.items():
        done = pos_tui(*args, "--store", str(stores.local))
        assert done.returncode in (1, 2), (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
    missing = pos_tui("export", "--store", str(tmp_path / "nowhere"))
    assert missing.returncode == 1
    assert (
        missing.stderr.strip() == f"pos-tui: there is no pos-tui store at {tmp_path / 'nowhere'}."
    )
    nowhere = tmp_path / "no" / "x.csv"
    unwritable = pos_tui("export", "--store", str(stores.local), "--out", str(nowhere))
    assert unwritable.returncode == 1
    assert (
        unwritable.stderr.strip() == f"pos-tui: cannot write {nowhere}: No such file or directory."
    )
    report_nowhere = pos_tui(
        "report", "5f0c2a", "--store", str(stores.local), "--out", str(nowhere.with_suffix(".html"))
    )
    assert report_nowhere.returncode == 1 and "Cannot write the report to" in report_nowhere.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    neither = pos_tui("report", "abc", "--store", str(empty))
    assert neither.returncode == 1 and "neither a pos-tui data folder" in neither.stderr


def test_export_to_stdout_starts_with_the_bom(stores: Stores) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pos_tui", "export", "--store", str(stores.local)],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"\xef\xbb\xbfvisit_uuid,")
    assert "上海老王面馆".encode() in done.stdout and done.stderr == b""


def test_reports_do_not_load_the_ui_toolkit() -> None:
    script = (
        "import json, sys, pos_tui.cli.reports, pos_tui.reports.report, pos_tui.reports.export;"
        " print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert {"textual", "pos_tui.ui"}.isdisjoint(loaded)


def test_the_report_holds_the_details_acquirers_require(
    tmp_path: Path, checklists: list[Checklist]
) -> None:
    details = visit_info(
        work_order="WO-2025-0304-17",
        registered_name="上海老王餐饮管理有限公司",
        credit_code="91350100M000100Y43",
        mcc="5812",
        sim_iccid="8986001234567890120",
        province="上海市",
        city="上海市",
        district="徐汇区",
        street="漕溪北路",
        street_number="88号",
        latitude="31.1880",
        longitude="121.4370",
        accuracy_m="12",
    )
    with LocalStore.open(tmp_path / "data") as store:
        session = make_visit(store, checklists, info=details)
    facts = {
        fact.label: fact.value
        for part in ("merchant", "terminal", "visit")
        for fact in getattr(build_report(record_of(session), "en"), part)
    }
    assert facts["Work order"] == "WO-2025-0304-17"
    assert facts["Registered name"] == "上海老王餐饮管理有限公司"
    assert facts["Unified social credit code"] == "91350100M000100Y43"
    assert facts["MCC"] == "5812"
    assert facts["SIM ICCID"] == "8986001234567890120"  # an identifier: never masked
    assert "徐汇区" in facts["Address"] and "88号" in facts["Address"]
    assert facts["Position (accuracy)"] == "31.1880, 121.4370 (±12 m)"
    assert facts["Departed"] == local_time(session.departed_at or "", BEIJING)
    assert facts["Time zone"] == "all times in this report are UTC+08:00"


def test_a_report_without_out_goes_to_the_reports_folder_not_the_terminal(
    stores: Stores, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    done = pos_tui(
        "report",
        VISIT_UUID[:5],
        "--store",
        str(stores.local),
        env_extra={"POS_TUI_REPORTS_DIR": str(folder)},
    )
    assert done.returncode == 0, done.stderr
    [written] = list(folder.iterdir())
    assert written.suffix == ".html" and f"to {written}" in done.stdout
    assert "<!DOCTYPE" not in done.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--out", "{dir}/report.pdf"], "reports are written as .html"),
        (["--out", "{dir}/report.txt"], "reports are written as .html"),
        (["--format", "md", "--out", "{dir}/report.html"], "--format md and report.html disagree"),
    ],
)
def test_an_output_the_report_cannot_be_is_refused(
    stores: Stores, tmp_path: Path, args: list[str], said: str
) -> None:
    args = [arg.replace("{dir}", str(tmp_path)) for arg in args]
    done = pos_tui("report", VISIT_UUID[:5], "--store", str(stores.local), *args)
    assert done.returncode == 1 and said in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.glob("report.*")) == []
