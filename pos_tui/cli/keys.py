"""`pos-tui keys`: this machine's keys, and the shared store's keyring (who is who)."""

from __future__ import annotations

import socket
from pathlib import Path

import click

from pos_tui.cli.common import (
    STORE_TARGET,
    data_dir_option,
    fail,
    local_folder,
    plain_errors,
    shared_target,
)

store_option = click.option(
    "--store",
    type=STORE_TARGET,
    help="The shared store: its folder or a postgresql:// URL (default: settings, or"
    " POS_TUI_SHARED_STORE).",
)

ROLE_NAMES = {"technician": "technician", "reviewer": "reviewer", "admin": "administrator"}


def _shared(store: Path | str | None) -> Path | str:
    return shared_target(store, "--store")


@click.group(name="keys")
def keys() -> None:
    """This machine's signing keys, and the shared store's keyring."""


@keys.command(name="init")
@data_dir_option
@click.option("--reviewer", is_flag=True, help="A supervisor's key, for review decisions.")
@store_option
@click.pass_context
@plain_errors
def init(
    ctx: click.Context, data_dir: Path | None, reviewer: bool, store: Path | str | None
) -> None:
    """Make this machine's key (the laptop's, or with --reviewer a supervisor's).

    With --store, also asks the shared store's administrator to trust it.
    """
    from pos_tui.config import load_settings
    from pos_tui.services.identity import register
    from pos_tui.store.keys import DEVICE, REVIEWER, ensure_key

    folder = local_folder(ctx, data_dir)
    role = REVIEWER if reviewer else DEVICE
    key, made = ensure_key(folder, role)
    click.echo(f"{'Made' if made else 'Already had'} the {role} key {key.path}.")
    click.echo(f"Fingerprint: {key.fingerprint}")
    if store is not None:
        settings = load_settings()
        detail = {
            "host": socket.gethostname(),
            "name": settings.reviewer if reviewer else settings.technician,
            "role": "reviewer" if reviewer else "technician",
            "device_id": settings.device_id,
        }
        if register(_shared(store), folder, key, detail):
            click.echo("Asked the administrator to trust it: read the fingerprint out to them.")
        else:
            click.echo("The shared store's keyring knows this key already (or has no keyring).")


@keys.command(name="show")
@data_dir_option
@click.pass_context
@plain_errors
def show(ctx: click.Context, data_dir: Path | None) -> None:
    """The fingerprints of this machine's keys, to read aloud or compare on paper."""
    from pos_tui.store.keys import KEYS_DIR, load_key

    folder = local_folder(ctx, data_dir)
    found = sorted((folder / KEYS_DIR).glob("*.pem")) if (folder / KEYS_DIR).is_dir() else []
    if not found:
        fail(f"this machine has no key in {folder} yet: run `pos-tui keys init`.")
    for path in found:
        key = load_key(folder, path.stem)
        if key is not None:
            click.echo(f"{path.stem:<24} {key.fingerprint}")


@keys.command(name="list")
@data_dir_option
@store_option
@click.pass_context
@plain_errors
def list_keys(ctx: click.Context, data_dir: Path | None, store: Path | str | None) -> None:
    """Every key the shared store's keyring knows: who, which role, trusted or not."""
    from pos_tui.services.identity import keyring

    ring = keyring(_shared(store), local_folder(ctx, data_dir))
    if not ring.admin:
        fail("this shared store has no keyring: it was not made with `pos-tui shared init`.")
    for entry in sorted(ring.keys.values(), key=lambda e: (e.role, e.name, e.fingerprint)):
        if entry.revoked_at:
            state = f"revoked {entry.revoked_at[:16]} ({entry.revoke_reason})"
        elif entry.trusted_at:
            state = f"trusted {entry.trusted_at[:16]}"
        else:
            asked = ", ".join(f"{k}={v}" for k, v in entry.pending_detail.items() if v)
            state = f"pending since {entry.pending_since[:16]} ({asked})"
        role = ROLE_NAMES.get(entry.role, "-")
        who = entry.name + (f" #{entry.employee_no}" if entry.employee_no else "")
        click.echo(f"{entry.fingerprint}  {role:<13} {who or '-'}  {state}")
    for problem in ring.problems:
        click.echo(f"warning: {problem}", err=True)


@keys.command(name="trust")
@click.argument("fingerprint")
@click.option("--name", required=True, help="The person's name, shown on every record.")
@click.option("--role", type=click.Choice(["technician", "reviewer", "admin"]), required=True)
@click.option("--employee-no", default="", help="The employee number, for auditors.")
@data_dir_option
@store_option
@click.pass_context
@plain_errors
def trust(
    ctx: click.Context,
    fingerprint: str,
    name: str,
    role: str,
    employee_no: str,
    data_dir: Path | None,
    store: Path | str | None,
) -> None:
    """Vouch for a key that asked (an administrator's command)."""
    from pos_tui.services.identity import trust as trust_key

    entry = trust_key(
        _shared(store), local_folder(ctx, data_dir), fingerprint, name, role, employee_no
    )
    click.echo(f"Trusted {entry.fingerprint} as {ROLE_NAMES[entry.role]} {entry.name}.")


@keys.command(name="revoke")
@click.argument("fingerprint")
@click.option("--reason", required=True, help="Why: it stays in the keyring for auditors.")
@data_dir_option
@store_option
@click.pass_context
@plain_errors
def revoke(
    ctx: click.Context,
    fingerprint: str,
    reason: str,
    data_dir: Path | None,
    store: Path | str | None,
) -> None:
    """Stop trusting a key from now on (a lost laptop); what it signed before stays valid."""
    from pos_tui.services.identity import revoke as revoke_key

    entry = revoke_key(_shared(store), local_folder(ctx, data_dir), fingerprint, reason)
    click.echo(f"Revoked {entry.fingerprint} ({entry.name or 'no name'}) at {entry.revoked_at}.")
