"""Where a sync into PostgreSQL waits for another, measured from both sides.

`CHILD_TIMING` is code a laptop child runs before it syncs: it times every statement of
the store that takes a lock (`FOR UPDATE`, `pg_advisory_*lock`) as a wait, and the push's
transaction (`PgSharedStore._apply`) as a hold; a push's own write is its hold less the
waits inside it. Those statements do nothing else, so their time is the lock's wait (plus
one round trip to the server, which the figures include and overstate the wait by).

`LockSampler` watches from outside: a thread that asks the server, every few
milliseconds, how many sessions wait for a lock (`pg_locks` not granted) and for how long
the oldest has waited (`pg_stat_activity`, wait_event_type Lock). It sees only the
waits longer than its interval, and is the check that the children's timings missed none.

`log_lock_waits` has the server itself log every lock wait longer than `LOCK_LOG_MS` and
how long it lasted; `logged_waits` reads them back by backend, and each child notes the
backend of each store it opens (`pids`): the server's account of a sync's waits, which a
starved client's round trips do not inflate.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

CHILD_TIMING = """
import time
import psycopg
from pos_tui.store.pg.store import PgSharedStore

waits, holds, writes, pids = [], [], [], []
_in_push = []
_execute = psycopg.Cursor.execute
_apply = PgSharedStore._apply
_open = PgSharedStore.open.__func__

def _locks(query):
    text = query if isinstance(query, str) else ""
    return "FOR UPDATE" in text or ("pg_advisory" in text and "unlock" not in text)

def timed_execute(self, query, *args, **kwargs):
    if not _locks(query):
        return _execute(self, query, *args, **kwargs)
    started = time.perf_counter()
    try:
        return _execute(self, query, *args, **kwargs)
    finally:
        took = time.perf_counter() - started
        waits.append(took)
        if _in_push:
            _in_push[-1] += took

def timed_apply(self, *args, **kwargs):
    _in_push.append(0.0)
    started = time.perf_counter()
    try:
        return _apply(self, *args, **kwargs)
    finally:
        held = time.perf_counter() - started
        waited = _in_push.pop()
        holds.append(held)
        writes.append({"held_s": held, "waited_s": waited, "own_write_s": held - waited})

def noted_open(cls, url):
    store = _open(cls, url)
    pids.append(store.conn.info.backend_pid)  # to find its waits in the server's log
    return store

psycopg.Cursor.execute = timed_execute
PgSharedStore._apply = timed_apply
PgSharedStore.open = classmethod(noted_open)
"""

LOCK_LOG_MS = 5
"""The server logs every lock wait longer than this (`log_lock_waits`, `deadlock_timeout`)."""


def log_lock_waits(server: Any) -> None:
    """Have the server log each wait for a lock longer than `LOCK_LOG_MS`, and when it
    ends: the server's own account, which no round trip inflates."""
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET log_lock_waits = on")
        conn.execute(f"ALTER SYSTEM SET deadlock_timeout = '{LOCK_LOG_MS}ms'")
        conn.execute("SELECT pg_reload_conf()")


_ACQUIRED = re.compile(r"process (\d+) acquired .* after ([0-9.]+) ms")
_WAITING = re.compile(r"process (\d+) still waiting for ")


def logged_waits(server: Any) -> tuple[dict[int, float], set[int]]:
    """From the server's log: seconds each backend waited for locks it got after more than
    `LOCK_LOG_MS`, and the backends logged as waiting at all."""
    text = Path(server.log).read_text(errors="replace") if Path(server.log).exists() else ""
    waited: dict[int, float] = {}
    for pid, ms in _ACQUIRED.findall(text):
        waited[int(pid)] = waited.get(int(pid), 0.0) + float(ms) / 1000
    return waited, {int(pid) for pid in _WAITING.findall(text)}


class LockSampler:
    """The most sessions seen waiting for a lock at once, and the longest wait seen."""

    QUERY = """
        SELECT (SELECT count(*) FROM pg_locks WHERE NOT granted),
               coalesce(max(extract(epoch FROM clock_timestamp() - query_start)), 0)
        FROM pg_stat_activity WHERE wait_event_type = 'Lock'
    """

    def __init__(self, url: str, interval_s: float = 0.005) -> None:
        self.url = url
        self.interval_s = interval_s
        self.samples = 0
        self.most_waiting = 0
        self.longest_wait_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LockSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                waiting, oldest = conn.execute(self.QUERY).fetchone() or (0, 0)
                self.samples += 1
                self.most_waiting = max(self.most_waiting, int(waiting))
                self.longest_wait_s = max(self.longest_wait_s, float(oldest))
                time.sleep(self.interval_s)

    def figures(self) -> dict[str, Any]:
        return {
            "sampled": self.samples,
            "most_waiting_at_once": self.most_waiting,
            "longest_wait_seen_s": round(self.longest_wait_s, 3),
        }
