"""The store's schema, versioned: numbered migrations, run in order by `shared init`.

`schema_version` holds one row per migration applied. `migrate` runs every missing one in a
single transaction (all or none: a migration cut off leaves the schema as it was), under an
advisory lock so that two `init`s at once do not both run them. A database whose schema is
newer than this program knows is refused, to open or to migrate: an older program would
write rows a newer one does not expect, or misread the ones it does.
"""

from __future__ import annotations

import psycopg

from pos_tui.store.storage import StoreError

MIGRATE_LOCK = 7100
"""Advisory lock key (class) of migrations; the store's other keys are 71xx too."""

_V1 = """
CREATE TABLE store_info (
    key text PRIMARY KEY,
    value text NOT NULL
);
-- A record's bytes and its summary by record hash; `visits` holds the index row, narrow,
-- so that a filter which must look at every row reads a few dozen bytes a row, not
-- kilobytes of JSON.
CREATE TABLE visit_bodies (
    record_hash text PRIMARY KEY,
    record bytea NOT NULL,
    summary jsonb NOT NULL
);
-- lz4 compresses records faster than the default where the server has it.
DO $$ BEGIN
    ALTER TABLE visit_bodies ALTER COLUMN record SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL;
END $$;
CREATE TABLE visits (
    id bigserial PRIMARY KEY,
    uuid text NOT NULL,
    revision integer NOT NULL,
    record_hash text NOT NULL REFERENCES visit_bodies (record_hash),
    conflict boolean NOT NULL DEFAULT false,
    superseded boolean NOT NULL DEFAULT false,
    synced_at text NOT NULL,
    host text NOT NULL DEFAULT '',
    device_id text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT '',
    verdict text NOT NULL DEFAULT '',
    merchant_name text NOT NULL DEFAULT '',
    merchant_number text NOT NULL DEFAULT '',
    technician text NOT NULL DEFAULT '',
    updated_at text NOT NULL DEFAULT '',
    failures integer NOT NULL DEFAULT 0,
    -- What the review list's search box looks in, lowered once when written, not for
    -- every row of every keystroke.
    merchant_search text GENERATED ALWAYS AS (lower(merchant_name || ' ' || merchant_number))
        STORED,
    technician_search text GENERATED ALWAYS AS (lower(technician)) STORED,
    CONSTRAINT visits_record_hash_key UNIQUE (record_hash)
);
CREATE INDEX visits_uuid ON visits (uuid, revision);
CREATE INDEX visits_current ON visits (superseded, synced_at DESC, id DESC);
CREATE INDEX visits_status ON visits (status);
CREATE INDEX visits_verdict ON visits (verdict);
CREATE INDEX visits_merchant ON visits (merchant_name);
CREATE INDEX visits_technician ON visits (technician);
CREATE INDEX visits_updated ON visits (updated_at);
CREATE INDEX visits_conflict ON visits (id) WHERE conflict;

CREATE TABLE visit_heads (
    uuid text PRIMARY KEY
);

CREATE TABLE decisions (
    seq bigserial PRIMARY KEY,
    uuid text NOT NULL,
    body text NOT NULL,
    hash text NOT NULL
);
CREATE INDEX decisions_uuid ON decisions (uuid);
CREATE TABLE decision_head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    seq bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO decision_head VALUES (true, 0, '');

CREATE TABLE keyring (
    seq bigserial PRIMARY KEY,
    line text NOT NULL
);

CREATE TABLE checklists (
    sha256 text PRIMARY KEY,
    body bytea NOT NULL
);

CREATE TABLE evidence_files (
    sha256 text PRIMARY KEY,
    size bigint NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE evidence_chunks (
    sha256 text NOT NULL,
    writer text NOT NULL,
    n integer NOT NULL,
    data bytea NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sha256, writer, n)
);
-- Photos do not compress: do not try on every chunk.
ALTER TABLE evidence_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX evidence_parts_age ON evidence_chunks (written_at) WHERE writer <> '';

-- The log and the keyring are append-only: a slip of a tool is refused here; a forgery by
-- someone who can drop the trigger shows in the chain (`domain/decisions.py`).
CREATE FUNCTION pos_tui_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the table % is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION pos_tui_append_only();
CREATE TRIGGER keyring_append_only BEFORE UPDATE OR DELETE ON keyring
    FOR EACH ROW EXECUTE FUNCTION pos_tui_append_only();
"""

_V2 = """
-- The review list's orders (`paging.LIST_SORTS`) over the current versions: its first page
-- is the first rows of one of these, not a sort of every row.
CREATE INDEX visits_list_attention ON visits
    ((NOT (failures > 0 OR conflict)), updated_at DESC, id DESC) WHERE NOT superseded;
CREATE INDEX visits_list_date ON visits (updated_at, id) WHERE NOT superseded;
CREATE INDEX visits_list_merchant ON visits (merchant_name, updated_at DESC, id DESC)
    WHERE NOT superseded;
CREATE INDEX visits_list_failures ON visits (failures, updated_at DESC, id DESC)
    WHERE NOT superseded;
CREATE INDEX visits_list_technician ON visits (technician, updated_at DESC, id DESC)
    WHERE NOT superseded;
CREATE INDEX visits_list_merchant_number ON visits (merchant_number, updated_at DESC, id DESC)
    WHERE NOT superseded;
CREATE INDEX visits_list_verdict ON visits ((CASE verdict WHEN 'fail' THEN 0
    WHEN 'incomplete' THEN 1 WHEN 'pass_with_remarks' THEN 2 WHEN 'pass' THEN 3 ELSE 4 END),
    updated_at DESC, id DESC) WHERE NOT superseded;
"""

