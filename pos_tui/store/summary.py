"""One row per visit in the index: what lists and filters need without opening the visit."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any

from pos_tui.domain.session import Outcome, Status
from pos_tui.store.schema import summary_row

FINISHED = frozenset({str(Status.SIGNED), str(Status.SYNCED), str(Status.REVIEWED)})
"""The states of a visit that has a signed record to sync: never a draft (an amendment under
way included) and never a discarded one, which stays on the laptop."""


def finished(status: str) -> bool:
    """The one test of whether sync may send, settle or decide on a visit in `status`."""
    return status in FINISHED


@dataclass(frozen=True, slots=True)
class VisitSummary:
    uuid: str
    status: str
    verdict: str
    created_at: str
    updated_at: str
    merchant_name: str
    merchant_number: str
    terminal_number: str
    technician: str
    device_id: str
    job_type: str
    answered: int
    failures: int
    revision: int
    content_sha256: str | None
    checklist_ids: tuple[str, ...] = ()
    failed_items: tuple[str, ...] = ()
    """`checklist_id/item_id` of each failed item: statistics need no visit file opened."""
    review_decision: str = ""
    review_comment: str = ""
    review_items: tuple[str, ...] = ()
    """`checklist_id/item_id` of each item the latest decision points at."""
    amendment: int = 0
    """Which amendment this revision is (or is being): 0 for a visit never amended."""
    follow_up_of: str = ""
    """The uuid of the visit this one follows up."""
    order_number: str = ""
    """The work order the visit was started from (`VisitInfo.work_order`): orders derive
    their state from the visits that carry their number, and read it here."""

    def to_row(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every value, and sync builds thousands.
        row = {name: getattr(self, name) for name in _FIELD_NAMES}
        row["checklist_ids"] = list(self.checklist_ids)
        row["failed_items"] = list(self.failed_items)
        row["review_items"] = list(self.review_items)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any], where: str = "the index row") -> VisitSummary:
        """ShapeError (a ValueError) for a row pos-tui did not write: the index is a file."""
        # Called for every visit in a list: no dataclasses.fields() here, it is slow, and
        # the values by position, which is faster than by name.
        summary_row(row, where)
        values = list(map(row.get, _FIELD_NAMES, _DEFAULTS))
        for at in _TUPLES_AT:
            values[at] = tuple(values[at])
        return cls(*values)


_FIELD_NAMES = tuple(f.name for f in fields(VisitSummary))
# summary_row has made sure every field without a default is there.
_DEFAULTS = tuple(
    "" if name == "device_id" else None if f.default is MISSING else f.default
    for name, f in zip(_FIELD_NAMES, fields(VisitSummary), strict=True)
)
_TUPLES_AT = tuple(
    _FIELD_NAMES.index(name) for name in ("checklist_ids", "failed_items", "review_items")
)


def summarize(visit: dict[str, Any]) -> VisitSummary:
    """From a stored visit record (`Session.to_dict()`)."""
    info = visit["info"]
    answers = visit.get("answers", [])
    times = [answer["at"] for answer in answers]
    signoff = visit.get("signoff") or {}
    if signoff.get("at"):
        times.append(signoff["at"])
    return VisitSummary(
        uuid=visit["uuid"],
        status=visit["status"],
        verdict=visit.get("verdict", ""),
        created_at=visit["created_at"],
        updated_at=max(times, default=visit["created_at"]),
        merchant_name=info.get("merchant_name", ""),
        merchant_number=info.get("merchant_number", ""),
        terminal_number=info.get("terminal_number", ""),
        technician=info.get("technician", ""),
        device_id=info.get("device_id", ""),
        job_type=info.get("job_type", ""),
        answered=len(answers),
        failures=sum(1 for answer in answers if answer["outcome"] == Outcome.FAIL),
        revision=int(visit.get("revision", 0)),
        content_sha256=visit.get("content_sha256"),
        checklist_ids=tuple(ref["id"] for ref in visit.get("checklists", [])),
        review_decision=(visit.get("review") or {}).get("decision", ""),
        review_comment=(visit.get("review") or {}).get("comment", ""),
        review_items=_item_names((visit.get("review") or {}).get("items", ())),
        amendment=int((visit.get("corrects") or {}).get("number", 0)),
        follow_up_of=str((visit.get("follow_up") or {}).get("of_uuid", "")),
        order_number=str(info.get("work_order", "")),
        failed_items=tuple(
            f"{answer['checklist_id']}/{answer['item_id']}"
            for answer in answers
            if answer["outcome"] == Outcome.FAIL
        ),
    )


def _item_names(items: Any) -> tuple[str, ...]:
    # A decision's items come from the shared store: only well-formed pairs are named.
    if not isinstance(items, list):
        return ()
    return tuple(
        f"{pair[0]}/{pair[1]}"
        for pair in items
        if isinstance(pair, list | tuple)
        and len(pair) == 2
        and all(isinstance(p, str) for p in pair)
    )
