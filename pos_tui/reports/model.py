"""What an acceptance report says, in one language, before it is HTML or Markdown.

`build_report` does every lookup and translation; the renderers only lay out the plain
strings of a `ReportData`, so both formats always say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from pos_tui.domain.checklist import Checklist, Item
from pos_tui.domain.decisions import DECISION_STATE_NAMES, CheckedDecision
from pos_tui.domain.decisions import reason_name as decision_reason
from pos_tui.domain.evidence import EvidenceRef
from pos_tui.domain.integrity import AMENDING, NOT_SIGNED, UNSIGNED, Integrity, signer_name
from pos_tui.domain.session import Event, Outcome, Session, Status
from pos_tui.reports import words
from pos_tui.reports.evidence import PictureError, data_uri, size_text, thumbnail
from pos_tui.reports.masking import masked
from pos_tui.reports.times import laptop_zone, local_clock, local_time, zone_name
from pos_tui.store.sources import VisitRecord
from pos_tui.store.storage import StoreError


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class ItemRow:
    number: str
    item_id: str
    title: str
    severity: str
    outcome: str
    """pass, fail, na, "" when not answered; the renderers style rows by it."""
    outcome_label: str
    applicable: bool
    required: bool
    note: str
    values: tuple[Fact, ...]
    answered_at: str

    @property
    def failed(self) -> bool:
        return self.outcome == Outcome.FAIL

    @property
    def missing(self) -> bool:
        return self.applicable and self.required and not self.outcome


@dataclass(frozen=True, slots=True)
class Section:
    checklist_id: str
    version: str
    sha256: str
    title: str
    progress: str
    rows: tuple[ItemRow, ...]


@dataclass(frozen=True, slots=True)
class Failure:
    number: str
    checklist: str
    item: str
    severity: str
    note: str


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str
    reviewer: str
    at: str
    comment: str


@dataclass(frozen=True, slots=True)
class Amendment:
    """One "amending" event of the visit's log: a signed revision reopened, and why."""

    number: str
    at: str
    who: str
    reason: str
    corrects: str
    """The content hash of the signed revision it reopened."""
    signed_as: str
    """The content hash it was signed with; "" while it is under way."""
    changes: str
    """What was changed during it, in words ("" when nothing was)."""


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """One attached file as a report prints it: free text masked, times in words."""

    sha256: str
    name: str
    media_type: str
    kind: str
    size: str
    taken_at: str
    camera: str
    place: str
    """"latitude, longitude" as the photo's EXIF gave them; "" when it had none."""
    attached_at: str
    is_photo: bool
    problem: str
    """"" when the file is whole; missing, replaced, not_at_hand or unreadable."""
    problem_label: str
    picture: str = ""
    """A data: URI of the small copy (HTML reports only); "" for a PDF or a problem."""


@dataclass(frozen=True, slots=True)
class EvidenceGroup:
    """The files of one item, under the item's number and title."""

    number: str
    checklist_id: str
    item_id: str
    title: str
    files: tuple[EvidenceFile, ...]


