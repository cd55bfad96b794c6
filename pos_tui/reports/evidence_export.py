"""`pos-tui export --evidence DIR`: the visits' photos and files, copied out with a manifest.

Each file is read from the store checked against the hash its record names, and written as
`<visit uuid>/<checklist>-<item>-<n>-<sha256[:12]><ext>`: names made here from ids, never
from the file's original name, which came from a phone or a file manager and could hold
`../`, a drive letter or anything else. The original name is in the manifest instead.

The folder must be new or empty, so what is in it afterwards is exactly this export and a
reader can trust the manifest to list all of it. Nothing there is followed as a link: files
are created with O_EXCL | O_NOFOLLOW, and a visit's folder that turns out to be a link is
refused. Each file is written beside its name and renamed when whole, so a killed export
leaves no half photo under a final name.

A file the store no longer holds whole (missing, or replaced: its bytes no longer have
their hash) is not copied; the manifest lists it with that state, and the export goes on
with the others. Visits stream one at a time, as the CSV and JSON exports do.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pos_tui.domain.evidence import EXTENSIONS, EvidenceRef
from pos_tui.reports import words
from pos_tui.reports.export import ExportStats, Progress, spreadsheet_cell, visit_records
from pos_tui.reports.masking import masked
from pos_tui.store.evidence_files import MISSING, REPLACED
from pos_tui.store.sources import VisitRecord, VisitSource
from pos_tui.store.storage import StoreError

MANIFEST_CSV = "manifest.csv"
MANIFEST_JSON = "manifest.json"
MANIFEST_COLUMNS = (
    "visit_uuid",
    "checklist_id",
    "item_id",
    "item_title",
    "n",
    "state",
    "path",
    "original_name",
    "sha256",
    "size",
    "media_type",
    "taken_at",
    "camera",
    "latitude",
    "longitude",
    "source",
    "attached_at",
)
COPIED = "copied"

_UNSAFE_PART = re.compile(r"[^A-Za-z0-9_-]+")
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class FolderRefused(StoreError):
    """DIR cannot take the export: not a folder, a link, or not empty."""


@dataclass
class EvidenceStats(ExportStats):
    files: int = 0
    copied: int = 0
    bytes_copied: int = 0
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    """(visit uuid, original name, missing | replaced) for each file not copied."""


def prepare_folder(folder: Path) -> None:
    """Make `folder`, or accept it when it is an empty folder that is not a link."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        status = os.lstat(folder)
        if stat.S_ISLNK(status.st_mode):
            raise FolderRefused(
                f"{folder} is a link; give --evidence a real folder, new or empty."
            ) from None
        if not stat.S_ISDIR(status.st_mode):
            raise FolderRefused(
                f"{folder} is a file; give --evidence a new or empty folder."
            ) from None
        with os.scandir(folder) as entries:
            if next(entries, None) is not None:
                raise FolderRefused(
                    f"{folder} is not empty; give --evidence a new or empty folder, so the"
                    " export is never mixed into other files."
                ) from None
    except FileNotFoundError:
        raise FolderRefused(
            f"{folder.parent} does not exist; create it first, or choose another folder."
        ) from None


def safe_part(text: str) -> str:
    """An id as one path part: letters, digits, - and _ only (a record is data from outside:
    a hand-edited item id must not become `..`)."""
    return _UNSAFE_PART.sub("_", text).strip("_")[:60] or "_"


def file_name(checklist_id: str, item_id: str, n: int, ref: EvidenceRef) -> str:
    ext = EXTENSIONS.get(ref.media_type, ".bin")
    return f"{safe_part(checklist_id)}-{safe_part(item_id)}-{n}-{ref.sha256[:12]}{ext}"


