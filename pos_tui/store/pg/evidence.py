"""Evidence files in the database: chunks of 1 MiB, published once whole and hashed.

The same contract as `store/evidence_files.EvidenceFiles`, so intake, sync and review use
either: `quick_check` (sizes only), `check` (hashed), `read`, `copy_from`, `keep`.

A file is uploaded as chunks under its writer's tag (`part:<device id>`), each chunk its
own transaction: a laptop cut off mid-upload carries on from the chunks already there, and
nobody holds a lock while photos cross the wire. Once every byte is in, the server hashes
the writer's chunks; only if they hash to the name are they published, in one short
transaction, by renaming their writer to '' (no bytes are copied: the chunk's data is
stored apart and an update that does not touch it keeps it). The published copy is the
chunks with writer '' and a row in `evidence_files`. Never a whole 25 MB photo in one
parameter: the server's and the laptop's memory stay at a chunk.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator

import psycopg

from pos_tui.domain.evidence import is_sha256
from pos_tui.domain.media import MAX_EVIDENCE_BYTES
from pos_tui.store.evidence_files import MISSING, REPLACED, EvidenceFiles
from pos_tui.store.pg.reading import Reconnecting, reading, reading_rows
from pos_tui.store.storage import StoreError

CHUNK = 1024 * 1024
PUBLISHED = ""
PART_KEPT_DAYS = 30
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

_STATE = """
SELECT f.size,
       (SELECT coalesce(sum(octet_length(c.data)), 0) FROM evidence_chunks c
         WHERE c.sha256 = f.sha256 AND c.writer = '')
  FROM evidence_files f WHERE f.sha256 = %s
"""
_HASH = """
SELECT encode(sha256(coalesce(string_agg(data, ''::bytea ORDER BY n), ''::bytea)), 'hex'),
       coalesce(sum(octet_length(data)), 0), count(*), coalesce(max(n), -1)
  FROM evidence_chunks WHERE sha256 = %s AND writer = %s
