"""The rules of a review decision: which decisions exist, which need a comment, who may decide.

The review screen, the command line and (later) the shared store's own checks all ask here,
so that a decision refused on one path is refused on every path.
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_tui.domain.checklist import Text
from pos_tui.domain.redact import guard_text
from pos_tui.domain.review_filter import DECISIONS, NEEDS_COMMENT
from pos_tui.domain.session import VisitError

COMMENT_REQUIRED = Text(
    "「有问题」和「驳回」须填写意见，说明要技术员做什么。",
    "A comment is required for 'has issues' and 'reject': say what needs doing.",
)
NO_REVIEWER = Text("未设置审核人姓名。", "No reviewer name is set.")


def _unknown_decision(decision: str) -> Text:
    return Text(f"未知的审核结论：{decision}", f"unknown review decision: {decision}")


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """A decision that has passed the rules, its words already through the card guard."""

    uuid: str
    decision: str
    comment: str
    reviewer: str

    def to_dict(self) -> dict[str, str]:
        return {
            "uuid": self.uuid,
            "decision": self.decision,
            "comment": self.comment,
            "reviewer": self.reviewer,
        }


def decision_request(uuid: str, decision: str, comment: str, reviewer: str) -> DecisionRequest:
    """Raises VisitError (or CardDataError, for track data in the comment) when refused."""
    comment, reviewer = comment.strip(), reviewer.strip()
    if decision not in DECISIONS:
        raise VisitError(_unknown_decision(decision))
    if decision in NEEDS_COMMENT and not comment:
        raise VisitError(COMMENT_REQUIRED)
    if not reviewer:
        raise VisitError(NO_REVIEWER)
    return DecisionRequest(uuid, decision, guard_text(comment), guard_text(reviewer))


def needs_comment(decision: str) -> bool:
    return decision in NEEDS_COMMENT
