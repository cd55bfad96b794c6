"""What review warns about in a visit's photos: when and where they were taken, whether the
camera said anything at all, and whether the same picture turns up in another visit.

The own checks (`own_findings`) need one visit; reuse needs every visit's photos, so
`ReuseIndex` is built over the whole store as the background pass reads it, and is cheap
enough for 10,000 visits of 10 photos each (see `ReuseIndex`). A finding is a code with
what it measured; its words come from `finding_text`, in both languages.

Pure: no file is read here; the facts are those the record's `EvidenceRef`s hold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pos_tui.domain.checklist import Text
from pos_tui.domain.evidence import EvidenceRef
from pos_tui.domain.session import Session

CLOCK_DRIFT = timedelta(minutes=15)
"""A phone's clock may be this far off the laptop's: a photo taken this close outside the
visit's time is not warned about."""
MAX_DISTANCE_M = 300.0
"""Farther than this from the visit's position: GPS in a city street is good to tens of
metres, so 300 m is another place, not a poor fix."""
MAX_PHASH_DISTANCE = 6
"""Bits of 64 a re-saved copy may differ by; two different photos differ by about 32.
`ReuseIndex` finds every pair within 7 bits, so this may not be raised above 7."""

SAME_FILE = "same_file"
SIMILAR_PHOTO = "similar_photo"
OUTSIDE_TIME = "outside_time"
FAR_AWAY = "far_away"
NO_EXIF = "no_exif"
CODES = (SAME_FILE, SIMILAR_PHOTO, OUTSIDE_TIME, FAR_AWAY, NO_EXIF)
"""Worst first: a photo from another visit is the fraud the checks are for."""
REUSE = frozenset({SAME_FILE, SIMILAR_PHOTO})

WARNING_NAMES: dict[str, Text] = {
    SAME_FILE: Text("照片与其他访问相同", "same photo in another visit"),
    SIMILAR_PHOTO: Text("照片与其他访问相似（另存副本）", "re-saved copy of another visit's photo"),
    OUTSIDE_TIME: Text("拍摄时间不在访问期间", "taken outside the visit's time"),
    FAR_AWAY: Text("拍摄地点远离访问位置", "taken far from the visit's position"),
    NO_EXIF: Text("照片没有 EXIF 信息", "photo has no EXIF at all"),
}


@dataclass(frozen=True, slots=True)
class VisitFrame:
    """When and where a visit happened, as its record says: what its photos are held to."""

    start: datetime | None
    end: datetime | None
    """The sign-off; None while the visit is not signed (no upper bound then)."""
    latitude: float | None = None
    longitude: float | None = None


def frame_of(session: Session) -> VisitFrame:
    # The position is the one the technician recorded for the visit. The registered
    # address has no coordinates yet (no geocoding offline), so it cannot be compared.
    info = session.info
    return VisitFrame(
        _moment(session.created_at),
        _moment(session.signoff.at) if session.signoff is not None else None,
        _number(info.latitude, 90),
        _number(info.longitude, 180),
    )


@dataclass(frozen=True, slots=True)
class Finding:
    """One warning on one file: `minutes` outside the visit's time, `metres` away, or the
    `visits` (uuids) that hold the same or a similar photo."""

    code: str
    sha256: str
    minutes: int = 0
    metres: float = 0.0
    visits: tuple[str, ...] = ()


def own_findings(ref: EvidenceRef, frame: VisitFrame) -> list[Finding]:
    """What one file alone says is wrong with it, worst first. PDFs carry no EXIF and
    are not photographs of the place: only pictures are checked."""
    if not ref.is_photo:
        return []
    if not ref.has_exif:
        return [Finding(NO_EXIF, ref.sha256)]
    found: list[Finding] = []
    minutes = minutes_outside(ref, frame)
    if minutes:
        found.append(Finding(OUTSIDE_TIME, ref.sha256, minutes=minutes))
    metres = distance_to_visit(ref, frame)
    if metres is not None and metres > MAX_DISTANCE_M:
        found.append(Finding(FAR_AWAY, ref.sha256, metres=metres))
    return found


def minutes_outside(ref: EvidenceRef, frame: VisitFrame) -> int:
    """How many minutes before the start or after the sign-off the photo was taken, beyond
    `CLOCK_DRIFT`; 0 inside the window or when either time is unknown."""
    if frame.start is None:
        return 0
    taken = _moment(ref.taken_at)
    if taken is None:
        return 0
    if taken.tzinfo is None and frame.start.tzinfo is not None:
        # Many cameras write no offset: the photo was taken where the visit was, so its
        # clock is read in the visit's own offset.
        taken = taken.replace(tzinfo=frame.start.tzinfo)
    elif taken.tzinfo is not None and frame.start.tzinfo is None:
        taken = taken.replace(tzinfo=None)
    start, end = frame.start, frame.end
    if end is not None and (end.tzinfo is None) != (start.tzinfo is None):
        end = end.replace(tzinfo=start.tzinfo)
    if taken < start - CLOCK_DRIFT:
        return math.ceil((start - taken) / timedelta(minutes=1))
    if end is not None and taken > end + CLOCK_DRIFT:
        return math.ceil((taken - end) / timedelta(minutes=1))
    return 0


