"""How far a visit has got, and what its answers add up to.

The verdict rule, in order:
1. `incomplete` while any required item that applies to the terminal is unanswered;
2. `fail` when any critical or major item failed;
3. `pass_with_remarks` when only minor items failed;
4. `pass` otherwise.
Optional items and items that do not apply to the terminal never make a visit incomplete.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pos_tui.domain.checklist import Severity, Text


class Verdict(StrEnum):
    PASS = "pass"
    PASS_WITH_REMARKS = "pass_with_remarks"
    FAIL = "fail"
    INCOMPLETE = "incomplete"


VERDICT_NAMES: dict[str, Text] = {
    Verdict.PASS: Text("通过", "Pass"),
    Verdict.PASS_WITH_REMARKS: Text("有备注通过", "Pass with remarks"),
    Verdict.FAIL: Text("不通过", "Fail"),
    Verdict.INCOMPLETE: Text("未完成", "Incomplete"),
}


@dataclass(frozen=True, slots=True)
class Progress:
    answered: int
    applicable: int

    @property
    def done(self) -> bool:
        return self.answered >= self.applicable

    @property
    def fraction(self) -> float:
        return 1.0 if self.applicable == 0 else self.answered / self.applicable

    def __str__(self) -> str:
        return f"{self.answered}/{self.applicable}"


def verdict_of(missing_required: bool, failed_severities: Iterable[Severity]) -> Verdict:
    if missing_required:
        return Verdict.INCOMPLETE
    severities = set(failed_severities)
    if severities & {Severity.CRITICAL, Severity.MAJOR}:
        return Verdict.FAIL
    if severities:
        return Verdict.PASS_WITH_REMARKS
    return Verdict.PASS