"""


def part_tag(writer: str) -> str:
    return "part:" + (_TAG_UNSAFE.sub("", writer)[:40] or "laptop")


class PgEvidenceFiles:
    def __init__(self, conn: psycopg.Connection, owner: Reconnecting | None = None) -> None:
        self.conn = conn
        self._owner = owner
        """The store whose connection this is: it reconnects both (`pg/reading.py`)."""

    @property
    def url(self) -> str:
        return self._owner.url if self._owner is not None else ""

    def reconnect_if_lost(self) -> None:
        if self._owner is not None:
            self._owner.reconnect_if_lost()

    # -- checking ------------------------------------------------------------------------

    @reading
    def quick_check(self, sha256: str, size: int | None) -> str | None:
        """MISSING, REPLACED (the wrong size, or chunks missing), or None; no hashing."""
        if not is_sha256(sha256):
            return MISSING
        found = self.conn.execute(_STATE, (sha256,)).fetchone()
        if found is None:
            return MISSING
        kept, stored = int(found[0]), int(found[1])
        if stored != kept or (size is not None and kept != size):
            return REPLACED
        return None

    def has(self, sha256: str, size: int | None = None) -> bool:
        return self.quick_check(sha256, size) is None

    @reading
    def check(self, sha256: str, size: int | None = None) -> str | None:
        """None when the file is there and its chunks hash to its name (hashed by the
        server: nothing crosses the wire); else MISSING or REPLACED."""
        quick = self.quick_check(sha256, size)
        if quick is not None:
            return quick
        return None if self._hash(sha256, PUBLISHED)[0] == sha256 else REPLACED

    @reading
    def lacking(self, wanted: Iterable[tuple[str, int]]) -> set[str]:
        """Of (sha256, size), those not published whole with that size: one query for a
        whole sync's files, where `quick_check` would cost a round trip each."""
        pairs = [(sha, size) for sha, size in wanted if is_sha256(sha)]
        if not pairs:
            return set()
        rows = self.conn.execute(
            "SELECT f.sha256, f.size,"
            " (SELECT coalesce(sum(octet_length(c.data)), 0) FROM evidence_chunks c"
            "   WHERE c.sha256 = f.sha256 AND c.writer = '')"
            " FROM evidence_files f WHERE f.sha256 = ANY(%s)",
            ([sha for sha, _ in pairs],),
        ).fetchall()
        sound = {sha: int(size) for sha, size, stored in rows if int(size) == int(stored)}
        return {sha for sha, size in pairs if sound.get(sha) != size}

    def _hash(self, sha256: str, writer: str) -> tuple[str, int, int, int]:
        found = self.conn.execute(_HASH, (sha256, writer)).fetchone()
        assert found is not None
        return str(found[0]), int(found[1]), int(found[2]), int(found[3])

    # -- reading -------------------------------------------------------------------------

    @reading_rows
    def chunks(self, sha256: str) -> Iterator[bytes]:
        """The published file's bytes, a chunk at a time, unchecked (`read` checks)."""
        if not is_sha256(sha256):
            raise StoreError(f"'{sha256[:80]}' is not the SHA-256 of a file.")
        count = self.conn.execute(
            "SELECT count(*) FROM evidence_chunks WHERE sha256 = %s AND writer = ''", (sha256,)
        ).fetchone()
        for n in range(int(count[0]) if count else 0):
            row = self.conn.execute(
                "SELECT data FROM evidence_chunks WHERE sha256 = %s AND writer = '' AND n = %s",
                (sha256, n),
            ).fetchone()
            if row is None:
                raise StoreError(f"The evidence file {sha256[:12]}… has lost a part.")
            yield bytes(row[0])

    @reading
    def read(self, sha256: str) -> bytes:
        """The file's bytes, checked against its name; StoreError when it is not whole."""
        if self.quick_check(sha256, None) == MISSING:
            raise StoreError(f"The evidence file {sha256[:12]}… is missing.")
        digest = hashlib.sha256()
        parts: list[bytes] = []
        total = 0
        for chunk in self.chunks(sha256):
            total += len(chunk)
            if total > MAX_EVIDENCE_BYTES:
                raise StoreError(f"The evidence file {sha256[:12]}… is larger than any kept.")
            digest.update(chunk)
            parts.append(chunk)
        if digest.hexdigest() != sha256:
            raise StoreError(f"The evidence file {sha256[:12]}… has been replaced.")
        return b"".join(parts)

    # -- writing -------------------------------------------------------------------------

    def keep(self, data: bytes, writer: str = "kept") -> str:
        """Keep `data`; its SHA-256."""
        sha256 = hashlib.sha256(data).hexdigest()
        if self.check(sha256, len(data)) is None:
            return sha256
        tag = part_tag(writer)
        self._drop_part(sha256, tag)
        for n, start in enumerate(range(0, len(data), CHUNK)):
            self._put(sha256, tag, n, data[start : start + CHUNK])
        if not self._publish(sha256, len(data), tag):
            raise StoreError(f"The evidence file {sha256[:12]}… could not be kept whole.")
        return sha256

    def copy_from(
        self,
        source: EvidenceFiles,
        sha256: str,
        size: int,
        progress: Callable[[int], None] | None = None,
        writer: str = "",
    ) -> bool:
        """Copy one file from a folder store, carrying on the chunks a cut-off copy left;
        False when it was here already. StoreError when the source's file is not whole
        (nothing is published then)."""
        if self.check(sha256, size) is None:
            return False
        tag = part_tag(writer)
        for attempt in range(2):
            done = self._resumable(sha256, tag) if attempt == 0 else self._drop_part(sha256, tag)
            try:
                with open(source.path(sha256), "rb") as reader:
                    reader.seek(done)
                    n = done // CHUNK
                    while chunk := reader.read(CHUNK):
                        if done + len(chunk) > size:
                            break
                        self._put(sha256, tag, n, chunk)
                        n += 1
                        done += len(chunk)
                        if progress is not None:
                            progress(len(chunk))
            except FileNotFoundError:
                raise StoreError(f"The evidence file {sha256[:12]}… is missing here.") from None
            except OSError as error:
                raise StoreError(
                    f"Cannot read the evidence file {sha256[:12]}…: {error.strerror or error}."
                ) from None
            if done == size and self._publish(sha256, size, tag):
                return True
            if self.check(sha256, size) is None:
                # Another laptop published it meanwhile, and its clean-up took these chunks.
                self._drop_part(sha256, tag)
                return True
            # Chunks written by a cut-off copy of other bytes: start over once.
        self._drop_part(sha256, tag)
        raise StoreError(f"The evidence file {sha256[:12]}… does not match its hash.")

    def _put(self, sha256: str, tag: str, n: int, chunk: bytes) -> None:
        # Its own transaction (autocommit): a copy cut off keeps every chunk it sent.
        self.conn.execute(
            "INSERT INTO evidence_chunks (sha256, writer, n, data) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (sha256, writer, n) DO UPDATE SET data = excluded.data,"
            " written_at = now()",
            (sha256, tag, n, chunk),
        )

    def _resumable(self, sha256: str, tag: str) -> int:
        """Bytes of this writer's earlier chunks to carry on from: only whole chunks
        0..k-1, each CHUNK long; anything else starts over."""
        found = self.conn.execute(
            "SELECT count(*), coalesce(sum(octet_length(data)), 0), coalesce(max(n), -1),"
            " bool_and(octet_length(data) = %s)"
            " FROM evidence_chunks WHERE sha256 = %s AND writer = %s",
            (CHUNK, sha256, tag),
        ).fetchone()
        assert found is not None
        count, stored, last, whole = int(found[0]), int(found[1]), int(found[2]), found[3]
        if count and (last != count - 1 or not whole):
            return self._drop_part(sha256, tag)
        return stored

    def _drop_part(self, sha256: str, tag: str) -> int:
        self.conn.execute(
            "DELETE FROM evidence_chunks WHERE sha256 = %s AND writer = %s", (sha256, tag)
        )
        return 0

    def _publish(self, sha256: str, size: int, tag: str) -> bool:
        """Publish this writer's chunks when they hash to the name; False when they do not.
        A sound copy published meanwhile by someone else is kept and these chunks go."""
        digest, stored, _count, _last = self._hash(sha256, tag)
        if digest != sha256 or stored != size:
            return False
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(7104, hashtext(%s))", (sha256,))
            if self.check(sha256, size) is None:
                self._drop_part(sha256, tag)
                return True
            self.conn.execute(
                "DELETE FROM evidence_chunks WHERE sha256 = %s AND writer = ''", (sha256,)
            )
            self.conn.execute(
                "UPDATE evidence_chunks SET writer = '' WHERE sha256 = %s AND writer = %s",
                (sha256, tag),
            )
            self.conn.execute(
                "INSERT INTO evidence_files (sha256, size) VALUES (%s, %s)"
                " ON CONFLICT (sha256) DO UPDATE SET size = excluded.size, published_at = now()",
                (sha256, size),
            )
        return True

    def remove_stale_parts(self) -> int:
        """Parts nobody carried on for a month, and parts of files published since."""
        done = self.conn.execute(
            "DELETE FROM evidence_chunks c WHERE c.writer <> '' AND"
            " (c.written_at < now() - make_interval(days => %s)"
            "  OR EXISTS (SELECT 1 FROM evidence_files f WHERE f.sha256 = c.sha256"
            "             AND f.published_at > c.written_at))",
            (PART_KEPT_DAYS,),
        )
        return done.rowcount
