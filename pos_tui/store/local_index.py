"""The laptop's index of visits: a small active part that start-up reads, and an archive.

    index.json            TinyDB. "visits": the rows of every visit that still needs the
                          technician or the next sync (drafts, signed and not yet synced,
                          sent back by a supervisor) and of the most recent settled ones;
                          "archive": per month, how many archived rows of each status;
                          "layout": this layout's version and the archive's newest time
    archive/<YYYY-MM>.json  TinyDB, "visits": the other settled rows (synced, reviewed,
                          discarded), by the month the visit was created

Start-up and starting a visit read and write index.json only, whose size follows the work
under way, not the years of visits behind it. Full listings (sync, `pos-tui list`,
reports, export) read the archive too.

The active part keeps every settled row whose `updated_at` is at or after the archive's
newest (`archived_to`), so the newest settled visits, which the home screen lists, are
always there. It is let grow to EVICT_AT settled rows and then cut back to KEEP_SETTLED,
so a sync moves rows into the archive once in fifty visits, not on every one.

A row moves by being written where it goes first and removed where it was second: a
reader may see it twice (the active copy wins), never not at all. The journal
(`local_journal`) names the visits moving, for a killed move to be finished on the next
start.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pos_tui.store.local_journal import Journal
from pos_tui.store.schema import ShapeError, summary_row, table_rows
from pos_tui.store.storage import (
    StoreDamaged,
    StoreError,
    read_json_document,
    write_json_atomically,
)
from pos_tui.store.summary import VisitSummary

INDEX_NAME = "index.json"
ARCHIVE_DIR = "archive"
LAYOUT_VERSION = 2
KEEP_SETTLED = 100
"""Settled rows kept active after a cut: twice what the home screen lists (RECENT_LIMIT)."""
EVICT_AT = 150
SENT_BACK = frozenset({"has_issues", "rejected"})
"""Decisions that return a visit to the technician for work (services.technician uses it)."""
ACTIVE_STATUSES = frozenset({"draft", "signed"})
UNDATED = "undated"
_MONTH = re.compile(r"\d{4}-\d{2}")

Row = dict[str, Any]
OnBad = Callable[[Path, str], None]


def month_of(created_at: object) -> str:
    """The archive file a visit's row goes to; a date pos-tui did not write goes to one."""
    if isinstance(created_at, str) and _MONTH.fullmatch(created_at[:7]):
        return created_at[:7]
    return UNDATED


def needs_work(row: Row) -> bool:
    """A visit the technician or the next sync still has to do something with."""
    return row["status"] in ACTIVE_STATUSES or row.get("review_decision") in SENT_BACK


