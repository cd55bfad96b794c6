"""A bank's shared store as the tests need one: made with `shared init`, with a trusted
reviewer and trusted laptops, every key a real Ed25519 key in its own machine's folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pos_tui.domain.keyring import REVIEWER, TECHNICIAN
from pos_tui.services.identity import init_shared_store, register, register_laptop, trust
from pos_tui.services.review import ReviewServices
from pos_tui.store.keys import DEVICE, REVIEWER as REVIEWER_KEY, KeyFile, ensure_key
from pos_tui.store.sources import SharedSource


@dataclass
class Bank:
    shared: Path
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

    def review_services(self, **options: object) -> ReviewServices:
        return ReviewServices(
            SharedSource(self.shared, self.reviewer),
            self.reviewer_key,
            **options,  # type: ignore[arg-type]
        )


def open_bank(root: Path, reviewer_name: str = "王主管", shared: Path | None = None) -> Bank:
    """A new shared store at `shared` (default root/shared), its reviewer trusted."""
    bank = Bank(
        shared or root / "shared", root / "admin-machine", root / "reviewer-machine", reviewer_name
    )
    init_shared_store(bank.shared, bank.admin, "系统管理员")
    key = bank.reviewer_key
    register(bank.shared, bank.reviewer, key, {"role": "reviewer", "name": reviewer_name})
    trust(bank.shared, bank.admin, key.fingerprint, reviewer_name, REVIEWER)
    return bank
