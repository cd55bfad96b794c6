"""The photo checks review warns with: time, place, EXIF, and reuse across visits."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone

import pytest

from pos_tui.domain import evidence_checks as checks
from pos_tui.domain.evidence import JPEG, PDF, EvidenceRef
from pos_tui.domain.evidence_checks import (
    CLOCK_DRIFT,
    FAR_AWAY,
    MAX_PHASH_DISTANCE,
    NO_EXIF,
    OUTSIDE_TIME,
    SAME_FILE,
    SIMILAR_PHOTO,
    Finding,
    Photo,
    ReuseIndex,
    VisitFrame,
    finding_text,
    haversine_m,
    own_findings,
)
from pos_tui.domain.review_filter import EVIDENCE_FILTERS
from pos_tui.ui.screens.review_text import PHOTO_FILTER_NAMES

SHANGHAI = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
END = datetime(2026, 3, 2, 11, 0, tzinfo=SHANGHAI)
FRAME = VisitFrame(START, END, 31.230400, 121.473700)


def ref(sha: str = "a" * 64, **facts: object) -> EvidenceRef:
    values: dict[str, object] = {
        "name": "IMG_1.jpg",
        "size": 1000,
        "media_type": JPEG,
        "attached_at": START.isoformat(),
        "camera": "Xiaomi 14",
        "taken_at": (START + timedelta(minutes=5)).isoformat(),
        "latitude": "31.230400",
        "longitude": "121.473700",
    } | facts
    return EvidenceRef(sha, **values)  # type: ignore[arg-type]


def codes(found: list[Finding]) -> list[str]:
    return [f.code for f in found]


def test_a_photo_taken_during_the_visit_where_it_was_is_fine() -> None:
    assert own_findings(ref(), FRAME) == []


@pytest.mark.parametrize(
    ("taken", "warned", "minutes"),
    [
        (START - CLOCK_DRIFT, False, 0),  # a phone's clock a quarter of an hour off
        (START - CLOCK_DRIFT - timedelta(minutes=1), True, 16),
        (END + CLOCK_DRIFT, False, 0),
        (END + timedelta(hours=2), True, 120),
        (START - timedelta(days=30), True, 30 * 24 * 60),
    ],
)
def test_taken_outside_the_visits_time(taken: datetime, warned: bool, minutes: int) -> None:
    found = own_findings(ref(taken_at=taken.isoformat()), FRAME)
    assert codes(found) == ([OUTSIDE_TIME] if warned else [])
    if warned:
        assert found[0].minutes == minutes


def test_a_time_without_offset_is_read_in_the_visits_offset() -> None:
    # 10:30 on the camera, which wrote no offset: in Shanghai, inside the visit. Read as UTC
    # it would be 18:30 in Shanghai.
    assert own_findings(ref(taken_at="2026-03-02T10:30:00"), FRAME) == []
    assert codes(own_findings(ref(taken_at="2026-03-02T13:30:00"), FRAME)) == [OUTSIDE_TIME]
    # With an offset, the offset counts: 10:30 in London is 18:30 in Shanghai.
    assert codes(own_findings(ref(taken_at="2026-03-02T10:30:00+00:00"), FRAME)) == [OUTSIDE_TIME]


def test_an_unsigned_visit_has_no_end() -> None:
    frame = VisitFrame(START, None, None, None)
    assert own_findings(ref(taken_at=(START + timedelta(days=1)).isoformat()), frame) == []


def test_haversine_against_known_distances() -> None:
    # One degree of latitude is 111.2 km on the mean sphere; Shanghai to Beijing ~1,067 km.
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-3)
    assert haversine_m(31.2304, 121.4737, 39.9042, 116.4074) == pytest.approx(1_067_000, rel=0.01)
    assert haversine_m(10, 20, 10, 20) == 0


def test_far_from_the_visits_position() -> None:
    near = ref(latitude="31.232000", longitude="121.473700")  # ~180 m north
    far = ref(latitude="31.240000", longitude="121.473700")  # ~1.1 km north
    assert own_findings(near, FRAME) == []
    [finding] = own_findings(far, FRAME)
    assert finding.code == FAR_AWAY and finding.metres == pytest.approx(1067, rel=0.01)
    assert finding_text(finding, "en") == "taken 1.1 km from the visit's position"
    # No position on the visit (or on the photo): nothing to compare.
    assert own_findings(far, VisitFrame(START, END)) == []
    assert own_findings(ref(latitude="", longitude=""), FRAME) == []


def test_no_exif_for_photos_but_not_for_pdfs() -> None:
    bare = ref(camera="", taken_at="", latitude="", longitude="")
    assert codes(own_findings(bare, FRAME)) == [NO_EXIF]
    assert own_findings(ref(media_type=PDF, camera="", taken_at="", latitude=""), FRAME) == []


def hashes(n: int, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return [rng.getrandbits(64) for _ in range(n)]


def flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def test_the_same_file_in_two_visits_is_found_both_ways() -> None:
    index = ReuseIndex()
    assert index.add("visit-1", [Photo("a" * 64, "")]) == set()
    assert index.add("visit-2", [Photo("b" * 64, ""), Photo("a" * 64, "")]) == {"visit-1"}
    assert index.findings("visit-1") == [Finding(SAME_FILE, "a" * 64, visits=("visit-2",))]
    assert index.findings("visit-2") == [Finding(SAME_FILE, "a" * 64, visits=("visit-1",))]
    assert index.codes("visit-2") == {SAME_FILE}
    # One visit with one file on two items is not reuse.
    assert index.add("visit-3", [Photo("c" * 64), Photo("c" * 64)]) == set()
    assert index.findings("visit-3") == []


@pytest.mark.parametrize("distance", range(MAX_PHASH_DISTANCE + 3))
def test_a_resaved_copy_is_found_within_the_distance(distance: int) -> None:
    rng = random.Random(distance)
    [original] = hashes(1, seed=distance)
    while not checks.PLAIN_BITS < original.bit_count() < 64 - checks.PLAIN_BITS:
        original = rng.getrandbits(64)
    # The worst case for the index: the flipped bits spread over every chunk.
    copy = flip(original, [(n * 16 + n) % 64 for n in range(distance)])
    index = ReuseIndex()
    index.add("visit-1", [Photo("a" * 64, f"{original:016x}")])
    touched = index.add("visit-2", [Photo("b" * 64, f"{copy:016x}")])
    if distance <= MAX_PHASH_DISTANCE:
        assert touched == {"visit-1"}
        assert index.codes("visit-2") == {SIMILAR_PHOTO}
        assert index.findings("visit-1")[0].visits == ("visit-2",)
    else:
        assert touched == set() and index.codes("visit-2") == frozenset()


def test_the_index_finds_what_comparing_every_pair_finds() -> None:
    rng = random.Random(7)
    values = hashes(400, seed=3)
    # A hundred near copies, up to MAX bits off, anywhere in the hash.
    values += [flip(v, rng.sample(range(64), rng.randint(0, 6))) for v in values[:100]]
    index = ReuseIndex()
    for n, value in enumerate(values):
        index.add(f"v{n}", [Photo(f"{n:064x}", f"{value:016x}")])
    usable = {n for n, v in enumerate(values) if checks.phash_value(f"{v:016x}") is not None}
    expected = {
        f"v{a}"
        for a in usable
        for b in usable
        if a != b and checks.hamming(values[a], values[b]) <= MAX_PHASH_DISTANCE
    }
    found = {f"v{n}" for n in range(len(values)) if index.codes(f"v{n}")}
    assert found == expected
    assert len(found) >= 150  # the copies and their originals


def test_plain_pictures_are_matched_by_bytes_only() -> None:
    # A flat picture has no edges: its dHash is all zeros, like every other flat one.
    index = ReuseIndex()
    index.add("visit-1", [Photo("a" * 64, "0000000000000000")])
    assert index.add("visit-2", [Photo("b" * 64, "0000000000000001")]) == set()


def test_a_visit_added_again_replaces_its_files() -> None:
    index = ReuseIndex()
    index.add("visit-1", [Photo("a" * 64)])
    index.add("visit-2", [Photo("a" * 64)])
    assert index.add("visit-2", [Photo("b" * 64)]) == {"visit-1"}
    assert index.codes("visit-1") == frozenset() and index.codes("visit-2") == frozenset()
    assert len(index) == 2


def test_many_visits_index_in_time_that_grows_with_the_photos() -> None:
    """Each photo is compared with its neighbours in the index only: 2,000 visits of 10
    photos take about a second (10,000 visits about 8 s, against 2 × 10⁸ comparisons of
    every pair at 20,000 photos, 5 × 10⁹ at 100,000)."""
    values = hashes(20_000, seed=11)
    index = ReuseIndex()
    started = time.perf_counter()
    for visit in range(2_000):
        photos = [
            Photo(f"{visit * 10 + n:064x}", f"{values[visit * 10 + n]:016x}") for n in range(10)
        ]
        index.add(f"visit-{visit}", photos)
    elapsed = time.perf_counter() - started
    assert len(index) == 2_000
    assert elapsed < 10  # generous, for a busy test machine


def test_every_code_and_filter_has_words_in_both_languages() -> None:
    for code in checks.CODES:
        name = checks.WARNING_NAMES[code]
        assert name.zh and name.en and name.zh != name.en
        assert finding_text(Finding(code, "a" * 64, minutes=90, metres=500, visits=("x",)), "zh")
    for choice in EVIDENCE_FILTERS:
        assert PHOTO_FILTER_NAMES[choice].zh and PHOTO_FILTER_NAMES[choice].en
    assert finding_text(Finding(OUTSIDE_TIME, "a", minutes=135), "en") == (
        "taken 2 h 15 min outside the visit"
    )
    assert finding_text(Finding(OUTSIDE_TIME, "a", minutes=135), "zh") == (
        "拍摄时间在访问期间之外 2小时15分"
    )


def test_the_list_filters_on_photo_warnings() -> None:
    from pos_tui.domain.review_filter import Filter, filter_rows, review_rows

    rows = review_rows([{"uuid": f"u{n}", "terminal_number": str(n)} for n in range(5)], {})
    rows[0].evidence = frozenset({SAME_FILE})
    rows[1].evidence = frozenset({SIMILAR_PHOTO, NO_EXIF})
    rows[2].evidence = frozenset({OUTSIDE_TIME})
    rows[3].evidence = frozenset()  # checked: nothing to warn about
    # rows[4] is not checked yet: it matches no photo filter until the pass reaches it.

    def kept(choice: str | None) -> list[str]:
        return [row.uuid for row in filter_rows(rows, Filter(evidence=choice))]

    assert kept(None) == ["u0", "u1", "u2", "u3", "u4"]
    assert kept("any") == ["u0", "u1", "u2"]
    assert kept("reused") == ["u0", "u1"]
    assert kept(NO_EXIF) == ["u1"]
    assert kept(OUTSIDE_TIME) == ["u2"]
    assert kept(FAR_AWAY) == []
