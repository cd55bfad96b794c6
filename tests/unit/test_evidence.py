"""Evidence at the core: what is taken in, how a visit holds it, and what the record vouches
for. Real pictures made with Pillow, real stores on disk."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pos_tui.domain.evidence import EvidenceError, shown_name
from pos_tui.domain.integrity import (
    ALTERED,
    CONTENT_CHANGED,
    EVIDENCE_MISSING,
    EVIDENCE_REPLACED,
    INTACT,
    SIGNATURE_FAILS,
    integrity,
)
from pos_tui.domain.media import MAX_EVIDENCE_BYTES, inspect
from pos_tui.domain.session import Outcome, Session, VisitError
from pos_tui.services.intake import pasted_paths, pictures_since, take_in_file
from pos_tui.store.evidence_files import EvidenceFiles
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import LocalSource
from tests.helpers.photos import heic, jpeg, png, resaved, write
from tests.helpers.visits import save_answer, save_attach, save_sign

SHANGHAI = timezone(timedelta(hours=8))
TAKEN = datetime(2026, 12, 1, 10, 30, tzinfo=SHANGHAI)
PEOPLE_SQUARE = (31.230416, 121.473701)


def now() -> datetime:
    return datetime(2026, 12, 1, 11, 0, tzinfo=SHANGHAI)


# -- what a file is, by its bytes -------------------------------------------------------


def test_a_jpeg_gives_its_time_camera_and_place() -> None:
    facts = inspect(jpeg(1, TAKEN, PEOPLE_SQUARE), "门头.jpg")
    assert facts.media_type == "image/jpeg"
    assert facts.taken_at == "2026-12-01T10:30:00+08:00"
    assert facts.camera == "Xiaomi 14"
    assert (float(facts.latitude), float(facts.longitude)) == pytest.approx(PEOPLE_SQUARE, abs=1e-5)
    assert (facts.width, facts.height) == (640, 480)


def test_a_heic_from_a_phone_is_read_like_a_jpeg() -> None:
    facts = inspect(heic(3, TAKEN, PEOPLE_SQUARE), "IMG_0001.HEIC")
    assert facts.media_type == "image/heic"
    assert facts.taken_at == "2026-12-01T10:30:00+08:00"
    assert float(facts.latitude) == pytest.approx(PEOPLE_SQUARE[0], abs=1e-5)


def test_a_southern_western_position_keeps_its_signs() -> None:
    facts = inspect(jpeg(1, TAKEN, (-33.8688, -70.6693)), "santiago.jpg")
    assert float(facts.latitude) < 0 and float(facts.longitude) < 0


def test_a_png_without_exif_is_a_photo_with_nothing_said_about_it() -> None:
    facts = inspect(png(4), "screen.png")
    assert facts.media_type == "image/png"
    assert (facts.taken_at, facts.camera, facts.latitude) == ("", "", "")


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"just some text, named like a photo\n", "not a JPEG, PNG or HEIC photo or a PDF"),
        (b"", "is empty"),
        (jpeg(1)[:900], "not a whole, readable picture"),
        (b"\xff\xd8\xff" + b"\x00" * 200, "not a whole, readable picture"),
        (b"%PDF-1.7\n1 0 obj<</OpenAction 2 0 R>>\n%%EOF", "carries scripts"),
        (b"%PDF-1.7\n1 0 obj<<>>\n", "not a whole PDF"),
    ],
    ids=["text", "empty", "cut-jpeg", "jpeg-magic-only", "pdf-with-action", "cut-pdf"],
)
def test_what_is_not_evidence_is_refused_with_a_sentence(data: bytes, said: str) -> None:
    with pytest.raises(EvidenceError) as refused:
        inspect(data, "photo.jpg")
    assert said in refused.value.text.en
    assert refused.value.text.zh


def test_a_plain_pdf_is_kept_as_a_file() -> None:
    assert inspect(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "slip.pdf").media_type


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, "PNG")  # 144 MP of nothing: a few kB
    with pytest.raises(EvidenceError, match="too many pixels"):
        inspect(out.getvalue(), "bomb.png")


def test_a_resaved_copy_keeps_nearly_the_same_perceptual_hash() -> None:
    original = inspect(jpeg(1, TAKEN), "a.jpg").phash
    copy = inspect(resaved(jpeg(1, TAKEN)), "b.jpg").phash
    other = inspect(jpeg(2, TAKEN), "c.jpg").phash
    distance = bin(int(original, 16) ^ int(copy, 16)).count("1")
    apart = bin(int(original, 16) ^ int(other, 16)).count("1")
    assert distance <= 4 < 16 <= apart


def test_a_file_name_is_kept_without_its_folder_controls_or_a_card_number() -> None:
    assert shown_name("/home/zhang/DCIM/门头.jpg") == "门头.jpg"
    assert shown_name("C:\\Users\\x\\a.jpg") == "a.jpg"
    assert "\x1b" not in shown_name("\x1b[31mred.jpg")
    assert "4111111111111111" not in shown_name("card 4111111111111111.jpg")


# -- taking files in ------------------------------------------------------------------


def test_a_file_is_kept_under_its_hash_once_and_read_only(tmp_path: Path) -> None:
    files = EvidenceFiles(tmp_path / "store")
    source = write(tmp_path, "门头.jpg", jpeg(1, TAKEN, PEOPLE_SQUARE))
    ref = take_in_file(files, source, "laptop", now)
    kept = files.path(ref.sha256)
    assert kept.read_bytes() == source.read_bytes()
    assert kept.parent.name == ref.sha256[:2]
    assert not os.stat(kept).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert ref.name == "门头.jpg" and ref.size == source.stat().st_size
    assert ref.attached_at == "2026-12-01T11:00:00+08:00"
    again = take_in_file(files, source, "laptop", now)
    assert again.sha256 == ref.sha256
    assert list(files.stored()) == [ref.sha256]


def test_a_fifo_a_folder_and_a_huge_file_are_refused_without_hanging(tmp_path: Path) -> None:
    files = EvidenceFiles(tmp_path / "store")
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.jpg"
    with open(huge, "wb") as out:
        out.truncate(MAX_EVIDENCE_BYTES + 1)
    (tmp_path / "folder.jpg").mkdir()
    for path, said in (
        (fifo, "FIFO"),
        (huge, "over the limit"),
        (tmp_path / "folder.jpg", "folder"),
        (tmp_path / "gone.jpg", "there is no file"),
    ):
        with pytest.raises(EvidenceError, match=said):
            take_in_file(files, path, "laptop", now)
    assert list(files.stored()) == []


def test_a_hash_from_outside_never_becomes_a_path(tmp_path: Path) -> None:
    files = EvidenceFiles(tmp_path / "store")
    assert files.check("../../etc/passwd") == "missing"
    assert not files.has("ab" * 40)


def test_pasted_paths_come_as_terminals_and_file_managers_send_them(tmp_path: Path) -> None:
    pasted = "'/tmp/a b.jpg' \"/tmp/c.jpg\" /tmp/d\\ e.jpg\nfile:///tmp/%E9%97%A8.jpg\r\n"
    assert pasted_paths(pasted) == [
        Path("/tmp/a b.jpg"),
        Path("/tmp/c.jpg"),
        Path("/tmp/d e.jpg"),
        Path("/tmp/门.jpg"),
    ]
    assert pasted_paths("'unbalanced.jpg") == [Path("'unbalanced.jpg")]


def test_the_camera_folder_offers_what_was_taken_since_the_visit_newest_first(
    tmp_path: Path,
) -> None:
    camera = tmp_path / "DCIM" / "100MEDIA"
    camera.mkdir(parents=True)
    start = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    for name, minutes in (("old.jpg", -60), ("first.jpg", 5), ("second.heic", 20)):
        path = write(camera, name, jpeg(1))
        moment = (start + timedelta(minutes=minutes)).timestamp()
        os.utime(path, (moment, moment))
    write(camera, "notes.txt", b"not a picture")
    (camera / "link.jpg").symlink_to(camera / "first.jpg")
    found = pictures_since(tmp_path / "DCIM", start)
    assert [picture.path.name for picture in found] == ["second.heic", "first.jpg"]


# -- the visit ------------------------------------------------------------------------


def test_a_required_photo_must_be_attached_before_the_item_passes(
    store: LocalStore, photo_session: Session
) -> None:
    with pytest.raises(VisitError, match="press a to attach") as refused:
        photo_session.record("site-photos", "storefront", Outcome.PASS)
    assert "按 a 添加" in refused.value.text.zh
    save_attach(store, photo_session, "site-photos", "storefront", [("门头.jpg", jpeg(1))])
    answer = save_answer(store, photo_session, "site-photos", "storefront", Outcome.PASS)
    assert answer.outcome is Outcome.PASS
    # A fail needs its note, not a photo: the shop may have no sign at all.
    save_answer(store, photo_session, "site-photos", "serial-plate", Outcome.FAIL, "铭牌缺失")


def test_a_photo_item_refuses_a_pdf_and_an_item_refuses_more_than_its_maximum(
    store: LocalStore, photo_session: Session
) -> None:
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
    with pytest.raises(VisitError, match="takes photos"):
        save_attach(store, photo_session, "site-photos", "storefront", [("slip.pdf", pdf)])
    save_attach(store, photo_session, "site-photos", "parameter-slip", [("slip.pdf", pdf)])
    three = [(f"{n}.jpg", jpeg(n)) for n in range(3)]
    save_attach(store, photo_session, "site-photos", "storefront", three)
    with pytest.raises(VisitError, match="at most 3"):
        save_attach(store, photo_session, "site-photos", "storefront", [("4.jpg", jpeg(9))])
    # The same photo again is no new evidence, and not refused as one too many.
    assert save_attach(store, photo_session, "site-photos", "storefront", three[:1]) == ()


def test_detaching_the_photo_a_pass_rests_on_is_refused(
    store: LocalStore, photo_session: Session
) -> None:
    [ref] = save_attach(store, photo_session, "site-photos", "storefront", [("a.jpg", jpeg(1))])
    save_answer(store, photo_session, "site-photos", "storefront", Outcome.PASS)
    with pytest.raises(VisitError, match="passed on this evidence"):
        photo_session.detach("site-photos", "storefront", ref.sha256)
    [second] = save_attach(store, photo_session, "site-photos", "storefront", [("b.jpg", jpeg(2))])
    photo_session.detach("site-photos", "storefront", ref.sha256)
    assert photo_session.evidence_of("site-photos", "storefront") == (second,)
    assert [e.what for e in photo_session.events[-3:]] == ["answered", "attached", "detached"]


def test_evidence_survives_the_store_and_is_part_of_what_is_signed(
    store: LocalStore, photo_session: Session
) -> None:
    before = photo_session.content_hash()
    [ref] = save_attach(
        store, photo_session, "site-photos", "storefront", [("门头.jpg", jpeg(1, TAKEN))]
    )
    assert photo_session.content_hash() != before
    assert photo_session.content()["evidence"][0]["files"][0]["sha256"] == ref.sha256
    reloaded = store.load(photo_session.uuid)
    assert reloaded.evidence_of("site-photos", "storefront") == (ref,)
    assert reloaded.content_hash() == photo_session.content_hash()


def test_a_visit_without_evidence_keeps_the_content_it_had_before_evidence_existed(
    session: Session,
) -> None:
    assert "evidence" not in session.content()


def signed_with_photo(store: LocalStore, photo_session: Session) -> str:
    [ref] = save_attach(
        store, photo_session, "site-photos", "storefront", [("门头.jpg", jpeg(1, TAKEN))]
    )
    save_answer(store, photo_session, "site-photos", "storefront", Outcome.PASS)
    key = ensure_key(store.folder, DEVICE)[0]
    save_sign(store, photo_session, "张伟", "王老板", signer=key)
    return ref.sha256


def record_integrity(folder: Path, uuid: str) -> tuple[str, tuple[str, ...]]:
    source = LocalSource(folder)
    try:
        [row] = [row for row in source.rows() if row["uuid"] == uuid]
        verdict = source.record(row).integrity
        return verdict.state, verdict.reasons
    finally:
        source.close()


def test_a_photo_replaced_in_the_store_makes_the_signed_record_altered(
    store: LocalStore, photo_session: Session
) -> None:
    sha = signed_with_photo(store, photo_session)
    folder, uuid = store.folder, photo_session.uuid
    store.close()
    assert record_integrity(folder, uuid) == (INTACT, ())
    kept = EvidenceFiles(folder).path(sha)
    os.chmod(kept, 0o644)
    # Another photo of the same size: only the hash can tell.
    swapped = bytearray(kept.read_bytes())
    swapped[-10] ^= 0xFF
    kept.write_bytes(bytes(swapped))
    assert record_integrity(folder, uuid) == (ALTERED, (EVIDENCE_REPLACED,))
    kept.unlink()
    assert record_integrity(folder, uuid) == (ALTERED, (EVIDENCE_MISSING,))


def test_a_record_edited_to_name_another_photo_fails_its_hash_and_signature(
    store: LocalStore, photo_session: Session
) -> None:
    signed_with_photo(store, photo_session)
    other = take_in_file(
        EvidenceFiles(store.folder), write(store.folder, "b.jpg", jpeg(2)), "laptop", now
    )
    session = store.load(photo_session.uuid)
    session.evidence[("site-photos", "storefront")] = (other,)
    verdict = integrity(session)
    assert verdict.state == ALTERED
    assert {CONTENT_CHANGED, SIGNATURE_FAILS} <= set(verdict.reasons)


def test_the_report_the_technician_writes_shows_the_photos_from_the_laptops_store(
    store: LocalStore, photo_session: Session, tmp_path: Path
) -> None:
    from pos_tui.config import Settings
    from pos_tui.services.technician import Services

    signed_with_photo(store, photo_session)
    services = Services(store, [], Settings(technician="张伟"), settings_path=tmp_path / "s.json")
    try:
        path = services.write_report(store.load(photo_session.uuid), "en").result()
    finally:
        services.close()
    html = path.read_text(encoding="utf-8")
    assert html.count('src="data:image/jpeg;base64,') == 1
    assert "not at hand" not in html


def test_one_file_refused_by_the_item_leaves_the_others_of_the_batch_attached(
    store: LocalStore, photo_session: Session, tmp_path: Path
) -> None:
    from pos_tui.config import Settings
    from pos_tui.services.technician import Services

    pdf = write(tmp_path, "slip.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n")
    photos = [write(tmp_path, f"{n}.jpg", jpeg(n)) for n in range(4)]
    services = Services(store, [], Settings(technician="张伟"), settings_path=tmp_path / "s.json")
    try:
        done = services.attach(
            photo_session, "site-photos", "storefront", paths=[photos[0], pdf, *photos[1:]]
        ).result()
    finally:
        services.close()
    assert [ref.name for ref in done.added] == ["0.jpg", "1.jpg", "2.jpg"]  # max: 3
    assert [(name, text.en.split(";")[0]) for name, text in done.refused] == [
        ("slip.pdf", "this item takes photos (JPEG, PNG, HEIC)"),
        ("3.jpg", "this item takes at most 3 files (3 attached)"),
    ]
    assert len(store.load(photo_session.uuid).evidence_of("site-photos", "storefront")) == 3
