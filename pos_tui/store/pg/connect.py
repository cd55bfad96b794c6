"""Opening a connection to a PostgreSQL store from its URL, never with a password in it.

A URL is typed on command lines and kept in settings files, both of which others can read
(shell history, `ps`, a backed-up config): a password there would leak. libpq reads
PGPASSWORD and `~/.pgpass` (or PGPASSFILE) itself, so the program never handles one.
"""

from __future__ import annotations

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pos_tui.store.pg import is_pg_url
from pos_tui.store.storage import StoreError

APPLICATION_NAME = "pos-tui"
CONNECT_TIMEOUT_S = 10


class PasswordInUrl(StoreError):
    def __init__(self) -> None:
        super().__init__(
            "The PostgreSQL address carries a password, which would be seen in the shell's"
            " history and the settings file. Leave it out: credentials come from the"
            " environment (PGPASSWORD) or a ~/.pgpass file, which PostgreSQL reads itself."
            " Nothing was changed.",
            "PostgreSQL 地址中含有密码，会留在命令历史和设置文件中。请去掉密码：凭据来自环境变量"
            "（PGPASSWORD）或 ~/.pgpass 文件，由 PostgreSQL 自行读取。未作任何改动。",
        )


class BadUrl(StoreError):
    def __init__(self, url: str, why: str) -> None:
        super().__init__(
            f"{url} is not a PostgreSQL address ({why}); write it as"
            " postgresql://user@host/database or postgresql:///database?host=/socket/folder.",
            f"{url} 不是有效的 PostgreSQL 地址（{why}）；应写作 postgresql://用户@主机/数据库"
            " 或 postgresql:///数据库?host=/套接字目录。",
        )


class CannotConnect(StoreError):
    def __init__(self, url: str, why: str) -> None:
        hint = ""
        if "password" in why.lower():
            hint = " Set PGPASSWORD or add a line for this server to ~/.pgpass."
        super().__init__(
            f"Cannot connect to the PostgreSQL store {url}: {why}{hint} Nothing was changed.",
            f"无法连接 PostgreSQL 存储 {url}：{why}。未作任何改动。",
        )


def parameters(url: str) -> dict[str, str]:
    """The URL's connection parameters, checked: PasswordInUrl or BadUrl when refused."""
    if not is_pg_url(url):
        raise BadUrl(url, "it does not start with postgresql://")
    try:
        params = {key: str(value) for key, value in conninfo_to_dict(url).items()}
    except psycopg.ProgrammingError as error:
        raise BadUrl(url, str(error).strip()) from None
    if "password" in params:
        raise PasswordInUrl()
    params.setdefault("sslmode", "prefer")
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
    params["application_name"] = APPLICATION_NAME
    return params


def connect(url: str) -> psycopg.Connection:
    """An autocommit connection: every write of the store opens its own transaction."""
    params = parameters(url)
    try:
        return psycopg.connect(make_conninfo("", **params), autocommit=True)
    except psycopg.OperationalError as error:
        raise CannotConnect(url, _why(str(error))) from None


def _why(message: str) -> str:
    """libpq's "connection failed: connection to server ... failed: REASON" and its hint
    on the next line, as one sentence without the socket path twice over."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return "no answer."
    reason = lines[0].rsplit("failed: ", 1)[-1].rstrip(".")
    return " ".join([reason + ".", *lines[1:2]])
