"""`pos-tui sync`: signed visits to the shared store, review decisions back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pos_tui.cli.common import (
    STORE_TARGET,
    data_dir_option,
    fail,
    local_folder,
    plain_errors,
    shared_target,
)


@click.command(name="sync")
@data_dir_option
@click.option(
    "--to",
    "target",
    type=STORE_TARGET,
    help="The shared store: its folder, or a postgresql:// URL (default: settings, or"
    " POS_TUI_SHARED_STORE).",
)
@click.option("--status", "show_status", is_flag=True, help="List what is pending; sync nothing.")
@click.option(
    "--repair",
    is_flag=True,
    help="Send again every record of this laptop that the shared store has lost or damaged"
    " (see `pos-tui shared check`).",
)
@click.pass_context
@plain_errors
def sync_command(
    ctx: click.Context,
    data_dir: Path | None,
    target: Path | str | None,
    show_status: bool,
    repair: bool,
) -> None:
    """Copy signed visits to the shared store and bring review decisions back."""
    from pos_tui.config import load_settings
    from pos_tui.services.identity import register_laptop
    from pos_tui.store.keys import DEVICE, load_key
    from pos_tui.store.local import LocalStore
    from pos_tui.store.sync import pending, sync

    target = shared_target(target, "--to")
    folder = local_folder(ctx, data_dir)
    if not folder.exists():
        fail(f"there is no local store at {folder} yet.")
    if show_status and repair:
        fail("--status only lists what is pending; give it without --repair.")
    if show_status:
        with LocalStore.open(folder, read_only=True) as store:
            waiting = pending(store, target)
        from pos_tui.reports.console import visits_table

        click.echo(f"{len(waiting)} visit(s) not yet synced to {target}:")
        visits_table(waiting)
        return
    with LocalStore.open(folder) as store:
        bars = _ProgressBars()
        try:
            report = sync(store, target, bars, repair=repair)
        finally:
            bars.close()
        click.echo(f"{'Repair' if repair else 'Sync'} complete: {report.sentence()}")
        for line in report.refusals():
            click.echo(line, err=True)
        settings = load_settings()
        if register_laptop(target, folder, settings.technician, settings.device_id):
            key = load_key(folder, DEVICE)
            click.echo(
                "Asked the shared store's administrator to trust this laptop, key"
                f" {key.fingerprint if key else '?'}: read it out to them."
            )
        from pos_tui.services.orders import pull_for_laptop

        pulled = pull_for_laptop(folder, target, settings.technician)
        if pulled:  # a bank without work orders hears nothing of them
            click.echo(f"{pulled} work order(s) for this laptop.")
        if report.refused:
            sys.exit(1)


LABELS = {"reading": "Reading visits", "bytes": "Copying evidence files", "writing": "Writing"}


class _ProgressBars:
    """One bar per stage on standard error. The bytes of evidence files move the bar by
    what was written, so a large photo on a slow share shows it moving; the file count is
    in the bar's label, not a bar of its own: two bars at once would overwrite each other."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}
        self.done: dict[str, int] = {}
        self.files = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage == "files":
            self.files = f" ({done}/{total})"
            bar = self.bars.get("bytes")
            if bar is not None:
                bar.label = LABELS["bytes"] + self.files
            return
        if stage not in self.bars:
            label = LABELS.get(stage, stage) + (self.files if stage == "bytes" else "")
            self.bars[stage] = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bars[stage].__enter__()
            self.done[stage] = 0
        step = done - self.done[stage] if stage == "bytes" else 1
        self.done[stage] = done
        self.bars[stage].update(step)
        if done >= total:
            self.bars.pop(stage).__exit__(None, None, None)

    def close(self) -> None:
        """A copy started over (its part was not what it should be) counts past its total."""
        while self.bars:
            self.bars.popitem()[1].__exit__(None, None, None)
