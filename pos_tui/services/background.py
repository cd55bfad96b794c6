"""One background worker per side of the app: disk work leaves the UI thread, in order.

A single-worker executor keeps "pass, then undo" in the order they were asked (a pool
would let them race to disk), and `close` runs every job already queued before it returns:
a technician who quits while a save is on its way still gets the save.

Results travel back as `concurrent.futures.Future`s; the UI awaits them with
`asyncio.wrap_future`, so this thread never waits for the UI's event loop. (It used to
call `call_from_thread`, which deadlocked when the app quit with a save in flight: the
loop waited for this thread while this thread waited for the loop.)
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Background:
    def __init__(self, name: str = "pos-tui-worker") -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def submit(self, job: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        return self._executor.submit(job, *args, **kwargs)

    def flush(self) -> None:
        """Wait until every job submitted so far has finished (tests and benches use it)."""
        self._executor.submit(lambda: None).result()

    def close(self) -> None:
        """Finish every queued job, then stop; safe to call twice."""
        self._executor.shutdown(wait=True)