@dataclass(frozen=True, slots=True)
class ReportData:
    lang: str
    labels: dict[str, str]
    visit_uuid: str
    banners: tuple[str, ...]
    watermark: str
    """One word across every printed page while any banner applies; "" when none does."""
    merchant: tuple[Fact, ...]
    terminal: tuple[Fact, ...]
    visit: tuple[Fact, ...]
    verdict: str
    """The verdict code (pass, pass_with_remarks, fail, incomplete), for styling."""
    verdict_label: str
    progress: str
    failures: tuple[Failure, ...]
    sections: tuple[Section, ...]
    signoff: tuple[Fact, ...]
    decisions: tuple[Decision, ...]
    content_sha256: str
    integrity_state: str
    """The state from `domain.integrity` (intact, altered, unsigned...), for styling."""
    integrity_label: str
    integrity_reasons: tuple[str, ...]
    """Why the record is not trusted, in words, or a note on a trusted one; often empty."""
    integrity_alarm: bool = False
    """Whether the check is to be printed as a warning: untrusted, and not merely a draft."""
    signer: str = ""
    """The device key that signed, and whom the keyring says it belongs to; "" unsigned."""
    evidence: tuple[EvidenceGroup, ...] = ()
    """Each item's attached files, in visit order; empty for a visit without any."""
    amendments: tuple[Amendment, ...] = ()
    """Every amendment of the visit, oldest first, from its event log; empty when never
    amended, so such a report is the page it always was."""
    corrects_sha256: str = ""
    """The content hash of the revision this one corrects; "" for a first revision."""
    follow_up_of: str = ""
    """The uuid of the visit this one follows up; "" for a visit of its own."""
    follow_up_sha256: str = ""
    """The content hash of the record it follows up."""
    signable: bool = False
    """Whether the paper gets boxes for handwritten signatures and the merchant's stamp:
    only a visit signed off in the app, never a draft or a discarded one, which must not
    look like an acceptance someone could sign."""


def when(stamp: str) -> str:
    """An ISO timestamp with its own offset, the `T` made a space: for a photo's EXIF time,
    which is quoted as the camera wrote it (often without any offset to convert from)."""
    return stamp.replace("T", " ")


def build_report(
    record: VisitRecord, lang: str, pictures: bool = False, zone: tzinfo | None = None
) -> ReportData:
    """`pictures`: make the small copies of the photos (for HTML; they cost a decode each).
    `zone`: the zone every time is shown in; the printing computer's by default."""
    session = record.session
    # One fixed offset for the whole report, named once in the visit table: every time on
    # the page compares with every other, and none carries its own offset.
    zone = zone or laptop_zone()
    labels = {key: text.get(lang) for key, text in words.LABELS.items()}
    sections, failures = _sections(session, lang, zone)
    evidence = _evidence(record, sections, lang, pictures, zone)
    decisions = tuple(_decision(d, lang, zone) for d in sorted(record.decisions, key=_decided_at))
    # Forged decisions are printed too, marked as such: a report that hid them would let
    # a forged approval pass for a missing one.
    decisions += tuple(_forged(c, lang, zone) for c in record.forged)
    # The review screen asks the same rule of the same record: they cannot disagree.
    verdict_on_record = record.integrity
    verdict = str(session.verdict())
    problems = _problems(session, verdict_on_record)
    follow_up = session.follow_up
    return ReportData(
        lang=lang,
        labels=labels,
        visit_uuid=session.uuid,
        banners=tuple(words.banner(key, lang) for key in problems),
        watermark=words.watermark(problems[0], lang) if problems else "",
        merchant=_merchant(session, labels),
        terminal=_terminal(session, labels),
        visit=_visit(session, record, labels, lang, sections, zone),
        verdict=verdict,
        verdict_label=words.verdict_name(verdict, lang),
        progress=str(session.progress()),
        failures=tuple(failures),
        sections=tuple(sections),
        signoff=_signoff(session, labels, lang, zone),
        decisions=decisions,
        content_sha256=session.content_sha256 or "",
        integrity_state=verdict_on_record.state,
        integrity_label=words.integrity_sentence(verdict_on_record.state, lang),
        integrity_reasons=_reasons(verdict_on_record, lang),
        # A draft, or an amendment not signed again yet, is unsigned by nature: the draft
        # banner says so, and a red check would look like tampering.
        integrity_alarm=not verdict_on_record.trusted
        and verdict_on_record.reasons not in ((NOT_SIGNED,), (AMENDING,)),
        signer=_signer(record, lang),
        evidence=evidence,
        amendments=_amendments(session, sections, labels, lang, zone),
        corrects_sha256=session.corrects.content_sha256 if session.corrects else "",
        follow_up_of=follow_up.of_uuid if follow_up else "",
        follow_up_sha256=follow_up.of_content_sha256 if follow_up else "",
        signable=session.signoff is not None
        and "draft" not in problems
        and "discarded" not in problems,
    )


