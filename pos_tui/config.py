"""Settings kept between runs, in a small JSON file (see `locations.config_file`)."""

from __future__ import annotations

import contextlib
import locale
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pos_tui.domain.checklist import LANGUAGES
from pos_tui.domain.safe_read import RefusedFile, read_regular_file
from pos_tui.locations import SHARED_STORE_ENV, config_file
from pos_tui.store.schema import ShapeError, parse_json
from pos_tui.store.storage import StoreError, write_json_atomically

SETTINGS_LIMIT = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    technician: str = ""
    """The technician's name, asked once on first run and put on every visit they start."""

    reviewer: str = ""
    """The supervisor's name, recorded on every review decision."""

    device_id: str = ""
    """This laptop's id, made on first run, so synced visits say where they came from."""

    language: str = ""
    """`zh` or `en`; empty means: follow the system locale."""

    shared_store: str = ""
    """Folder of the shared store that `sync` writes to and `review` reads."""

    theme: str = ""
    """The Textual theme last chosen from the command palette; empty: the app's default."""

    photo_folder: str = ""
    """The folder the technician's photos arrive in (a phone's camera folder over USB, a
    synced folder), chosen once in the attach dialog; empty: none, only paths are taken."""

    keymap: dict[str, str] = field(default_factory=dict)
    """Other keys for the app's actions, by binding id, as Textual's `App.set_keymap` takes
    them: {"item.pass": "space", "item.fail": "x,F"}."""

    @property
    def ui_language(self) -> str:
        return self.language if self.language in LANGUAGES else system_language()

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def shared_store_target(self) -> Path | str | None:
        """The shared store's folder, or the URL of a PostgreSQL one (`store/targets.py`)."""
        from pos_tui.store.targets import target_of

        from_env = os.environ.get(SHARED_STORE_ENV)
        chosen = from_env or self.shared_store
        return target_of(chosen) if chosen else None


def system_language() -> str:
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    found = locale.getlocale()[0] or ""
    return "zh" if found.lower().startswith("zh") else "en"


def load_settings(path: Path | None = None) -> Settings:
    """The saved settings; a missing or unreadable file gives defaults rather than a crash."""
    path = path or config_file()
    try:
        data = parse_json(read_regular_file(path, SETTINGS_LIMIT))
    except (OSError, RefusedFile, ShapeError):
        # A FIFO, a huge file, deep nesting or a typo: defaults, and the app still starts.
        data = {}
    if not isinstance(data, dict):
        data = {}
    known = {f.name for f in fields(Settings)} - {"keymap"}
    values: dict[str, Any] = {k: str(v) for k, v in data.items() if k in known}
    keymap = data.get("keymap")
    if isinstance(keymap, dict):
        values["keymap"] = {str(k): str(v) for k, v in keymap.items()}
    settings = Settings(**values)
    if not settings.device_id:
        import uuid  # only on the first run: it costs start-up time

        settings = settings.with_changes(device_id=str(uuid.uuid4()))
        # Kept at once: a device id that lives only in memory would stamp every run's
        # visits with a different laptop.
        # A read-only settings folder: the id holds for this run, as it did before.
        with contextlib.suppress(StoreError, OSError):
            save_settings(settings, path)
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> None:
    path = path or config_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"Cannot create the settings folder {path.parent}: {error.strerror}."
        ) from None
    write_json_atomically(path, asdict(settings), keep_backup=False)
