"""Failures at start, as a technician meets them: one plain sentence, exit code 1, no traceback.

Run as root, chmod cannot make a folder unwritable here; what can be made real is: a data
folder that is a file, a path under a file, an immutable folder (chattr +i, when the
filesystem allows it) and a full disk (RLIMIT_FSIZE in a child process). The rest of the
errno mapping is driven through the same code paths with the error injected.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

from pos_tui.cli import main
from pos_tui.cli.common import os_error_sentence, plain_errors
from pos_tui.store import storage

ROOT = Path(__file__).resolve().parents[2]

FULL_DISK = """
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
os.execv(sys.executable, [sys.executable, "-m", "pos_tui", *sys.argv[1:]])
"""

# Every command that opens the local store, as a technician types it.
STARTS = {
    "app": [],
    "run": ["run"],
    "list": ["list"],
    "demo": ["demo", "--sessions", "1"],
    "sync": ["sync", "--to", "{shared}"],
    "report": ["report", "abc"],
    "export": ["export"],
}
WRITERS = ("app", "run", "demo", "sync")


def pos_tui(
    *args: str, env: dict[str, str] | None = None, program: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", program] if program else [sys.executable, "-m", "pos_tui"]
    return subprocess.run(
        [*command, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
        env=env if env is not None else quiet_env(),
    )


def quiet_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POS_TUI_")}
    return {**env, "POS_TUI_CONFIG_FILE": os.devnull, **extra}


def start_args(name: str, tmp_path: Path) -> list[str]:
    return [arg.format(shared=tmp_path / "shared") for arg in STARTS[name]]


def assert_plain(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("pos-tui: "), lines
    for words in expected:
        assert words in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    made = pos_tui("demo", "--sessions", "2", "--data-dir", str(folder))
    assert made.returncode == 0, made.stderr
    return folder


@pytest.mark.parametrize("name", list(STARTS))
def test_a_data_folder_that_is_a_file(tmp_path: Path, name: str) -> None:
    a_file = tmp_path / "data"
    a_file.write_text("not a folder", encoding="utf-8")
    top = pos_tui("--data-dir", str(a_file), *start_args(name, tmp_path))
    assert_plain(top, f"the data folder {a_file} is a file, not a folder")
    from_env = pos_tui(*start_args(name, tmp_path), env=quiet_env(POS_TUI_DATA_DIR=str(a_file)))
    assert_plain(from_env, f"{a_file} is a file", "POS_TUI_DATA_DIR")
    assert a_file.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize("name", list(STARTS))
def test_a_data_folder_under_a_file(tmp_path: Path, name: str) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    folder = tmp_path / "a-file" / "data"
    done = pos_tui("--data-dir", str(folder), *start_args(name, tmp_path))
    assert_plain(done, str(folder))


def test_shared_store_and_store_options_that_are_files(tmp_path: Path, filled: Path) -> None:
    a_file = tmp_path / "shared"
    a_file.write_text("", encoding="utf-8")
    synced = pos_tui("sync", "--to", str(a_file), "--data-dir", str(filled))
    assert_plain(synced, f"{a_file} is a file, not a folder: give --to a folder.")
    exported = pos_tui("export", "--store", str(a_file))
    assert_plain(exported, f"{a_file} is a file, not a folder: give --store a folder.")


@pytest.fixture
def immutable(filled: Path) -> Iterator[Path]:
    chattr = shutil.which("chattr")
    if chattr is None or os.geteuid() != 0:
        pytest.skip("making a folder immutable needs chattr and root")
    if subprocess.run([chattr, "+i", str(filled)], capture_output=True).returncode != 0:
        pytest.skip(f"the filesystem of {filled} has no immutable attribute")
    try:
        yield filled
    finally:
        subprocess.run([chattr, "-i", str(filled)], check=True)


@pytest.mark.parametrize("name", WRITERS)
def test_an_immutable_data_folder(immutable: Path, tmp_path: Path, name: str) -> None:
    before = sorted(p.name for p in immutable.iterdir())
    done = pos_tui("--data-dir", str(immutable), *start_args(name, tmp_path))
    assert_plain(done, str(immutable), "permission denied", "immutable")
    assert sorted(p.name for p in immutable.iterdir()) == before


def test_an_immutable_data_folder_can_still_be_read(immutable: Path) -> None:
    listed = pos_tui("list", "--data-dir", str(immutable))
    assert listed.returncode == 0, listed.stderr
    assert "2 visits." in listed.stdout
    exported = pos_tui("export", "--format", "json", "--data-dir", str(immutable))
    assert exported.returncode == 0, exported.stderr


@pytest.mark.parametrize("state", ["missing", "empty", "store"])
@pytest.mark.parametrize("name", WRITERS)
def test_a_full_disk_at_start(tmp_path: Path, filled: Path, name: str, state: str) -> None:
    folder = filled if state == "store" else tmp_path / "new"
    if state == "empty":
        folder.mkdir()
    done = pos_tui("--data-dir", str(folder), *start_args(name, tmp_path), program=FULL_DISK)
    if name == "sync" and state == "missing":
        assert_plain(done, f"there is no local store at {folder} yet.")
    else:
        assert_plain(done, str(folder), "the disk is full. Free some space, then try again.")


@pytest.mark.parametrize(
    "args", [["export", "--out", "{out}.csv"], ["report", "{visit}", "--out", "{out}.html"]]
)
def test_a_full_disk_when_writing_a_report_or_export(
    tmp_path: Path, filled: Path, args: list[str]
) -> None:
    visit = next((filled / "visits").glob("*.json")).stem
    out = tmp_path / "out"
    filled_args = [arg.format(out=out, visit=visit[:8]) for arg in args]
    done = pos_tui(*filled_args, "--data-dir", str(filled), program=FULL_DISK)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) == 1 and str(out) in done.stderr, done.stderr
    assert not list(tmp_path.glob("*out*")), "a half-written file was left behind"


class _FailingReplace(SimpleNamespace):
    """The os module as the store's storage sees it, with renames failing."""

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (errno.EROFS, "the folder cannot be written to"),
        (errno.EACCES, "the folder cannot be written to"),
        (errno.EPERM, "the folder cannot be written to"),
        (errno.ENOSPC, "the disk is full"),
        (errno.EFBIG, "the disk is full"),
    ],
)
def test_store_write_errors_become_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, reason: str
) -> None:
    """OSError → StoreWriteFailed in the store, → the user's sentence in the CLI."""

    def replace(source: object, target: object) -> None:
        raise OSError(code, os.strerror(code), str(target))

    monkeypatch.setattr(storage, "os", _FailingReplace(replace=replace))
    done = CliRunner().invoke(main, ["demo", "--sessions", "2", "--data-dir", str(tmp_path)])
    assert done.exit_code == 1, done.output
    assert isinstance(done.exception, SystemExit)
    message = done.stderr.splitlines()[-1]
    assert message.startswith(f"pos-tui: Could not save {tmp_path}"), message
    assert reason in message


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.EROFS, "cannot write /d/index.json: the disk is read-only."),
        (errno.EACCES, "cannot use /d/index.json: permission denied"),
        (errno.EPERM, "cannot use /d/index.json: permission denied"),
        (errno.ENOSPC, "cannot write /d/index.json: the disk is full."),
        (errno.EDQUOT, "cannot write /d/index.json: the disk is full."),
        (errno.EFBIG, "cannot write /d/index.json: the disk is full."),
        (errno.EIO, "cannot read or write /d/index.json: the disk reports an error."),
        (errno.ENOTDIR, "cannot use /d/index.json: part of that path is a file"),
        (errno.ENAMETOOLONG, "cannot use /d/index.json: File name too long."),
    ],
)
def test_an_os_error_that_escapes_a_command_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, code: int, words: str
) -> None:
    from pos_tui.store.local import LocalStore

    def broken_open(*_args: object, **_kwargs: object) -> LocalStore:
        raise OSError(code, os.strerror(code), "/d/index.json")

    monkeypatch.setattr(LocalStore, "open", broken_open)
    done = CliRunner().invoke(main, ["demo", "--sessions", "1", "--data-dir", str(tmp_path)])
    assert done.exit_code == 1 and isinstance(done.exception, SystemExit)
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"pos-tui: {words}"), done.stderr


