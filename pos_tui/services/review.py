"""What the review screens may ask of the shared store; disk work runs on the worker thread.

Reading never takes the shared store's lock (its index is replaced atomically), so a
supervisor reviewing never holds up a technician's sync; only `decide` takes the lock, for
as long as appending one decision takes.

The decisions known so far are kept here, touched only on the worker thread: `rows()`
refreshes them from the index, `decide()` adds each new one, and `record()` hands them out
without parsing the whole index again.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pos_tui.domain.checklist import Text
from pos_tui.domain.decisions import counted, record_sha256
from pos_tui.domain.integrity import Integrity, unreadable
from pos_tui.domain.review import decision_request
from pos_tui.domain.review_filter import (
    Filter,
    ReviewRow,
    record_states,
    review_rows,
    review_states,
)
from pos_tui.locations import reports_dir
from pos_tui.services.background import Background
from pos_tui.services.children import child_env
from pos_tui.services.review_evidence import (
    EvidenceLedger,
    EvidenceReport,
    Summary,
    Viewer,
    empty_summary,
    evidence_report,
    summary_of,
)
from pos_tui.services.review_pages import Page, PageQuery, database_filter, read_page
from pos_tui.store.sources import SharedSource, VisitRecord, file_position, group_by_visit
from pos_tui.store.storage import StoreError
from pos_tui.store.targets import is_database, target_of

if TYPE_CHECKING:
    from pos_tui.domain.decisions import CheckedDecision
    from pos_tui.domain.evidence import EvidenceRef
    from pos_tui.domain.stats import FailureStats
    from pos_tui.services.first_page import FirstPage, FirstPageReader
    from pos_tui.store.keys import KeyFile
    from pos_tui.store.pg.store import PgSharedStore


@dataclass(frozen=True, slots=True)
class ChecklistNames:
    """Titles of the checklists and items seen in the store, for labels; ids otherwise."""

    checklists: dict[str, Text] = field(default_factory=dict)
    items: dict[str, Text] = field(default_factory=dict)
    """By "checklist_id/item_id"."""

    def checklist(self, checklist_id: str, lang: str) -> str:
        title = self.checklists.get(checklist_id)
        return title.get(lang) if title is not None else checklist_id

    def item(self, key: str, lang: str) -> str:
        title = self.items.get(key)
        return title.get(lang) if title is not None else key


def _failed_future(error: BaseException) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_exception(error)
    return future


@dataclass
class ReviewServices:
    source: SharedSource
    reviewer_key: KeyFile | None = None
    """This machine's reviewer key (`pos-tui keys init --reviewer`); decisions are signed
    with it, and only a key the store's keyring trusts as a reviewer may decide."""
    worker: Background = field(default_factory=lambda: Background("pos-tui-review"))
    reports_dir: Path | None = None
    """Where reports are written; None: `locations.reports_dir()`."""
    viewer_command: Sequence[str] | None = None
    """What opens evidence (the file's path added at the end); None: `POS_TUI_VIEWER`, else
    the system's viewer."""
    _decisions: dict[str, list[dict[str, Any]]] = field(default_factory=dict, init=False)
    _rows_by_uuid: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _rows_by_key: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _every_row: dict[str, list[dict[str, Any]]] = field(default_factory=dict, init=False)
    """Every index row of each visit with more than one, superseded ones too: its history."""
    _record_of: dict[str, str] = field(default_factory=dict, init=False)
    """The record_sha256 behind an index row, by its record_hash: the bytes a record_hash
    names never change, so each record is read for it once."""
    _prefetched: Future[list[ReviewRow]] | None = field(default=None, init=False)
    _integrity: _IntegrityPass | None = field(default=None, init=False)
    _integrity_executor: _Checkers | None = field(default=None, init=False)
    _ledger: EvidenceLedger = field(default_factory=EvidenceLedger, init=False)
    _viewer: Viewer | None = field(default=None, init=False)
    _page_wanted: int = field(default=0, init=False)
    """The latest page asked for: the worker skips any older one still queued."""
    _prefetched_page: tuple[PageQuery, Future[Page | None]] | None = field(default=None, init=False)
    _count_wanted: int = field(default=0, init=False)
    _total: int | None = field(default=None, init=False)
    _checked_of: dict[str, list[CheckedDecision]] = field(default_factory=dict, init=False)
    """The checked decisions of the visits on the pages read, forged ones too, by uuid."""

    first_page: FirstPageReader | None = None
    """The child reading the list's first page while the app starts (a database store
    opened `later`); None: the worker reads it."""
    trusted_names: Mapping[str, str] | None = None
    """The names the store's keyring trusts, by fingerprint, as `first_page`'s child read
    them: the reviewer's name before this process has opened the store."""

    @property
    def paged(self) -> bool:
        """Whether the store filters, sorts and pages in its database (`review_pages`):
        then the list asks for `page`s, not `rows`."""
        return is_database(self.source.folder)

    def page(self, query: PageQuery, fresh: bool = False) -> Future[Page | None]:
        """One page of the list from the database; None when a later call came before the
        worker reached this one (the latest wins, so keystrokes typed while a query runs
        cost one query, not one each). `fresh`: not the page read ahead (a reload)."""
        if self._prefetched_page is not None:
            wanted, future = self._prefetched_page
            self._prefetched_page = None
            if wanted == query and not fresh:
                return future
        self._page_wanted += 1
        return self.worker.submit(self._page, query, self._page_wanted)

    def _page(self, query: PageQuery, generation: int) -> Page | None:
        if generation != self._page_wanted:
            return None
        first = self._first_page(query)
        if first is not None:
            page, checked = first.page, first.checked
        else:
            # The store's total is not counted here: a count reads every row, and the first
            # page (read while the app starts) would wait for it. `count` gives it after.
            page, checked = read_page(
                self.source.store, self.source.keyring, query, self._total, self._record_sha256
            )
        if query.offset == 0 and len(self._rows_by_key) > 20 * query.limit:
            # What the pages of earlier filters held: kept for a detail still open on one.
            self._rows_by_key, self._rows_by_uuid = {}, {}
        for row in page.rows:
            self._rows_by_key[row.key] = dict(row.row)
            self._rows_by_uuid[row.uuid] = dict(row.row)
        for uuid in {row.uuid for row in page.rows}:
            found = checked.get(uuid, [])
            self._checked_of[uuid] = found
            self._decisions[uuid] = counted(found)
        return page

    def _first_page(self, query: PageQuery) -> FirstPage | None:
        """What `first_page`'s child read, once, for the query it reads (the first)."""
        reader, self.first_page = self.first_page, None
        if reader is None:
            return None
        found = reader.page() if query == PageQuery() else None
        reader.close()
        return found

    def count(self, chosen: Filter, fresh: bool = False) -> Future[tuple[int, int] | None]:
        """How many rows match a filter and how many visits the store holds, counted by the
        database; None when a later count came before the worker reached this one.
        `fresh`: the store's total counted again (a reload), not the one counted before."""
        self._count_wanted += 1
        return self.worker.submit(self._count, chosen, self._count_wanted, fresh)

    def _count(self, chosen: Filter, generation: int, fresh: bool) -> tuple[int, int] | None:
        if generation != self._count_wanted:
            return None
        store = self._database()
        if fresh or self._total is None:
            self._total = int(store.count())
        wanted = database_filter(chosen)
        if not any(wanted.values()):  # no filter: what matches is the whole store
            return self._total, self._total
        return int(store.count(wanted)), self._total

    def technicians(self) -> Future[list[str]]:
        """Every technician's name in the database, for the filter bar's choice."""
        return self.worker.submit(lambda: self._database().technicians())

    def failure_stats(self, chosen: Any) -> Future[FailureStats]:
        """The failure rates of the visits a `review_filter.Filter` matches, counted by the
        database (the fields it cannot filter on are left out, as in the list)."""
        wanted = database_filter(chosen)
        return self.worker.submit(lambda: self._database().failure_stats(wanted))

    def _database(self) -> PgSharedStore:
        """The store, when `paged`: a database's, with calls of its own."""
        return cast("PgSharedStore", self.source.store)

    def rows(self) -> Future[list[ReviewRow]]:
        """Every visit's current version, with its review state; read afresh each call,
        except that the first call takes what `prefetch` started."""
        if self._prefetched is not None:
            future, self._prefetched = self._prefetched, None
            return future
        return self.worker.submit(self._rows)

    def prefetch(self) -> None:
        """Start reading the list now, while the app is still starting up."""
        if self.paged:
            if self._prefetched_page is None:
                self._page_wanted += 1
                first = PageQuery()
                job = self.worker.submit(self._page, first, self._page_wanted)
                self._prefetched_page = (first, job)
        elif self._prefetched is None:
            self._prefetched = self.worker.submit(self._rows)

    @property
    def reviewer(self) -> str:
        """The reviewer's name as the keyring gives it: never a login or settings name."""
        if self.reviewer_key is None:
            return ""
        fingerprint = self.reviewer_key.fingerprint
        if self.trusted_names is not None and not self.source.is_open:
            return self.trusted_names.get(fingerprint, "")
        return self.source.keyring.name_of(fingerprint)

    def _rows(self) -> list[ReviewRow]:
        every = self.source.store.rows()
        rows = [row for row in every if not row.get("superseded")]
        # Only decisions that hold decide a state; forged ones are shown on their visit.
        decisions = counted(self.source.checked_decisions(fresh=True))
        self._decisions = group_by_visit(decisions)
        self._rows_by_uuid = {row["uuid"]: row for row in rows}
        self._rows_by_key = {_key(row): row for row in rows}
        grouped = group_by_visit(every)
        self._every_row = {uuid: found for uuid, found in grouped.items() if len(found) > 1}
        # A decision counts for the record it names. The index cannot say which record that
        # is (a decision names the signed bytes, the index their batch line), so the records
        # of the few visits with several revisions (amended, or in conflict) are read for
        # it; a visit with one record in the store has only that one a decision can be on.
        several = {
            _key(row): (row["uuid"], self._record_sha256(row))
            for row in rows
            if row["uuid"] in self._every_row and row["uuid"] in self._decisions
        }
        by_record = record_states(decisions, several)
        single = [d for d in decisions if d.get("uuid") not in self._every_row]
        return review_rows(rows, review_states(single), by_record)

    def _record_sha256(self, row: dict[str, Any]) -> str:
        known = self._record_of.get(str(row.get("record_hash", "")))
        if known is not None:
            return known
        found = self.source.record_sha256_of(row)
        if found:  # an unreadable one is read again: it may be mended meanwhile
            self._record_of[str(row.get("record_hash", ""))] = found
        return found

    def record_of(self, key: str) -> str | None:
        """The record_sha256 behind a list row's key, when it had to be read (see `_rows`);
        None for a visit with one record, whose every decision is on it."""
        row = self._rows_by_key.get(key)
        if row is None or row["uuid"] not in self._every_row:
            return None
        return self._record_of.get(str(row.get("record_hash", "")))

    def revisions(self, uuid: str) -> Future[list[VisitRecord | StoreError]]:
        """Every revision of the visit in the store, oldest first (superseded ones too), each
        with its own integrity; a visit with one revision has just that one."""
        return self.worker.submit(self._revisions, uuid)

    def _revisions(self, uuid: str) -> list[VisitRecord | StoreError]:
        if self.paged:  # the database finds every row of the visit itself
            return self.source.revisions(uuid, None, self._decisions)
        rows = self._every_row.get(uuid)
        if rows is None:
            rows = [row for row in self._rows_by_key.values() if row["uuid"] == uuid]
        return self.source.revisions(uuid, rows, self._decisions)

    def record(self, row: Mapping[str, Any]) -> Future[VisitRecord]:
        """The whole visit behind a list row, with its review decisions."""
        return self.worker.submit(self._record, dict(row))

    def _record(self, row: dict[str, Any]) -> VisitRecord:
        # With the decisions held here: the source's own cache is read once and never sees a
        # decision made since. A damaged record or checklist copy is a StoreDamaged from the
        # store, with the file it is in.
        record = self.source.record(row, self._decisions)
        if self.paged:
            # The page's decisions, checked when it was read: the whole log is not.
            record.forged = [c for c in self._checked_of.get(row["uuid"], []) if not c.counts]
        return record

    def evidence(self, key: str, record: VisitRecord) -> Future[EvidenceReport]:
        """The visit's files with their warnings, reuse against every visit read so far."""
        # The rows are read on the worker, which is the thread that replaces them.
        return self.worker.submit(
            lambda: evidence_report(record, self._ledger, key, self._rows_by_uuid)
        )

    def picture(self, sha256: str, longest: int = 640) -> Future[Any]:
        """One photo, verified and made at most `longest` pixels (a PIL image), for the
        detail to draw."""
        from pos_tui.services.review_evidence import picture

        return self.worker.submit(lambda: picture(self.source.files, sha256, longest))

    def open_evidence(self, ref: EvidenceRef) -> Future[Path]:
        """Hand a verified copy of the file to the viewer; the copy's path."""
        if self._viewer is None:
            self._viewer = Viewer(self.viewer_command)
        viewer = self._viewer
        return self.worker.submit(lambda: viewer.open(self.source.files, ref))

    def decide(
        self,
        uuid: str,
        decision: str,
        comment: str = "",
        items: Sequence[tuple[str, str]] = (),
        key: str | None = None,
    ) -> Future[dict[str, Any]]:
        """Sign one decision and append it to the shared store's log.

        `items`: the (checklist_id, item_id) pairs it names for the technician; `key`: the
        list row decided on (a visit in conflict has two), else the visit's current row.
        The rules that need only the words are checked at once; those that need the record
        (its integrity, its failures, its items) on the worker, against the record as it is
        now."""
        try:
            decision_request(uuid, decision, comment, self.reviewer or "?", items=items)
        except ValueError as error:  # VisitError and CardDataError both
            return _failed_future(error)
        return self.worker.submit(self._decide, uuid, decision, comment, tuple(items), key)

    def _decide(
        self,
        uuid: str,
        decision: str,
        comment: str,
        items: tuple[tuple[str, str], ...] = (),
        key: str | None = None,
    ) -> dict[str, Any]:
        row = self._rows_by_key.get(key) if key is not None else None
        row = row or self._rows_by_uuid.get(uuid)
        if row is None:
            raise StoreError(f"No visit {uuid} in {self.source.folder}: reload the list (F5).")
        record = self.source.record(row, self._decisions)
        request = decision_request(
            uuid,
            decision,
            comment,
            self.reviewer,
            record.integrity,
            len(record.session.failures()),
            items,
            {(c.id, i.id) for c, i in record.session.all_items()},
        )
        assert self.reviewer_key is not None  # a reviewer name comes only from a key
        body = request.to_dict() | {"record_sha256": record_sha256(record.session)}
        self._record_of[str(row.get("record_hash", ""))] = body["record_sha256"]
        added = self.source.store.add_review(body, self.reviewer_key)
        self._decisions.setdefault(uuid, []).append(added | {"reviewer": self.reviewer})
        return added

    def checklist_names(self) -> Future[ChecklistNames]:
        return self.worker.submit(self._checklist_names)

    def _checklist_names(self) -> ChecklistNames:
        names = ChecklistNames()
        # A damaged copy only costs its labels: the ids still show.
        found, _damaged = self.source.store.load_all_checklists()
        # Newest version last, so its words win.
        for checklist in sorted(found, key=lambda c: _version_key(c.version)):
            names.checklists[checklist.id] = checklist.title
            for item in checklist.items:
                names.items[f"{checklist.id}/{item.id}"] = item.title
        return names

    def write_report(self, record: VisitRecord, lang: str) -> Future[Path]:
        """An HTML acceptance report in the reports folder (see `locations.reports_dir`)."""

        def write() -> Path:
            from pos_tui.reports.report import default_name, write_report

            folder = self.reports_dir or reports_dir()
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / default_name(record.session, "html")
            return write_report(record, path, "html", record.session.info.language or lang)

        return self.worker.submit(write)

    def check_integrity(
        self,
        rows: Sequence[ReviewRow],
        found: Callable[[dict[str, Integrity]], None],
        first: int = 0,
        evidence_found: Callable[[dict[str, frozenset[str]]], None] | None = None,
    ) -> Future[int]:
        """Check the record behind every row by `domain.integrity`, off the UI and off the
        worker; a new call stops the pass before it.

        `found` gets each chunk's verdicts by `ReviewRow.key`, from another thread (wrap it
        with the screen's `from_worker`); the future gives the number checked once all are.
        The first `first` rows go first, as given (what the screen shows); the rest in the
        order they lie in the batch files, so each batch is read front to back once.

        `evidence_found` gets the photo warnings (`domain.evidence_checks` codes) of each
        row whose warnings the chunk made known or changed, by key, from another thread:
        the rows of the chunk, and earlier rows that share a photo with one of them.
        """
        if self._integrity is not None:
            self._integrity.stop()
        if self._integrity_executor is None:
            self._integrity_executor = _integrity_executor()
        self._ledger.forget()
        self._integrity = _IntegrityPass(
            self._integrity_executor,
            str(self.source.folder),
            rows,
            first,
            found,
            self._ledger,
            evidence_found,
        )
        return self._integrity.done

    def close(self) -> None:
        if self._integrity is not None:
            self._integrity.stop()
        if self._integrity_executor is not None:
            # Not waiting: the children only read, and a chunk's result is of no use now.
            self._integrity_executor.shutdown()
        self.worker.close()
        if self.first_page is not None:
            self.first_page.close()
        if self._viewer is not None:
            self._viewer.close()
        self.source.close()


