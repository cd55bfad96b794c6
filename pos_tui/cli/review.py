"""`pos-tui review`: the supervisor's side of the app."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pos_tui.cli.common import (
    LANGUAGE_CHOICE,
    STORE_TARGET,
    data_dir_option,
    local_folder,
    plain_errors,
    shared_target,
)

if TYPE_CHECKING:
    from pos_tui.store.sources import SharedSource


@click.command()
@click.option(
    "--store",
    type=STORE_TARGET,
    help="The shared store: its folder, or a postgresql:// URL (default: settings, or"
    " POS_TUI_SHARED_STORE).",
)
@click.option("--lang", type=LANGUAGE_CHOICE, help="Language of the UI.")
@data_dir_option
@click.pass_context
@plain_errors
def review(
    ctx: click.Context, store: Path | str | None, lang: str | None, data_dir: Path | None
) -> None:
    """Review synced visits: find failures, inspect visits, approve or send back.

    Decisions are signed with this machine's reviewer key (`pos-tui keys init --reviewer`),
    and carry the name the shared store's keyring gives that key.
    """
    from concurrent.futures import ThreadPoolExecutor

    from pos_tui.config import load_settings

    settings = load_settings()
    folder = shared_target(store, "--store")
    data_folder = local_folder(ctx, data_dir)
    # The store is opened (its modules and a database's driver imported, the server's
    # answers awaited) while the key is read and the screens are imported; a store that
    # cannot be opened is still said before the app starts, by `result()`.
    with ThreadPoolExecutor(1, thread_name_prefix="pos-tui-open") as opener:
        opening = opener.submit(_open_source, folder, data_folder)
        from pos_tui.services.review import ReviewServices
        from pos_tui.store.keys import REVIEWER, load_key
        from pos_tui.ui.app import make_app

        key = load_key(data_folder, REVIEWER)
        services = ReviewServices(opening.result(), key)
    if key is None:
        click.echo(
            "pos-tui: this machine has no reviewer key, so it can look but not decide:"
            " run `pos-tui keys init --reviewer --store PATH` first.",
            err=True,
        )
    services.prefetch()  # the index is read while the app starts
    try:
        make_app(None, lang or settings.ui_language, review=services).run()
    finally:
        services.close()


def _open_source(folder: Path | str, data_folder: Path) -> SharedSource:
    from pos_tui.store.sources import SharedSource

    return SharedSource(folder, data_folder)