def distance_to_visit(ref: EvidenceRef, frame: VisitFrame) -> float | None:
    """Metres from the visit's position to where the photo says it was taken; None when
    either is not known."""
    latitude, longitude = _number(ref.latitude, 90), _number(ref.longitude, 180)
    if None in (latitude, longitude, frame.latitude, frame.longitude):
        return None
    assert latitude is not None and longitude is not None
    assert frame.latitude is not None and frame.longitude is not None
    return haversine_m(latitude, longitude, frame.latitude, frame.longitude)


EARTH_RADIUS_M = 6_371_008.8
"""The mean radius (IUGG): the error against the ellipsoid is under 0.5 %, far inside
`MAX_DISTANCE_M`'s margin."""


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _moment(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _number(text: str, limit: float) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if -limit <= value <= limit else None  # NaN fails both


# -- reuse across visits ---------------------------------------------------------------

PLAIN_BITS = 6
"""A dHash with this few bits set (or unset) is a picture with no edges: a wall, a dark
pocket. Many different ones hash alike, so they are matched by their bytes only."""

_CHUNKS = 4
_CHUNK_BITS = 64 // _CHUNKS
_CHUNK_MASK = (1 << _CHUNK_BITS) - 1
_SHIFTS = tuple(n * _CHUNK_BITS for n in range(_CHUNKS))
_PROBES = (0, *(1 << bit for bit in range(_CHUNK_BITS)))
"""A chunk's own value and its 16 neighbours one bit away."""


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def phash_value(phash: str) -> int | None:
    """The hash as a number; None when absent, malformed or too plain to compare."""
    try:
        value = int(phash, 16) if len(phash) == 16 else -1
    except ValueError:
        return None
    if value < 0 or not PLAIN_BITS < value.bit_count() < 64 - PLAIN_BITS:
        return None
    return value


@dataclass(frozen=True, slots=True)
class Photo:
    """What the index needs of one file: plain values, sent between processes."""

    sha256: str
    phash: str = ""


class ReuseIndex:
    """Every visit's files, to find the same photo in two visits: by SHA-256, and by
    perceptual hash within `MAX_PHASH_DISTANCE` bits for a re-saved copy.

    Comparing every pair is 5 × 10⁹ comparisons at 100,000 photos. Multi-index hashing
    instead: the 64-bit hash is cut into 4 chunks of 16 bits, each the key of a table. Two
    hashes within 7 bits differ by at most 1 bit in one chunk at least (4 chunks of 2 bits
    would be 8), so probing each chunk's exact value and its 16 one-bit neighbours finds
    every near pair: 68 lookups a photo, in buckets of 1 or 2 entries at 100,000 photos.
    (8 chunks of a byte need no neighbours, but each of their buckets would hold about 400
    photos at that size: 3,000 candidates to compare for each new photo.)

    Visits are added one by one as the pass reads them; each `add` links the new visit
    both ways with those it shares a photo with, so the findings are whole once every
    visit is in. A visit added again (a newer revision) replaces its files.
    """

    def __init__(self) -> None:
        self._files: dict[str, tuple[Photo, ...]] = {}
        self._by_sha: dict[str, set[str]] = {}
        self._tables: list[dict[int, list[tuple[str, str, int]]]] = [{} for _ in range(_CHUNKS)]
        self._links: dict[str, dict[str, dict[str, str]]] = {}
        """visit -> its file's sha -> other visit -> SAME_FILE or SIMILAR_PHOTO."""

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, visit: object) -> bool:
        return visit in self._files

    def add(self, visit: str, photos: Iterable[Photo]) -> set[str]:
        """Index `visit`'s files; the other visits whose findings changed with it."""
        files = tuple(photos)
        touched = self.remove(visit) if visit in self._files else set()
        self._files[visit] = files
        for photo in files:
            for other in self._by_sha.get(photo.sha256, ()):
                if other != visit:
                    self._link(visit, photo.sha256, other, photo.sha256, SAME_FILE)
                    touched.add(other)
            self._by_sha.setdefault(photo.sha256, set()).add(visit)
            value = phash_value(photo.phash)
            if value is None:
                continue
            for other, other_sha in self._near(value):
                if other != visit and other_sha != photo.sha256:
                    self._link(visit, photo.sha256, other, other_sha, SIMILAR_PHOTO)
                    touched.add(other)
            for n, table in enumerate(self._tables):
                table.setdefault(_chunk(value, n), []).append((visit, photo.sha256, value))
        return touched

    def remove(self, visit: str) -> set[str]:
        """Take `visit` out; the visits that were linked to it."""
        files = self._files.pop(visit, ())
        for photo in files:
            holders = self._by_sha.get(photo.sha256)
            if holders is not None:
                holders.discard(visit)
                if not holders:
                    del self._by_sha[photo.sha256]
            value = phash_value(photo.phash)
            if value is not None:
                for n, table in enumerate(self._tables):
                    key = _chunk(value, n)
                    kept = [entry for entry in table.get(key, ()) if entry[0] != visit]
                    if kept:
                        table[key] = kept
                    else:
                        table.pop(key, None)
        links = self._links.pop(visit, {})
        others = {other for by_other in links.values() for other in by_other}
        for other in others:
            for by_other in self._links.get(other, {}).values():
                by_other.pop(visit, None)
        return others

    def findings(self, visit: str) -> list[Finding]:
        """The reuse findings on `visit`'s files, one per file and kind."""
        found: list[Finding] = []
        for sha, by_other in sorted(self._links.get(visit, {}).items()):
            for code in (SAME_FILE, SIMILAR_PHOTO):
                others = tuple(sorted(o for o, c in by_other.items() if c == code))
                if others:
                    found.append(Finding(code, sha, visits=others))
        return found

    def codes(self, visit: str) -> frozenset[str]:
        return frozenset(code for f in self._links.get(visit, {}).values() for code in f.values())

    def _near(self, value: int) -> list[tuple[str, str]]:
        # The hot loop of the index (68 probes a photo): written out, no helper calls.
        found: list[tuple[str, str]] = []
        for table, shift in zip(self._tables, _SHIFTS, strict=True):
            key = (value >> shift) & _CHUNK_MASK
            get = table.get
            for mask in _PROBES:
                bucket = get(key ^ mask)
                if bucket is not None:
                    for other, sha, other_value in bucket:
                        if (value ^ other_value).bit_count() <= MAX_PHASH_DISTANCE:
                            found.append((other, sha))
        return found

    def _link(self, visit: str, sha: str, other: str, other_sha: str, code: str) -> None:
        # Both ways: the older visit learns of the newer one that reused its photo. The
        # same file wins over a similar one when both hold between two visits.
        for a, a_sha, b in ((visit, sha, other), (other, other_sha, visit)):
            by_other = self._links.setdefault(a, {}).setdefault(a_sha, {})
            if by_other.get(b) != SAME_FILE:
                by_other[b] = code