def _evidence(
    record: VisitRecord, sections: list[Section], lang: str, pictures: bool, zone: tzinfo
) -> tuple[EvidenceGroup, ...]:
    session = record.session
    if not session.evidence:
        return ()
    numbers = {
        (s.checklist_id, row.item_id): (row.number, row.title) for s in sections for row in s.rows
    }
    groups: dict[tuple[str, str], list[EvidenceFile]] = {}
    for key, ref in session.all_evidence():
        groups.setdefault(key, []).append(_evidence_file(record, ref, lang, pictures, zone))
    other = words.LABELS["other_evidence"].get(lang)
    # A key no checklist of the visit knows (a hand-edited record): printed all the same,
    # since a report that dropped a file would hide it from the merchant.
    return tuple(
        EvidenceGroup(
            number=numbers.get(key, ("", ""))[0],
            checklist_id=key[0],
            item_id=key[1],
            title=numbers[key][1] if key in numbers else masked(f"{other}: {key[0]} {key[1]}"),
            files=tuple(files),
        )
        for key, files in groups.items()
    )


def _evidence_file(
    record: VisitRecord, ref: EvidenceRef, lang: str, pictures: bool, zone: tzinfo
) -> EvidenceFile:
    problem = record.file_problems.get(ref.sha256, "")
    picture = ""
    if not problem and ref.is_photo and pictures:
        picture, problem = _picture(record, ref)
    elif not problem and record.files is None:
        # The app's screens build a record from a session alone: nothing was checked.
        problem = "not_at_hand"
    place = f"{ref.latitude}, {ref.longitude}" if ref.has_position else ""
    return EvidenceFile(
        sha256=ref.sha256,
        name=masked(ref.name),
        media_type=ref.media_type,
        kind=words.name_of(words.FILE_KINDS, ref.media_type, lang),
        size=size_text(ref.size),
        # In the zone of every other time of the report, so that a photo taken before the
        # visit began reads so at a glance; a camera that wrote no offset is quoted as is.
        taken_at=local_time(ref.taken_at, zone),
        camera=masked(ref.camera),
        place=masked(place),
        attached_at=local_time(ref.attached_at, zone),
        is_photo=ref.is_photo,
        problem=problem,
        problem_label=words.name_of(words.EVIDENCE_PROBLEMS, problem, lang) if problem else "",
        picture=picture,
    )


def _picture(record: VisitRecord, ref: EvidenceRef) -> tuple[str, str]:
    """The data: URI of a photo's small copy and "", or "" and why there is none."""
    if record.files is None:
        return "", "not_at_hand"
    try:
        # The copy is made from the bytes read and checked against the record's hash here,
        # never from a path: what is printed is what was signed.
        data = record.files.read(ref.sha256)
    except StoreError:
        return "", record.files.check(ref.sha256, ref.size) or "unreadable"
    try:
        return data_uri(thumbnail(data, ref.media_type)), ""
    except PictureError:
        return "", "unreadable"


def _signer(record: VisitRecord, lang: str) -> str:
    signature = record.session.signature
    if signature is None:
        return ""
    name = signer_name(record.session, record.keyring)
    return f"{signature.fingerprint} ({masked(name)})" if name else signature.fingerprint


def _forged(checked: CheckedDecision, lang: str, zone: tzinfo) -> Decision:
    row = checked.row
    said = DECISION_STATE_NAMES[checked.state].get(lang)
    why = "; ".join(decision_reason(reason, lang) for reason in checked.reasons)
    decision = words.name_of(words.DECISION_NAMES, str(row.get("decision", "")), lang)
    return Decision(
        decision=f"{said}: {decision}",
        reviewer=masked(str(row.get("reviewer", ""))),
        at=local_time(str(row.get("at", "")), zone),
        comment=masked(f"{why}. {row.get('comment', '')}".strip(". ")),
    )


