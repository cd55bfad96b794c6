"""The exact checklist files visits ran, in the database by content hash.

As `store/checklist_copies.py` for a folder: a visit names its checklists by sha256, so it
is shown and reported with the very words the technician saw. A copy is taken only when
its bytes hash to its name, and read back only when they still do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import psycopg

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.store.storage import StoreDamaged, StoreError


class PgChecklists:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self._parsed: dict[str, Checklist] = {}

    def missing(self, sha256s: Iterable[str]) -> set[str]:
        wanted = set(sha256s)
        if not wanted:
            return set()
        rows = self.conn.execute(
            "SELECT sha256 FROM checklists WHERE sha256 = ANY(%s)", (sorted(wanted),)
        ).fetchall()
        return wanted - {row[0] for row in rows}

    def has(self, sha256: str) -> bool:
        return not self.missing([sha256])

    @staticmethod
    def read_files(files: Iterable[tuple[str, Path]]) -> list[tuple[str, bytes]]:
        """(sha256, bytes) of each file whose bytes hash to its name: read before the push's
        transaction, and never through a link (a copy in a store is never one)."""
        from pos_tui.domain.yaml_nodes import MAX_FILE_BYTES

        found = []
        for sha256, path in files:
            try:
                data = read_regular_file(path, MAX_FILE_BYTES, follow_links=False)
            except RefusedFile as refused:
                raise StoreDamaged(path, refused.reason) from None
            except OSError as error:
                raise StoreError(f"Cannot read {path}: {error.strerror or error}.") from None
            if hashlib.sha256(data).hexdigest() == sha256:
                found.append((sha256, data))
        return found

    def keep(
        self, copies: Iterable[tuple[str, bytes]], cursor: psycopg.Cursor | None = None
    ) -> None:
        """Insert copies not there yet; in the caller's transaction when given its cursor."""
        rows = [(sha256, data) for sha256, data in copies]
        if rows:
            (cursor or self.conn.cursor()).executemany(
                "INSERT INTO checklists (sha256, body) VALUES (%s, %s)"
                " ON CONFLICT (sha256) DO NOTHING",
                rows,
            )

    def load(self, sha256: str) -> Checklist:
        """The checklist with this hash; parsed once per store, as copies never change."""
        if sha256 in self._parsed:
            return self._parsed[sha256]
        row = self.conn.execute(
            "SELECT body FROM checklists WHERE sha256 = %s", (sha256,)
        ).fetchone()
        if row is None:
            raise StoreError(
                f"The checklist {sha256[:12]}… used by a visit is missing from the store."
            )
        data = bytes(row[0])
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StoreError(f"The checklist {sha256[:12]}… of the store has been changed.")
        from pos_tui.domain.loader import parse_bytes  # YAML only once a visit is opened

        checklist, problems = parse_bytes(data, f"checklist {sha256[:12]}")
        if checklist is None:
            first = problems[0].message if problems else "not a valid checklist"
            raise StoreError(f"The checklist {sha256[:12]}… of the store does not load: {first}.")
        self._parsed[sha256] = checklist
        return checklist

    def load_all(self) -> tuple[list[Checklist], list[StoreError]]:
        """Every copy kept, and the problem of each that would not load (as
        `checklist_copies.load_all` for a folder)."""
        loaded: list[Checklist] = []
        problems: list[StoreError] = []
        for (sha256,) in self.conn.execute("SELECT sha256 FROM checklists ORDER BY sha256"):
            try:
                loaded.append(self.load(str(sha256)))
            except StoreError as error:
                problems.append(error)
        return loaded, problems
