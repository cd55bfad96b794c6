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
    from collections.abc import Callable

    from textual.app import App


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
    from pos_tui import startup_gc

    startup_gc.hold()  # until the first screen shows its data
    from pos_tui.config import load_settings

    settings = load_settings()
    folder = shared_target(store, "--store")
    from pos_tui.services.review_start import start_review

    # The store opens while the screens' modules are imported (`review_start`).
    services = start_review(folder, local_folder(ctx, data_dir), meanwhile=_make_app)
    if services.reviewer_key is None:
        click.echo(
            "pos-tui: this machine has no reviewer key, so it can look but not decide:"
            " run `pos-tui keys init --reviewer --store PATH` first.",
            err=True,
        )
    services.prefetch()  # the list is read while the app starts
    try:
        make_app = _make_app()
        make_app(None, lang or settings.ui_language, review=services).run()
    finally:
        services.close()


def _make_app() -> Callable[..., App[None]]:
    # The list's screen too: the app imports it when it starts, after the store is open;
    # here it is imported while the store opens.
    import pos_tui.ui.screens.review_list  # noqa: F401
    from pos_tui.ui.app import make_app

    return make_app
