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
        return item.when.holds(capabilities, job_type, filled)

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
        if not self.editable:
            raise VisitError(Text("已签署的访问不能修改", "a signed visit can no longer change"))

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
        if not technician or not merchant_representative:
            raise VisitError(
                Text("技术员和商户代表都须签名", "both the technician and the merchant must sign")
            )
        self.signoff = SignOff(
            guard_text(technician), guard_text(merchant_representative), timestamp(self.clock)
        )
        self.status = Status.SIGNED
        self._undo.clear()
        self.content_sha256 = self.content_hash()
        detail = {
            "merchant_representative": self.signoff.merchant_representative,
            "verdict": str(self.verdict()),
            "content_sha256": self.content_sha256,
        }
        if signer is not None:
            self.signature = sign(signer, self.signed_payload())
            detail["fingerprint"] = self.signature.fingerprint
        self._log(self.signoff.technician, "signed", detail)
        return self.signoff

    def signed_payload(self, canonical_content: bytes | None = None) -> bytes:
        """The exact bytes the laptop's key signs: the content and every event up to the
        sign-off, so that neither an answer nor its history can change unseen.

        The bytes are `canonical({"content": ..., "content_sha256": ..., "events": ...})`,
        put together from the content's canonical bytes so that a verifier which has just
        hashed them (`canonical_content`) does not encode the content twice."""
        before = self.events
        for index, event in enumerate(self.events):
            if event.what == "signed":
                before = self.events[:index]
                break
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

    def mark(self, status: Status, who: str, detail: dict[str, Any] | None = None) -> None:
        """Later lifecycle steps (synced, reviewed), recorded by the layers that perform them."""
        if self.status is Status.DRAFT:
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
        return {
            "uuid": self.uuid,
            "created_at": self.created_at,
            "info": self.info.to_dict(),
            "checklists": [ref_to_dict(ref) for ref in self.refs],
            "answers": [self.answers[key].to_dict() for key in sorted(self.answers)],
            "signoff": None if self.signoff is None else signoff_to_dict(self.signoff),
        } | self._evidence_content()

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


def signoff_to_dict(signoff: SignOff) -> dict[str, str]:
    return {
        "technician": signoff.technician,
        "merchant_representative": signoff.merchant_representative,
        "at": signoff.at,
    }


__all__ = [
    "Answer",
    "Change",
    "ChecklistRef",
    "Event",
    "Outcome",
    "Progress",
    "Session",
    "SignOff",
    "Status",
    "Verdict",
    "VisitError",
]
