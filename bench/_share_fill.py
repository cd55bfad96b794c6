"""Shared stores of many visits, built directly for the sync benches.

Syncing 100,000 visits one by one would take hours; instead a few dozen real records
(demo visits, synced once into a scratch share) are written again under new uuids into
batch files of 1,000, and each index shard is written once, in the layout of
`pos_tui/store/shared_index.py`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid as uuid_module
from pathlib import Path
from typing import Any

from pos_tui.demo import demo_sessions
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.safe_read import read_slice
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store.checklist_copies import CHECKLISTS_DIR
from pos_tui.store.local import LocalStore
from pos_tui.store.shared import BATCHES_DIR, SharedStore
from pos_tui.store.shared_index import TABLE, index_dir, shard_name, shard_path
from pos_tui.store.storage import write_json_atomically
from pos_tui.store.sync import sync

TEMPLATES = 40
BATCH_SIZE = 1000

Templates = list[tuple[dict[str, Any], bytes]]


def checklists() -> list[Any]:
    return load_checklists([shipped_checklists_dir()]).checklists


def laptop_with(folder: Path, count: int, seed: int) -> Path:
    """A laptop holding `count` signed demo visits, none synced."""
    with LocalStore.open(folder) as store:
        store.bulk_add(demo_sessions(checklists(), count, seed=seed))
    return folder


def template_records(scratch: Path) -> Templates:
    """A few dozen real records with their index rows, as a sync lays them in a share
    (whose checklist copies `fill_share` takes too)."""
    laptop = laptop_with(scratch / "templates-laptop", TEMPLATES, seed=7)
    share = scratch / "templates-share"
    share.mkdir()
    with LocalStore.open(laptop) as store:
        sync(store, share, create=True)
    return [
        (row, read_slice(share / BATCHES_DIR / row["batch"], row["offset"], row["length"]))
        for row in SharedStore.open(share).rows()
    ]


def fill_share(folder: Path, count: int, templates: Templates, scratch: Path) -> Path:
    """A shared store of `count` visits in `folder`, written directly: batches of 1,000
    records, then each index shard once."""
    (folder / BATCHES_DIR).mkdir(parents=True)
    shards: dict[str, dict[str, Any]] = {}
    for start in range(0, count, BATCH_SIZE):
        name = f"20260101T000000-bench-{start // BATCH_SIZE:08x}.jsonl"
        offset = 0
        with open(folder / BATCHES_DIR / name, "wb") as batch:
            for n in range(start, min(count, start + BATCH_SIZE)):
                row, line = templates[n % len(templates)]
                uuid = str(uuid_module.uuid4())
                line = line.replace(row["uuid"].encode(), uuid.encode())
                batch.write(line + b"\n")
                table = shards.setdefault(shard_name(uuid), {})
                table[str(len(table) + 1)] = row | {
                    "uuid": uuid,
                    "batch": name,
                    "offset": offset,
                    "length": len(line),
                    "record_hash": hashlib.sha256(line).hexdigest(),
                }
                offset += len(line) + 1
    index_dir(folder).mkdir()
    for shard, table in shards.items():
        write_json_atomically(shard_path(folder, shard), {TABLE: table}, durable=False)
    # The checklists the records name, as the first sync of a real store left them.
    shutil.copytree(scratch / "templates-share" / CHECKLISTS_DIR, folder / CHECKLISTS_DIR)
    # On disk before anything is timed: the writeback of a fresh fill would slow the
    # fsyncs of the first case.
    os.sync()
    return folder
