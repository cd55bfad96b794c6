"""One writer thread per store: saves happen off the UI thread, in the order they were asked.

A thread pool would let two quick answers race each other to disk; a single thread with a
queue keeps "pass, then undo" in that order, and the UI thread never waits on a disk.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_STOP = object()


class BackgroundWriter:
    def __init__(self, name: str = "pos-tui-writer") -> None:
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((future, job, args, kwargs))
        return future

    def _run(self) -> None:
        while True:
            entry = self._jobs.get()
            try:
                if entry is _STOP:
                    return
                future, job, args, kwargs = entry
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(job(*args, **kwargs))
                    except BaseException as error:  # handed to whoever waits on the future
                        future.set_exception(error)
            finally:
                self._jobs.task_done()

    def flush(self) -> None:
        """Block until every job submitted so far has finished."""
        self._jobs.join()

    @property
    def idle(self) -> bool:
        return self._jobs.unfinished_tasks == 0

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(_STOP)
            self._thread.join()