def _reasons(verdict: Integrity, lang: str) -> tuple[str, ...]:
    # A draft is unsigned by nature: its banner says so, and "not signed yet" in red under
    # the hash would look like an alarm where there is none.
    # A trusted record may still carry a reason worth printing ("signed before the key
    # was revoked"); the renderers style it as a note, not an alarm.
    if verdict.reasons == (NOT_SIGNED,):
        return ()
    return verdict.reason_text(lang)


def _problems(session: Session, verdict: Integrity) -> list[str]:
    """What makes this record unfit to rely on, worst first.

    A record never signed off is a draft: the draft banner says so, once.
    """
    draft = session.signoff is None or session.status in (Status.DRAFT, Status.DISCARDED)
    draft = draft or verdict.reasons in ((NOT_SIGNED,), (AMENDING,))
    found = [w for w in verdict.warnings if not (draft and w == UNSIGNED)]
    if session.status is Status.DISCARDED:
        # Given up, not merely unfinished: printed, it must not pass for a visit to complete.
        found.append("discarded")
    elif draft:
        found.append("draft")
    return found


def _facts(labels: dict[str, str], pairs: list[tuple[str, str]]) -> tuple[Fact, ...]:
    return tuple(Fact(labels[key], value) for key, value in pairs if value)


def _merchant(session: Session, labels: dict[str, str]) -> tuple[Fact, ...]:
    info = session.info
    return _facts(
        labels,
        [
            ("merchant_name", masked(info.merchant_name)),
            ("registered_name", masked(info.registered_name)),
            ("merchant_number", info.merchant_number),
            ("credit_code", info.credit_code),
            ("mcc", info.mcc),
            ("site_address", masked(info.install_address)),
            ("position", _position(info)),
            ("merchant_contact", masked(info.merchant_contact)),
        ],
    )


def _position(info: Any) -> str:
    if not (info.latitude and info.longitude):
        return ""
    accuracy = f" (±{info.accuracy_m} m)" if info.accuracy_m else ""
    return f"{info.latitude}, {info.longitude}{accuracy}"


def _terminal(session: Session, labels: dict[str, str]) -> tuple[Fact, ...]:
    info = session.info
    return _facts(
        labels,
        [
            ("terminal_number", info.terminal_number),
            ("terminal_serial", masked(info.terminal_serial)),
            ("tusn", info.tusn),
            ("model", masked(info.model)),
            ("pinpad_serial", masked(info.pinpad_serial)),
            ("sim_iccid", info.sim_iccid),
            ("capabilities", ", ".join(info.capabilities)),
        ],
    )


def _visit(
    session: Session,
    record: VisitRecord,
    labels: dict[str, str],
    lang: str,
    sections: list[Section],
    zone: tzinfo,
) -> tuple[Fact, ...]:
    info = session.info
    status = effective_status(record)
    # Each of these is "" for a visit never amended, followed up or discarded, and `_facts`
    # leaves out what is empty: such a visit's table is the one it always was.
    return _facts(
        labels,
        [
            ("visit_id", session.uuid),
            ("revision", _revision(session, lang)),
            ("follow_up_of", _follow_up(session, lang)),
            ("follow_up_items", _follow_up_items(session, sections)),
            ("work_order", info.work_order),
            ("job_type", words.job_type_name(info.job_type, info.reason, lang)),
            ("started", local_time(session.created_at, zone)),
            ("time_zone", words.zone_text(zone_name(zone), lang)),
            ("departed_at", local_time(session.departed_at or "", zone)),
            ("technician", masked(info.technician)),
            ("device_id", masked(info.device_id)),
            ("status", words.name_of(words.STATUS_NAMES, status, lang)),
            ("discarded_reason", masked(_discarded_reason(session))),
            ("visit_notes", masked(info.notes)),
        ],
    )


def _revision(session: Session, lang: str) -> str:
    """Which amendment this revision is, and of what; "" for a visit never amended."""
    correction = session.corrects
    if correction is None:
        return ""
    return words.revision_text(
        correction.number, words.short_hash(correction.content_sha256), session.amending, lang
    )


