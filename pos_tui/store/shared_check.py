"""Checking a shared store against its index, and what an interrupted sync leaves behind.

A batch file has no previous generation: once it is damaged, the only good copy of its
records is on the laptop that sent them. So every record that is missing or damaged is
named with the laptop it came from (the device id and host its index row carries), and
`pos-tui sync --repair` on that laptop sends those records again. The same goes for the
evidence files a record names: a share keeps them under their hash, and one missing or no
longer hashing to its name is said against every record that names it.

Nothing here writes; `shared.py` calls the tidying helpers while it holds the lock. The
check reads the whole index (every shard, `shared_index.py`), as it reads every record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pos_tui.domain.evidence import is_sha256
from pos_tui.domain.media import MAX_EVIDENCE_BYTES
from pos_tui.domain.safe_read import RefusedFile, read_regular_file, read_slice
from pos_tui.store import schema
from pos_tui.store.checklist_copies import CHECKLISTS_DIR
from pos_tui.store.evidence_files import (
    MISSING,
    EvidenceFiles,
    evidence_parts,
)
from pos_tui.store.shared_index import (
    LEGACY_NAME,
    index_dir,
    journal_dir,
    journal_names,
    merged_document,
)
from pos_tui.store.storage import (
    MAX_DOCUMENT_BYTES,
    TEMP_SUFFIX,
    StoreError,
    read_json_document,
)
from pos_tui.store.summary import summarize

INDEX_NAME = LEGACY_NAME
REVIEWS_NAME = "reviews.json"
BATCHES_DIR = "batches"


def record_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Damage:
    """One index row whose record cannot be read back as it was indexed."""

    doc_id: str
    row: Mapping[str, Any]
    """The row as found; for a row of the wrong shape, whatever mapping was there."""
    reason: str

    def _text(self, name: str) -> str:
        value = self.row.get(name)
        return value if isinstance(value, str) else ""

    @property
    def uuid(self) -> str:
        return self._text("uuid")

    @property
    def record_hash(self) -> str:
        return self._text("record_hash")

    @property
    def laptop(self) -> tuple[str, str]:
        """(device id, host): whom to ask for the record again."""
        return self._text("device_id"), self._text("host")

    def sentence(self) -> str:
        device, host = self.laptop
        revision = self.row.get("revision")
        what = f"Visit {self.uuid}" if self.uuid else f"Row {self.doc_id} of the index"
        if type(revision) is int and self.uuid:
            what += f" (revision {revision})"
        return f"{what}, from {laptop_words(device, host)}: {self.reason}."


def laptop_words(device: str, host: str) -> str:
    return f"laptop {device or '(unknown)'} on host {host or '(unknown)'}"


def damage_lines(damage: list[Damage], target: object) -> list[str]:
    """Each damaged record in a sentence, then what each laptop runs to send its own again:
    the same words for a folder and a database (`pg/check.py`)."""
    lines = [found.sentence() for found in damage]
    by_laptop: dict[tuple[str, str], int] = {}
    for found in damage:
        by_laptop[found.laptop] = by_laptop.get(found.laptop, 0) + 1
    for (device, host), count in sorted(by_laptop.items()):
        lines.append(
            f"To mend: run `pos-tui sync --repair --to {target}` on"
            f" {laptop_words(device, host)}; it sends its {count} record(s) again."
        )
    return lines


@dataclass
class CheckReport:
    folder: Path
    records: int = 0
    batches: int = 0
    damage: list[Damage] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    """Whole files of the store that cannot be read, each said as a sentence."""
    orphans: list[str] = field(default_factory=list)
    journals: list[str] = field(default_factory=list)
    """Journals of writes under way or killed: the next write finishes or drops each."""
    temp_files: list[Path] = field(default_factory=list)
    evidence_files: int = 0
    """Distinct evidence files the records name, each checked by its hash."""
    parts: list[Path] = field(default_factory=list)
    """Evidence files partly copied by an interrupted sync, kept for the next one."""

    @property
    def ok(self) -> bool:
        return not self.damage and not self.unreadable

    def lines(self) -> list[str]:
        lines = [*self.unreadable, *damage_lines(self.damage, self.folder)]
        if self.journals:
            lines.append(
                f"Note: {len(self.journals)} write(s) to the index under way or interrupted;"
                " the next sync finishes them (or drops them, when their batch never landed)."
            )
        if self.orphans:
            # Not counted as damage: nothing is lost, the records lie whole in their batch.
            lines.append(
                f"Note: {len(self.orphans)} batch file(s) are in no index row"
                f" ({', '.join(self.orphans[:3])}{'…' if len(self.orphans) > 3 else ''}):"
                " the index was set back, or a copy was put there;"
                f" `pos-tui shared check --adopt {self.folder}` takes their records in."
            )
        if self.temp_files:
            lines.append(
                f"Note: {len(self.temp_files)} temporary file(s) left by interrupted writes;"
                " the next sync removes them (those in batches/, left by earlier versions:"
                f" `pos-tui shared check --adopt {self.folder}`)."
            )
        if self.parts:
            lines.append(
                f"Note: {len(self.parts)} evidence file(s) partly copied by an interrupted"
                " sync; the next sync of their laptop carries on from where it stopped."
            )
        if self.ok:
            lines.insert(
                0,
                f"The shared store at {self.folder} is sound: {self.records} record(s) in"
                f" {self.batches} batch file(s) match the index"
                + (
                    f", and the {self.evidence_files} evidence file(s) they name their hashes."
                    if self.evidence_files
                    else "."
                ),
            )
        else:
            wrong = len(self.damage) + len(self.unreadable)
            lines.insert(0, f"The shared store at {self.folder} has {wrong} problem(s):")
        return lines


def check_store(folder: Path) -> CheckReport:
    """Every index row's record: its batch is there, the row's bytes lie inside it, and
    they hash to the row's record hash. StoreDamaged when the index itself is unreadable."""
    report = CheckReport(folder)
    document = merged_document(folder)
    good, bad = schema.table_rows(document, "visits", schema.shared_row)
    report.damage.extend(bad_row_damage(document, bad))
    evidence = _EvidenceCheck(EvidenceFiles(folder))
    report.damage.extend(verify_rows(folder / BATCHES_DIR, good, evidence.record))
    report.damage.extend(evidence.damage)
    report.evidence_files = len(evidence.seen)
    report.records = len(good)
    report.batches = len({row["batch"] for row in good.values()})
    try:
        _good, bad_reviews = schema.table_rows(
            read_json_document(folder / REVIEWS_NAME), "reviews", schema.review_row
        )
    except StoreError as error:
        report.unreadable.append(str(error))
    else:
        report.unreadable.extend(
            f"A review decision in {folder / REVIEWS_NAME} is damaged ({why})."
            for why in bad_reviews.values()
        )
    report.journals = journal_names(folder)
    # A batch whose journal is still there is a write under way (or killed): not an orphan.
    report.orphans = [
        name
        for name in orphan_batches(folder / BATCHES_DIR, document)
        if name not in journal_batches(folder)
    ]
    report.temp_files = temp_files(folder)
    report.parts = [part for part in evidence_parts(folder) if not part.name.startswith(".")]
    return report


