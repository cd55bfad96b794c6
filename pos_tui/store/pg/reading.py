"""Reads of a PostgreSQL store that outlive a dropped connection.

A review session lasts hours; the server restarts, the network drops, an administrator
ends a backend. A read then fails once with a sentence (`PgReadFailed`, a `StoreError`,
which the screens show and the command line says with exit code 1), and the next read
reconnects first. A write already says `PgWriteFailed` (`store.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar, cast

import psycopg

from pos_tui.store.storage import StoreError


class Reconnecting(Protocol):
    """What `reading` needs of the object it guards: the store or one of its parts."""

    url: str

    def reconnect_if_lost(self) -> None: ...


def reason(error: psycopg.Error) -> str:
    """The driver's first line, for a sentence of ours."""
    return (str(error).strip().splitlines() or ["no reason given"])[0]


class PgReadFailed(StoreError):
    def __init__(self, url: str, error: psycopg.Error) -> None:
        first = reason(error)
        super().__init__(
            f"Lost the connection to the PostgreSQL store {url} while reading: {first}."
            " Nothing was changed; try again (it reconnects).",
            f"读取 PostgreSQL 存储 {url} 时连接中断：{first}。未作任何改动，请重试（会重新连接）。",
        )


LOST = (psycopg.OperationalError, psycopg.InterfaceError)
"""What a dropped connection raises (the server restarted, the network cut, the backend
terminated); a mistake in a query raises other errors, which stay a bug's traceback."""

Read = TypeVar("Read", bound=Callable[..., Any])


def reading(method: Read) -> Read:
    """A read of the store: on a connection found lost, reconnected first; lost while
    reading, a `PgReadFailed` sentence instead of the driver's traceback."""

    @functools.wraps(method)
    def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.reconnect_if_lost()
        try:
            return method(self, *args, **kwargs)
        except LOST as error:
            raise PgReadFailed(self.url, error) from None

    return cast(Read, read)


def reading_rows(method: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """`reading`, for a read that streams: the connection may be lost midway."""

    @functools.wraps(method)
    def read(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.reconnect_if_lost()
        try:
            yield from method(self, *args, **kwargs)
        except LOST as error:
            raise PgReadFailed(self.url, error) from None

    return read
