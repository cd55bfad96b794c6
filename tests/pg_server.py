"""A throw-away PostgreSQL server for the tests and benches: Debian's server binaries,
a cluster in a temporary folder, reached only through a unix socket there.

    with PgServer.start() as server:
        url = server.create_database("t1")     # postgresql:///t1?host=...&user=postgres

PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to the
`postgres` user the Debian package creates, and every server command runs as that user
(`runuser`). The cluster trusts whoever reaches its socket, which lives in a folder only
root and that user can enter; fsync is off, as nothing in it outlives the run.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

SUPERUSER = "postgres"


class NoServer(Exception):
    """Why no server can be started here, as a sentence."""


def bindir() -> Path:
    """The folder of initdb, pg_ctl and postgres; NoServer when there is none.
    POS_TUI_PG_BINDIR names the one folder to look in (a server built elsewhere)."""
    chosen = os.environ.get("POS_TUI_PG_BINDIR")
    places = [Path(chosen)] if chosen else _places()
    for place in places:
        if all((place / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return place
    raise NoServer(
        "No PostgreSQL server binaries (initdb, pg_ctl, postgres) were found"
        + (f" in {chosen} (POS_TUI_PG_BINDIR)" if chosen else "")
        + ": install Debian's postgresql package (apt-get install postgresql), as .ci/run does."
    )


def _places() -> list[Path]:
    places: list[Path] = []
    if shutil.which("pg_config"):
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        )
        if found.returncode == 0 and found.stdout.strip():
            places.append(Path(found.stdout.strip()))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    places += [Path(p) for p in versions]
    initdb = shutil.which("initdb")
    if initdb:
        places.append(Path(initdb).resolve().parent)
    return places


def _version(path: str) -> int:
    part = Path(path).parent.name
    return int(part) if part.isdigit() else 0


class PgServer:
    def __init__(self, root: Path, bin_dir: Path, run_as: str | None) -> None:
        self.root = root
        self.bin_dir = bin_dir
        self.run_as = run_as
        self.data = root / "data"
        self.socket_dir = root / "socket"
        self.log = root / "server.log"

    @classmethod
    def start(cls) -> PgServer:
        found = bindir()
        run_as = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise NoServer(
                    "PostgreSQL will not run as root and there is no 'postgres' user to run"
                    " it as (Debian's postgresql package creates one)."
                ) from None
            run_as = SUPERUSER
        root = Path(tempfile.mkdtemp(prefix="pos-tui-pg-"))
        server = cls(root, found, run_as)
        try:
            server._init_and_start()
        except BaseException:
            server._remove()
            raise
        return server

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise NoServer(
                f"{Path(args[0]).name} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-2000:]}\n{log}"
            )

    def _init_and_start(self) -> None:
        self.socket_dir.mkdir()
        if self.run_as is not None:
            user = pwd.getpwnam(self.run_as)
            for path in (self.root, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        os.chmod(self.root, 0o700)
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        options = " ".join(
            [
                f"-k {self.socket_dir}",
                "-c listen_addresses=''",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=100",
            ]
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def url(self, database: str = "postgres") -> str:
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql:///{database}?host={host}&user={SUPERUSER}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        try:
            self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
            )
        finally:
            self._remove()

    def _remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