def _key(row: Mapping[str, Any]) -> str:
    """A row's key, as `review_filter.review_rows` makes it."""
    return f"{row['uuid']}/{row.get('record_hash', '')}"


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(part), "") if part.isdigit() else (0, part) for part in version.split("."))


# -- the integrity pass ----------------------------------------------------------------
#
# Checking a record means parsing it, rebuilding its session and hashing its content:
# about 2 ms a visit, 20 s for 10,000, nearly all of it CPU. On the worker it would hold
# up opening a visit for that long; on a thread of its own it holds the GIL against the
# UI. Measured at 10,000 visits on two cores: on a thread, filter keystrokes took 10-30 %
# longer while it ran (22 s); in one child process at low priority, no longer than
# without it (18 s), and more cores check faster. So it runs in child processes fed over
# pipes. Not multiprocessing: it cannot start under Textual, whose sys.stderr has no file
# descriptor for the resource tracker, and its children would write on the app's terminal.
# The list does not wait for any of this: rows say "checking" until their chunk is back.

INTEGRITY_CHUNK = 200
"""Rows per job: a few hundred milliseconds each, so results arrive steadily."""


def _integrity_executor() -> _Checkers:
    return _Checkers(min(4, max(1, (os.cpu_count() or 2) - 1)))


class _Checkers:
    """Worker processes that check chunks of rows, each fed by a thread of its own.

    A child that will not start or dies (no interpreter, out of memory) costs speed, not
    results: its thread checks the rest itself. Shutting down kills the children at once;
    they only read.
    """

    def __init__(self, workers: int) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._children: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._feed, name=f"pos-tui-integrity-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(
        self, folder: str, chunk: list[tuple[str, dict[str, Any]]]
    ) -> Future[list[_Verdict]]:
        future: Future[list[_Verdict]] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the integrity checkers are shut down")
            self._jobs.put((future, folder, chunk))
        return future

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            children = list(self._children)
        for _ in self._threads:
            self._jobs.put(None)
        for child in children:
            with contextlib.suppress(OSError):
                child.kill()
        while True:  # what no thread took any more
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].cancel()

    def _start_child(self) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self._closed:
                return None
            try:
                child = subprocess.Popen(
                    [sys.executable, "-c", _CHILD],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=child_env(),
                )
            except (OSError, ValueError, TypeError):  # no interpreter to start (embedded)
                return None
            self._children.append(child)
            return child

    def _feed(self) -> None:
        child = self._start_child()
        while (job := self._jobs.get()) is not None:
            future, folder, chunk = job
            if not future.set_running_or_notify_cancel():
                continue
            verdicts = _ask(child, folder, chunk) if child is not None else None
            if verdicts is None:
                child = None  # gone: check here from now on
                try:
                    verdicts = _check_chunk(folder, chunk)
                except BaseException as error:  # a bug: handed on, as the worker does
                    future.set_exception(error)
                    continue
            future.set_result(verdicts)
        if child is not None:
            with contextlib.suppress(OSError):
                child.kill()


