"""A bank's shared store as the tests need one: made with `shared init`, with a trusted
reviewer and trusted laptops, every key a real Ed25519 key in its own machine's folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pos_tui.domain.decisions import record_sha256
from pos_tui.domain.keyring import REVIEWER, TECHNICIAN
from pos_tui.services.identity import init_shared_store, register, register_laptop, trust
from pos_tui.services.review import ReviewServices
from pos_tui.store.keys import DEVICE, KeyFile, ensure_key, key_path, load_key
from pos_tui.store.keys import REVIEWER as REVIEWER_KEY
from pos_tui.store.sources import SharedSource
from pos_tui.store.targets import Target
from tests.helpers.commands import pos_tui


@dataclass
class Bank:
    shared: Target
    """The store: a folder, or a PostgreSQL database's URL (`tests/helpers/kinds.py`)."""
    admin: Path
    """The administrator's machine: its data folder holds the store's admin key."""
    reviewer: Path
    """The supervisor's machine."""
    reviewer_name: str
    laptops: dict[Path, str] = field(default_factory=dict)

    @property
    def reviewer_key(self) -> KeyFile:
        return ensure_key(self.reviewer, REVIEWER_KEY)[0]

    def trust_laptop(self, data_folder: Path, technician: str = "张伟") -> KeyFile:
        """A laptop whose key the administrator has trusted (its data folder may be new)."""
        data_folder.mkdir(parents=True, exist_ok=True)
        register_laptop(self.shared, data_folder, technician, "laptop-1")
        key = ensure_key(data_folder, DEVICE)[0]
        trust(self.shared, self.admin, key.fingerprint, technician, TECHNICIAN)
        self.laptops[data_folder] = technician
        return key

    def decide(self, uuid: str, decision: str, comment: str = "") -> dict[str, Any]:
        """The supervisor decides on a synced visit, as the review screen does: signed."""
        services = self.review_services()
        try:
            services.rows().result()
            return services.decide(uuid, decision, comment).result()
        finally:
            services.close()

    def decide_at(self, uuid: str, decision: str, comment: str, at: str) -> dict[str, Any]:
        """A signed decision with a fixed time, for golden files: straight to the store."""
        source = SharedSource(self.shared, self.reviewer)
        [row] = [row for row in source.rows() if row["uuid"] == uuid]
        body = {
            "uuid": uuid,
            "decision": decision,
            "comment": comment,
            "reviewer": self.reviewer_name,
            "at": at,
            "record_sha256": record_sha256(source.record(row).session),
        }
        return source.store.add_review(body, self.reviewer_key)

    def review_services(self, **options: object) -> ReviewServices:
        return ReviewServices(
            SharedSource(self.shared, self.reviewer),
            self.reviewer_key,
            **options,  # type: ignore[arg-type]
        )


def demo_bank(root: Path, shared: Target | None, visits: int, reviewer_name: str) -> Bank:
    """`open_bank` (its store at `shared`, as there), holding `visits` demo visits of one
    trusted laptop, made as a bank makes them: `pos-tui demo` on the laptop, then
    `pos-tui sync --to`."""
    made = open_bank(root, reviewer_name=reviewer_name, shared=shared)
    data = root / "data"
    env = dict(os.environ, POS_TUI_CONFIG_FILE=str(root / "settings.json"))
    pos_tui("demo", "--sessions", str(visits), "--data-dir", str(data), env=env)
    pos_tui("sync", "--data-dir", str(data), "--to", str(made.shared), env=env)
    made.trust_laptop(data)
    return made


def fixed_key(folder: Path, role: str, seed: int) -> KeyFile:
    """A key from a fixed seed: its fingerprint and signatures are the same every run, for
    golden files (Ed25519 signing is deterministic)."""
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    path = key_path(folder, role)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    os.chmod(path, 0o600)
    found = load_key(folder, role)
    assert found is not None
    return found


def open_bank(root: Path, reviewer_name: str = "王主管", shared: Target | None = None) -> Bank:
    """A new shared store at `shared` (default root/shared; a URL: a database with no
    schema yet, as `pg_url` gives), its reviewer trusted."""
    bank = Bank(
        shared or root / "shared", root / "admin-machine", root / "reviewer-machine", reviewer_name
    )
    init_shared_store(bank.shared, bank.admin, "系统管理员")
    key = bank.reviewer_key
    register(bank.shared, bank.reviewer, key, {"role": "reviewer", "name": reviewer_name})
    trust(bank.shared, bank.admin, key.fingerprint, reviewer_name, REVIEWER)
    return bank
