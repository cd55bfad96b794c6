"""Set-up steps for tests: run a domain command on a session, then let the store persist it.

This is the layering the app follows (the domain decides, the store writes), without the
services' worker thread, for tests that only need visits in a given state on disk.
"""

from __future__ import annotations

from pos_tui.domain.evidence import EvidenceRef
from pos_tui.domain.session import Answer, Outcome, Session, SignOff, local_now
from pos_tui.domain.signatures import Signer
from pos_tui.services.intake import take_in_bytes
from pos_tui.store.evidence_files import EvidenceFiles
from pos_tui.store.keys import DEVICE, KeyFile, ensure_key
from pos_tui.store.local import LocalStore


def save_answer(
    store: LocalStore,
    session: Session,
    checklist_id: str,
    item_id: str,
    outcome: Outcome | str,
    note: str = "",
    values: dict[str, str] | None = None,
) -> Answer:
    answer = session.record(checklist_id, item_id, outcome, note, values)
    store.save(session)
    return answer


def save_undo(store: LocalStore, session: Session) -> tuple[str, str] | None:
    key = session.undo()
    store.save(session)
    return key


def save_sign(
    store: LocalStore,
    session: Session,
    technician: str,
    representative: str,
    signer: Signer | None = None,
) -> SignOff:
    signoff = session.sign(technician, representative, signer=signer)
    store.save(session)
    return signoff


def save_attach(
    store: LocalStore,
    session: Session,
    checklist_id: str,
    item_id: str,
    files: list[tuple[str, bytes]],
    source: str = "laptop",
) -> tuple[EvidenceRef, ...]:
    """Take real files in through the one intake (content check, EXIF, kept by hash in the
    store's evidence folder) and attach them to the item."""
    evidence = EvidenceFiles(store.folder)
    refs = [take_in_bytes(evidence, data, name, source, local_now) for name, data in files]
    added = session.attach(checklist_id, item_id, refs)
    store.save(session)
    return added


CHIP_PIN_VALUES = {"reference": "123456789012", "amount": "0.01", "last4": "1234"}
"""What a passed chip-and-PIN test of the fixture card checklist captures."""


def laptop_key(store: LocalStore) -> KeyFile:
    """The store's own device key, made on first use, as the laptop signs with it."""
    return ensure_key(store.folder, DEVICE)[0]


def signed_with_a_failure(store: LocalStore, session: Session) -> Session:
    """A fixture visit signed by its laptop's key, chip and PIN failed, the rest passed."""
    save_answer(store, session, "card", "chip-pin", Outcome.FAIL, "拒绝交易 05")
    save_answer(store, session, "card", "void", Outcome.PASS)
    save_answer(store, session, "receipt", "masked", Outcome.PASS)
    save_sign(store, session, "张伟", "王老板", signer=laptop_key(store))
    return session
