"""Settings kept between runs, in a small JSON file (see `locations.config_file`)."""

from __future__ import annotations

import json
import locale
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from pos_tui.locations import SHARED_STORE_ENV, config_file
from pos_tui.store.storage import write_json_atomically

LANGUAGES = ("zh", "en")


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

    @property
    def ui_language(self) -> str:
        return self.language if self.language in LANGUAGES else system_language()

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def shared_store_path(self) -> Path | None:
        from_env = os.environ.get(SHARED_STORE_ENV)
        chosen = from_env or self.shared_store
        return Path(chosen).expanduser() if chosen else None


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
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    known = {f.name for f in fields(Settings)}
    values = {k: str(v) for k, v in data.items() if k in known} if isinstance(data, dict) else {}
    settings = Settings(**values)
    if not settings.device_id:
        import uuid  # only on the first run: it costs start-up time

        settings = settings.with_changes(device_id=str(uuid.uuid4()))
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> None:
    path = path or config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, asdict(settings), keep_backup=False)
