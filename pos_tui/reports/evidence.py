"""The pictures of a report: small JPEG copies of the kept photos, as data: URIs.

A report is one file that opens and prints without a network, so each photo goes inside
it. The original may be 12 MB; the copy is at most `LONG_SIDE` pixels on its long side, a
quality-`QUALITY` JPEG, small enough that a report with twenty photos still mails. The copy
carries no EXIF: the time and place the report prints come from the record (which the
signature covers), and a phone's EXIF can hold more than the bank asked for (the owner's
name, the phone's serial). The picture is turned upright first, since without EXIF no
viewer would know to turn it.

Pillow (and pillow-heif for HEIC) are imported here on first use: never on the app's
start-up path, and not at all for a Markdown report.
"""

from __future__ import annotations

import base64
import io
import warnings
from typing import Any

from pos_tui.domain.evidence import PHOTO_TYPES
from pos_tui.domain.media import MAX_PIXELS, pillow_for

LONG_SIDE = 800
"""Sharp enough on A4 at the size the report prints it (85 mm is about 1000 px at 300 dpi,
and a screen shows it smaller); a 12 MP photo shrinks to about 60 KB."""
QUALITY = 75


class PictureError(ValueError):
    """The bytes do not decode as a picture (they were checked at intake; a newer Pillow
    or a missing HEIC decoder can still refuse them)."""


def thumbnail(data: bytes, media_type: str) -> bytes:
    """`data` (a kept photo's verified bytes) as a small upright JPEG without metadata."""
    if media_type not in PHOTO_TYPES:
        raise PictureError(f"{media_type} is not a picture")
    image_module = pillow_for(media_type)
    from PIL import ImageOps

    with warnings.catch_warnings():
        # Intake refused bombs already; this holds for a store a newer app wrote.
        warnings.simplefilter("error", image_module.DecompressionBombWarning)
        try:
            with image_module.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise PictureError(f"{width}×{height} pixels is too many")
                # A JPEG decodes straight at 1/2, 1/4 or 1/8 scale: much less work for a
                # 12 MP photo than decoding it whole and shrinking it.
                image.draft("RGB", (LONG_SIDE, LONG_SIDE))
                upright = ImageOps.exif_transpose(image)
                small = _flattened(upright)
                small.thumbnail((LONG_SIDE, LONG_SIDE), image_module.Resampling.LANCZOS)
        except PictureError:
            raise
        except Exception as error:
            # Pillow raises OSError, SyntaxError, ValueError, struct.error… for a picture it
            # cannot read; to the report every one means "cannot be shown".
            raise PictureError(str(error) or type(error).__name__) from None
    # No exif=, no icc_profile=, and no info carried over: Pillow would otherwise write
    # the XMP packet it read back into the copy.
    small.info.clear()
    out = io.BytesIO()
    small.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()


def _flattened(image: Any) -> Any:
    """RGB: a PNG's transparency is put on white, as it would print."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        from PIL import Image

        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def data_uri(jpeg: bytes) -> str:
    """Base64 holds only A-Z, a-z, 0-9, + / =: safe inside a quoted HTML attribute."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def size_text(size: int) -> str:
    """A file size as people read it: 980 B, 35 KB, 4.2 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


__all__ = ["LONG_SIDE", "QUALITY", "PictureError", "data_uri", "size_text", "thumbnail"]
