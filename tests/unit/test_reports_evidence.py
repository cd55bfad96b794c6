"""Reports and exports carry the evidence: real photos with EXIF on disk, real stores.

The photos are made in the test (Pillow, with EXIF time and GPS written in); the store
keeps them as it always does (`save_attach`, the one intake). Replacing or removing a file
is done on disk, as someone with the share could.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from pos_tui.cli import main
from pos_tui.domain.evidence import EvidenceRef
from pos_tui.domain.session import Outcome, Session
from pos_tui.reports.evidence import LONG_SIDE
from pos_tui.reports.evidence_export import MANIFEST_COLUMNS
from pos_tui.reports.report import render_report
from pos_tui.reports.times import laptop_zone, local_time
from pos_tui.store.evidence_files import EvidenceFiles
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import VisitRecord, find_row, open_source
from pos_tui.store.sync import sync
from tests.helpers.bank import open_bank
from tests.helpers.photos import heic, jpeg, png
from tests.helpers.visits import save_answer, save_attach, save_sign
from tests.unit.test_reports import Node, parse

ROOT = Path(__file__).resolve().parents[2]
BEIJING = timezone(timedelta(hours=8))
TAKEN = datetime(2025, 3, 4, 9, 41, 7, tzinfo=BEIJING)
SHOP = (31.230416, 121.473701)
HOSTILE_NAME = '<img src=x onerror=alert(1)><script>alert("x")<!--.pdf'
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Visit:
    """A signed visit with a large JPEG and a HEIC on the storefront, a PNG on the serial
    plate and a PDF with a hostile name on the parameter slip."""

    def __init__(self, folder: Path, session: Session, refs: dict[str, EvidenceRef]) -> None:
        self.folder = folder
        self.uuid = session.uuid
        self.refs = refs

    def record(self, folder: Path | None = None) -> VisitRecord:
        source = open_source(folder or self.folder)
        try:
            return source.record(find_row(source, self.uuid[:8]))
        finally:
            source.close()

    def kept(self, name: str) -> Path:
        return EvidenceFiles(self.folder).path(self.refs[name].sha256)


@pytest.fixture
def visit(store: LocalStore, photo_session: Session) -> Visit:
    big = jpeg(1, TAKEN, SHOP, size=(2400, 1800))
    front = save_attach(
        store,
        photo_session,
        "site-photos",
        "storefront",
        [("IMG_0001.jpg", big), ("IMG_0002.heic", heic(2, TAKEN + timedelta(minutes=1), SHOP))],
    )
    [plate] = save_attach(store, photo_session, "site-photos", "serial-plate", [("p.png", png(3))])
    [slip] = save_attach(
        store, photo_session, "site-photos", "parameter-slip", [(HOSTILE_NAME, PDF)]
    )
    for item in ("storefront", "serial-plate", "parameter-slip"):
        save_answer(store, photo_session, "site-photos", item, Outcome.PASS)
    save_sign(store, photo_session, "张伟", "王老板", signer=ensure_key(store.folder, DEVICE)[0])
    refs = {"jpeg": front[0], "heic": front[1], "png": plate, "pdf": slip}
    return Visit(store.folder, photo_session, refs)


def figures(html: str) -> dict[str, Node]:
    root = parse(html).root
    return {node.attrs["data-sha256"]: node for node in root.find_all("figure", "evidence-file")}


def picture_of(figure: Node) -> Image.Image:
    [img] = list(figure.find_all("img"))
    prefix = "data:image/jpeg;base64,"
    assert img.attrs["src"].startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(img.attrs["src"][len(prefix) :])))
    image.load()
    return image


def check_state(html: str) -> str:
    root = parse(html).root
    [check] = [n for n in root.find_all("td") if n.attrs.get("id") == "hash-check"]
    return check.attrs["data-state"]


# -- the HTML report ---------------------------------------------------------------------


def test_the_html_report_embeds_small_copies_with_time_place_and_hash(visit: Visit) -> None:
    html = render_report(visit.record(), "html", "en")
    shown = figures(html)
    assert len(shown) == 4
    for kind in ("jpeg", "heic", "png"):
        ref = visit.refs[kind]
        figure = shown[ref.sha256]
        image = picture_of(figure)
        assert image.format == "JPEG" and max(image.size) <= LONG_SIDE
        assert not image.getexif() and "exif" not in image.info
        assert figure.attrs["data-state"] == "ok" and ref.sha256 in figure.text
    big = picture_of(shown[visit.refs["jpeg"].sha256])
    assert big.size == (LONG_SIDE, 600)  # 2400×1800 shrunk, its shape kept
    for kind, at in (("jpeg", local("09:41:07")), ("heic", local("09:42:07"))):
        text = shown[visit.refs[kind].sha256].text
        assert at in text and "31.230416, 121.473701" in text, text
    assert check_state(html) == "intact"
    # The item's row says how many files to look for below.
    root = parse(html).root
    [row] = [r for r in root.find_all("tr") if r.attrs.get("data-item") == "storefront"]
    assert "Attached: 2" in row.text


def test_a_pdf_is_listed_without_a_picture_and_its_name_is_never_markup(visit: Visit) -> None:
    html = render_report(visit.record(), "html", "en")
    page = parse(html)
    assert "script" not in page.tags and page.tags.count("img") == 3
    assert "<script>" not in html and "onerror=alert(1)>" not in html
    figure = figures(html)[visit.refs["pdf"].sha256]
    assert not list(figure.find_all("img"))
    text = figure.text
    assert visit.refs["pdf"].name in text  # escaped on the way in, read back intact
    assert "PDF file, " in text and visit.refs["pdf"].sha256 in text


def test_a_replaced_photo_shows_a_warning_and_the_record_is_altered(visit: Visit) -> None:
    kept = visit.kept("jpeg")
    os.chmod(kept, 0o644)
    swapped = bytearray(kept.read_bytes())
    swapped[-10] ^= 0xFF  # the same size: only the hash tells
    kept.write_bytes(bytes(swapped))
    os.remove(visit.kept("png"))

    html = render_report(visit.record(), "html", "en")
    shown = figures(html)
    replaced, missing = shown[visit.refs["jpeg"].sha256], shown[visit.refs["png"].sha256]
    assert replaced.attrs["data-state"] == "replaced" and not list(replaced.find_all("img"))
    assert "REPLACED" in next(replaced.find_all("p", "evidence-warning")).text
    assert missing.attrs["data-state"] == "missing"
    assert "MISSING" in next(missing.find_all("p", "evidence-warning")).text
    picture_of(shown[visit.refs["heic"].sha256])  # the others are still shown
    assert check_state(html) == "altered"
    assert "replaced" in html and "missing from the store" in html


def local(clock: str) -> str:
    """The camera's time in the report: in the zone of the report's other times."""
    return local_time(f"2025-03-04T{clock}+08:00", laptop_zone())


def test_the_markdown_report_lists_the_files_without_pictures(visit: Visit) -> None:
    text = render_report(visit.record(), "md", "en")
    assert "data:image" not in text and "## Photos and files (4)" in text
    for ref in visit.refs.values():
        assert f"`{ref.sha256}`" in text
    assert "IMG\\_0001.jpg" in text and local("09:41:07") in text
    assert "31.230416, 121.473701" in text
    assert "\\<script\\>" in text and "<script>" not in text
    lines = [line for line in text.splitlines() if line.startswith("| 1.")]
    assert len({len(line.replace("\\|", "").split("|")) for line in lines}) == 1


def test_a_report_from_the_app_without_the_store_says_the_pictures_are_not_at_hand(
    visit: Visit,
) -> None:
    from pos_tui.reports.report import record_of

    html = render_report(record_of(visit.record().session), "html", "en")
    assert "not at hand" in html and "<img" not in html


# -- exports -----------------------------------------------------------------------------


def test_the_json_export_lists_each_items_evidence(visit: Visit, tmp_path: Path) -> None:
    out = tmp_path / "visits.json"
    done = CliRunner().invoke(main, ["export", "--store", str(visit.folder), "--out", str(out)])
    assert done.exit_code == 0, done.output
    [document] = json.loads(out.read_text("utf-8"))
    by_item = {entry["item_id"]: entry["files"] for entry in document["evidence"]}
    assert [f["name"] for f in by_item["storefront"]] == ["IMG_0001.jpg", "IMG_0002.heic"]
    first = by_item["storefront"][0]
    ref = visit.refs["jpeg"]
    assert first == {
        "sha256": ref.sha256,
        "name": "IMG_0001.jpg",
        "size": ref.size,
        "media_type": "image/jpeg",
        "taken_at": "2025-03-04T09:41:07+08:00",
        "camera": ref.camera,
        "latitude": "31.230416",
        "longitude": "121.473701",
        "width": 2400,
        "height": 1800,
        "source": "laptop",
        "attached_at": ref.attached_at,
        "file": "ok",
    }
    assert by_item["parameter-slip"][0]["media_type"] == "application/pdf"


def test_the_csv_export_counts_each_rows_files_and_its_names_are_safe(
    store: LocalStore, photo_session: Session, tmp_path: Path
) -> None:
    save_attach(store, photo_session, "site-photos", "storefront", [("=cmd|calc.jpg", jpeg(5))])
    out = tmp_path / "visits.csv"
    # A draft: exported only with --drafts.
    args = ["export", "--store", str(store.folder), "--out", str(out), "--drafts"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    with open(out, encoding="utf-8-sig", newline="") as file:
        rows = {row["item_id"]: row for row in csv.DictReader(file)}
    assert rows["storefront"]["evidence_count"] == "1"
    assert rows["storefront"]["evidence_names"] == "'=cmd|calc.jpg"
    assert len(rows["storefront"]["evidence_sha256"]) == 64
    assert rows["serial-plate"]["evidence_count"] == "0"


# -- export --evidence DIR ---------------------------------------------------------------


def read_manifest(folder: Path) -> list[dict[str, str]]:
    raw = (folder / "manifest.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(folder / "manifest.csv", encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == MANIFEST_COLUMNS
        return list(reader)


def test_export_evidence_copies_each_file_by_hash_with_a_manifest(
    visit: Visit, tmp_path: Path
) -> None:
    out = tmp_path / "evidence"
    done = CliRunner().invoke(
        main, ["export", "--store", str(visit.folder), "--evidence", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "Copied 4 of 4 evidence file(s) of 1 visit(s)" in done.stdout
    manifest = read_manifest(out)
    assert [row["item_id"] for row in manifest] == [
        "storefront",
        "storefront",
        "serial-plate",
        "parameter-slip",
    ]
    by_sha = {row["sha256"]: row for row in manifest}
    for ref in visit.refs.values():
        row = by_sha[ref.sha256]
        copied = out / row["path"]
        assert hashlib.sha256(copied.read_bytes()).hexdigest() == ref.sha256
        assert row["state"] == "copied" and row["original_name"] == ref.name
        assert (row["size"], row["media_type"]) == (str(ref.size), ref.media_type)
    jpeg_row = by_sha[visit.refs["jpeg"].sha256]
    sha12 = visit.refs["jpeg"].sha256[:12]
    assert jpeg_row["path"] == f"{visit.uuid}/site-photos-storefront-1-{sha12}.jpg"
    assert by_sha[visit.refs["heic"].sha256]["path"].endswith(
        f"-storefront-2-{visit.refs['heic'].sha256[:12]}.heic"
    )
    assert (jpeg_row["taken_at"], jpeg_row["latitude"]) == (
        "2025-03-04T09:41:07+08:00",
        "31.230416",
    )
    # The hostile name is only ever data: no file anywhere is named after it.
    names = sorted(p.name for p in out.rglob("*"))
    assert not any("script" in name for name in names)
    assert names.count("manifest.json") == 1 and not any(n.endswith(".part") for n in names)
    as_json = json.loads((out / "manifest.json").read_text("utf-8"))
    assert [entry["sha256"] for entry in as_json] == [row["sha256"] for row in manifest]
    assert as_json[0]["size"] == visit.refs["jpeg"].size  # a number, as stored


def test_export_evidence_refuses_a_folder_that_is_not_empty_or_is_a_link(
    visit: Visit, tmp_path: Path
) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine", "utf-8")
    runner = CliRunner()
    done = runner.invoke(main, ["export", "--store", str(visit.folder), "--evidence", str(used)])
    assert done.exit_code == 1 and "is not empty" in done.stderr
    assert [p.name for p in used.iterdir()] == ["notes.txt"]

    (empty := tmp_path / "empty").mkdir()
    (link := tmp_path / "link").symlink_to(empty)
    done = runner.invoke(main, ["export", "--store", str(visit.folder), "--evidence", str(link)])
    assert done.exit_code == 1 and "is a link" in done.stderr
    assert not list(empty.iterdir())

    inside = visit.folder / "out"
    done = runner.invoke(main, ["export", "--store", str(visit.folder), "--evidence", str(inside)])
    assert done.exit_code == 1 and "inside the store" in done.stderr and not inside.exists()


def test_export_evidence_copies_the_rest_and_fails_naming_a_missing_file(
    visit: Visit, tmp_path: Path
) -> None:
    os.remove(visit.kept("heic"))
    out = tmp_path / "evidence"
    done = CliRunner().invoke(
        main, ["export", "--store", str(visit.folder), "--evidence", str(out)]
    )
    assert done.exit_code == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "IMG_0002.heic" in last and "missing from the store" in last, done.stderr
    manifest = {row["original_name"]: row for row in read_manifest(out)}
    assert (manifest["IMG_0002.heic"]["state"], manifest["IMG_0002.heic"]["path"]) == (
        "missing",
        "",
    )
    assert manifest["IMG_0001.jpg"]["state"] == "copied"
    assert (out / manifest["IMG_0001.jpg"]["path"]).is_file()
    assert len(list((out / visit.uuid).iterdir())) == 3


def test_export_evidence_from_a_shared_store(
    visit: Visit, store: LocalStore, tmp_path: Path
) -> None:
    bank = open_bank(tmp_path)
    bank.trust_laptop(store.folder)
    sync(store, bank.shared, create=True)
    # The files go to the share by the store's own copy (sync carries them there too).
    shared_files, local_files = EvidenceFiles(bank.shared), EvidenceFiles(visit.folder)
    for ref in visit.refs.values():
        shared_files.copy_from(local_files, ref.sha256, ref.size)
    out = tmp_path / "from-share"
    done = CliRunner().invoke(
        main,
        ["export", "--store", str(bank.shared), "--evidence", str(out), "--format", "json"],
    )
    assert done.exit_code == 0, done.output
    [document] = json.loads(done.stdout)  # the JSON on stdout, the summary on stderr
    assert len(document["evidence"]) == 3
    assert "Copied 4 of 4" in done.stderr
    assert {row["state"] for row in read_manifest(out)} == {"copied"}


# -- what does not change ----------------------------------------------------------------


def test_a_visit_without_evidence_has_no_evidence_section(
    store: LocalStore, photo_session: Session, tmp_path: Path
) -> None:
    folder = store.folder
    store.close()
    source = open_source(folder)
    record = source.record(find_row(source, photo_session.uuid[:8]))
    source.close()
    html = render_report(record, "html", "en")
    assert "evidence" not in html and "<img" not in html
    assert "Photos and files" not in render_report(record, "md", "en")
    # A draft: exported only with --drafts.
    args = ["export", "--store", str(folder), "--format", "json", "--drafts"]
    done = CliRunner().invoke(main, args)
    assert json.loads(done.stdout)[0]["evidence"] == []
    out = tmp_path / "none"
    done = CliRunner().invoke(main, ["export", "--store", str(folder), "--evidence", str(out)])
    assert done.exit_code == 0 and "Copied 0 of 0" in done.stdout
    assert read_manifest(out) == [] and json.loads((out / "manifest.json").read_text()) == []


def test_reports_and_exports_load_no_picture_library_until_a_picture_is_made() -> None:
    script = (
        "import json, sys, pos_tui.cli.reports, pos_tui.reports.report, pos_tui.reports.export,"
        " pos_tui.reports.evidence_export, pos_tui.reports.evidence;"
        " print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert {"PIL", "pillow_heif"}.isdisjoint(loaded)
