"""`pos-tui review`: the supervisor's side of the app."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from pos_tui.cli.common import LANGUAGE_CHOICE, fail, not_a_file, plain_errors


@click.command()
@click.option(
    "--store",
    type=click.Path(path_type=Path),
    help="The shared store's folder (default: settings, or POS_TUI_SHARED_STORE).",
)
@click.option("--lang", type=LANGUAGE_CHOICE, help="Language of the UI.")
@plain_errors
def review(store: Path | None, lang: str | None) -> None:
    """Review synced visits: find failures, inspect visits, approve or send back.

    Decisions are signed with the reviewer name from the settings (or, without one, the
    technician name, else the login name).
    """
    from pos_tui.config import load_settings
    from pos_tui.services.review import ReviewServices
    from pos_tui.store.sources import SharedSource
    from pos_tui.ui.app import make_app

    settings = load_settings()
    folder = not_a_file(store or settings.shared_store_path(), "--store")
    if folder is None:
        fail("no shared store given: use --store PATH, or set shared_store in the settings.")
    reviewer = settings.reviewer or settings.technician or _login_name()
    services = ReviewServices(SharedSource(folder), reviewer)
    services.prefetch()  # the index is read while the app starts
    try:
        make_app(None, lang or settings.ui_language, review=services).run()
    finally:
        services.close()


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name to be found: decisions are refused, plainly
        return ""
