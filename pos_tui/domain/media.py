"""What a file offered as evidence is, judged by its bytes and never by its name.

`inspect(data, name)` says which kept type the bytes are (JPEG, PNG, HEIC, PDF), checks
that a picture really decodes, and reads what its EXIF says: when it was taken, by which
camera, where. A text file named `.jpg`, a truncated picture, a decompression bomb or a PDF
that carries scripts is refused with a sentence saying why.

Pillow (and pillow-heif for HEIC) parse the pictures; they are imported on first use, off
the app's start-up path. Pure: bytes in, facts out; reading and keeping files is the
store's job.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pos_tui.domain.checklist import Text
from pos_tui.domain.evidence import HEIC, JPEG, PDF, PNG, EvidenceError

MAX_EVIDENCE_BYTES = 25 * 1024 * 1024
"""A phone's full-size photo is 3 to 12 MB; a scanned slip far less."""
MAX_PIXELS = 120_000_000
"""Above a 108-megapixel phone camera: a larger 'photo' is a decompression bomb."""

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
# A PDF is opened by the supervisor's viewer: one that can run code or carry other files is
# not evidence anyone needs.
_ACTIVE_PDF = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFile|OpenAction|AA|RichMedia)\b")


@dataclass(frozen=True, slots=True)
class MediaFacts:
    media_type: str
    taken_at: str = ""
    camera: str = ""
    latitude: str = ""
    longitude: str = ""
    width: int = 0
    height: int = 0
    phash: str = ""