SoundRecord = Callable[[str, dict[str, Any], bytes], None]
"""Told of each record that is as indexed: (doc id, row, its bytes)."""


def verify_rows(
    batches: Path, rows: Mapping[str, dict[str, Any]], sound: SoundRecord | None = None
) -> list[Damage]:
    """The rows (of the right shape) whose record is missing or not as indexed."""
    damage: list[Damage] = []
    by_batch: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for doc_id, row in rows.items():
        by_batch.setdefault(row["batch"], []).append((doc_id, row))
    for name, members in sorted(by_batch.items()):
        path = batches / name
        for doc_id, row in members:
            why, data = _record_problem(path, row)
            if why is not None:
                damage.append(Damage(doc_id, row, why))
            elif sound is not None:
                sound(doc_id, row, data)
    return damage


def _record_problem(path: Path, row: dict[str, Any]) -> tuple[str | None, bytes]:
    # A slice per record, not the whole batch: the first sync of 10,000 visits makes one
    # batch of hundreds of megabytes, and a record is bounded (schema.MAX_RECORD_BYTES).
    name, end = path.name, row["offset"] + row["length"]
    try:
        data = read_slice(path, row["offset"], row["length"])
    except FileNotFoundError:
        return f"its batch file {name} is missing", b""
    except RefusedFile as refused:
        return f"its batch file {name} cannot be read ({refused.reason})", b""
    except OSError as error:
        return f"its batch file {name} cannot be read ({error.strerror or error})", b""
    if len(data) < row["length"]:
        return (
            f"its record runs to byte {end}, but the batch file {name} ends at byte"
            f" {_size(path)} (the file was cut short, or the row points past its end)"
        ), data
    if record_hash(data) != row["record_hash"]:
        return (
            f"its record in the batch file {name} (bytes {row['offset']} to {end}) does not"
            " match its record hash: the bytes were changed"
        ), data
    return None, data


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def bad_row_damage(document: Mapping[str, Any], bad: Mapping[str, str]) -> list[Damage]:
    rows = document.get("visits") or {}
    found = []
    for doc_id, why in bad.items():
        row = rows.get(doc_id)
        found.append(
            Damage(
                doc_id,
                row if isinstance(row, dict) else {},
                f"its index row is damaged ({why}), so its record cannot be found",
            )
        )
    return found