def _chunk(value: int, n: int) -> int:
    return (value >> (n * _CHUNK_BITS)) & _CHUNK_MASK


# -- words -----------------------------------------------------------------------------


def finding_text(finding: Finding, lang: str, visit_name: dict[str, str] | None = None) -> str:
    """The warning as the supervisor reads it; `visit_name` names other visits by uuid
    (their terminal and day, say), else their id's first 8 characters."""
    names = visit_name or {}
    others = ", ".join(names.get(uuid) or uuid[:8] for uuid in finding.visits[:3])
    if len(finding.visits) > 3:
        others += f" +{len(finding.visits) - 3}"
    if finding.code == OUTSIDE_TIME:
        hours, minutes = divmod(finding.minutes, 60)
        span_zh = f"{hours}小时{minutes}分" if hours else f"{minutes}分钟"
        span_en = f"{hours} h {minutes} min" if hours else f"{minutes} min"
        text = Text(f"拍摄时间在访问期间之外 {span_zh}", f"taken {span_en} outside the visit")
    elif finding.code == FAR_AWAY:
        far = _distance(finding.metres)
        text = Text(f"拍摄地点距访问位置 {far}", f"taken {far} from the visit's position")
    elif finding.code == SAME_FILE:
        text = Text(f"同一文件也在访问 {others}", f"the same file is in visit {others}")
    elif finding.code == SIMILAR_PHOTO:
        text = Text(f"另存的相同照片在访问 {others}", f"a re-saved copy is in visit {others}")
    else:
        text = WARNING_NAMES.get(finding.code) or Text(finding.code, finding.code)
    return text.get(lang)


def _distance(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def warning_name(code: str, lang: str) -> str:
    name = WARNING_NAMES.get(code)
    return name.get(lang) if name is not None else code


__all__ = [
    "CLOCK_DRIFT",
    "CODES",
    "FAR_AWAY",
    "MAX_DISTANCE_M",
    "MAX_PHASH_DISTANCE",
    "NO_EXIF",
    "OUTSIDE_TIME",
    "REUSE",
    "SAME_FILE",
    "SIMILAR_PHOTO",
    "WARNING_NAMES",
    "Finding",
    "Photo",
    "ReuseIndex",
    "VisitFrame",
    "distance_to_visit",
    "finding_text",
    "frame_of",
    "haversine_m",
    "minutes_outside",
    "own_findings",
    "phash_value",
    "warning_name",
]
