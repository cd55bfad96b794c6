"""Seconds to sync 1,000 photos (100 visits of 10) into an empty shared store, then again.

    python bench/evidence_sync.py [--visits 100] [--photos 10] [--kb 200]

The photos are real JPEGs of about `--kb` each, every one different, made once with
Pillow and attached through the one intake (content check, EXIF, kept by hash). Compared
in the same run with plain `shutil.copyfile` of the same files into an empty folder: what
copying them costs with no checks at all. The second sync has nothing new and should cost
next to nothing. Prints one JSON line; peak RSS is this process's, whole run.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Outcome, Session, local_now
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.services.intake import take_in_bytes
from pos_tui.store.evidence_files import EvidenceFiles
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import SharedStore
from pos_tui.store.sync import sync

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE_CHECKLISTS = ROOT / "tests" / "fixtures" / "evidence"
SLOTS = (("storefront", 0, 3), ("serial-plate", 3, 8), ("parameter-slip", 8, 10))


def photo(seed: int, kilobytes: int) -> bytes:
    """Noise compresses as badly as a real photo: the side is chosen for the size."""
    rng = random.Random(seed)
    side = int((kilobytes * 1024 / 1.12) ** 0.5 / 0.93)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def fill(folder: Path, visits: int, per_visit: int, kilobytes: int) -> list[Path]:
    """Signed visits, `per_visit` photos each on one item; the kept files' paths."""
    checklists = load_checklists([EVIDENCE_CHECKLISTS]).checklists
    info = VisitInfo(
        merchant_name="上海老王面馆",
        merchant_number="310104000000001",
        terminal_number="20240001",
        technician="张伟",
    )
    files = EvidenceFiles(folder)
    kept: list[Path] = []
    with LocalStore.open(folder) as store:
        for visit in range(visits):
            session = Session.start(info, checklists)
            store.create(session)
            refs = []
            for n in range(per_visit):
                data = photo(visit * per_visit + n, kilobytes)
                refs.append(take_in_bytes(files, data, f"{n}.jpg", "laptop", local_now))
            # As many as the checklist takes: 3 storefront, 5 serial plate, 2 on the slip.
            for item, start, end in SLOTS:
                if refs[start:end]:
                    session.attach("site-photos", item, refs[start:end])
            session.record("site-photos", "storefront", Outcome.PASS)
            session.sign("张伟", "王老板")
            store.save(session)
            kept += [files.path(ref.sha256) for ref in refs]
    return kept


def peak_rss_mb() -> float:
    # Kilobytes on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100)
    parser.add_argument("--photos", type=int, default=10, choices=range(1, 11))
    parser.add_argument("--kb", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        kept = fill(root / "laptop", args.visits, args.photos, args.kb)
        megabytes = sum(path.stat().st_size for path in kept) / (1024 * 1024)
        shared = root / "shared"
        shared.mkdir()
        SharedStore.open(shared, create=True)
        with LocalStore.open(root / "laptop") as store:
            started = time.perf_counter()
            first = sync(store, shared)
            sync_s = time.perf_counter() - started
            started = time.perf_counter()
            second = sync(store, shared)
            again_s = time.perf_counter() - started
        assert first.pushed.files_copied == len(kept), first.sentence()
        assert second.pushed.files_copied == 0, second.sentence()
        plain = root / "plain"
        plain.mkdir()
        started = time.perf_counter()
        for path in kept:
            shutil.copyfile(path, plain / path.name)
        plain_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "visits": args.visits,
                "photos": len(kept),
                "mb": round(megabytes, 1),
                "sync_s": round(sync_s, 3),
                "files_per_s": round(len(kept) / sync_s, 1),
                "mb_per_s": round(megabytes / sync_s, 1),
                "second_sync_s": round(again_s, 3),
                "plain_copyfile_s": round(plain_s, 3),
                "ratio": round(sync_s / plain_s, 2),
                "peak_rss_mb": round(peak_rss_mb(), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