def sniff(data: bytes) -> str | None:
    """The kept type the bytes start like, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return HEIC
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def inspect(data: bytes, name: str) -> MediaFacts:
    """The facts of `data` (offered as `name`), or EvidenceError saying why not."""
    if len(data) > MAX_EVIDENCE_BYTES:
        raise EvidenceError(
            Text(
                f"{name} 有 {_mib(len(data))}，超过 {_mib(MAX_EVIDENCE_BYTES)} 的上限",
                f"{name} is {_mib(len(data))}, over the limit of {_mib(MAX_EVIDENCE_BYTES)}",
            )
        )
    if not data:
        raise EvidenceError(Text(f"{name} 是空文件", f"{name} is empty"))
    media_type = sniff(data)
    if media_type is None:
        raise EvidenceError(
            Text(
                f"{name} 不是 JPEG、PNG、HEIC 照片或 PDF（按内容判断，不看文件名）",
                f"{name} is not a JPEG, PNG or HEIC photo or a PDF (judged by its content, "
                "not its name)",
            )
        )
    if media_type == PDF:
        return _pdf_facts(data, name)
    return _picture_facts(data, name, media_type)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _pdf_facts(data: bytes, name: str) -> MediaFacts:
    if b"%%EOF" not in data[-2048:]:
        raise EvidenceError(
            Text(
                f"{name} 不是完整的 PDF（可能未下载完）", f"{name} is not a whole PDF (cut short?)"
            )
        )
    if _ACTIVE_PDF.search(data):
        raise EvidenceError(
            Text(
                f"{name} 含有脚本、附件或自动动作，不能作为凭证",
                f"{name} carries scripts, attachments or automatic actions; it cannot be "
                "kept as evidence",
            )
        )
    return MediaFacts(PDF)


def _picture_facts(data: bytes, name: str, media_type: str) -> MediaFacts:
    image_module = pillow_for(media_type)
    broken = EvidenceError(
        Text(f"{name} 不是完整可读的图片", f"{name} is not a whole, readable picture")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", image_module.DecompressionBombWarning)
        try:
            with image_module.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise EvidenceError(
                        Text(
                            f"{name} 像素过多（{width}×{height}）",
                            f"{name} has too many pixels ({width}×{height})",
                        )
                    )
                image.verify()  # first thing after open, or Pillow refuses to
            # verify() leaves the image unusable, and checks structure only: decoding a
            # small version proves the pixels are there, and gives the perceptual hash.
            with image_module.open(io.BytesIO(data)) as image:
                exif = image.getexif()
                phash = _difference_hash(image)
        except EvidenceError:
            raise
        except (image_module.DecompressionBombWarning, image_module.DecompressionBombError):
            raise EvidenceError(
                Text(f"{name} 像素过多，疑似恶意文件", f"{name} decodes to too many pixels")
            ) from None
        except Exception:
            # Pillow raises many kinds (OSError, SyntaxError, ValueError, struct.error…) for
            # a damaged file; every one of them means the same to the technician.
            raise broken from None
    taken_at, camera, latitude, longitude = _exif_facts(exif)
    return MediaFacts(media_type, taken_at, camera, latitude, longitude, width, height, phash)


_heif_registered = False


def pillow_for(media_type: str) -> Any:
    """Pillow's Image module, able to open `media_type` (HEIC's opener registered once)."""
    from PIL import Image

    global _heif_registered
    if media_type == HEIC and not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True
    return Image


def _difference_hash(image: Any) -> str:
    """A 64-bit dHash: each bit says whether a pixel of a 9x8 grey thumbnail is brighter
    than its right neighbour. A re-saved, recompressed or resized copy keeps nearly all
    bits; another photo keeps about half. (Ten lines on Pillow, rather than imagehash,
    which brings numpy, scipy and PyWavelets: see docs/decisions.md.)"""
    from PIL import Image

    image.draft("L", (64, 64))  # JPEG decodes at 1/8 scale: a 5 MB photo in milliseconds
    grey = image.convert("L").resize((9, 8), Image.Resampling.BILINEAR)
    pixels = grey.tobytes()  # one byte a pixel in mode L
    bits = 0
    for row in range(8):
        for column in range(8):
            left, right = pixels[row * 9 + column], pixels[row * 9 + column + 1]
            bits = (bits << 1) | (left > right)
    return f"{bits:016x}"


# EXIF tag numbers (CIPA DC-008).
_MAKE, _MODEL, _DATETIME = 0x010F, 0x0110, 0x0132
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_ORIGINAL, _OFFSET_ORIGINAL = 0x9003, 0x9011
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4


def _exif_facts(exif: Any) -> tuple[str, str, str, str]:
    try:
        details = exif.get_ifd(_EXIF_IFD)
        gps = exif.get_ifd(_GPS_IFD)
    except Exception:  # a damaged EXIF block is no EXIF, not a refused photo
        return "", "", "", ""
    taken_at = _taken_at(
        details.get(_ORIGINAL) or exif.get(_DATETIME), details.get(_OFFSET_ORIGINAL)
    )
    camera = " ".join(_clean(exif.get(tag)) for tag in (_MAKE, _MODEL) if _clean(exif.get(tag)))
    latitude = _degrees(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF), "S", 90)
    longitude = _degrees(gps.get(_GPS_LON), gps.get(_GPS_LON_REF), "W", 180)
    if not (latitude and longitude):
        latitude = longitude = ""
    return taken_at, camera[:80], latitude, longitude


def _clean(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return re.sub(r"[\x00-\x1f\x7f]", "", value).strip()


def _taken_at(stamp: object, offset: object) -> str:
    text = _clean(stamp)
    try:
        moment = datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return ""
    zone = _offset(_clean(offset))
    if zone is not None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat(timespec="seconds")


def _offset(text: str) -> timezone | None:
    match = re.fullmatch(r"([+-])(\d\d):(\d\d)", text)
    if match is None:
        return None
    sign = -1 if match[1] == "-" else 1
    minutes = int(match[2]) * 60 + int(match[3])
    if minutes > 14 * 60:
        return None
    return timezone(sign * timedelta(minutes=minutes))


def _degrees(value: Any, ref: object, negative: str, limit: int) -> str:
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return ""
    number = degrees + minutes / 60 + seconds / 3600
    if _clean(ref).upper() == negative:
        number = -number
    if not -limit <= number <= limit or number != number:  # NaN compares unequal
        return ""
    return f"{number:.6f}"


__all__ = ["MAX_EVIDENCE_BYTES", "MediaFacts", "inspect", "pillow_for", "sniff"]
