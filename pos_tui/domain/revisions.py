"""What changed between two revisions of a visit: the supervisor's diff of an amendment.

Pure: two sessions in, a list of differences out, in visit order. Compared are what a
record vouches for: the visit details, each item's outcome, note and captured values, its
evidence files (by hash), and the sign-off.
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_tui.domain.checklist import Text
from pos_tui.domain.session import Session

DETAIL = "detail"
OUTCOME = "outcome"
NOTE = "note"
VALUE = "value"
EVIDENCE_ADDED = "evidence_added"
EVIDENCE_REMOVED = "evidence_removed"
SIGNOFF = "signoff"

KIND_NAMES: dict[str, Text] = {
    DETAIL: Text("访问信息", "Visit detail"),
    OUTCOME: Text("结果", "Outcome"),
    NOTE: Text("备注", "Note"),
    VALUE: Text("记录值", "Value"),
    EVIDENCE_ADDED: Text("新增附件", "File added"),
    EVIDENCE_REMOVED: Text("移除附件", "File removed"),
    SIGNOFF: Text("签署", "Sign-off"),
}


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str
    where: str
    """The detail's name, or `checklist/item` (and `/field` for a value)."""
    before: str
    after: str


def differences(before: Session, after: Session) -> list[Difference]:
    found = _details(before, after)
    order = [(c.id, i.id) for c, i in after.all_items()]
    order += [(c.id, i.id) for c, i in before.all_items() if (c.id, i.id) not in order]
    for key in order:
        found += _item(before, after, key)
    found += _signoff(before, after)
    return found


def _details(before: Session, after: Session) -> list[Difference]:
    old, new = before.info.to_dict(), after.info.to_dict()
    return [
        Difference(DETAIL, name, _shown(old.get(name)), _shown(new.get(name)))
        for name in new
        if old.get(name) != new.get(name)
    ]


def _shown(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(part) for part in value)
    return "" if value is None else str(value)


def _item(before: Session, after: Session, key: tuple[str, str]) -> list[Difference]:
    where = f"{key[0]}/{key[1]}"
    old, new = before.answers.get(key), after.answers.get(key)
    found: list[Difference] = []
    old_outcome = "" if old is None else str(old.outcome)
    new_outcome = "" if new is None else str(new.outcome)
    if old_outcome != new_outcome:
        found.append(Difference(OUTCOME, where, old_outcome, new_outcome))
    old_note, new_note = (old.note if old else ""), (new.note if new else "")
    if old_note != new_note:
        found.append(Difference(NOTE, where, old_note, new_note))
    old_values, new_values = (old.values if old else {}), (new.values if new else {})
    for name in sorted(set(old_values) | set(new_values)):
        if old_values.get(name, "") != new_values.get(name, ""):
            found.append(
                Difference(
                    VALUE, f"{where}/{name}", old_values.get(name, ""), new_values.get(name, "")
                )
            )
    old_files = {ref.sha256: ref for ref in before.evidence_of(*key)}
    new_files = {ref.sha256: ref for ref in after.evidence_of(*key)}
    found += [
        Difference(EVIDENCE_ADDED, where, "", f"{ref.name} ({sha[:12]})")
        for sha, ref in new_files.items()
        if sha not in old_files
    ]
    found += [
        Difference(EVIDENCE_REMOVED, where, f"{ref.name} ({sha[:12]})", "")
        for sha, ref in old_files.items()
        if sha not in new_files
    ]
    return found


def _signoff(before: Session, after: Session) -> list[Difference]:
    def said(session: Session) -> str:
        signoff = session.signoff
        if signoff is None:
            return ""
        carried = " (carried)" if signoff.carried else ""
        return f"{signoff.technician} / {signoff.merchant_representative}{carried}"

    old, new = said(before), said(after)
    return [] if old == new else [Difference(SIGNOFF, "", old, new)]


__all__ = ["KIND_NAMES", "Difference", "differences"]
