"""Taking a file in as evidence: the one way every photo enters a store.

A path typed or pasted on the laptop, a picture from the camera folder and (later) an
upload from the phone all come through `take_in_bytes`: bounded read, content check and
EXIF (`domain.media`), kept under its hash (`store.evidence_files`), described by an
`EvidenceRef` that the visit's record then names.
"""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from pos_tui.domain.checklist import Text
from pos_tui.domain.evidence import EvidenceError, EvidenceRef, shown_name
from pos_tui.domain.media import MAX_EVIDENCE_BYTES, inspect
from pos_tui.domain.safe_read import FileTooLarge, RefusedFile, read_regular_file
from pos_tui.store.evidence_files import EvidenceFiles
from pos_tui.store.storage import StoreError

PICTURE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".heic", ".heif", ".pdf"})
MAX_FOLDER_ENTRIES = 5000
"""A camera folder is looked through this far and no further: a folder of a million files
(or a loop of links) must not hang the counter."""


def take_in_bytes(
    files: EvidenceFiles, data: bytes, name: str, source: str, clock: Callable[[], datetime]
) -> EvidenceRef:
    """Check and keep `data`; its ref, or EvidenceError saying why it is refused."""
    name = shown_name(name)
    facts = inspect(data, name)
    try:
        sha256 = files.keep(data)
    except StoreError as error:
        raise EvidenceError(
            Text(f"无法保存 {name}：{error}", f"cannot keep {name}: {error}")
        ) from None
    return EvidenceRef(
        sha256=sha256,
        name=name,
        size=len(data),
        media_type=facts.media_type,
        attached_at=clock().isoformat(timespec="seconds"),
        source=source,
        taken_at=facts.taken_at,
        camera=facts.camera,
        latitude=facts.latitude,
        longitude=facts.longitude,
        width=facts.width,
        height=facts.height,
        phash=facts.phash,
    )


def take_in_file(
    files: EvidenceFiles, path: Path, source: str, clock: Callable[[], datetime]
) -> EvidenceRef:
    """Read `path` (at most the evidence limit; never a FIFO or a device) and take it in."""
    name = shown_name(path.name)
    try:
        data = read_regular_file(path, MAX_EVIDENCE_BYTES)
    except FileTooLarge as error:
        limit = MAX_EVIDENCE_BYTES // (1024 * 1024)
        raise EvidenceError(
            Text(f"{name} 超过 {limit} MB 的上限", f"{name} is over the limit of {limit} MB")
        ) from error
    except RefusedFile as error:
        raise EvidenceError(
            Text(f"{name} 不是普通文件", f"{name} cannot be attached: {error.reason}")
        ) from None
    except FileNotFoundError:
        raise EvidenceError(Text(f"找不到文件 {path}", f"there is no file {path}")) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise EvidenceError(
            Text(f"无法读取 {name}：{reason}", f"cannot read {name}: {reason}")
        ) from None
    return take_in_bytes(files, data, path.name, source, clock)


def pasted_paths(text: str) -> list[Path]:
    """The paths in what a terminal pasted: one per line, or several on a line as a
    file manager quotes them ('a b.jpg' "c.jpg" d\\ e.jpg), or file:// addresses."""
    found: list[Path] = []
    for line in text.replace("\r", "\n").split("\n"):
        line = line.strip()
        if not line:
            continue
        try:
            parts = shlex.split(line)
        except ValueError:  # an unmatched quote: the line as it is
            parts = [line]
        for part in parts:
            if part.startswith("file://"):
                part = unquote(urlparse(part).path)
            found.append(Path(part).expanduser())
    return found


@dataclass(frozen=True, slots=True)
class Picture:
    """A picture in the camera folder, offered for attaching."""

    path: Path
    modified: datetime
    size: int


def pictures_since(folder: Path, since: datetime, depth: int = 3) -> list[Picture]:
    """The pictures under `folder` changed at or after `since`, newest first. Links are
    not followed and at most `MAX_FOLDER_ENTRIES` entries are looked at."""
    found: list[Picture] = []
    seen = 0
    pending = [(folder, 0)]
    zone = since.tzinfo
    while pending and seen < MAX_FOLDER_ENTRIES:
        current, level = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_FOLDER_ENTRIES:
                break
            try:
                status = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(status.st_mode):
                if level + 1 < depth and not entry.name.startswith("."):
                    pending.append((Path(entry.path), level + 1))
                continue
            if not stat.S_ISREG(status.st_mode):
                continue
            if Path(entry.name).suffix.lower() not in PICTURE_SUFFIXES:
                continue
            modified = datetime.fromtimestamp(status.st_mtime, tz=zone)
            if modified >= since:
                found.append(Picture(Path(entry.path), modified, status.st_size))
    return sorted(found, key=lambda picture: picture.modified, reverse=True)


__all__ = ["Picture", "pasted_paths", "pictures_since", "take_in_bytes", "take_in_file"]