def write_evidence(
    source: VisitSource,
    rows: Iterable[dict[str, Any]],
    folder: Path,
    lang: str | None = None,
    progress: Progress | None = None,
) -> EvidenceStats:
    """Copy every evidence file of the visits of `rows` into `folder` (see the module)."""
    prepare_folder(folder)
    stats = EvidenceStats()
    with (
        _aside(folder / MANIFEST_CSV, "utf-8-sig") as csv_file,
        _aside(folder / MANIFEST_JSON, "utf-8") as json_file,
    ):
        writer = csv.writer(csv_file)
        writer.writerow([spreadsheet_cell(column) for column in MANIFEST_COLUMNS])
        json_file.write("[")
        separator = "\n"
        for record in visit_records(source, rows, stats, progress):
            for entry in _copy_visit(record, folder, lang, stats):
                writer.writerow([spreadsheet_cell(str(entry[c])) for c in MANIFEST_COLUMNS])
                json_file.write(separator + json.dumps(entry, ensure_ascii=False))
                separator = ",\n"
        json_file.write("\n]\n")
    return stats


def _copy_visit(
    record: VisitRecord, folder: Path, lang: str | None, stats: EvidenceStats
) -> Iterator[dict[str, Any]]:
    session = record.session
    item_lang = words.report_language(lang, session.info.language)
    visit_folder: Path | None = None
    counts: dict[tuple[str, str], int] = {}
    files = record.files
    for key, ref in session.all_evidence():
        counts[key] = n = counts.get(key, 0) + 1
        stats.files += 1
        state, path = _problem(record, ref), ""
        if state is None and files is not None:
            if visit_folder is None:
                visit_folder = _visit_folder(folder, session.uuid)
            try:
                # Read and checked against the hash in one go: what is copied is what the
                # record names, even if the file was swapped since the integrity check.
                data = files.read(ref.sha256)
            except StoreError:
                state = files.check(ref.sha256, ref.size) or MISSING
            else:
                name = file_name(key[0], key[1], n, ref)
                _write_new(visit_folder / name, data)
                state, path = COPIED, f"{visit_folder.name}/{name}"
                stats.copied += 1
                stats.bytes_copied += len(data)
        state = state or MISSING
        if state != COPIED:
            stats.problems.append((session.uuid, masked(ref.name), state))
        yield {
            "visit_uuid": session.uuid,
            "checklist_id": key[0],
            "item_id": key[1],
            "item_title": _item_title(record, key, item_lang),
            "n": n,
            "state": state,
            "path": path,
            "original_name": masked(ref.name),
            "sha256": ref.sha256,
            "size": ref.size,
            "media_type": ref.media_type,
            "taken_at": ref.taken_at,
            "camera": masked(ref.camera),
            "latitude": ref.latitude,
            "longitude": ref.longitude,
            "source": ref.source,
            "attached_at": ref.attached_at,
        }


def _problem(record: VisitRecord, ref: EvidenceRef) -> str | None:
    if record.files is None:
        return MISSING
    found = record.file_problems.get(ref.sha256)
    return found if found in (MISSING, REPLACED) else None


def _item_title(record: VisitRecord, key: tuple[str, str], lang: str) -> str:
    try:
        return record.session.item(*key).title.get(lang)
    except (KeyError, ValueError):
        return ""  # a key no checklist of the visit knows (a hand-edited record)


def _visit_folder(folder: Path, uuid: str) -> Path:
    path = folder / safe_part(uuid)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path)
    # Made by this export a moment ago, in a folder that was empty: anything else there
    # (a link planted meanwhile) is not written through.
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        raise FolderRefused(f"{path} is not a folder this export made; stopping.")
    return path


def _write_new(path: Path, data: bytes) -> None:
    part = path.with_name(f".{path.name}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise


@contextlib.contextmanager
def _aside(path: Path, encoding: str) -> Iterator[TextIO]:
    """A text file written beside `path` and renamed into place only when complete."""
    part = path.with_name(f".{path.name}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW, 0o644)
    try:
        with open(fd, "w", encoding=encoding, newline="") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(part, path)
    finally:
        with contextlib.suppress(OSError):
            part.unlink()


__all__ = [
    "COPIED",
    "MANIFEST_COLUMNS",
    "MANIFEST_CSV",
    "MANIFEST_JSON",
    "EvidenceStats",
    "FolderRefused",
    "file_name",
    "prepare_folder",
    "safe_part",
    "write_evidence",
]