_Job = tuple[Future["list[_Verdict]"], str, list[tuple[str, dict[str, Any]]]]
_CHILD = "from pos_tui.services.review import _serve_checks; _serve_checks()"


def _ask(
    child: subprocess.Popen[bytes], folder: str, chunk: list[tuple[str, dict[str, Any]]]
) -> list[_Verdict] | None:
    """The child's verdicts on `chunk`; None when it is gone or answered nonsense."""
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(json.dumps([folder, chunk], ensure_ascii=False).encode("utf-8") + b"\n")
        child.stdin.flush()
        answer = json.loads(child.stdout.readline() or b"null")
        return [
            (key, state, tuple(reasons), bool(conflict), summary)
            for key, state, reasons, conflict, summary in answer
        ]
    except (OSError, ValueError, TypeError):
        return None


def _serve_checks() -> None:
    """A child's loop: one JSON line in (folder, chunk), one JSON line of verdicts out."""
    if hasattr(os, "nice"):
        # Below the app: on a machine with few cores the supervisor's keystrokes come first.
        with contextlib.suppress(OSError):
            os.nice(10)
    for line in sys.stdin.buffer:
        folder, chunk = json.loads(line)
        verdicts = _check_chunk(folder, [(key, row) for key, row in chunk])
        sys.stdout.write(json.dumps(verdicts, ensure_ascii=False) + "\n")
        sys.stdout.flush()


