"""`pos-tui shared check PATH`: is every record the shared index names there, as indexed?"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pos_tui.cli.common import not_a_file, plain_errors


@click.group(name="shared")
def shared() -> None:
    """The shared store that laptops sync into."""


@shared.command(name="check")
@click.argument("path", type=click.Path(path_type=Path))
@plain_errors
def check(path: Path) -> None:
    """Check every record of the shared store at PATH against its index.

    Says what is missing or damaged and which laptop sent it; exit 1 when anything is.
    """
    from pos_tui.store.shared import SharedStore
    from pos_tui.store.shared_check import check_store

    not_a_file(path, "PATH")
    SharedStore.open(path)  # a missing share is said as such, not as a store full of damage
    report = check_store(path)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)
