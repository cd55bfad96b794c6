"""A store file's path that names a FIFO or a device is refused, never renamed over.

Found when a test pointed the settings at os.devnull and, run as root, the atomic
replace turned the machine's /dev/null into a settings file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pos_tui.config import Settings, save_settings
from pos_tui.store.storage import StoreError, write_json_atomically


def test_a_fifo_where_a_store_file_goes_is_left_as_it_is(tmp_path: Path) -> None:
    fifo = tmp_path / "index.json"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="not a regular file"):
        write_json_atomically(fifo, {"visits": {}})
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["index.json"]  # no temporary file left


def test_settings_saved_over_a_fifo_are_refused_in_a_sentence(tmp_path: Path) -> None:
    # A FIFO stands in for /dev/null: a regression here must not take the real one.
    fifo = tmp_path / "settings.json"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="not a regular file"):
        save_settings(Settings(technician="张伟"), fifo)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_regular_file_and_a_link_to_one_are_written_as_before(tmp_path: Path) -> None:
    real = tmp_path / "settings.json"
    write_json_atomically(real, {"a": 1})
    link = tmp_path / "linked.json"
    link.symlink_to(real)
    write_json_atomically(link, {"b": 2})
    assert real.read_text(encoding="utf-8") == '{"a":1}'
    assert link.read_text(encoding="utf-8") == '{"b":2}' and not link.is_symlink()