def _follow_up(session: Session, lang: str) -> str:
    follow_up = session.follow_up
    if follow_up is None:
        return ""
    return words.follow_up_text(
        follow_up.of_uuid[:8],
        words.short_hash(follow_up.of_content_sha256),
        len(follow_up.items),
        lang,
    )


def _follow_up_items(session: Session, sections: list[Section]) -> str:
    """The items a follow-up re-runs, by the numbers and titles of the tables below."""
    if session.follow_up is None:
        return ""
    named = _item_names(sections)
    return "; ".join(named.get(key, f"{key[0]}/{key[1]}") for key in session.follow_up.items)


def _item_names(sections: list[Section]) -> dict[tuple[str, str], str]:
    return {
        (section.checklist_id, row.item_id): f"{row.number} {row.title}"
        for section in sections
        for row in section.rows
    }


def _discarded_reason(session: Session) -> str:
    if session.status is not Status.DISCARDED:
        return ""
    found = [e for e in session.events if e.what == "discarded"]
    return str(found[-1].detail.get("reason", "")) if found else ""


# The labels of the visit details a correction may change, where the field's name is not
# the label's key.
_DETAIL_LABELS = {
    "install_address": "site_address",
    "notes": "visit_notes",
    "latitude": "position",
    "longitude": "position",
    "accuracy_m": "position",
}


def _amendments(
    session: Session, sections: list[Section], labels: dict[str, str], lang: str, zone: tzinfo
) -> tuple[Amendment, ...]:
    """The amendment history, from the event log: each "amending" event in order, with
    what changed until the revision was signed again. The log is data from outside (a
    record can be edited by hand), so every detail is read as text and masked."""
    names = _item_names(sections)
    found: list[Amendment] = []
    changes: list[str] = []
    signed_as = ""
    opened: Event | None = None

    def close() -> None:
        if opened is not None:
            detail = opened.detail
            found.append(
                Amendment(
                    number=str(len(found) + 1),
                    at=local_time(opened.at, zone),
                    who=masked(opened.who),
                    reason=masked(str(detail.get("reason", ""))),
                    corrects=str(detail.get("corrects", "")),
                    signed_as=signed_as,
                    changes="; ".join(dict.fromkeys(changes)),
                )
            )

    for event in session.events:
        if event.what == "amending":
            close()
            opened, changes, signed_as = event, [], ""
        elif opened is None or signed_as:
            continue
        elif event.what == "signed":
            signed_as = str(event.detail.get("content_sha256", ""))
        else:
            changes += _changed(event, names, labels, lang)
    close()
    return tuple(found)


def _changed(
    event: Event, names: dict[tuple[str, str], str], labels: dict[str, str], lang: str
) -> list[str]:
    detail = event.detail
    if event.what == "details_changed":
        changed = detail.get("changes")
        if not isinstance(changed, dict):
            return []
        colon = labels["colon"]
        said = []
        for name, pair in changed.items():
            label = labels.get(_DETAIL_LABELS.get(str(name), str(name)), str(name))
            if isinstance(pair, list) and len(pair) == 2:
                said.append(masked(f"{label}{colon}{pair[0]} → {pair[1]}"))
            else:
                said.append(masked(label))
        return said
    if event.what in ("answered", "undone", "attached", "detached"):
        key = (str(detail.get("checklist_id", "")), str(detail.get("item_id", "")))
        return [names.get(key) or masked(f"{key[0]}/{key[1]}")]
    return []


def effective_status(record: VisitRecord) -> str:
    # A decision in the shared store may not have reached the visit's own status yet.
    return str(Status.REVIEWED if record.decisions else record.session.status)