class _IntegrityPass:
    def __init__(
        self,
        executor: _Checkers,
        folder: str,
        rows: Sequence[ReviewRow],
        first: int,
        found: Callable[[dict[str, Integrity]], None],
        ledger: EvidenceLedger,
        evidence_found: Callable[[dict[str, frozenset[str]]], None] | None,
    ) -> None:
        self.done: Future[int] = Future()
        self._found = found
        self._ledger = ledger
        self._evidence_found = evidence_found
        self._lock = threading.Lock()
        self._jobs: list[Future[list[_Verdict]]] = []
        self._checked = 0
        self._seen: dict[tuple[str, tuple[str, ...], bool], Integrity] = {}
        chunks = _chunks(rows, first)
        self._left = len(chunks)
        for chunk in chunks:
            try:
                job = executor.submit(folder, chunk)
            except RuntimeError:  # shut down: the app is closing
                break
            self._jobs.append(job)
            job.add_done_callback(self._chunk_done)
        if len(self._jobs) < len(chunks):
            self.stop()

    def stop(self) -> None:
        for job in self._jobs:
            job.cancel()
        self._finish()

    def _finish(self, error: BaseException | None = None) -> bool:
        """End the pass once: True for the call that did."""
        with self._lock:
            if self.done.done():
                return False
            if error is None:
                self.done.set_result(self._checked)
            else:
                self.done.set_exception(error)
            return True

    def _chunk_done(self, job: Future[list[_Verdict]]) -> None:
        if job.cancelled() or self.done.done():
            return
        error = job.exception()
        if error is not None:  # a bug in the check: the screen raises it
            if self._finish(error):
                for other in self._jobs:
                    other.cancel()
            return
        # Shared: nearly every row gets the same few verdicts, and they live as long as it.
        verdicts = {
            key: self._seen.setdefault(
                (state, reasons, conflict), Integrity(state, reasons, conflict)
            )
            for key, state, reasons, conflict, _summary in job.result()
        }
        self._found(verdicts)
        # Indexed whether or not anyone listens: the detail asks the ledger for reuse.
        warnings = self._ledger.add([(key, summary) for key, *_, summary in job.result()])
        if self._evidence_found is not None:
            self._evidence_found(warnings)
        with self._lock:
            self._checked += len(verdicts)
            self._left -= 1
            last = self._left == 0
        if last:
            self._finish()


