"""The review side of evidence: the photo warnings of every visit, the pictures the detail
shows, and the copy handed to the system viewer.

The warnings of one visit need every other visit's photos (the reused-photo check), so
they are gathered by the background pass that reads every record anyway: each child sends
back a short summary of each visit's files (`summary_of`), and the `EvidenceLedger` here
builds the reuse index from them as they come. Opening a visit adds it at once, so its
detail never waits for the pass to reach it.
"""

from __future__ import annotations

import hashlib
import io
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pos_tui.domain.evidence import EXTENSIONS, HEIC, PHOTO_TYPES, EvidenceRef
from pos_tui.domain.evidence_checks import (
    CODES,
    Finding,
    Photo,
    ReuseIndex,
    distance_to_visit,
    frame_of,
    own_findings,
)
from pos_tui.store.evidence_files import EvidenceReader
from pos_tui.store.sources import VisitRecord
from pos_tui.store.storage import StoreError

VIEWER_ENV = "POS_TUI_VIEWER"
"""A command to open evidence with instead of the system's (`xdg-open`, `open`): split as
a shell would, the file's path added at the end."""
PICTURE_PIXELS = 640
"""The longest side of the picture the detail is given unless it asks: enough for a Kitty
or Sixel terminal's pane, at a fraction of the memory of a 12-megapixel photo."""

Summary = list[Any]
"""[uuid, [[sha256, phash], ...], [own warning codes]]: plain values, sent between
processes as JSON."""


def summary_of(record: VisitRecord) -> Summary:
    """What the reuse index and the list's filters need of one visit's evidence."""
    session = record.session
    frame = frame_of(session)
    photos: list[list[str]] = []
    codes: set[str] = set()
    for _key, ref in session.all_evidence():
        photos.append([ref.sha256, ref.phash if ref.is_photo else ""])
        codes.update(finding.code for finding in own_findings(ref, frame))
    return [session.uuid, photos, sorted(codes)]


def empty_summary(uuid: str) -> Summary:
    return [uuid, [], []]


@dataclass
class EvidenceLedger:
    """Every visit's photo warnings so far, by visit; fed from several threads (the pass's
    feeders and the worker), so every touch takes the lock."""

    index: ReuseIndex = field(default_factory=ReuseIndex)
    _own: dict[str, frozenset[str]] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, summaries: Sequence[tuple[str, Summary]]) -> dict[str, frozenset[str]]:
        """Take in (row key, summary) pairs; every row whose warnings this changed, by key
        with its whole set of codes (the reuse of an earlier visit included)."""
        changed: dict[str, frozenset[str]] = {}
        touched: set[str] = set()
        with self._lock:
            for key, (uuid, photos, codes) in summaries:
                self._own[uuid] = frozenset(codes)
                self._keys[uuid] = key
                touched |= self.index.add(uuid, (Photo(sha, phash) for sha, phash in photos))
                changed[key] = self._codes(uuid)
            for uuid in touched:
                other = self._keys.get(uuid)
                if other is not None:
                    changed[other] = self._codes(uuid)
        return changed

    def _codes(self, uuid: str) -> frozenset[str]:
        return self._own.get(uuid, frozenset()) | self.index.codes(uuid)

    def reuse(self, uuid: str) -> tuple[list[Finding], int]:
        """The reuse findings on a visit, and how many visits it was compared with."""
        with self._lock:
            return self.index.findings(uuid), len(self.index)

    def forget(self) -> None:
        """A new pass over a freshly read list: what was known may be out of date."""
        with self._lock:
            self.index, self._own, self._keys = ReuseIndex(), {}, {}


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    """One attached file as the detail lists it."""

    item: tuple[str, str]
    ref: EvidenceRef
    metres: float | None
    """From the visit's position; None when either position is unknown."""
    findings: tuple[Finding, ...]
    problem: str | None
    """`store.evidence_files` MISSING or REPLACED when the file is not whole in the store."""


@dataclass(frozen=True, slots=True)
class EvidenceReport:
    lines: tuple[EvidenceLine, ...]
    compared: int
    """Visits in the reuse index when this was made."""
    total: int
    """Visits in the list: fewer compared means the pass has not read them all yet."""
    names: Mapping[str, str]
    """Other visits named by the findings, by uuid: their terminal and day."""

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(f.code for line in self.lines for f in line.findings)


