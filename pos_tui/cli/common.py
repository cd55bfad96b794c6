"""What every command shares: how it fails, its --data-dir option and how folders resolve.

Every expected failure (bad checklist, locked or damaged store, unwritable folder, full
disk) ends with a plain sentence on stderr and exit code 1, never a traceback; anything
else is a bug and keeps its traceback so that it gets reported and fixed.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

import click

from pos_tui.domain.checklist import LANGUAGES
from pos_tui.domain.redact import CardDataError
from pos_tui.domain.session import VisitError
from pos_tui.locations import DATA_DIR_ENV, data_dir
from pos_tui.store.storage import StoreError

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T", bound=Path | str)

_FOLDER_KEY = "pos_tui.folder"
"""Where `local_folder` leaves the folder a command works in, for errors that name no file."""

# No envvar= here: the environment is read by locations.data_dir, after both options, so
# that --data-dir given on the command line wins over POS_TUI_DATA_DIR at either level.
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help=f"The local store's folder (default: {DATA_DIR_ENV}, else the system's data folder).",
)

LANGUAGE_CHOICE = click.Choice(LANGUAGES)
"""The languages a screen or a report can be shown in, for every --lang option."""


def fail(message: str) -> NoReturn:
    click.echo(f"pos-tui: {message}", err=True)
    sys.exit(1)


def plain_errors(command: F) -> F:
    """Turn the errors we expect into a sentence and exit code 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (StoreError, VisitError, CardDataError) as error:
            fail(str(error))
        except BrokenPipeError:
            raise  # the reader (`| head`) has gone: click ends quietly, with nothing to say
        except OSError as error:
            fail(os_error_sentence(error, _current_folder()))

    return cast(F, wrapper)


def local_folder(ctx: click.Context, data_dir_value: Path | None) -> Path:
    """The local store's folder: this command's --data-dir, the top level's, the environment's.

    A path that names a file is refused here, whichever of the three it came from.
    """
    folder = data_dir(data_dir_value or ctx.find_root().params.get("data_dir"))
    if folder.exists() and not folder.is_dir():
        fail(
            f"the data folder {folder} is a file, not a folder: "
            f"give a folder with --data-dir (or {DATA_DIR_ENV})."
        )
    ctx.meta[_FOLDER_KEY] = folder
    return folder


def not_a_file(path: T | None, option: str) -> T | None:
    """`path`, unless it names a file where a folder is wanted (a database URL is not a
    path, and passes)."""
    if isinstance(path, Path) and path.exists() and not path.is_dir():
        fail(f"{path} is a file, not a folder: give {option} a folder.")
    return path


class StoreTarget(click.ParamType):
    """A shared store: a folder, or a `postgresql://` URL (never with a password in it)."""

    name = "PATH|URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from pos_tui.store.targets import target_of

        return target_of(value) if isinstance(value, str | Path) else value


STORE_TARGET = StoreTarget()


def shared_target(given: Path | str | None, option: str) -> Path | str:
    """--to / --store, else the settings' shared store; said plainly when there is none."""
    from pos_tui.config import load_settings

    target = not_a_file(given, option) or not_a_file(load_settings().shared_store_target(), option)
    if target is None:
        fail(
            f"no shared store given: use {option} PATH (or URL), or set shared_store in the"
            " settings."
        )
    return target


def os_error_sentence(error: OSError, folder: Path | None = None, verb: str = "use") -> str:
    """What went wrong with which file, and what the user can do about it.

    `folder` is named when the error names no file (a write that fails on close does not).
    """
    where = ""
    if error.filename:
        where = f" {error.filename}"
    elif folder:
        where = f" in {folder}"
    code = error.errno
    # Same groups as StoreWriteFailed: quotas and file-size limits say "full" their own way.
    if code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"cannot write{where}: the disk is full. Free some space, then try again."
    if code == errno.EROFS:
        return (
            f"cannot write{where}: the disk is read-only. "
            "Use a folder on a writable disk, then try again."
        )
    if code in (errno.EACCES, errno.EPERM):
        return (
            f"cannot {verb}{where}: permission denied (the folder is not open to this user, or is"
            " immutable). Give this user access, or use another folder."
        )
    if code == errno.ENOTDIR:
        return f"cannot {verb}{where}: part of that path is a file, not a folder."
    if code == errno.EIO:
        return f"cannot read or write{where}: the disk reports an error. Check the disk or stick."
    return f"cannot {verb}{where}: {error.strerror or error}."


def _current_folder() -> Path | None:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    folder = ctx.meta.get(_FOLDER_KEY)
    return folder if isinstance(folder, Path) else None
