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