_V3 = """
-- The search box's words, found through an index: each row's searched text as its pairs of
-- characters, and its single characters outside ASCII (a Chinese name of one character is
-- a word; a single digit or letter is in nearly every uuid and would narrow nothing). A row
-- holding a word holds every one of the word's grams (`paging.grams_of`, which must cut
-- them the same way), so the index narrows a search to a few rows before each is read.
CREATE FUNCTION pos_tui_grams(searched text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT gram), '{}') FROM (
        SELECT substr(searched, i, 2) AS gram FROM generate_series(1, length(searched) - 1) AS i
        UNION ALL
        SELECT substr(searched, i, 1) FROM generate_series(1, length(searched)) AS i
            WHERE ascii(substr(searched, i, 1)) > 127
    ) AS grams
$$;
ALTER TABLE visits ADD COLUMN search_grams text[] GENERATED ALWAYS AS
    -- The searched text of `paging._SEARCHED`, spelt out: a generated column cannot read
    -- another (merchant_search, technician_search).
    (pos_tui_grams(lower(merchant_name || ' ' || merchant_number) || ' ' || lower(technician)
        || ' ' || uuid)) STORED;
CREATE INDEX visits_search_grams ON visits USING gin (search_grams);
"""

_V4 = """
-- The grams as the index's own expression, no longer a stored column: they were 586 of a
-- row's 904 bytes, so a search that reads the rows the index gives read three times the
-- pages it needs (at 100,000 visits, a word in 17,500 rows: 10,800 pages of 11,800). The
-- index answers `@>` on arrays exactly, so a row is not cut into grams again when read.
-- The expression is `paging.GRAMS`, which must stay the same for the index to be used.
DROP INDEX visits_search_grams;
ALTER TABLE visits DROP COLUMN search_grams;
-- A dropped column's bytes stay in every row until the row is written again: rewritten
-- here, in the order of arrival. The whole migration holds the table locked: at 100,000
-- visits it took 24 s (2 cores), the table 101 MB before and 34 MB after.
CLUSTER visits USING visits_pkey;
CREATE INDEX visits_search_grams ON visits USING gin ((pos_tui_grams(
    lower(merchant_name || ' ' || merchant_number) || ' ' || lower(technician) || ' ' || uuid)));
-- The visits that need attention (`paging.NEEDS_ATTENTION`), the first in the list's first
-- order, have an index of their words of their own: a search finds all of theirs holding
-- a word in it, then only the first of the others in order (`paging.list_queries`).
CREATE INDEX visits_search_attention ON visits USING gin ((pos_tui_grams(
    lower(merchant_name || ' ' || merchant_number) || ' ' || lower(technician) || ' ' || uuid)))
    WHERE NOT superseded AND (failures > 0 OR conflict);
-- The planner's figures of how many rows each gram is in, for the new expression.
ANALYZE visits;
"""

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "the first schema", _V1),
    (2, "indexes of the review list's orders", _V2),
    (3, "an index of the search box's words", _V3),
    (4, "the search box's index without a column of grams in every row", _V4),
)
"""(number, what it does, SQL), in order; a new one is appended, never edited."""

LATEST = MIGRATIONS[-1][0]


class NotAStore(StoreError):
    def __init__(self, url: str) -> None:
        super().__init__(
            f"The database {url} holds no pos-tui store: run `pos-tui shared init {url}` first."
            " Nothing was changed.",
            f"数据库 {url} 中没有 pos-tui 存储：请先运行 `pos-tui shared init {url}`。"
            "未作任何改动。",
        )


class SchemaTooNew(StoreError):
    def __init__(self, url: str, found: int) -> None:
        super().__init__(
            f"The store in {url} has schema version {found}, newer than this pos-tui knows"
            f" (up to {LATEST}): update pos-tui on this machine. Nothing was changed.",
            f"{url} 中存储的结构版本为 {found}，比本程序所知的（最高 {LATEST}）更新："
            "请在本机更新 pos-tui。未作任何改动。",
        )


class SchemaTooOld(StoreError):
    def __init__(self, url: str, found: int) -> None:
        super().__init__(
            f"The store in {url} has schema version {found}; this pos-tui needs {LATEST}:"
            f" run `pos-tui shared init {url}` to bring it up to date. Nothing was changed.",
            f"{url} 中存储的结构版本为 {found}，本程序需要 {LATEST}：请运行"
            f" `pos-tui shared init {url}` 升级。未作任何改动。",
        )


def current_version(conn: psycopg.Connection) -> int | None:
    """The schema version, or None when the database has no pos-tui store."""
    found = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not (found and found[0]):
        return None
    version = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(version[0]) if version and version[0] is not None else 0


def check_usable(conn: psycopg.Connection, url: str) -> None:
    """Refuse to work on a store this program does not know how to read and write."""
    found = current_version(conn)
    if found is None:
        raise NotAStore(url)
    if found > LATEST:
        raise SchemaTooNew(url, found)
    if found < LATEST:
        raise SchemaTooOld(url, found)


def migrate(conn: psycopg.Connection, url: str) -> list[int]:
    """Apply the migrations the database lacks, in one transaction; those applied."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (MIGRATE_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY,"
            " what text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        found = current_version(conn) or 0
        if found > LATEST:
            raise SchemaTooNew(url, found)
        applied = []
        for number, what, sql in MIGRATIONS:
            if number > found:
                conn.execute(sql)
                conn.execute(
                    "INSERT INTO schema_version (version, what) VALUES (%s, %s)", (number, what)
                )
                applied.append(number)
    return applied