def referenced_batches(document: Mapping[str, Any]) -> set[str]:
    """Every batch any row names, rows of the wrong shape included: a batch that a damaged
    row still points at is not an orphan, and must not be treated as one."""
    rows = (document.get("visits") or {}).values()
    return {row["batch"] for row in rows if isinstance(row, dict) and type(row.get("batch")) is str}


def orphan_batches(batches: Path, document: Mapping[str, Any]) -> list[str]:
    """Batch files no index row points at: written by a sync whose index write never came
    (killed, or the index set back to its previous generation)."""
    named = referenced_batches(document)
    return sorted(name for name in _batch_names(batches) if name not in named)


def _batch_names(batches: Path) -> Iterator[str]:
    try:
        entries = list(batches.iterdir())
    except FileNotFoundError:
        return
    for path in entries:
        # Only names pos-tui writes (no dot first: temp files start with one).
        if schema.BATCH.test(path.name):
            yield path.name


@dataclass(frozen=True)
class NamedFile:
    """An evidence file as a record names it: what a sync copies and a check looks for."""

    sha256: str
    size: int
    name: str

    @property
    def words(self) -> str:
        return f"{self.sha256[:12]}…" + (f" ({self.name})" if self.name else "")


def named_files(visit: Mapping[str, Any]) -> tuple[NamedFile, ...]:
    """The evidence files a visit record names, each once; ShapeError when it names one in
    a way no kept file can have: a record is data from outside, and what it calls a hash
    must never become a path."""
    entries = visit.get("evidence", [])
    if not isinstance(entries, list):
        raise schema.ShapeError("its evidence is not a list")
    found: dict[tuple[str, int], NamedFile] = {}
    for entry in entries:
        files = entry.get("files") if isinstance(entry, dict) else None
        if not isinstance(files, list):
            raise schema.ShapeError("an entry of its evidence has no list of files")
        for ref in files:
            named = _named_file(ref)
            found.setdefault((named.sha256, named.size), named)
    return tuple(found.values())


def _named_file(ref: object) -> NamedFile:
    if not isinstance(ref, dict):
        raise schema.ShapeError("its evidence names a file by something that describes none")
    sha256, size, name = ref.get("sha256"), ref.get("size"), ref.get("name")
    if not is_sha256(sha256):
        shown = str(sha256)[:80]
        raise schema.ShapeError(
            f"its evidence names a file by {shown!r}, which is not the SHA-256 of a file"
        )
    assert isinstance(sha256, str)
    if type(size) is not int or not 0 <= size <= MAX_EVIDENCE_BYTES:
        raise schema.ShapeError(f"its evidence file {sha256[:12]}… has no size a file can have")
    # Said in sentences on a terminal: nothing in it may move the cursor or change colour.
    shown = (
        "".join(c if c.isprintable() else "?" for c in name[:80]) if isinstance(name, str) else ""
    )
    return NamedFile(sha256, size, shown)


