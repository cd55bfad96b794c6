"""The command line as a package: one module per group, joined in one place, no cycles.

And where the local store is: --data-dir on the command line wins over POS_TUI_DATA_DIR,
whether it is given before the command or after it.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import pos_tui.cli
from pos_tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
MODULES = [f"pos_tui.cli.{info.name}" for info in pkgutil.iter_modules(pos_tui.cli.__path__)]
HEAVY = {"textual", "yaml", "jinja2", "pos_tui.ui", "pos_tui.reports", "pos_tui.services"}


def heavy_after(statement: str) -> set[str]:
    """The heavy modules loaded by `statement` in a fresh interpreter."""
    script = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout)
    return {name for name in loaded for h in HEAVY if name == h or name.startswith(f"{h}.")}


@pytest.mark.parametrize("module", MODULES)
def test_each_command_module_imports_on_its_own_and_lightly(module: str) -> None:
    # Imported first, before pos_tui.cli has run: a cycle through `main` would fail here.
    assert heavy_after(f"import {module}") == set()


def test_starting_the_command_line_loads_neither_the_app_nor_yaml_nor_reports() -> None:
    assert heavy_after("import pos_tui.cli") == set()


def test_every_command_comes_from_a_command_module() -> None:
    names = set(main.commands)
    assert {
        "run",
        "validate",
        "list",
        "demo",
        "recover",
        "sync",
        "review",
        "report",
        "export",
    } <= names
    for command in main.commands.values():
        assert command.callback is not None
        assert command.callback.__module__ in MODULES, command.name


def test_the_console_script_and_python_dash_m_reach_main() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pos_tui", "--version"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("pos-tui, version ")
    from importlib.metadata import entry_points

    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("pos-tui") == "pos_tui.cli:main"


@pytest.fixture
def two_stores(tmp_path: Path) -> tuple[Path, Path]:
    runner = CliRunner()
    env_store, given = tmp_path / "from-env", tmp_path / "given"
    for folder, count in ((env_store, 1), (given, 3)):
        made = runner.invoke(main, ["demo", "--sessions", str(count), "--data-dir", str(folder)])
        assert made.exit_code == 0, made.output
    return env_store, given


def listed(args: list[str], env_store: Path) -> int:
    done = CliRunner().invoke(main, args, env={"POS_TUI_DATA_DIR": str(env_store)})
    assert done.exit_code == 0, done.output
    return len(json.loads(done.stdout))


def test_data_dir_on_the_command_line_wins_over_the_environment(
    two_stores: tuple[Path, Path],
) -> None:
    env_store, given = two_stores
    assert listed(["list", "--json"], env_store) == 1
    assert listed(["--data-dir", str(given), "list", "--json"], env_store) == 3
    assert listed(["list", "--json", "--data-dir", str(given)], env_store) == 3
    # Both given: the nearer to the command wins, as with any option of a subcommand.
    assert (
        listed(
            ["--data-dir", str(env_store), "list", "--json", "--data-dir", str(given)], env_store
        )
        == 3
    )


def test_the_top_level_data_dir_reaches_every_command(
    two_stores: tuple[Path, Path], tmp_path: Path
) -> None:
    env_store, given = two_stores
    env = dict(os.environ, POS_TUI_DATA_DIR=str(env_store), POS_TUI_CONFIG_FILE=os.devnull)
    runner = CliRunner()
    added = runner.invoke(main, ["--data-dir", str(given), "demo", "--sessions", "2"], env=env)
    assert added.exit_code == 0 and f"to {given}." in added.output
    exported = runner.invoke(
        main, ["--data-dir", str(given), "export", "--format", "json"], env=env
    )
    assert exported.exit_code == 0 and len(json.loads(exported.stdout)) == 5
    shared = tmp_path / "shared"
    synced = runner.invoke(
        main, ["--data-dir", str(given), "sync", "--status", "--to", str(shared)], env=env
    )
    assert synced.exit_code == 0 and "5 visit(s) not yet synced" in synced.stdout
    assert listed(["list", "--json"], env_store) == 1