_Verdict = tuple[str, str, tuple[str, ...], bool, Summary]
"""(row key, state, reasons, conflict, evidence summary): plain values, cheap to send
between processes. The summary (`review_evidence.summary_of`) is read here because this
pass is the one that reads every record: the reused-photo check needs all of them."""


def _chunks(rows: Sequence[ReviewRow], first: int) -> list[list[tuple[str, dict[str, Any]]]]:
    ordered = [(row.key, dict(row.row)) for row in rows[:first]]
    rest = [(row.key, dict(row.row)) for row in rows[first:]]
    ordered += sorted(rest, key=lambda pair: file_position(pair[1]))
    return [ordered[i : i + INTEGRITY_CHUNK] for i in range(0, len(ordered), INTEGRITY_CHUNK)]


_sources: dict[str, SharedSource] = {}


def _check_chunk(folder: str, chunk: list[tuple[str, dict[str, Any]]]) -> list[_Verdict]:
    """In a worker process: the verdict on each record, by the one rule, and what its
    evidence says (`review_evidence.summary_of`)."""
    source = _sources.get(folder)
    if source is None:
        # A stat of each evidence file, not a hash: the detail hashes the files it shows.
        source = _sources[folder] = SharedSource(target_of(folder), thorough=False)
    keys = [key for key, _ in chunk]
    # No decisions: they play no part in integrity, and reading them costs a file.
    records = source.records((row for _, row in chunk), {})
    verdicts: list[_Verdict] = []
    for key, (row, record) in zip(keys, records, strict=True):
        if isinstance(record, StoreError):
            verdict, summary = unreadable(row), empty_summary(str(row.get("uuid", "")))
        else:
            verdict, summary = record.integrity, summary_of(record)
        verdicts.append((key, verdict.state, verdict.reasons, verdict.conflict, summary))
    return verdicts