class LaptopIndex:
    def __init__(self, folder: Path, read_only: bool, journal: Journal) -> None:
        self.folder = folder
        self.path = folder / INDEX_NAME
        self.archive = folder / ARCHIVE_DIR
        self.read_only = read_only
        self.journal = journal
        self._doc: dict[str, Any] | None = None
        self._by_uuid: dict[str, str] = {}
        self._next_id = 1
        self._shards: dict[str, dict[str, Row]] = {}
        self._checked: tuple[dict[str, Row], dict[str, str]] | None = None
        self._dropped: list[str] = []

    # -- reading -----------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """index.json's document: cached by the one writer, read afresh by a reader."""
        if self._doc is not None:
            return self._doc
        doc = read_json_document(self.path) or {}
        if not self.read_only:
            self._adopt(doc)
        return doc

    def _adopt(self, doc: dict[str, Any]) -> None:
        self._doc = doc
        self._checked = None
        visits = doc.setdefault("visits", {})
        self._by_uuid = {
            row["uuid"]: doc_id
            for doc_id, row in visits.items()
            if isinstance(row.get("uuid"), str)
        }
        self._next_id = max((int(doc_id) for doc_id in visits), default=0) + 1

    def current_layout(self) -> bool:
        layout = self.document().get("layout", {}).get("1", {})
        return layout.get("version") == LAYOUT_VERSION

    def archived_to(self) -> str:
        bound = self.document().get("layout", {}).get("1", {}).get("archived_to", "")
        return bound if isinstance(bound, str) else ""

    def active_rows(self) -> tuple[dict[str, Row], dict[str, str]]:
        """index.json's good rows by record id, and why each bad one is bad."""
        if self._checked is not None:
            return self._checked
        checked = table_rows(self.document(), "visits", summary_row)
        if self._doc is not None:  # the writer's: checked once per write
            self._checked = checked
        return checked

    def shard_path(self, month: str) -> Path:
        return self.archive / f"{month}.json"

    def months(self) -> list[str]:
        """The archive files there are; a handful of names, one per month."""
        if not self.archive.is_dir():
            return []
        return sorted(
            path.stem
            for path in self.archive.glob("*.json")
            if _MONTH.fullmatch(path.stem) or path.stem == UNDATED
        )

    def shard(self, month: str) -> dict[str, Any]:
        return read_json_document(self.shard_path(month)) or {}

    def all_rows(self, on_bad: OnBad) -> Iterator[Row]:
        """Every good row once, active first (a row being moved is in both for a moment)."""
        for row, _where, _path in self._every_row(on_bad, checked=True):
            yield row

    def all_summaries(self, on_bad: OnBad) -> Iterator[VisitSummary]:
        """`all_rows` as summaries, each row checked once (by `from_row`): 50,000 of them
        make a full listing."""
        for row, where, path in self._every_row(on_bad, checked=False):
            try:
                yield VisitSummary.from_row(row, where)
            except ShapeError as error:
                on_bad(path, str(error))

    def _every_row(self, on_bad: OnBad, checked: bool) -> Iterator[tuple[Row, str, Path]]:
        seen: set[str] = set()
        if checked:
            good, bad = self.active_rows()
            for why in bad.values():
                on_bad(self.path, why)
        else:
            good = self.document().get("visits") or {}
        for doc_id, row in good.items():
            if isinstance(row, dict):
                seen.add(row.get("uuid"))  # type: ignore[arg-type]
            yield row, f"row {doc_id} of 'visits'", self.path
        for month in self.months():
            path = self.shard_path(month)
            try:
                document = self.shard(month)
            except StoreDamaged as error:
                # The archive holds only settled visits: nothing to sync or do is hidden.
                on_bad(error.path, error.reason)
                continue
            if checked:
                rows, bad = table_rows(document, "visits", summary_row)
                for why in bad.values():
                    on_bad(path, why)
            else:
                rows = document.get("visits") or {}
            for doc_id, row in rows.items():
                uuid = row.get("uuid") if isinstance(row, dict) else None
                if uuid in seen and isinstance(uuid, str):
                    continue
                seen.add(uuid)  # type: ignore[arg-type]
                yield row, f"row {doc_id} of 'visits'", path

    def find(self, uuid: str, month: str) -> Row | None:
        """The visit's row, active or in its month's file (read for it)."""
        doc_id = self._by_uuid.get(uuid)
        if doc_id is not None:
            row = self.document()["visits"].get(doc_id)
            with contextlib.suppress(ShapeError):
                return summary_row(row)
        try:
            return self._shard_rows(month).get(uuid)
        finally:
            self._shards.clear()
            self._dropped.clear()

    def counts(self) -> dict[str, int]:
        """Visits by status, without reading the archive: its counts are kept per month."""
        good, _bad = self.active_rows()
        counts: dict[str, int] = {}
        for row in good.values():
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        for entry in self.document().get("archive", {}).values():
            for status, count in (entry.get("statuses") or {}).items():
                if type(count) is int and isinstance(status, str):
                    counts[status] = counts.get(status, 0) + count
        return counts

    # -- writing -----------------------------------------------------------------------

    def place(
        self,
        rows: Iterable[Row] = (),
        gone: dict[str, str] | None = None,
        new: bool = False,
        look_in_archive: bool = False,
    ) -> None:
        """Each row where it belongs, out of wherever else it was; `gone` (uuid: month of
        creation, or '' when not known) out of the index altogether. `new`: the visits were
        never indexed, so the archive need not be looked in. `look_in_archive`: they may be
        in both places (a killed move), so their month's file is read even when active.

        Bad rows of index.json are dropped: the index is derived data, and opening for
        writing has rebuilt them from their visit files first."""
        if self.read_only:
            raise StoreError("The store was opened read-only.")
        good, _bad = self.active_rows()
        active = {row["uuid"]: row for row in good.values()}
        bound = self.archived_to()
        adds: dict[str, dict[str, Row]] = {}
        removes: dict[str, set[str]] = {}
        for uuid, month in (gone or {}).items():
            active.pop(uuid, None)
            if month and uuid in self._shard_rows(month):
                removes.setdefault(month, set()).add(uuid)
        for row in rows:
            uuid, month = row["uuid"], month_of(row["created_at"])
            stays_active = needs_work(row) or row["updated_at"] >= bound
            was_active = uuid in active
            if stays_active:
                active[uuid] = row
                looked = not new and (look_in_archive or not was_active)
                if looked and uuid in self._shard_rows(month):
                    removes.setdefault(month, set()).add(uuid)
            else:
                active.pop(uuid, None)
                adds.setdefault(month, {})[uuid] = row
        bound = self._cut(active, adds, bound)
        moving = {uuid: month for month, added in adds.items() for uuid in added}
        moving |= {uuid: month for month, taken in removes.items() for uuid in taken}
        for month in adds.keys() | removes.keys():
            self._shard_rows(month)
        if self._dropped:
            # Their visits would be in no row once the file is written: the next start
            # lists visits/ to index them again from their files.
            self.journal.ask_rescan(f"bad rows of {ARCHIVE_DIR}/{self._dropped[0]}.json")
            self._dropped.clear()
        self.journal.begin(moving)
        try:
            self._move(active, bound, adds, removes)
        finally:
            self._shards.clear()
        self.journal.end(moving)

    def _move(
        self,
        active: dict[str, Row],
        bound: str,
        adds: dict[str, dict[str, Row]],
        removes: dict[str, set[str]],
    ) -> None:
        """Where a row goes first, index.json second, where it left last."""
        statuses: dict[str, dict[str, int]] = {}
        for month in sorted(adds.keys() | removes.keys()):
            held = dict(self._shard_rows(month))
            held.update(adds.get(month, {}))
            if month in adds:
                self._store_shard(month, held)
            final = {uuid: row for uuid, row in held.items() if uuid not in removes.get(month, ())}
            statuses[month] = _statuses(final.values())
            self._shards[month] = final
        self._write_index(active, bound, statuses)
        for month in sorted(removes):
            self._store_shard(month, self._shards[month])

    def _shard_rows(self, month: str) -> dict[str, Row]:
        """The good rows of a month's file by uuid, read at most once per change."""
        if month not in self._shards:
            rows: dict[str, Row] = {}
            if self.shard_path(month).exists():
                good, bad = table_rows(self.shard(month), "visits", summary_row)
                # A bad row is dropped when its file is next written, as in index.json.
                rows = {row["uuid"]: row for row in good.values()}
                if bad:
                    self._dropped.append(month)
            self._shards[month] = rows
        return self._shards[month]

    def _store_shard(self, month: str, rows: dict[str, Row]) -> None:
        path = self.shard_path(month)
        if rows:
            self.archive.mkdir(exist_ok=True)
            write_json_atomically(path, _table(rows.values()))
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _cut(self, active: dict[str, Row], adds: dict[str, dict[str, Row]], bound: str) -> str:
        settled = [row for row in active.values() if not needs_work(row)]
        if len(settled) <= EVICT_AT:
            return bound
        settled.sort(key=lambda row: row["updated_at"], reverse=True)
        for row in settled[KEEP_SETTLED:]:
            del active[row["uuid"]]
            adds.setdefault(month_of(row["created_at"]), {})[row["uuid"]] = row
            bound = max(bound, row["updated_at"])
        return bound

    def _write_index(
        self, active: dict[str, Row], bound: str, statuses: dict[str, dict[str, int]]
    ) -> None:
        doc = self.document()
        visits: dict[str, Row] = {}
        by_uuid: dict[str, str] = {}
        next_id = self._next_id
        # Rows keep their record ids, so an index read by hand stays recognisable.
        for uuid, row in active.items():
            doc_id = self._by_uuid.get(uuid)
            if doc_id is None or doc_id in visits:
                doc_id, next_id = str(next_id), next_id + 1
            visits[doc_id] = row
            by_uuid[uuid] = doc_id
        archive = {
            entry["month"]: entry
            for entry in doc.get("archive", {}).values()
            if isinstance(entry.get("month"), str)
        }
        for month, counts in statuses.items():
            if counts:
                archive[month] = {"month": month, "statuses": counts}
            else:
                archive.pop(month, None)
        fresh = {
            "visits": dict(sorted(visits.items(), key=lambda item: int(item[0]))),
            "archive": {str(i): archive[m] for i, m in enumerate(sorted(archive), start=1)},
            "layout": {"1": {"version": LAYOUT_VERSION, "archived_to": bound}},
        }
        write_json_atomically(self.path, fresh)
        self._adopt(fresh)
        # Every row written was a good row or a fresh summary: no need to check them again.
        self._checked = (fresh["visits"], {})
        self._next_id = max(self._next_id, next_id)

    def rebuild(self, rows: list[Row], progress: Callable[[int, int], None] | None = None) -> None:
        """The whole layout from every row: a migration or a rescan. Each month's file is
        first written with what it held kept too, index.json next, and what left a month
        taken out last, so a killed rebuild loses no row (the journal asks for it again)."""
        settled = sorted(
            (row for row in rows if not needs_work(row)),
            key=lambda row: row["updated_at"],
            reverse=True,
        )
        keep = {row["uuid"] for row in settled[:KEEP_SETTLED]}
        active = {row["uuid"]: row for row in rows if needs_work(row) or row["uuid"] in keep}
        by_month: dict[str, dict[str, Row]] = {}
        bound = ""
        for row in settled[KEEP_SETTLED:]:
            by_month.setdefault(month_of(row["created_at"]), {})[row["uuid"]] = row
            bound = max(bound, row["updated_at"])
        stale = [month for month in self.months() if month not in by_month]
        done = 0
        rewrite: list[str] = []
        for month, month_rows in sorted(by_month.items()):
            try:
                held = self._shard_rows(month)
            except StoreDamaged:
                held = {}  # every row it could hold is in `rows` or in a visit file
            if held.keys() - month_rows.keys():
                rewrite.append(month)
            self._store_shard(month, held | month_rows)
            done += len(month_rows)
            if progress is not None:
                progress(done, len(rows))
        self._shards.clear()
        self._dropped.clear()
        self.document()["archive"] = {}
        statuses = {month: _statuses(month_rows.values()) for month, month_rows in by_month.items()}
        self._write_index(active, bound, statuses)
        for month in rewrite:
            self._store_shard(month, by_month[month])
        for month in stale:
            self._store_shard(month, {})
        if progress is not None:
            progress(len(rows), len(rows))

    def mark_synced(self, uuids: set[str]) -> None:
        """Only the active rows are looked at: a signed visit is always active."""
        doc = self.document()
        changed = []
        for uuid in sorted(uuids):
            doc_id = self._by_uuid.get(uuid)
            row = doc["visits"].get(doc_id) if doc_id else None
            if row is None or row.get("status") != "signed":
                continue
            try:
                summary_row(row)
            except ShapeError:
                continue
            changed.append(row | {"status": "synced"})
        if changed:
            self.place(changed)


def _table(rows: Iterable[Row]) -> dict[str, Any]:
    return {"visits": {str(i): row for i, row in enumerate(rows, start=1)}}


def _statuses(rows: Iterable[Row]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts
