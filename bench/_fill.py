"""Fill a laptop store with many visits fast, for the benches that compare store sizes.

Building and signing a demo visit takes some 25 ms, so 50,000 would take twenty minutes.
Instead a few dozen demo visits are built once and written again under new ids and
times, through `LocalStore.bulk_add_files` (one index build, one `os.sync()`): real
visit files of real size, and real index rows. As on a laptop that syncs, all but a few
end up synced (`mark_synced`), a few stay signed, and a few drafts are under way.
"""

from __future__ import annotations

import json
import uuid as uuid_module
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pos_tui.demo import demo_sessions
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Session
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store.local import LocalStore

TEMPLATES = 40
SIGNED_NOT_SYNCED = 10
DRAFTS = 3


def fill(folder: Path, visits: int) -> None:
    """`visits` visits in all (drafts and signed included), created over the last year."""
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    with LocalStore.open(folder) as store:
        if visits > DRAFTS:
            templates = list(demo_sessions(checklists, min(TEMPLATES, visits)))
            store.keep_checklists(checklists)
            uuids: list[str] = []
            store.bulk_add_files(_files(templates, visits - DRAFTS, uuids))
            store.mark_synced(uuids[SIGNED_NOT_SYNCED:])
        for _ in range(min(DRAFTS, visits)):
            store.create(Session.start(templates_info(checklists), checklists))


def templates_info(checklists: list[Any]) -> Any:
    from pos_tui.domain.visit_info import VisitInfo

    return VisitInfo(
        merchant_name="上海老王面馆",
        merchant_number="310104000000001",
        terminal_number="20240001",
        technician="张伟",
        capabilities=("chip", "pinpad", "printer"),
    )


def _files(
    templates: list[Session], count: int, uuids: list[str]
) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Each template's file with its id and times replaced: text, not JSON re-encoded,
    which would take longer than everything else here."""
    texts = []
    for session in templates:
        visit = session.to_dict() | {"_key": "visit"}
        document = {
            "visit": {"1": visit},
            "events": {str(i): e.to_dict() for i, e in enumerate(session.events, 1)},
        }
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        texts.append((visit, text, visit["created_at"], (visit.get("signoff") or {}).get("at")))
    now = datetime.now().astimezone()
    for number in range(count):
        visit, text, created, signed = texts[number % len(texts)]
        new_uuid = str(uuid_module.uuid4())
        # Spread over the year, oldest first, each visit signed an hour after it began.
        start = now - timedelta(days=365) + timedelta(days=365) * number / count
        new_created = start.isoformat(timespec="seconds")
        new_signed = (start + timedelta(hours=1)).isoformat(timespec="seconds")
        text = text.replace(visit["uuid"], new_uuid).replace(created, new_created)
        record = visit | {"uuid": new_uuid, "created_at": new_created, "answers": []}
        if signed:
            text = text.replace(signed, new_signed)
            record["signoff"] = visit["signoff"] | {"at": new_signed}
        # The row counts the template's answers; its times are the new visit's.
        record["answers"] = [a | {"at": new_created} for a in visit.get("answers", [])]
        uuids.append(new_uuid)
        yield record, text.encode("utf-8")


def fill_photos(folder: Path, count: int, size: int = 2048) -> None:
    """`count` evidence files in the store's buckets, as kept files lie there (named by their
    hash, read-only), written without an fsync each: what a store that has kept that many
    photos holds, for the benches that show a cost not growing with them. Small: the
    listings they show cost by the number of files, not their bytes."""
    import hashlib
    import os

    from pos_tui.store.evidence_files import EvidenceFiles

    files = EvidenceFiles(folder)
    for number in range(count):
        data = number.to_bytes(8, "big") * (size // 8)
        path = files.path(hashlib.sha256(data).hexdigest())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o444)
    os.sync()
