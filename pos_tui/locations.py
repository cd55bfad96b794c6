"""Every filesystem path pos_tui uses, in one place."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir, user_documents_dir

APP_NAME = "pos-tui"

DATA_DIR_ENV = "POS_TUI_DATA_DIR"
CONFIG_FILE_ENV = "POS_TUI_CONFIG_FILE"
SHARED_STORE_ENV = "POS_TUI_SHARED_STORE"
CHECKLISTS_ENV = "POS_TUI_CHECKLISTS"
REPORTS_ENV = "POS_TUI_REPORTS_DIR"

_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_checklists_dir() -> Path:
    """The checklists that come with pos_tui.

    In a source checkout they sit beside the package; an installed wheel carries a copy
    inside the package (see `force-include` in pyproject.toml).
    """
    override = os.environ.get(CHECKLISTS_ENV)
    if override:
        return Path(override)
    in_wheel = _PACKAGE_DIR / "_checklists"
    if in_wheel.is_dir():
        return in_wheel
    return _PACKAGE_DIR.parent / "checklists"


def data_dir(override: Path | str | None = None) -> Path:
    """The local store's folder: --data-dir, then POS_TUI_DATA_DIR, then the OS default."""
    if override:
        return Path(override).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    from_env = os.environ.get(CONFIG_FILE_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return Path(user_config_dir(APP_NAME, appauthor=False)) / "settings.json"


def reports_dir() -> Path:
    """Where the supervisor's app writes reports: somewhere a person looks for documents."""
    from_env = os.environ.get(REPORTS_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return Path(user_documents_dir()) / "pos-tui reports"
