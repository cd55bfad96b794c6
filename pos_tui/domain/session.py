"""A visit: the answers a technician records against the checklists, and its rules.

Pure: the store persists what this produces (`to_dict`) and rebuilds it (`from_dict`); the
UI only calls the methods below. Every change bumps `revision` and appends an `Event`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pos_tui.domain import answer_checks
from pos_tui.domain.checklist import Checklist, Item, Severity, Text
from pos_tui.domain.evidence import EvidenceRef, accepts, needs_more, over_limit
from pos_tui.domain.progress import Progress, Verdict, verdict_of
from pos_tui.domain.redact import guard_text
from pos_tui.domain.signatures import (
    Signature,
    SignatureError,
    Signer,
    canonical,
    sha256_hex,
    sign,
)
from pos_tui.domain.visit_info import VisitInfo

Clock = Callable[[], datetime]
T = TypeVar("T")

REPRESENTATIVE_FIELD = "representative-name"
"""A checklist field with this id names the merchant's representative: its latest answer
fills the sign-off, so the name is not typed twice."""


def local_now() -> datetime:
    return datetime.now().astimezone()


def timestamp(clock: Clock) -> str:
    return clock().isoformat(timespec="seconds")


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NA = "na"


class Status(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    SYNCED = "synced"
    REVIEWED = "reviewed"
    DISCARDED = "discarded"
    """A draft given up, with its reason: kept on disk (nothing is deleted), never synced."""


class VisitError(ValueError):
    """A change the rules do not allow; `text` is the sentence to show, in both languages."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.en)
        self.text = text


@dataclass(frozen=True, slots=True)
class ChecklistRef:
    id: str
    version: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Answer:
    checklist_id: str
    item_id: str
    outcome: Outcome
    note: str
    values: dict[str, str]
    at: str
    revision: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.checklist_id, self.item_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checklist_id": self.checklist_id,
            "item_id": self.item_id,
            "outcome": str(self.outcome),
            "note": self.note,
            "values": dict(self.values),
            "at": self.at,
            "revision": self.revision,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        return cls(
            checklist_id=data["checklist_id"],
            item_id=data["item_id"],
            outcome=Outcome(data["outcome"]),
            note=data.get("note", ""),
            values=dict(data.get("values", {})),
            at=data["at"],
            revision=int(data.get("revision", 1)),
        )


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the append-only log: what happened, when, by whom."""

    at: str
    who: str
    what: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "who": self.who, "what": self.what, "detail": dict(self.detail)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(data["at"], data.get("who", ""), data["what"], dict(data.get("detail", {})))


@dataclass(frozen=True, slots=True)
class SignOff:
    technician: str
    merchant_representative: str
    at: str
    carried: bool = False
    """The merchant did not sign this revision again: an amendment that changed nothing of
    what they accepted (see `Session.sign`) carries their earlier signature's name."""


