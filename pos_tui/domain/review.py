"""The rules of a review decision: which decisions exist, which need a comment, who may decide.

The review screen, the command line and (later) the shared store's own checks all ask here,
so that a decision refused on one path is refused on every path.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from pos_tui.domain.checklist import Text
from pos_tui.domain.decisions import ITEMS
from pos_tui.domain.integrity import ALTERED, UNKNOWN_SIGNER, UNREADABLE, Integrity
from pos_tui.domain.redact import guard_text
from pos_tui.domain.review_filter import APPROVED, DECISIONS, NEEDS_COMMENT
from pos_tui.domain.session import VisitError

COMMENT_REQUIRED = Text(
    "「有问题」和「驳回」须填写意见，说明要技术员做什么。",
    "A comment is required for 'has issues' and 'reject': say what needs doing.",
)
NO_REVIEWER = Text(
    "本机的审核人密钥未获共享库信任，不能作出审核结论：请管理员信任此密钥。",
    "This machine's reviewer key is not trusted by the shared store, so it cannot decide:"
    " ask the administrator to trust it (pos-tui keys trust).",
)
APPROVE_FAILURES_NEEDS_COMMENT = Text(
    "此访问有不通过的项目：批准时须填写意见，说明为何仍可接受。",
    "This visit has failed items: approving it needs a comment saying why it is acceptable.",
)
UNSIGNED_NEEDS_COMMENT = Text(
    "此记录签署于启用签名之前：批准时须填写意见，说明如何核实。",
    "This record was signed before signatures existed: approving it needs a comment saying"
    " how it was checked.",
)


def _cannot_approve(state: str, reasons: str) -> Text:
    said = {
        ALTERED: Text("记录签署后被改动", "the record was altered after it was signed"),
        UNKNOWN_SIGNER: Text("记录来自未验证的设备", "the record comes from an unverified device"),
        UNREADABLE: Text("记录无法读取", "the record cannot be read"),
    }[state]
    return Text(
        f"不能批准：{said.zh}（{reasons}）。可选「有问题」或「驳回」。",
        f"Cannot approve: {said.en} ({reasons}). Choose 'has issues' or 'reject'.",
    )


def _not_in_visit(keys: Iterable[tuple[str, str]]) -> Text:
    named = ", ".join(f"{checklist_id}/{item_id}" for checklist_id, item_id in keys)
    return Text(f"所选项目不属于此访问：{named}", f"these items are not part of the visit: {named}")


def _unknown_decision(decision: str) -> Text:
    return Text(f"未知的审核结论：{decision}", f"unknown review decision: {decision}")


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """A decision that has passed the rules, its words already through the card guard."""

    uuid: str
    decision: str
    comment: str
    reviewer: str
    items: tuple[tuple[str, str], ...] = ()
    """The items the decision points the technician at, in the visit's order."""

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "uuid": self.uuid,
            "decision": self.decision,
            "comment": self.comment,
            "reviewer": self.reviewer,
        }
        # Only when some are named: a decision without items keeps the bytes (and so the
        # signature) decisions had before items existed.
        if self.items:
            body[ITEMS] = [list(key) for key in self.items]
        return body


def decision_request(
    uuid: str,
    decision: str,
    comment: str,
    reviewer: str,
    record: Integrity | None = None,
    failures: int = 0,
    items: Iterable[tuple[str, str]] = (),
    visit_items: Collection[tuple[str, str]] | None = None,
) -> DecisionRequest:
    """Raises VisitError (or CardDataError, for track data in the comment) when refused.

    `reviewer` is the name the keyring gives this machine's reviewer key ("" when it
    does not trust it); `record` the integrity of the record decided on, `failures` how
    many of its items failed. `items`: the (checklist_id, item_id) pairs the decision
    names; `visit_items`, the visit's own, which they must be among (None: not known yet,
    as before the record is read: checked again once it is)."""
    comment, reviewer = comment.strip(), reviewer.strip()
    if decision not in DECISIONS:
        raise VisitError(_unknown_decision(decision))
    if decision in NEEDS_COMMENT and not comment:
        raise VisitError(COMMENT_REQUIRED)
    if not reviewer:
        raise VisitError(NO_REVIEWER)
    if decision == APPROVED and record is not None:
        if record.state in (ALTERED, UNKNOWN_SIGNER, UNREADABLE):
            raise VisitError(_cannot_approve(record.state, ", ".join(record.reasons)))
        if not record.trusted and not comment:
            raise VisitError(UNSIGNED_NEEDS_COMMENT)
    if decision == APPROVED and failures and not comment:
        raise VisitError(APPROVE_FAILURES_NEEDS_COMMENT)
    named = tuple(dict.fromkeys((str(c), str(i)) for c, i in items))  # once each, in order
    if visit_items is not None:
        strangers = [key for key in named if key not in visit_items]
        if strangers:
            # The laptop would point the technician at an item its visit does not have.
            raise VisitError(_not_in_visit(strangers))
    return DecisionRequest(uuid, decision, guard_text(comment), guard_text(reviewer), named)


def needs_comment(decision: str) -> bool:
    return decision in NEEDS_COMMENT