def test_an_os_error_without_a_file_name_names_the_folder(tmp_path: Path) -> None:
    error = OSError(errno.ENOSPC, "No space left on device")
    assert os_error_sentence(error, tmp_path) == (
        f"cannot write in {tmp_path}: the disk is full. Free some space, then try again."
    )
    assert (
        os_error_sentence(error)
        == "cannot write: the disk is full. Free some space, then try again."
    )


def test_a_bug_keeps_its_traceback() -> None:
    @click.command()
    @plain_errors
    def buggy() -> None:
        raise KeyError("a real bug")

    done = CliRunner().invoke(buggy, [])
    assert isinstance(done.exception, KeyError)


def test_a_bug_in_a_real_command_keeps_its_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pos_tui.store.local import LocalStore

    def broken_open(*_args: object, **_kwargs: object) -> LocalStore:
        raise ZeroDivisionError("a real bug")

    monkeypatch.setattr(LocalStore, "open", broken_open)
    done = CliRunner().invoke(main, ["demo", "--sessions", "1", "--data-dir", str(tmp_path)])
    assert isinstance(done.exception, ZeroDivisionError)


def test_a_closed_pipe_ends_quietly(filled: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pos_tui", "list", "--json", "--data-dir", str(filled)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=quiet_env(COLUMNS="80"),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader has gone before the table is written: `| head -0`
    errors = process.stderr.read().decode()
    process.wait(timeout=60)
    assert errors == "", errors
