"""`pos-tui review`: the supervisor's side of the app."""

from __future__ import annotations

from pathlib import Path

import click

from pos_tui.cli.common import (
    LANGUAGE_CHOICE,
    data_dir_option,
    fail,
    local_folder,
    not_a_file,
    plain_errors,
)


@click.command()
@click.option(
    "--store",
    type=click.Path(path_type=Path),
    help="The shared store's folder (default: settings, or POS_TUI_SHARED_STORE).",
)
@click.option("--lang", type=LANGUAGE_CHOICE, help="Language of the UI.")
@data_dir_option
@click.pass_context
@plain_errors
def review(ctx: click.Context, store: Path | None, lang: str | None, data_dir: Path | None) -> None:
    """Review synced visits: find failures, inspect visits, approve or send back.

    Decisions are signed with this machine's reviewer key (`pos-tui keys init --reviewer`),
    and carry the name the shared store's keyring gives that key.
    """
    from pos_tui.config import load_settings
    from pos_tui.services.review import ReviewServices
    from pos_tui.store.keys import REVIEWER, load_key
    from pos_tui.store.sources import SharedSource
    from pos_tui.ui.app import make_app

    settings = load_settings()
    folder = not_a_file(store or settings.shared_store_path(), "--store")
    if folder is None:
        fail("no shared store given: use --store PATH, or set shared_store in the settings.")
    data_folder = local_folder(ctx, data_dir)
    key = load_key(data_folder, REVIEWER)
    services = ReviewServices(SharedSource(folder, data_folder), key)
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