def _sections(session: Session, lang: str, zone: tzinfo) -> tuple[list[Section], list[Failure]]:
    sections: list[Section] = []
    failures: list[Failure] = []
    for checklist_number, checklist in enumerate(session.checklists, start=1):
        rows = []
        for item_number, item in enumerate(checklist.items, start=1):
            number = f"{checklist_number}.{item_number}"
            row = item_row(session, checklist, item, number, lang, zone=zone)
            rows.append(row)
            if row.failed:
                title = checklist.title.get(lang)
                failures.append(Failure(row.number, title, row.title, row.severity, row.note))
        sections.append(
            Section(
                checklist_id=checklist.id,
                version=checklist.version,
                sha256=checklist.sha256,
                title=checklist.title.get(lang),
                progress=str(session.progress(checklist.id)),
                rows=tuple(rows),
            )
        )
    return sections, failures


def item_row(
    session: Session,
    checklist: Checklist,
    item: Item,
    number: str,
    lang: str,
    zone: tzinfo | None = None,
) -> ItemRow:
    """One item of a visit as a report or an export shows it, its free text masked; its
    time in `zone` (the printing computer's by default)."""
    answer = session.answer(checklist.id, item.id)
    applicable = session.applies(item)
    if answer is not None:
        outcome = str(answer.outcome)
        outcome_label = words.OUTCOME_NAMES[answer.outcome].get(lang)
    else:
        outcome = ""
        outcome_label = (words.NOT_CHECKED if applicable else words.NOT_FOR_THIS_TERMINAL).get(lang)
        follow_up = session.follow_up
        if (
            not applicable
            and follow_up is not None
            and (checklist.id, item.id) not in follow_up.items
        ):
            # Not re-run, rather than beyond the terminal: the visit it follows up has it.
            outcome_label = words.NOT_IN_FOLLOW_UP.get(lang)
    values: tuple[Fact, ...] = ()
    if answer is not None:
        values = tuple(
            Fact(_field_label(item, key, lang), masked(value))
            for key, value in answer.values.items()
        )
    attached = len(session.evidence_of(checklist.id, item.id))
    if attached:
        # The pictures follow the tables (too big for a row): the row says how many to look for.
        values += (Fact(words.LABELS["evidence_count"].get(lang), str(attached)),)
    return ItemRow(
        number=number,
        item_id=item.id,
        title=item.title.get(lang),
        severity=words.name_of(words.SEVERITY_NAMES, item.severity, lang),
        outcome=outcome,
        outcome_label=outcome_label,
        applicable=applicable,
        required=item.required,
        note=masked(answer.note) if answer else "",
        values=values,
        # The visit table gives the day: rows of that day need only the time, which keeps
        # the items table narrow enough for A4.
        answered_at=local_clock(answer.at, session.created_at, zone or laptop_zone())
        if answer
        else "",
    )


def _field_label(item: Item, field_id: str, lang: str) -> str:
    try:
        return item.field(field_id).label.get(lang)
    except KeyError:
        return field_id  # a value for a field the checklist does not know: show it anyway


def _signoff(session: Session, labels: dict[str, str], lang: str, zone: tzinfo) -> tuple[Fact, ...]:
    signoff = session.signoff
    if signoff is None:
        return ()
    # Only on an amendment: whether the merchant signed it, or their earlier name carried.
    merchant_signature = ""
    if session.corrects is not None:
        merchant_signature = words.merchant_signature_text(
            signoff.carried, words.short_hash(session.corrects.content_sha256), lang
        )
    return _facts(
        labels,
        [
            ("technician", masked(signoff.technician)),
            ("merchant_representative", masked(signoff.merchant_representative)),
            ("signed_at", local_time(signoff.at, zone)),
            ("merchant_signature", merchant_signature),
        ],
    )


def _decided_at(decision: dict[str, Any]) -> str:
    return str(decision.get("at", ""))


def _decision(decision: dict[str, Any], lang: str, zone: tzinfo) -> Decision:
    return Decision(
        decision=words.name_of(words.DECISION_NAMES, str(decision.get("decision", "")), lang),
        reviewer=masked(str(decision.get("reviewer", ""))),
        at=local_time(str(decision.get("at", "")), zone),
        comment=masked(str(decision.get("comment", ""))),
    )
