"""The command line: `pos-tui` starts the technician's app; subcommands do the rest.

Each group of commands lives in its own module and knows nothing of `main`; this module
joins them with one `add_command` line each, so a new group is one module and one line.
Command modules import only click and light modules at the top: start-up time is
measured (bench/startup.py), so the app, the stores, YAML and reports load inside the
command that needs them.
"""

from __future__ import annotations

from pathlib import Path

import click

from pos_tui import __version__
from pos_tui.cli import keys, orders, reports, review, shared, store, sync, technician
from pos_tui.cli.common import data_dir_option


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="pos-tui")
@data_dir_option
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """On-site acceptance of POS card terminals.

    With no command, starts the technician's app on the local store.
    """
    # Subcommands find this --data-dir through ctx.find_root() (see common.local_folder).
    if ctx.invoked_subcommand is None:
        ctx.invoke(technician.run)


main.add_command(technician.run)
main.add_command(technician.validate)
main.add_command(store.list_visits)
main.add_command(store.demo)
main.add_command(store.recover)
main.add_command(sync.sync_command)
main.add_command(shared.shared)
main.add_command(review.review)
main.add_command(keys.keys)
main.add_command(reports.report)
main.add_command(reports.export_command)
main.add_command(orders.orders)

__all__ = ["main"]
