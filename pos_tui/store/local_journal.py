"""What of the laptop's index may be out of step with the visit files, in one small file.

A visit's file and its index row are two files, so a kill can land between them. Rather
than compare every visit file with the index on every start (50,000 files), each write
that changes the index says first, here, which visits it is about to touch; the entry goes
once the index is written. Opening the store re-reads only the visits named here, so a
crash is mended at a cost that does not grow with the number of visits stored.

`rescan` asks for the one thing this cannot say: a full comparison (after `bulk_add` was
cut short, or an index file was put back by `pos-tui recover`). A journal that cannot be
read asks for the same, as nothing then says what may be out of step.

    journal.json   TinyDB-shaped, like every store file: table "changing", one record per
                   visit ({"uuid", "month" of its creation or ""}); table "rescan", one
                   record ({"why"}) when a full rescan is asked for
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from pos_tui.store.schema import NAME, ShapeError
from pos_tui.store.storage import StoreError, read_json_document, write_json_atomically

JOURNAL_NAME = "journal.json"
JOURNAL_LIMIT = 16 * 1024 * 1024
"""A few dozen entries at most in use; a sync marking thousands of visits stays far below."""


class Journal:
    def __init__(self, folder: Path) -> None:
        self.path = folder / JOURNAL_NAME
        self.changing: dict[str, str] = {}
        self.rescan: str | None = None

    def load(self) -> None:
        """What a killed writer left; an unreadable journal asks for a full rescan."""
        try:
            document = read_json_document(self.path, JOURNAL_LIMIT)
            self.changing, self.rescan = _entries(document or {})
        except StoreError as error:
            self.changing, self.rescan = {}, f"{self.path.name} could not be read ({error})"
        except ShapeError as error:
            self.changing, self.rescan = {}, f"{self.path.name} is damaged ({error})"

    def begin(self, visits: dict[str, str]) -> None:
        """Durably, before the first write of any of `visits` (uuid: month of creation)."""
        fresh = {uuid: month for uuid, month in visits.items() if uuid not in self.changing}
        if not fresh:
            return
        self.changing.update(fresh)
        try:
            self._write()
        except StoreError:
            for uuid in fresh:
                self.changing.pop(uuid, None)
            raise

    def end(self, uuids: object) -> None:
        """Once the index holds what the visit files say. Not clearing the entry costs only
        a needless re-read on the next start, so a failure here is not the caller's."""
        gone = [uuid for uuid in uuids if uuid in self.changing]  # type: ignore[attr-defined]
        if not gone:
            return
        for uuid in gone:
            del self.changing[uuid]
        # Not fsynced either: lost to a pulled plug, the entry is only read again.
        with contextlib.suppress(StoreError):
            self._write(durable=False)

    def ask_rescan(self, why: str) -> None:
        self.rescan = why
        self._write()

    def clear(self) -> None:
        """After a full rescan, which has put right everything an entry could name."""
        if self.changing or self.rescan is not None or self.path.exists():
            self.changing, self.rescan = {}, None
            self._write()

    def _write(self, durable: bool = True) -> None:
        changing = {
            str(i): {"uuid": uuid, "month": month}
            for i, (uuid, month) in enumerate(sorted(self.changing.items()), start=1)
        }
        rescan = {} if self.rescan is None else {"1": {"why": self.rescan}}
        write_json_atomically(
            self.path, {"changing": changing, "rescan": rescan}, durable=durable, keep_backup=False
        )


def _entries(document: dict[str, dict[str, Any]]) -> tuple[dict[str, str], str | None]:
    changing: dict[str, str] = {}
    for record in (document.get("changing") or {}).values():
        uuid, month = record.get("uuid"), record.get("month")
        if not NAME.test(uuid) or type(month) is not str or len(month) > 16:
            raise ShapeError(f"the entry {str(uuid)[:40]!r} is not a visit id and a month")
        changing[uuid] = month
    asked = [record.get("why") for record in (document.get("rescan") or {}).values()]
    if not all(type(why) is str for why in asked):
        raise ShapeError("'rescan' does not say why")
    return changing, (asked[0] if asked else None)