def evidence_report(
    record: VisitRecord,
    ledger: EvidenceLedger,
    key: str,
    rows_by_uuid: Mapping[str, Mapping[str, Any]],
) -> EvidenceReport:
    """The detail's evidence: each file with its findings, this visit added to the index
    first so that what it shares with the visits read so far is found now."""
    session = record.session
    ledger.add([(key, summary_of(record))])
    reuse, compared = ledger.reuse(session.uuid)
    by_sha: dict[str, list[Finding]] = {}
    for finding in reuse:
        by_sha.setdefault(finding.sha256, []).append(finding)
    frame = frame_of(session)
    lines = []
    for item, ref in session.all_evidence():
        found = by_sha.get(ref.sha256, []) + own_findings(ref, frame)
        found.sort(key=lambda f: CODES.index(f.code) if f.code in CODES else len(CODES))
        lines.append(
            EvidenceLine(
                item,
                ref,
                distance_to_visit(ref, frame),
                tuple(found),
                record.file_problems.get(ref.sha256),
            )
        )
    names = {}
    for finding in reuse:
        for uuid in finding.visits:
            row = rows_by_uuid.get(uuid, {})
            terminal, day = row.get("terminal_number", ""), str(row.get("updated_at", ""))[:10]
            names[uuid] = f"{terminal} {day}".strip() or uuid[:8]
    return EvidenceReport(tuple(lines), compared, len(rows_by_uuid), names)


def picture(files: EvidenceReader, sha256: str, longest: int = PICTURE_PIXELS) -> Any:
    """The photo, verified against its hash and made small (a PIL image); StoreError when
    the file is missing or replaced, or its bytes are not a picture."""
    from PIL import Image, ImageOps

    from pos_tui.domain.media import sniff

    data = files.read(sha256)
    kind = sniff(data)
    if kind not in PHOTO_TYPES:
        raise StoreError(f"The evidence file {sha256[:12]}… is not a picture.")
    try:
        if kind == HEIC:
            from pillow_heif import register_heif_opener

            register_heif_opener()
        with Image.open(io.BytesIO(data)) as image:
            # JPEG decodes at 1/2 to 1/8 scale straight away: a 5 MB photo in milliseconds.
            image.draft("RGB", (longest, longest))
            small = ImageOps.exif_transpose(image).convert("RGB")
            small.thumbnail((longest, longest))
            return small
    except Exception:  # Pillow has many kinds; each means the same to the supervisor
        raise StoreError(f"The evidence file {sha256[:12]}… cannot be shown.") from None


class ViewerError(StoreError):
    """The viewer would not start: the file is fine, the program is not there."""


class Viewer:
    """Hands a verified copy of a file to the system viewer (or `command`, for tests and
    for a supervisor who prefers another program).

    The copy is in a folder of our own that only this user can read, named with the
    type's extension so the viewer knows what it is: the store's file has no extension,
    and handing a viewer the store's own path would let it change the evidence. The folder
    goes when the app closes.
    """

    def __init__(self, command: Sequence[str] | None = None) -> None:
        self.command = list(command) if command is not None else None
        self._folder: Path | None = None

    def open(self, files: EvidenceReader, ref: EvidenceRef) -> Path:
        data = files.read(ref.sha256)  # verified: a replaced file is refused here
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="pos-tui-evidence-"))
        path = self._folder / (ref.sha256[:16] + EXTENSIONS.get(ref.media_type, ""))
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != ref.sha256:
            path.unlink(missing_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
        self._launch(path)
        return path

    def _launch(self, path: Path) -> None:
        command = self.command
        if command is None and os.environ.get(VIEWER_ENV):
            command = shlex.split(os.environ[VIEWER_ENV])
        if command is None and sys.platform == "win32":
            try:
                os.startfile(path)  # type: ignore[attr-defined]  # Windows only
            except OSError as error:
                raise ViewerError(f"Cannot open {path.name}: {error.strerror}.") from None
            return
        if command is None:
            command = ["open"] if sys.platform == "darwin" else ["xdg-open"]
        try:
            child = subprocess.Popen(
                [*command, str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # the viewer is not killed with the app's terminal
            )
        except OSError as error:
            raise ViewerError(f"Cannot start the viewer {command[0]}: {error.strerror}.") from None
        # Reaped when it ends, so no zombie is left; nobody waits for the viewer itself.
        threading.Thread(target=child.wait, name="pos-tui-viewer", daemon=True).start()

    def close(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


__all__ = [
    "PICTURE_PIXELS",
    "VIEWER_ENV",
    "EvidenceLedger",
    "EvidenceLine",
    "EvidenceReport",
    "Summary",
    "Viewer",
    "ViewerError",
    "empty_summary",
    "evidence_report",
    "picture",
    "summary_of",
]