class _EvidenceCheck:
    """Each file hashed once, however many records name it (a storefront photo reused)."""

    def __init__(self, files: EvidenceFiles) -> None:
        self.files = files
        self.seen: dict[tuple[str, int], str | None] = {}
        self.damage: list[Damage] = []

    def record(self, doc_id: str, row: dict[str, Any], data: bytes) -> None:
        try:
            visit, _events = schema.visit_document(schema.tinydb_document(schema.parse_json(data)))
        except schema.ShapeError:
            return  # not a record that names anything; the review list says what it is
        try:
            named = named_files(visit)
        except schema.ShapeError as error:
            self.damage.append(
                Damage(doc_id, row, f"its record names no file a store keeps ({error})")
            )
            return
        for file in named:
            key = (file.sha256, file.size)
            if key not in self.seen:
                self.seen[key] = self.files.check(file.sha256, file.size)
            problem = self.seen[key]
            if problem is not None:
                self.damage.append(Damage(doc_id, row, evidence_problem(file, problem, "")))


def evidence_problem(file: NamedFile, problem: str, where: str) -> str:
    """`problem` (MISSING or REPLACED) said of one file; `where`: " on this laptop", say."""
    if problem == MISSING:
        return f"its evidence file {file.words} is missing{where}"
    return (
        f"its evidence file {file.words}{where} no longer hashes to its name: it was"
        " replaced or damaged"
    )


def journal_batches(folder: Path) -> set[str]:
    """The batches the journals of writes under way (or killed) name."""
    named = set()
    for name in journal_names(folder):
        try:
            path = journal_dir(folder) / name
            data = schema.parse_json(
                read_regular_file(path, MAX_DOCUMENT_BYTES, follow_links=False)
            )
        except (OSError, RefusedFile, schema.ShapeError):
            continue
        if isinstance(data, dict) and isinstance(data.get("batch"), str):
            named.add(data["batch"])
    return named


def lock_temp_folders(folder: Path) -> list[Path]:
    """Where a writer of this version leaves temporary files: few files each, so a sync
    can list them under the lock whatever the store holds."""
    return [folder, journal_dir(folder), folder / CHECKLISTS_DIR]


def temp_folders(folder: Path) -> list[Path]:
    """Those, and where earlier versions staged: batches/ their batches, index/ its shards."""
    return [*lock_temp_folders(folder), index_dir(folder), folder / BATCHES_DIR]


def temp_files(folder: Path) -> list[Path]:
    """Temporary files of interrupted writes, the kept-file parts of evidence among them
    (a copy's resumable part is not one: `evidence_parts`)."""
    found: list[Path] = []
    for place in temp_folders(folder):
        found.extend(sorted(place.glob(f".*{TEMP_SUFFIX}")))
    found.extend(part for part in evidence_parts(folder) if part.name.startswith("."))
    return found


@dataclass(frozen=True)
class BatchRecord:
    """A record read back from a batch file: its summary row (located), bytes and hash."""

    row: dict[str, Any]
    line: bytes
    digest: str


def read_batch_records(batches: Path, name: str) -> tuple[list[BatchRecord], bool]:
    """The readable records of one batch file, each with the row that would index it, and
    whether they are all it holds.

    For taking in an orphan batch: its records were never indexed, so their rows are made
    from the records themselves. The host that sent them is not known; the device id is
    in each record. A line that is not a visit record is left out."""
    path = batches / name
    try:
        data = read_regular_file(path, MAX_DOCUMENT_BYTES, follow_links=False)
        written = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    except (OSError, RefusedFile):
        return [], False
    found: list[BatchRecord] = []
    complete = data.endswith(b"\n")
    offset = 0
    for line in data.split(b"\n")[:-1] if complete else data.split(b"\n"):
        start, offset = offset, offset + len(line) + 1
        if not line or len(line) > schema.MAX_RECORD_BYTES:
            complete = False
            continue
        try:
            visit, _events = schema.visit_document(schema.tinydb_document(schema.parse_json(line)))
            summary = summarize(visit)
        except (schema.ShapeError, KeyError, TypeError, ValueError):
            complete = False
            continue
        row = summary.to_row() | {
            "batch": name,
            "offset": start,
            "length": len(line),
            "synced_at": written.isoformat(timespec="seconds"),
            "host": "",
        }
        found.append(BatchRecord(row, line, record_hash(line)))
    return found, complete
