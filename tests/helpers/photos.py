"""Real pictures made in the test: JPEG, PNG and HEIC with the EXIF a phone writes.

Each picture is drawn from a seed (random blocks of colour), so two seeds give photos a
perceptual hash tells apart, and `resaved` gives the same photo recompressed and resized:
the copy that the reused-storefront-photo check must still recognise.
"""

from __future__ import annotations

import io
import random
from datetime import datetime
from pathlib import Path

from PIL import Image

_MAKE, _MODEL = 0x010F, 0x0110
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_ORIGINAL, _OFFSET_ORIGINAL = 0x9003, 0x9011


def picture(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    rng = random.Random(seed)
    small = Image.new("RGB", (16, 12))
    small.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(16 * 12)])
    return small.resize(size, Image.Resampling.BICUBIC)


def exif_for(
    taken_at: datetime | None = None,
    position: tuple[float, float] | None = None,
    camera: tuple[str, str] = ("Xiaomi", "14"),
) -> Image.Exif:
    exif = Image.Exif()
    exif[_MAKE], exif[_MODEL] = camera
    if taken_at is not None:
        details = exif.get_ifd(_EXIF_IFD)
        details[_ORIGINAL] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        offset = taken_at.strftime("%z")
        if offset:
            details[_OFFSET_ORIGINAL] = f"{offset[:3]}:{offset[3:]}"
    if position is not None:
        latitude, longitude = position
        gps = exif.get_ifd(_GPS_IFD)
        gps[1] = "N" if latitude >= 0 else "S"
        gps[2] = _dms(abs(latitude))
        gps[3] = "E" if longitude >= 0 else "W"
        gps[4] = _dms(abs(longitude))
    return exif


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def jpeg(
    seed: int = 1,
    taken_at: datetime | None = None,
    position: tuple[float, float] | None = None,
    size: tuple[int, int] = (640, 480),
    exif: bool = True,
    quality: int = 90,
) -> bytes:
    out = io.BytesIO()
    image = picture(seed, size)
    if exif:
        image.save(out, "JPEG", quality=quality, exif=exif_for(taken_at, position))
    else:
        image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(seed: int = 1, size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    picture(seed, size).save(out, "PNG")
    return out.getvalue()


def heic(
    seed: int = 1, taken_at: datetime | None = None, position: tuple[float, float] | None = None
) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    picture(seed, (320, 240)).save(out, "HEIF", exif=exif_for(taken_at, position).tobytes())
    return out.getvalue()


def resaved(data: bytes, quality: int = 70, scale: float = 0.75) -> bytes:
    """The same photo opened and saved again, smaller: other bytes, the same picture."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        smaller = image.convert("RGB").resize((int(width * scale), int(height * scale)))
    out = io.BytesIO()
    smaller.save(out, "JPEG", quality=quality)
    return out.getvalue()


def big_jpeg(megabytes: float = 5.0, seed: int = 7) -> bytes:
    """A JPEG of about `megabytes`: noise compresses badly, as a real 12 MP photo does."""
    rng = random.Random(seed)
    side = int((megabytes * 1024 * 1024 / 1.1) ** 0.5 / 0.93)
    noise = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=92, exif=exif_for(datetime.now().astimezone()))
    return out.getvalue()


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path
