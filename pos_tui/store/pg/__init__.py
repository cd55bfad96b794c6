"""PostgreSQL as a second kind of shared store, with the folder store's semantics.

For a bank that outgrows a share: every laptop syncs into one database, supervisors review
from it, and the database server replicates. Nothing here imports psycopg at import time
of `pos_tui.store.pg`: only `connect`, `store` and the modules they use do, so the app's
start-up never pays for it (`tests/unit/test_import_hygiene.py`).

The interface, for the commands that take a store (`sync --to`, `review --store`, ...):

    from pos_tui.store.pg import is_pg_url
    from pos_tui.store.pg.store import PgSharedStore

    PgSharedStore.init(url, name="Bank")    # create or migrate the schema (`shared init`)
    store = PgSharedStore.open(url)         # refuses a database not initialised, or newer
    store.push(records, origin, progress, checklists, evidence, file_progress) -> PushReport
    store.repair(...)                       # same arguments; re-hashes evidence, mends records
    store.rows() -> [row]                   # every synced version, as the folder's index rows,
                                            # with "id" where the folder has batch/offset/length
    store.read_record(row) -> {"visit": ..., "events": [...]}
    store.damaged_rows() -> [row]           # rows whose bytes no longer hash to record_hash
    store.add_review(review, signer) -> decision     # appended, chained by `prev`
    store.reviews() -> [decision]           # the whole log, in order
    store.decisions_after(seq) -> [(seq, decision)]  # only what is new since `seq`
    store.decision_hash_at(seq) -> str      # the `prev` the decision after `seq` names:
                                            # check_log(new, ring, prev=...) checks only those
    store.files                             # PgEvidenceFiles: check/quick_check/read/copy_from/keep
    store.checklists                        # PgChecklists: keep/load/has, by sha256
    store.keyring_entries(), store.append_keyring(entry, signer), store.create_genesis(...),
    store.trusted_keyring(data_folder)      # the keyring, as keyring.jsonl holds it
    store.page(filters, sort, offset, limit), store.count(filters), store.stats(filters)
                                            # paging.Filters or a dict of its fields; sort is
                                            # one of paging.SORTS, "-name" for descending
    store.list_page(filters, sort, descending, offset, limit) -> (rows, matched or None)
    store.decisions_of(uuids), store.versions_of(uuids), store.technicians(),
    store.failure_stats(filters)            # the review list's pages (paging.LIST_SORTS,
                                            # indexes of migration 2) and figures
    store.iter_rows(chunk) -> rows          # the current rows through a server-side cursor,
                                            # for exports that hold one chunk, not the store
    store.rows_of(uuid), store.location, store.keyring_place, store.locked(),
    store.decision_log.read_since(mark)     # what `store/targets.py` asks of either kind
    store.import_rows(...), store.import_keyring_lines(...), store.import_decision(...)
                                            # verbatim, for `shared migrate`: never signed again
    bulk.copy_records(store, [(row, line)]) # COPY many new records at once (benches, migrate)
    store.close()                           # also a context manager

Tables (`migrations.py`, schema version in `schema_version`): `visits` (one narrow index
row per synced version, with the columns the review list filters and sorts on),
`visit_bodies` (by record hash, unique: the record's exact bytes as bytea, so its hash
verifies, and the summary as jsonb), `visit_heads` (one row per uuid, locked FOR UPDATE
while a push decides its conflict and supersede flags), `decisions` and `decision_head`
(the append-only log and the hash the next decision names), `keyring`, `checklists`,
`evidence_files` and `evidence_chunks` (files in chunks of 1 MiB). The log and the keyring
refuse UPDATE and DELETE (a trigger).

A row is the folder index's row (uuid, revision, record_hash, conflict, superseded,
synced_at, host and the summary fields of `VisitSummary.to_row`) with `id` where the folder
has batch, offset and length; `read_record` takes it back. A push's `PushReport` is the
folder's; decisions are not in it: a caller reads `decisions_after` the seq it last saw.

The same guarantees as the folder: one transaction per push, so a push killed anywhere
leaves nothing or everything; idempotent by record hash (a unique key); a different record
under a uuid and revision already there is kept beside it and both are flagged; a later
revision supersedes the earlier ones (`shared_plan.make_plan` decides, as for the folder).
Pushes of different visits never wait for each other: the lock is per uuid (a row of
`visit_heads`), and evidence files are uploaded before the push's transaction, each chunk
committed on its own, so a laptop uploading a day of photos holds no lock another needs.

Credentials never come from the URL: `postgresql://user@host/db` or
`postgresql:///db?host=/socket/dir`, with the password in PGPASSWORD or `~/.pgpass`, which
libpq reads itself. TLS is used whenever the server offers it (`sslmode=prefer`, or what the
URL asks for).
"""

from __future__ import annotations

URL_SCHEMES = ("postgresql://", "postgres://")


def is_pg_url(target: object) -> bool:
    """Whether a `--to` or `--store` argument names a PostgreSQL store rather than a folder."""
    return isinstance(target, str) and target.lower().startswith(URL_SCHEMES)