@dataclass(frozen=True, slots=True)
class Correction:
    """What an amendment corrects: the signed revision it replaces, named by its content
    hash, and why. Part of the amended revision's content, so its signature covers the link
    to the revision before it, and that revision stays as it was signed."""

    content_sha256: str
    reason: str
    at: str
    who: str
    number: int
    """1 for the first amendment of a visit, 2 for the next…"""
    merchant_part_sha256: str
    """The hash of what the merchant accepted in the corrected revision (`merchant_part`)."""
    representative: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "content_sha256": self.content_sha256,
            "reason": self.reason,
            "at": self.at,
            "who": self.who,
            "number": self.number,
            "merchant_part_sha256": self.merchant_part_sha256,
            "representative": self.representative,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Correction:
        return cls(
            str(data["content_sha256"]),
            str(data.get("reason", "")),
            str(data.get("at", "")),
            str(data.get("who", "")),
            int(data.get("number", 1)),
            str(data.get("merchant_part_sha256", "")),
            str(data.get("representative", "")),
        )


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A visit that re-runs only some items of an earlier one (its failures, and any the
    supervisor named), linked to the record it follows up."""

    of_uuid: str
    of_content_sha256: str
    items: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "of_uuid": self.of_uuid,
            "of_content_sha256": self.of_content_sha256,
            "items": [list(key) for key in self.items],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FollowUp:
        return cls(
            str(data["of_uuid"]),
            str(data.get("of_content_sha256", "")),
            tuple((str(key[0]), str(key[1])) for key in data.get("items", [])),
        )


FIXED_DETAILS = frozenset({"job_type", "capabilities", "technician", "device_id", "language"})
"""Details that decide which checks a visit has, or who made it: a visit with other ones is
another visit, not a correction of this one."""


class Session:
    """One visit. Build with `start` or `from_dict`.

    A session that another thread may be reading is never changed: commands run on a
    `copy()` (see `changed`), so the writer thread and the screen never share a moving object.
    """

    def __init__(
        self,
        uuid: str,
        info: VisitInfo,
        checklists: list[Checklist],
        created_at: str,
        clock: Clock = local_now,
    ) -> None:
        self.uuid = uuid
        self.info = info
        self.checklists = checklists
        self.created_at = created_at
        self.clock = clock
        self.status = Status.DRAFT
        self.revision = 0
        self.answers: dict[tuple[str, str], Answer] = {}
        self.evidence: dict[tuple[str, str], tuple[EvidenceRef, ...]] = {}
        """The files attached to each item, in the order they came; apart from the answer,
        since a photo is usually taken before the technician decides pass or fail."""
        self.events: list[Event] = []
        self.signoff: SignOff | None = None
        self.content_sha256: str | None = None
        self.review: dict[str, Any] | None = None
        self.position: tuple[str, str] | None = None
        self.signature: Signature | None = None
        """The laptop key's signature over `signed_payload()`; None for records signed
        before keys existed."""
        self.corrects: Correction | None = None
        """Set on an amendment: the signed revision it corrects."""
        self.follow_up: FollowUp | None = None
        """Set on a follow-up visit: the visit it follows up, and the only items it runs."""
        # Each entry is the answer an item had before the change, to put back on undo.
        self._undo: list[tuple[tuple[str, str], Answer | None]] = []
        # What `applies` asks of the visit, worked out once per `info` (it is asked for
        # every line of every list drawn).
        self._context: tuple[VisitInfo, frozenset[str], str, frozenset[str]] | None = None

    # -- starting ------------------------------------------------------------------

    @classmethod
    def start(
        cls, info: VisitInfo, checklists: Iterable[Checklist], clock: Clock = local_now
    ) -> Session:
        info = info.trimmed()
        problems = info.problems()
        if problems:
            fields_text = ", ".join(f"{name}: {text.en}" for name, text in problems.items())
            raise VisitError(
                Text(f"访问信息有误：{fields_text}", f"the visit details are wrong: {fields_text}")
            )
        # Every field, not a list to keep up to date; `info` too, as the event log names the
        # technician.
        info = guarded = info.guarded().completed()
        # A checklist for another kind of job (a relocation's) is not part of this visit.
        filled = info.filled()
        chosen = [
            checklist
            for checklist in checklists
            if checklist.when.holds(info.capabilities, info.job_type, filled)
        ]
        if not chosen:
            raise VisitError(Text("至少选择一份检查表", "choose at least one checklist"))
        # Imported here, not at the top: uuid costs 12 ms of the app's start-up.
        import uuid

        session = cls(str(uuid.uuid4()), guarded, chosen, timestamp(clock), clock)
        session._log(info.technician, "created", {"checklists": [c.id for c in chosen]})
        return session

    @classmethod
    def start_follow_up(
        cls,
        original: Session,
        technician: str,
        device_id: str = "",
        named: Iterable[tuple[str, str]] = (),
        clock: Clock = local_now,
    ) -> Session:
        """A visit that re-runs the failed items of `original` (and any the supervisor
        `named`) on the same checklists, with the merchant's and terminal's details carried
        over, linked to the record it follows up."""
        if original.signoff is None or original.content_sha256 is None:
            raise VisitError(
                Text("只能对已签署的访问安排复查", "only a signed visit can be followed up")
            )
        failed = [(c.id, i.id) for c, i, _a in original.failures()]
        known = {(c.id, i.id) for c, i in original.all_items()}
        extra = [key for key in named if key in known and key not in failed]
        items = tuple(failed + extra)
        if not items:
            raise VisitError(
                Text("此访问没有需要复查的项", "this visit has no failed or named items to re-run")
            )
        info = VisitInfo.from_dict(
            original.info.to_dict() | {"technician": technician, "device_id": device_id}
        )
        wanted = {checklist_id for checklist_id, _item in items}
        checklists = [c for c in original.checklists if c.id in wanted]
        session = cls.start(info, checklists, clock)
        session.follow_up = FollowUp(original.uuid, original.content_sha256, items)
        session._log(
            info.technician,
            "follow_up",
            {"of_uuid": original.uuid, "items": [list(key) for key in items]},
        )
        return session

    def copy(self) -> Session:
        """An independent session in the same state; answers and events are immutable."""
        twin = Session(self.uuid, self.info, list(self.checklists), self.created_at, self.clock)
        twin.status = self.status
        twin.revision = self.revision
        twin.answers = dict(self.answers)
        twin.evidence = dict(self.evidence)
        twin.events = list(self.events)
        twin.signoff = self.signoff
        twin.content_sha256 = self.content_sha256
        twin.review = None if self.review is None else dict(self.review)
        twin.position = self.position
        twin.signature = self.signature
        twin.corrects = self.corrects
        twin.follow_up = self.follow_up
        twin._undo = list(self._undo)
        return twin

    def changed(self, command: Callable[[Session], T]) -> Change[T]:
        """Run `command` on a copy: this session stays as it was, whatever the command does."""
        after = self.copy()
        return Change(after, command(after))

    @property
    def refs(self) -> list[ChecklistRef]:
        return [ChecklistRef(c.id, c.version, c.sha256) for c in self.checklists]

    # -- looking up ----------------------------------------------------------------

    def checklist(self, checklist_id: str) -> Checklist:
        for checklist in self.checklists:
            if checklist.id == checklist_id:
                return checklist
        raise VisitError(
            Text(f"此访问没有检查表 {checklist_id}", f"no checklist {checklist_id} in this visit")
        )

    def item(self, checklist_id: str, item_id: str) -> Item:
        try:
            return self.checklist(checklist_id).item(item_id)
        except KeyError:
            raise VisitError(
                Text(f"没有检查项 {item_id}", f"no item {item_id} in {checklist_id}")
            ) from None

    def applies(self, item: Item) -> bool:
        info = self.info
        if self._context is None or self._context[0] is not info:
            self._context = (info, frozenset(info.capabilities), info.job_type, info.filled())
        _info, capabilities, job_type, filled = self._context
        if self.follow_up is not None and not self._followed_up(item):
            return False
        return item.when.holds(capabilities, job_type, filled)

    def _followed_up(self, item: Item) -> bool:
        assert self.follow_up is not None
        keys = self.follow_up.items
        # By identity: two checklists may each have an item with one id.
        return any(
            checked is item and (checklist.id, item.id) in keys
            for checklist in self.checklists
            for checked in checklist.items
        )

    @property
    def arrived_at(self) -> str:
        """When the technician arrived: the visit's start, recorded then, never typed."""
        return self.created_at

    @property
    def departed_at(self) -> str | None:
        """When the technician left: the sign-off's time, recorded then, never typed."""
        return None if self.signoff is None else self.signoff.at

    def representative_named(self) -> str:
        """The merchant's representative as an answer recorded them (see
        `REPRESENTATIVE_FIELD`), to offer at sign-off; "" when none did."""
        named = ""
        for checklist, item in self.all_items():
            answer = self.answers.get((checklist.id, item.id))
            if answer is not None and answer.outcome is not Outcome.NA:
                named = answer.values.get(REPRESENTATIVE_FIELD, named)
        return named

    def answer(self, checklist_id: str, item_id: str) -> Answer | None:
        return self.answers.get((checklist_id, item_id))

    def all_items(self) -> list[tuple[Checklist, Item]]:
        return [(checklist, item) for checklist in self.checklists for item in checklist.items]

    def next_unanswered(self, after: tuple[str, str] | None = None) -> tuple[str, str] | None:
        """The next applicable unanswered item after `after`, wrapping round; None when done."""
        keys = [(c.id, i.id) for c, i in self.all_items() if self.applies(i)]
        start = keys.index(after) + 1 if after in keys else 0
        for key in keys[start:] + keys[:start]:
            if key not in self.answers:
                return key
        return None

    # -- changing ------------------------------------------------------------------

    @property
    def editable(self) -> bool:
        return self.status is Status.DRAFT

    def _require_draft(self) -> None:
        if self.status is Status.DISCARDED:
            raise VisitError(Text("已丢弃的访问不能修改", "a discarded visit can no longer change"))
        if not self.editable:
            raise VisitError(
                Text(
                    "已签署的访问不能直接修改：请先更正（说明原因）",
                    "a signed visit does not change as it is: amend it first, with a reason",
                )
            )

    @property
    def amending(self) -> bool:
        """An amendment under way: a signed visit reopened, not signed again yet."""
        return self.corrects is not None and self.status is Status.DRAFT

    def discard(self, who: str, reason: str) -> None:
        """Give up a draft: it leaves the lists, stays on disk with its reason, never syncs."""
        if self.status is Status.DISCARDED:
            raise VisitError(Text("此访问已丢弃", "this visit is discarded already"))
        if not self.editable or self.corrects is not None:
            raise VisitError(
                Text(
                    "已签署的访问不能丢弃，只能更正",
                    "a signed visit cannot be discarded, only amended",
                )
            )
        reason = guard_text(reason.strip())
        if not reason:
            raise VisitError(Text("丢弃须说明原因", "discarding a draft needs a reason"))
        self.status = Status.DISCARDED
        self._undo.clear()
        self._log(who, "discarded", {"reason": reason})

    def amend(self, who: str, reason: str) -> Correction:
        """Reopen a signed visit to correct it. The signed revision stays as it was (the
        stores keep it); this becomes a new revision that names it, and is signed again."""
        if self.status is Status.DRAFT or self.status is Status.DISCARDED:
            raise VisitError(Text("只有已签署的访问可以更正", "only a signed visit can be amended"))
        if self.signoff is None or self.content_sha256 is None:
            raise VisitError(Text("此访问没有签署记录", "this visit has no sign-off to amend"))
        reason = guard_text(reason.strip())
        if not reason:
            raise VisitError(Text("更正须说明原因", "an amendment needs its reason"))
        correction = Correction(
            content_sha256=self.content_sha256,
            reason=reason,
            at=timestamp(self.clock),
            who=guard_text(who),
            number=1 if self.corrects is None else self.corrects.number + 1,
            merchant_part_sha256=self.merchant_part_hash(),
            representative=self.signoff.merchant_representative,
        )
        self._log(who, "amending", {"reason": reason, "corrects": self.content_sha256})
        self.corrects = correction
        self.status = Status.DRAFT
        self.signoff = None
        self.content_sha256 = None
        self.signature = None
        self._undo.clear()
        return correction

    def merchant_part_hash(self) -> str:
        """What the merchant accepts by signing: the visit's details and every outcome. An
        amendment that leaves it alone (a note, a captured value, a photo) needs only the
        technician's signature again (docs/decisions.md)."""
        outcomes = {f"{c}/{i}": str(a.outcome) for (c, i), a in sorted(self.answers.items())}
        return sha256_hex(canonical({"info": self.info.to_dict(), "outcomes": outcomes}))

    @property
    def merchant_must_sign(self) -> bool:
        return (
            self.corrects is None or self.corrects.merchant_part_sha256 != self.merchant_part_hash()
        )

    def change_details(self, who: str, changes: dict[str, str]) -> dict[str, tuple[str, str]]:
        """Correct visit details (a mistyped merchant number); the changes, old and new."""
        self._require_draft()
        fixed = sorted(set(changes) & FIXED_DETAILS)
        if fixed:
            names = ", ".join(fixed)
            raise VisitError(
                Text(
                    f"{names} 决定了检查内容，不能更改：请开始新的访问",
                    f"{names} decide what is checked and cannot change: start a new visit",
                )
            )
        current = self.info.to_dict()
        unknown = sorted(set(changes) - set(current))
        if unknown:
            names = ", ".join(unknown)
            raise VisitError(Text(f"未知的访问信息：{names}", f"unknown visit details: {names}"))
        info = VisitInfo.from_dict(current | changes).trimmed()
        problems = info.problems()
        if problems:
            said = ", ".join(f"{name}: {text.en}" for name, text in problems.items())
            said_zh = "，".join(f"{name}：{text.zh}" for name, text in problems.items())
            raise VisitError(
                Text(f"访问信息有误：{said_zh}", f"the visit details are wrong: {said}")
            )
        info = info.guarded().completed()
        before, after = self.info.to_dict(), info.to_dict()
        changed = {
            name: (str(before.get(name, "")), str(after[name]))
            for name in after
            if after[name] != before.get(name)
        }
        if changed:
            self.info = info
            self._log(who, "details_changed", {"changes": {k: list(v) for k, v in changed.items()}})
        return changed

    def record_position(
        self,
        who: str,
        latitude: float,
        longitude: float,
        accuracy_m: float,
        at: str,
        source: str,
    ) -> bool:
        """The visit's position as a device measured it (the phone's GPS), kept only when
        the visit has none yet: a position typed on the form, or shared first, is never
        replaced by a later one. True when it was recorded."""
        self._require_draft()
        if self.info.latitude or self.info.longitude:
            return False
        changes = {
            "latitude": f"{latitude:.6f}",
            "longitude": f"{longitude:.6f}",
            "accuracy_m": f"{max(accuracy_m, 0.0):.0f}",
        }
        info = VisitInfo.from_dict(self.info.to_dict() | changes)
        problems = {name: text for name, text in info.problems().items() if name in changes}
        if problems:
            said = ", ".join(f"{name}: {text.en}" for name, text in problems.items())
            said_zh = "，".join(f"{name}：{text.zh}" for name, text in problems.items())
            raise VisitError(Text(f"位置有误：{said_zh}", f"the position is wrong: {said}"))
        self.info = info
        # When it was measured and by what: the phone's own clock, kept beside the event's.
        detail = changes | {"measured_at": guard_text(at), "source": guard_text(source)}
        self._log(who, "position_recorded", detail)
        return True

    def record(
        self,
        checklist_id: str,
        item_id: str,
        outcome: Outcome | str,
        note: str = "",
        values: dict[str, str] | None = None,
    ) -> Answer:
        self._require_draft()
        if outcome not in set(Outcome):
            raise VisitError(Text(f"未知结果：{outcome}", f"unknown outcome: {outcome}"))
        outcome = Outcome(outcome)
        item = self.item(checklist_id, item_id)
        if not self.applies(item):
            raise VisitError(Text("此终端不适用该项", "this item does not apply to this terminal"))
        note = guard_text(note.strip())
        if outcome is Outcome.FAIL and not note:
            raise VisitError(Text("不通过须填写说明", "a failed item needs a note"))
        if outcome is Outcome.NA and item.na_needs_reason and not note:
            raise VisitError(NA_NEEDS_REASON)
        clean_values = self._checked_values(item, values or {}, outcome)
        key = (checklist_id, item_id)
        if outcome is Outcome.PASS:
            blocked = answer_checks.pass_problems(item, clean_values, self.info)
            if blocked:
                raise VisitError(answer_checks.refusal(item, blocked))
            short = needs_more(item.evidence, len(self.evidence.get(key, ())))
            if short is not None:
                raise VisitError(short)
        previous = self.answers.get(key)
        answer = Answer(
            checklist_id=checklist_id,
            item_id=item_id,
            outcome=outcome,
            note=note,
            values=clean_values,
            at=timestamp(self.clock),
            revision=(previous.revision + 1) if previous else 1,
        )
        self.answers[key] = answer
        self._undo.append((key, previous))
        self.position = key
        self._log(self.info.technician, "answered", answer.to_dict())
        return answer

    def _checked_values(
        self, item: Item, values: dict[str, str], outcome: Outcome
    ) -> dict[str, str]:
        known = {f.id for f in item.fields}
        unknown = set(values) - known
        if unknown:
            names = ", ".join(sorted(unknown))
            raise VisitError(Text(f"未知字段：{names}", f"unknown fields: {names}"))
        clean: dict[str, str] = {}
        for item_field in item.fields:
            value = answer_checks.cleaned(item_field, str(values.get(item_field.id, "")))
            # Required values are the evidence of a passed test; a failed or n/a test may
            # have none (a declined payment has no auth code).
            if outcome is not Outcome.PASS and not value:
                continue
            problem = answer_checks.problem(item_field, value)
            if problem is not None:
                raise VisitError(
                    Text(
                        f"{item_field.label.zh}：{problem.zh}",
                        f"{item_field.label.en}: {problem.en}",
                    )
                )
            if value:
                clean[item_field.id] = value
        return clean

    def attach(
        self, checklist_id: str, item_id: str, refs: Iterable[EvidenceRef]
    ) -> tuple[EvidenceRef, ...]:
        """Attach files (already kept by the store under their hashes) to an item; the ones
        newly attached. A file already on the item is not attached twice."""
        self._require_draft()
        item = self.item(checklist_id, item_id)
        key = (checklist_id, item_id)
        present = self.evidence.get(key, ())
        known = {ref.sha256 for ref in present}
        new: list[EvidenceRef] = []
        for ref in refs:
            if not accepts(item.evidence, ref.media_type):
                raise VisitError(
                    Text(
                        f"此项只接受照片（JPEG、PNG、HEIC），{ref.name} 不是照片",
                        f"this item takes photos (JPEG, PNG, HEIC); {ref.name} is not one",
                    )
                )
            if ref.sha256 not in known:
                known.add(ref.sha256)
                new.append(ref)
        if not new:
            return ()
        too_many = over_limit(item.evidence, len(present), len(new))
        if too_many is not None:
            raise VisitError(too_many)
        self.evidence[key] = (*present, *new)
        self.position = key
        self._log(
            self.info.technician,
            "attached",
            {"checklist_id": checklist_id, "item_id": item_id, "files": [r.to_dict() for r in new]},
        )
        return tuple(new)

    def detach(self, checklist_id: str, item_id: str, sha256: str) -> EvidenceRef:
        """Take a file off an item; the file stays in the store (files are never deleted,
        and the event log names it)."""
        self._require_draft()
        item = self.item(checklist_id, item_id)
        key = (checklist_id, item_id)
        present = self.evidence.get(key, ())
        found = next((ref for ref in present if ref.sha256 == sha256), None)
        if found is None:
            raise VisitError(Text("此项没有该文件", "no such file on this item"))
        left = tuple(ref for ref in present if ref.sha256 != sha256)
        answer = self.answers.get(key)
        passed = answer is not None and answer.outcome is Outcome.PASS
        if passed and needs_more(item.evidence, len(left)) is not None:
            raise VisitError(
                Text(
                    "此项已凭该照片判为通过；先改判或再附一份",
                    "this item passed on this evidence: change the answer or attach another first",
                )
            )
        if left:
            self.evidence[key] = left
        else:
            self.evidence.pop(key, None)
        self.position = key
        self._log(
            self.info.technician,
            "detached",
            {"checklist_id": checklist_id, "item_id": item_id, "sha256": sha256},
        )
        return found

    def evidence_of(self, checklist_id: str, item_id: str) -> tuple[EvidenceRef, ...]:
        return self.evidence.get((checklist_id, item_id), ())

    def all_evidence(self) -> list[tuple[tuple[str, str], EvidenceRef]]:
        """Every attached file with its item, in visit order."""
        order = {(c.id, i.id): n for n, (c, i) in enumerate(self.all_items())}
        keys = sorted(self.evidence, key=lambda key: (order.get(key, len(order)), key))
        return [(key, ref) for key in keys for ref in self.evidence[key]]

    def undo(self) -> tuple[str, str] | None:
        """Take back the last answer; returns the item it was on, or None with nothing to undo."""
        self._require_draft()
        if not self._undo:
            return None
        key, previous = self._undo.pop()
        if previous is None:
            self.answers.pop(key, None)
        else:
            self.answers[key] = previous
        self.position = key
        self._log(self.info.technician, "undone", {"checklist_id": key[0], "item_id": key[1]})
        return key

    @property
    def can_undo(self) -> bool:
        return self.editable and bool(self._undo)

    def sign(
        self, technician: str, merchant_representative: str, signer: Signer | None = None
    ) -> SignOff:
        """Sign off; with `signer` (the laptop's key) the record is also signed, so that
        anyone can later check that it is exactly what was signed, and on which laptop."""
        self._require_draft()
        technician, merchant_representative = technician.strip(), merchant_representative.strip()
        carried = False
        if (
            not merchant_representative
            and self.corrects is not None
            and not self.merchant_must_sign
        ):
            merchant_representative, carried = self.corrects.representative, True
        if not technician or not merchant_representative:
            raise VisitError(
                Text("技术员和商户代表都须签名", "both the technician and the merchant must sign")
            )
        self.signoff = SignOff(
            guard_text(technician),
            guard_text(merchant_representative),
            timestamp(self.clock),
            carried,
        )
        self.status = Status.SIGNED
        # An amendment signed is a new revision awaiting its own review: the decision that
        # sent it back decided on the revision before (it stays in the event log).
        self.review = None
        self._undo.clear()
        self.content_sha256 = self.content_hash()
        detail = {
            "merchant_representative": self.signoff.merchant_representative,
            "verdict": str(self.verdict()),
            "content_sha256": self.content_sha256,
        }
        if signer is not None:
            # The "signed" event is logged just below: everything before it is signed.
            self.signature = sign(signer, self.signed_payload(signing=True))
            detail["fingerprint"] = self.signature.fingerprint
        self._log(self.signoff.technician, "signed", detail)
        return self.signoff

    def signed_payload(
        self, canonical_content: bytes | None = None, signing: bool = False
    ) -> bytes:
        """The exact bytes the laptop's key signs: the content and every event up to the
        sign-off, so that neither an answer nor its history can change unseen.

        The bytes are `canonical({"content": ..., "content_sha256": ..., "events": ...})`,
        put together from the content's canonical bytes so that a verifier which has just
        hashed them (`canonical_content`) does not encode the content twice."""
        # The latest sign-off: an amendment's signature covers its whole history, the
        # earlier sign-offs and the reasons for each change included. While signing, the
        # "signed" event is not logged yet: every event so far is signed.
        before = self.events if signing else self._events_before_last_signing()
        content = canonical_content or canonical(self.content())
        events = canonical([event.to_dict() for event in before])
        digest = sha256_hex(content).encode("ascii")
        return (
            b'{"content":'
            + content
            + b',"content_sha256":"'
            + digest
            + b'","events":'
            + events
            + b"}"
        )

    def _events_before_last_signing(self) -> list[Event]:
        for index in range(len(self.events) - 1, -1, -1):
            if self.events[index].what == "signed":
                return self.events[:index]
        return self.events

    def mark(self, status: Status, who: str, detail: dict[str, Any] | None = None) -> None:
        """Later lifecycle steps (synced, reviewed), recorded by the layers that perform them."""
        if self.status is Status.DRAFT or self.status is Status.DISCARDED:
            raise VisitError(Text("草稿不能同步或审核", "a draft cannot be synced or reviewed"))
        if status not in (Status.SYNCED, Status.REVIEWED):
            # Signing has its own method, and nothing may turn a signed visit back into a draft.
            raise VisitError(
                Text("只能标记为已同步或已审核", "only synced or reviewed can be marked")
            )
        self.status = status
        who = guard_text(who)
        if status is Status.REVIEWED:
            # The latest decision, kept on the visit so lists can show it without the log.
            self.review = {"reviewer": who} | dict(detail or {})
        self._log(who, str(status), detail or {})

    def _log(self, who: str, what: str, detail: dict[str, Any]) -> None:
        self.revision += 1
        if self.amending and self.corrects is not None:
            # Every change of an amendment says which one, and why.
            detail = detail | {"amendment": self.corrects.number, "why": self.corrects.reason}
        self.events.append(Event(timestamp(self.clock), who, what, detail))

    # -- summaries -----------------------------------------------------------------

    def progress(self, checklist_id: str | None = None) -> Progress:
        pairs = (
            self.all_items()
            if checklist_id is None
            else [(c, i) for c, i in self.all_items() if c.id == checklist_id]
        )
        applicable = [(c.id, i.id) for c, i in pairs if self.applies(i)]
        return Progress(sum(1 for key in applicable if key in self.answers), len(applicable))

    def failures(self) -> list[tuple[Checklist, Item, Answer]]:
        return [
            (c, i, a)
            for c, i in self.all_items()
            if (a := self.answers.get((c.id, i.id))) and a.outcome is Outcome.FAIL
        ]

    def missing_required(self) -> list[tuple[Checklist, Item]]:
        return [
            (c, i)
            for c, i in self.all_items()
            if i.required and self.applies(i) and (c.id, i.id) not in self.answers
        ]

    def verdict(self) -> Verdict:
        return verdict_of(
            missing_required=bool(self.missing_required()),
            failed_severities=self.failed_severities(),
        )

    def failed_severities(self) -> list[Severity]:
        return [i.severity for _, i, _ in self.failures()]

    # -- integrity -----------------------------------------------------------------

    def content(self) -> dict[str, Any]:
        """What the signatures vouch for; later steps (sync, review) do not change it."""
        return (
            {
                "uuid": self.uuid,
                "created_at": self.created_at,
                "info": self.info.to_dict(),
                "checklists": [ref_to_dict(ref) for ref in self.refs],
                "answers": [self.answers[key].to_dict() for key in sorted(self.answers)],
                "signoff": None if self.signoff is None else signoff_to_dict(self.signoff),
            }
            | self._evidence_content()
            | self._links()
        )

    def _links(self) -> dict[str, Any]:
        # Only when set, like evidence: records without them keep their bytes and hashes.
        links: dict[str, Any] = {}
        if self.corrects is not None:
            links["corrects"] = self.corrects.to_dict()
        if self.follow_up is not None:
            links["follow_up"] = self.follow_up.to_dict()
        return links

    def _evidence_content(self) -> dict[str, Any]:
        # Only when there is some: a visit without evidence keeps the content (and so the
        # hash and signature) it had before evidence existed.
        if not self.evidence:
            return {}
        return {
            "evidence": [
                {
                    "checklist_id": key[0],
                    "item_id": key[1],
                    "files": [ref.to_dict() for ref in self.evidence[key]],
                }
                for key in sorted(self.evidence)
            ]
        }

    def content_hash(self) -> str:
        return sha256_hex(canonical(self.content()))

    @property
    def altered(self) -> bool:
        """A signed visit whose content no longer matches what was signed."""
        return self.content_sha256 is not None and self.content_sha256 != self.content_hash()

    # -- persistence ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = self.content()
        data.update(
            status=str(self.status),
            revision=self.revision,
            content_sha256=self.content_sha256,
            review=self.review,
            signature=None if self.signature is None else self.signature.to_dict(),
            position=list(self.position) if self.position else None,
            undo=[
                {"key": list(key), "previous": None if prev is None else prev.to_dict()}
                for key, prev in self._undo
            ],
            verdict=str(self.verdict()),
        )
        return data

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        checklists: list[Checklist],
        events: Iterable[dict[str, Any]] = (),
        clock: Clock = local_now,
    ) -> Session:
        session = cls(
            data["uuid"], VisitInfo.from_dict(data["info"]), checklists, data["created_at"], clock
        )
        session.status = Status(data["status"])
        session.revision = int(data["revision"])
        session.content_sha256 = data.get("content_sha256")
        session.review = data.get("review")
        signature = data.get("signature")
        if signature is not None:
            try:
                session.signature = Signature.from_dict(signature)
            except SignatureError:
                # Kept as a signature that verifies nothing: the integrity rule says altered.
                session.signature = Signature(b"", b"")
        for answer_data in data.get("answers", []):
            answer = Answer.from_dict(answer_data)
            session.answers[answer.key] = answer
        for entry in data.get("evidence", []):
            key = (entry["checklist_id"], entry["item_id"])
            session.evidence[key] = tuple(EvidenceRef.from_dict(f) for f in entry["files"])
        signoff = data.get("signoff")
        if signoff:
            session.signoff = SignOff(**signoff)
        if data.get("corrects"):
            session.corrects = Correction.from_dict(data["corrects"])
        if data.get("follow_up"):
            session.follow_up = FollowUp.from_dict(data["follow_up"])
        position = data.get("position")
        session.position = (position[0], position[1]) if position else None
        session._undo = [
            (
                (entry["key"][0], entry["key"][1]),
                None if entry["previous"] is None else Answer.from_dict(entry["previous"]),
            )
            for entry in data.get("undo", [])
        ]
        session.events = [Event.from_dict(event) for event in events]
        return session


@dataclass(frozen=True, slots=True)
class Change(Generic[T]):
    """What a command produced: the new state of the visit and the command's own result."""

    session: Session
    result: T


NA_NEEDS_REASON = Text(
    "必做项或关键项判为不适用，须在备注中说明原因",
    "n/a on a required or critical item needs the reason in the note",
)


def ref_to_dict(ref: ChecklistRef) -> dict[str, str]:
    return {"id": ref.id, "version": ref.version, "sha256": ref.sha256}


def signoff_to_dict(signoff: SignOff) -> dict[str, Any]:
    data: dict[str, Any] = {
        "technician": signoff.technician,
        "merchant_representative": signoff.merchant_representative,
        "at": signoff.at,
    }
    if signoff.carried:  # only then: every earlier sign-off keeps its bytes
        data["carried"] = True
    return data


__all__ = [
    "Answer",
    "Change",
    "ChecklistRef",
    "Correction",
    "Event",
    "FollowUp",
    "Outcome",
    "Progress",
    "Session",
    "SignOff",
    "Status",
    "Verdict",
    "VisitError",
]
