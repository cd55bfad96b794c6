"""Evidence: the photos and files attached to a visit's items, and the rules for them.

An item asks for evidence in its checklist (`EvidenceRule`); what is attached is an
`EvidenceRef`: the file's SHA-256 (the file itself lives in the store under that hash,
never modified) and what was read from it when it was taken in. The refs are part of the
visit's content, so the content hash and the laptop's signature cover every file's hash: a
file replaced in a store no longer has the hash its record names.

Pure: no file is read here (`media.py` reads bytes, the store keeps files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from pos_tui.domain.checklist import EvidenceKind, EvidenceRule, Text
from pos_tui.domain.redact import guard_text

MAX_PER_ITEM = 20
"""The most a checklist may ask for on one item: a visit is reviewed by a person."""

JPEG = "image/jpeg"
PNG = "image/png"
HEIC = "image/heic"
PDF = "application/pdf"
PHOTO_TYPES = frozenset({JPEG, PNG, HEIC})
MEDIA_TYPES = frozenset({*PHOTO_TYPES, PDF})
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", HEIC: ".heic", PDF: ".pdf"}


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """One attached file as its record names it. Only `sha256`, `size` and `media_type`
    are facts about the bytes; the rest was read from the file (its EXIF) or said by the
    technician's laptop, and review weighs it as such."""

    sha256: str
    name: str
    size: int
    media_type: str
    attached_at: str
    source: str = "laptop"
    """How it arrived: "laptop" (a path or a paste), "folder" (the camera folder), "phone"."""
    taken_at: str = ""
    """From EXIF: ISO time, with the offset when the camera wrote one."""
    camera: str = ""
    latitude: str = ""
    longitude: str = ""
    width: int = 0
    height: int = 0
    phash: str = ""
    """A 64-bit difference hash of the picture in hex: near for a re-saved copy."""

    @property
    def has_exif(self) -> bool:
        return bool(self.taken_at or self.camera or self.latitude)

    @property
    def has_position(self) -> bool:
        return bool(self.latitude and self.longitude)

    @property
    def is_photo(self) -> bool:
        return self.media_type in PHOTO_TYPES

    def to_dict(self) -> dict[str, Any]:
        """Only what is known: a ref without EXIF stays short, and stays the same bytes
        (and so the same hash) for as long as this shape lasts."""
        data: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value or spec.name in _ALWAYS:
                data[spec.name] = value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvidenceRef:
        known = {spec.name for spec in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


_ALWAYS = frozenset({"sha256", "name", "size", "media_type", "attached_at"})
_SHA256 = re.compile(r"[0-9a-f]{64}")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
MAX_NAME = 120


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def shown_name(original: str) -> str:
    """The original file name as a record may keep it: the last part of the path, no
    control characters (a name is shown in terminals and spreadsheets), nothing that looks
    like a card number, and not so long that it hides the rest of a line."""
    base = re.split(r"[/\\]", original.strip())[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip() or "file"
    if len(cleaned) > MAX_NAME:
        stem, dot, suffix = cleaned.rpartition(".")
        cleaned = (stem[: MAX_NAME - 10] + "…" + dot + suffix) if dot else cleaned[:MAX_NAME]
    return guard_text(cleaned)


class EvidenceError(ValueError):
    """A file that cannot be kept as evidence; `text` says why in both languages."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.en)
        self.text = text


def accepts(rule: EvidenceRule | None, media_type: str) -> bool:
    """A photo item takes pictures only; a file item (or a visit's own) any kept type."""
    if rule is not None and rule.kind is EvidenceKind.PHOTO:
        return media_type in PHOTO_TYPES
    return media_type in MEDIA_TYPES


def needs_more(rule: EvidenceRule | None, attached: int) -> Text | None:
    """Why an item with `attached` files cannot pass yet, or None when it can."""
    if rule is None or attached >= rule.needed:
        return None
    what_zh = "照片" if rule.kind is EvidenceKind.PHOTO else "文件"
    what_en = "photo" if rule.kind is EvidenceKind.PHOTO else "file"
    plural = "" if rule.needed == 1 else "s"
    return Text(
        f"通过须附{rule.needed}份{what_zh}（已附{attached}份），按 a 添加",
        f"a pass needs {rule.needed} {what_en}{plural} ({attached} attached): press a to attach",
    )


def over_limit(rule: EvidenceRule | None, attached: int, adding: int) -> Text | None:
    """Why `adding` more files would be too many, or None when they fit."""
    limit = MAX_PER_ITEM if rule is None else rule.maximum
    if attached + adding <= limit:
        return None
    return Text(
        f"此项最多附{limit}份（已附{attached}份）",
        f"this item takes at most {limit} files ({attached} attached)",
    )


__all__ = [
    "EXTENSIONS",
    "HEIC",
    "JPEG",
    "MEDIA_TYPES",
    "PDF",
    "PHOTO_TYPES",
    "PNG",
    "EvidenceError",
    "EvidenceKind",
    "EvidenceRef",
    "EvidenceRule",
    "accepts",
    "is_sha256",
    "needs_more",
    "over_limit",
    "shown_name",
]
