"""The domain and the store stay free of the UI toolkit (DESIGN.md, "pure core, enforced")."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import pos_tui.domain
import pos_tui.services
import pos_tui.store

ROOT = Path(__file__).resolve().parents[2]


def modules_of(package: object) -> list[str]:
    name = package.__name__  # type: ignore[attr-defined]
    paths = package.__path__  # type: ignore[attr-defined]
    return [f"{name}.{info.name}" for info in pkgutil.iter_modules(paths)]


def imported_by(module: str) -> set[str]:
    script = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("module", modules_of(pos_tui.domain))
def test_domain_module_imports_no_ui_and_no_storage(module: str) -> None:
    loaded = imported_by(module)
    assert {"textual", "rich", "tinydb", "pos_tui.store", "pos_tui.ui"}.isdisjoint(loaded)


@pytest.mark.parametrize("module", modules_of(pos_tui.store))
def test_store_module_imports_no_ui(module: str) -> None:
    loaded = imported_by(module)
    assert {"textual", "rich", "pos_tui.ui"}.isdisjoint(loaded)


@pytest.mark.parametrize("module", ["pos_tui.services", *modules_of(pos_tui.services)])
def test_services_import_no_ui(module: str) -> None:
    loaded = imported_by(module)
    assert {"textual", "rich", "pos_tui.ui", "pos_tui.cli"}.isdisjoint(loaded)


@pytest.mark.parametrize(
    "module",
    [
        "pos_tui.ui.app",
        "pos_tui.domain.session",
        "pos_tui.services.technician",
        "pos_tui.ui.screens.runner",
        "pos_tui.ui.screens.attach",
        "pos_tui.ui.screens.phone_qr",
        "pos_tui.phone.tokens",
    ],
)
def test_pictures_and_keys_libraries_stay_off_the_start_up_path(module: str) -> None:
    # Pillow, pillow-heif and textual-image cost tens of milliseconds; they are imported
    # when the first photo is taken in or shown (the start-up bench guards the figure).
    loaded = imported_by(module)
    # aiohttp and segno come in when the phone's QR code is first opened (pos_tui/phone).
    assert {
        "PIL",
        "pillow_heif",
        "textual_image",
        "cryptography",
        "aiohttp",
        "segno",
    }.isdisjoint(loaded)
