"""A visit's rules: answers, undo, progress, verdict, sign-off, card data, integrity, persistence.

The checklists come from YAML through the real loader, so these tests exercise the format the
checklist authors write, not hand-built model objects.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.loader import load_checklist
from pos_tui.domain.redact import CardDataError
from pos_tui.domain.session import (
    Answer,
    ChecklistRef,
    Outcome,
    Session,
    Status,
    Verdict,
    VisitError,
)
from pos_tui.domain.visit_info import VisitInfo

BEIJING = timezone(timedelta(hours=8))
START = datetime(2024, 5, 6, 9, 0, 0, tzinfo=BEIJING)

CARD_ACCEPTANCE = """\
id: card-acceptance
version: "2.1"
title:
  zh: 银行卡受理
  en: Card acceptance
order: 10
items:
  - id: chip-sale
    title: {zh: 芯片卡消费, en: Chip card sale}
    severity: critical
    fields:
      - id: reference
        label: {zh: 参考号, en: Reference number}
        kind: text
        pattern: "^[0-9]{12}$"
      - id: amount
        label: {zh: 金额, en: Amount}
        kind: number
      - id: last4
        label: {zh: 卡号后4位, en: Last 4 digits}
        kind: last4
        required: true
  - id: receipt-copies
    title: {zh: 小票联数, en: Receipt copies}
    severity: major
    fields:
      - id: copies
        label: {zh: 份数, en: Copies printed}
        kind: choice
        choices: ["1", "2"]
  - id: clock
    title: {zh: 终端时钟, en: Terminal clock}
    severity: minor
    fields:
      - id: shown
        label: {zh: 显示内容, en: What the screen shows}
        kind: text
  - id: sticker
    title: {zh: 受理标识, en: Acceptance sticker}
    severity: minor
    required: false
  - id: tap-sale
    title: {zh: 非接消费, en: Contactless sale}
    severity: critical
    when: contactless
"""

NETWORK = """\
id: network
version: "1.0"
title: {zh: 网络, en: Network}
order: 20
items:
  - id: host-connection
    title: {zh: 主机连接, en: Host connection}
    severity: major
  - id: settlement
    title: {zh: 结算, en: Settlement}
    severity: critical
"""

CARD = "card-acceptance"
NET = "network"
CHIP = (CARD, "chip-sale")
COPIES = (CARD, "receipt-copies")
CLOCK = (CARD, "clock")
STICKER = (CARD, "sticker")
TAP = (CARD, "tap-sale")
HOST = (NET, "host-connection")
SETTLE = (NET, "settlement")

# What a technician must answer for the verdict to leave `incomplete` (tap-sale does not apply).
REQUIRED_APPLICABLE = [CHIP, COPIES, CLOCK, HOST, SETTLE]
ALL_APPLICABLE = [CHIP, COPIES, CLOCK, STICKER, HOST, SETTLE]

VISA_TEST_PAN = "4111111111111111"
TRACK2 = ";4111111111111111=25121010000000000?"


class FakeClock:
    """Returns `now`, then moves it on by `step`: deterministic, and ordered when step > 0."""

    def __init__(self, start: datetime = START, step: timedelta = timedelta(seconds=1)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        current = self.now
        self.now += self.step
        return current


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def checklists(tmp_path: Path) -> list[Checklist]:
    return [
        load_checklist(write(tmp_path, "card.yaml", CARD_ACCEPTANCE)),
        load_checklist(write(tmp_path, "network.yaml", NETWORK)),
    ]


def make_info(**changes: Any) -> VisitInfo:
    values: dict[str, Any] = {
        "merchant_name": "上海浦东星光咖啡馆",
        "merchant_number": "898310058120001",
        "terminal_number": "12345678",
        "technician": "王伟",
        "model": "PAX A920",
        "capabilities": ("chip", "printer", "pinpad"),
    }
    values.update(changes)
    return VisitInfo(**values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def session(checklists: list[Checklist], clock: FakeClock) -> Session:
    return Session.start(make_info(), checklists, clock=clock)


def pass_item(session: Session, key: tuple[str, str]) -> Answer:
    values = {"last4": "1111"} if key == CHIP else None
    return session.record(key[0], key[1], Outcome.PASS, values=values)


def answer_all(session: Session, keys: list[tuple[str, str]]) -> None:
    for key in keys:
        pass_item(session, key)


def rebuild(session: Session, data: dict[str, Any] | None = None) -> Session:
    """What the store does: JSON out, JSON back in, rebuilt against the same checklists."""
    stored = json.loads(json.dumps(session.to_dict() if data is None else data))
    events = [event.to_dict() for event in session.events]
    return Session.from_dict(stored, session.checklists, events, clock=session.clock)


# -- starting ------------------------------------------------------------------------------


def test_start_gives_a_draft_with_a_uuid_checklist_refs_and_the_visit_info(
    tmp_path: Path, checklists: list[Checklist], clock: FakeClock
) -> None:
    session = Session.start(make_info(), checklists, clock=clock)

    assert uuid.UUID(session.uuid)
    assert session.status is Status.DRAFT
    assert session.editable
    assert session.info.merchant_name == "上海浦东星光咖啡馆"
    assert session.info.technician == "王伟"
    assert session.created_at == "2024-05-06T09:00:00+08:00"
    assert session.refs == [
        ChecklistRef(
            CARD, "2.1", hashlib.sha256((tmp_path / "card.yaml").read_bytes()).hexdigest()
        ),
        ChecklistRef(
            NET, "1.0", hashlib.sha256((tmp_path / "network.yaml").read_bytes()).hexdigest()
        ),
    ]
    assert session.answers == {}
    assert session.signoff is None


def test_every_visit_gets_its_own_uuid(checklists: list[Checklist]) -> None:
    first = Session.start(make_info(), checklists, clock=FakeClock())
    second = Session.start(make_info(), checklists, clock=FakeClock())
    assert first.uuid != second.uuid


def test_start_logs_the_creation_by_the_technician(session: Session) -> None:
    assert session.revision == 1
    [event] = session.events
    assert (event.what, event.who, event.at) == ("created", "王伟", "2024-05-06T09:00:01+08:00")
    assert event.detail == {"checklists": [CARD, NET]}


def test_start_without_checklists_is_refused(clock: FakeClock) -> None:
    with pytest.raises(VisitError):
        Session.start(make_info(), [], clock=clock)


# -- recording answers ---------------------------------------------------------------------


def test_record_keeps_outcome_note_values_time_and_position(
    session: Session, clock: FakeClock
) -> None:
    clock.now = datetime(2024, 5, 6, 10, 15, 30, tzinfo=BEIJING)
    answer = session.record(
        *CHIP,
        Outcome.PASS,
        note="  交易成功，小票清晰  ",
        values={"reference": "123456789012", "amount": "0.01", "last4": " 0042 "},
    )

    assert answer.outcome is Outcome.PASS
    assert answer.note == "交易成功，小票清晰"
    assert answer.values == {"reference": "123456789012", "amount": "0.01", "last4": "0042"}
    assert answer.at == "2024-05-06T10:15:30+08:00"
    assert answer.revision == 1
    assert session.answer(*CHIP) == answer
    assert session.position == CHIP


def test_optional_empty_fields_are_not_stored(session: Session) -> None:
    answer = session.record(*CHIP, "pass", values={"last4": "1111", "reference": "", "amount": " "})
    assert answer.values == {"last4": "1111"}


@pytest.mark.parametrize("outcome", ["pass", "fail", "na"])
def test_outcomes_are_given_as_plain_strings_too(session: Session, outcome: str) -> None:
    answer = session.record(*COPIES, outcome, note="已核对")
    assert answer.outcome is Outcome(outcome)


def test_an_unknown_outcome_is_refused(session: Session) -> None:
    with pytest.raises(ValueError):
        session.record(*COPIES, "maybe")
    assert session.answers == {}


def test_re_answering_an_item_increments_its_revision(session: Session) -> None:
    assert session.record(*COPIES, "pass").revision == 1
    assert session.record(*COPIES, "fail", note="只打印了一联").revision == 2
    third = session.record(*COPIES, "pass", note="更换纸卷后两联正常")
    assert third.revision == 3
    assert session.answer(*COPIES) == third
    # Another item keeps its own count.
    assert session.record(*HOST, "pass").revision == 1


@pytest.mark.parametrize("note", ["", "   ", "\n\t"])
def test_a_failure_needs_a_note(session: Session, note: str) -> None:
    revision = session.revision
    with pytest.raises(VisitError) as caught:
        session.record(*HOST, Outcome.FAIL, note=note)
    assert caught.value.text.en == "a failed item needs a note"
    assert caught.value.text.zh
    assert session.answer(*HOST) is None
    assert session.revision == revision
    assert not session.can_undo


def test_a_failure_with_a_chinese_note_is_recorded(session: Session) -> None:
    answer = session.record(*HOST, Outcome.FAIL, note="无法连接主机，网线松动")
    assert answer.note == "无法连接主机，网线松动"
    assert session.failures()[0][2] == answer


@pytest.mark.parametrize(
    ("values", "field_label"),
    [
        ({"last4": "1111", "reference": "12345"}, "Reference number"),
        ({"last4": "1111", "reference": "12345678901A"}, "Reference number"),
        ({"last4": "1111", "reference": "1234567890123"}, "Reference number"),
        ({"last4": "1111", "amount": "十元"}, "Amount"),
        ({"last4": "1111", "amount": "12,50"}, "Amount"),
        ({"last4": "123"}, "Last 4 digits"),
        ({"last4": "12a"}, "Last 4 digits"),
        ({"last4": "abcd"}, "Last 4 digits"),
        ({}, "Last 4 digits"),  # last4 is required for an answer that claims a test was run
        ({"last4": "   "}, "Last 4 digits"),
    ],
)
def test_bad_field_values_are_refused_and_nothing_is_recorded(
    session: Session, values: dict[str, str], field_label: str
) -> None:
    revision, events = session.revision, len(session.events)
    with pytest.raises(VisitError) as caught:
        session.record(*CHIP, Outcome.PASS, values=values)
    assert str(caught.value).startswith(field_label)
    assert caught.value.text.zh
    assert session.answer(*CHIP) is None
    assert (session.revision, len(session.events)) == (revision, events)


def test_a_failure_needs_no_required_values_but_values_given_are_checked(
    session: Session,
) -> None:
    # A declined payment has no evidence to capture: required values prove a *passed* test.
    answer = session.record(*CHIP, Outcome.FAIL, note="交易被拒，无小票")
    assert answer.values == {}
    with pytest.raises(VisitError):
        session.record(*CHIP, Outcome.FAIL, note="交易被拒", values={"last4": "12"})
    assert session.answer(*CHIP) == answer


def test_good_field_values_of_every_kind_are_accepted(session: Session) -> None:
    chip = session.record(
        *CHIP, "pass", values={"reference": "000000000001", "amount": "12.50", "last4": "0000"}
    )
    copies = session.record(*COPIES, "pass", values={"copies": "2"})
    clock = session.record(*CLOCK, "pass", values={"shown": "2024-05-06 09:00 北京时间"})
    assert chip.values["amount"] == "12.50"
    assert copies.values == {"copies": "2"}
    assert clock.values == {"shown": "2024-05-06 09:00 北京时间"}


@pytest.mark.parametrize("copies", ["3", "0", "two", "两"])
def test_a_choice_outside_the_list_is_refused(session: Session, copies: str) -> None:
    with pytest.raises(VisitError):
        session.record(*COPIES, "pass", values={"copies": copies})
    assert session.answer(*COPIES) is None


def test_unknown_field_ids_are_refused(session: Session) -> None:
    with pytest.raises(VisitError) as caught:
        session.record(*CHIP, "pass", values={"last4": "1111", "cvv": "123"})
    assert "cvv" in str(caught.value)
    assert session.answer(*CHIP) is None
    with pytest.raises(VisitError):
        session.record(*HOST, "pass", values={"anything": "x"})  # an item without fields


def test_not_applicable_needs_no_required_field_values(session: Session) -> None:
    answer = session.record(*CHIP, Outcome.NA, note="商户不受理芯片卡")
    assert answer.outcome is Outcome.NA
    assert answer.values == {}


def test_unknown_checklist_or_item_is_refused(session: Session) -> None:
    with pytest.raises(VisitError):
        session.record("qr-payment", "scan", "pass")
    with pytest.raises(VisitError):
        session.record(CARD, "no-such-item", "pass")
    assert session.answers == {}


# -- items that do not apply to the terminal -----------------------------------------------


def test_an_item_that_does_not_apply_cannot_be_recorded(session: Session) -> None:
    revision = session.revision
    with pytest.raises(VisitError):
        session.record(*TAP, Outcome.PASS)
    with pytest.raises(VisitError):
        session.record(*TAP, Outcome.NA)
    assert session.answer(*TAP) is None
    assert session.revision == revision


def test_an_item_that_does_not_apply_is_not_counted_and_never_makes_the_visit_incomplete(
    session: Session,
) -> None:
    assert session.progress().applicable == len(ALL_APPLICABLE)
    assert session.progress(CARD).applicable == 4
    answer_all(session, REQUIRED_APPLICABLE)
    assert session.missing_required() == []
    assert session.verdict() is Verdict.PASS


def test_the_when_item_applies_once_the_terminal_has_the_capability(
    checklists: list[Checklist],
) -> None:
    info = make_info(capabilities=("chip", "printer", "contactless"))
    session = Session.start(info, checklists, clock=FakeClock())
    assert session.progress(CARD).applicable == 5
    answer_all(session, REQUIRED_APPLICABLE)
    assert session.verdict() is Verdict.INCOMPLETE
    assert [(c.id, i.id) for c, i in session.missing_required()] == [TAP]
    session.record(*TAP, "pass")
    assert session.verdict() is Verdict.PASS


# -- undo ----------------------------------------------------------------------------------


def test_undo_of_a_first_answer_removes_it(session: Session) -> None:
    session.record(*HOST, "pass")
    assert session.can_undo
    assert session.undo() == HOST
    assert session.answer(*HOST) is None
    assert session.position == HOST
    assert not session.can_undo


def test_undo_of_a_re_answer_restores_the_previous_answer(session: Session) -> None:
    first = session.record(*COPIES, "fail", note="只打印了一联")
    session.record(*COPIES, "pass", note="已修复")
    assert session.undo() == COPIES
    assert session.answer(*COPIES) == first
    # Answering again after the undo gives the next revision of the restored answer.
    assert session.record(*COPIES, "pass").revision == 2


def test_several_undos_in_a_row_walk_back_through_every_answer(session: Session) -> None:
    host_first = session.record(*HOST, "pass")
    session.record(*SETTLE, "fail", note="结算失败")
    session.record(*HOST, "fail", note="断线")

    assert session.undo() == HOST
    assert session.answer(*HOST) == host_first
    assert session.undo() == SETTLE
    assert session.answer(*SETTLE) is None
    assert session.undo() == HOST
    assert session.answers == {}
    assert session.undo() is None


def test_undo_with_nothing_to_undo_returns_none_and_changes_nothing(session: Session) -> None:
    revision, events = session.revision, len(session.events)
    assert not session.can_undo
    assert session.undo() is None
    assert (session.revision, len(session.events)) == (revision, events)


def test_undo_is_logged_and_bumps_the_revision(session: Session) -> None:
    session.record(*HOST, "pass")
    revision = session.revision
    session.undo()
    assert session.revision == revision + 1
    assert session.events[-1].what == "undone"
    assert session.events[-1].who == "王伟"
    assert session.events[-1].detail == {"checklist_id": NET, "item_id": "host-connection"}


def test_undo_after_sign_is_refused(session: Session) -> None:
    session.record(*HOST, "pass")
    session.sign("王伟", "李娜")
    assert not session.can_undo
    with pytest.raises(VisitError):
        session.undo()
    assert session.answer(*HOST) is not None


# -- progress ------------------------------------------------------------------------------


def test_progress_per_checklist_and_overall(session: Session) -> None:
    assert str(session.progress()) == "0/6"
    assert session.progress().fraction == 0.0

    pass_item(session, CHIP)
    session.record(*STICKER, "na")
    session.record(*HOST, "fail", note="网线松动")

    assert (session.progress(CARD).answered, session.progress(CARD).applicable) == (2, 4)
    assert (session.progress(NET).answered, session.progress(NET).applicable) == (1, 2)
    overall = session.progress()
    assert str(overall) == "3/6"
    assert overall.fraction == pytest.approx(0.5)
    assert not overall.done


def test_progress_is_done_when_every_applicable_item_is_answered(session: Session) -> None:
    answer_all(session, ALL_APPLICABLE)
    assert session.progress().done
    assert session.progress().fraction == 1.0
    assert str(session.progress(NET)) == "2/2"


def test_re_answering_does_not_count_twice(session: Session) -> None:
    session.record(*HOST, "pass")
    session.record(*HOST, "pass", note="再次确认")
    assert session.progress(NET).answered == 1


# -- verdict -------------------------------------------------------------------------------


def test_a_fresh_visit_is_incomplete(session: Session) -> None:
    assert session.verdict() is Verdict.INCOMPLETE


def test_everything_passed_is_a_pass(session: Session) -> None:
    answer_all(session, ALL_APPLICABLE)
    assert session.verdict() is Verdict.PASS


def test_optional_unanswered_items_do_not_make_the_visit_incomplete(session: Session) -> None:
    answer_all(session, REQUIRED_APPLICABLE)
    assert session.answer(*STICKER) is None
    assert session.verdict() is Verdict.PASS


def test_a_required_item_left_unanswered_is_incomplete(session: Session) -> None:
    answer_all(session, [key for key in ALL_APPLICABLE if key != SETTLE])
    assert session.verdict() is Verdict.INCOMPLETE
    assert [(c.id, i.id) for c, i in session.missing_required()] == [SETTLE]


def test_incomplete_comes_before_fail(session: Session) -> None:
    session.record(*CHIP, "fail", note="芯片读卡失败", values={"last4": "1111"})
    assert session.verdict() is Verdict.INCOMPLETE


def test_only_minor_failures_pass_with_remarks(session: Session) -> None:
    answer_all(session, [key for key in ALL_APPLICABLE if key not in (CLOCK, STICKER)])
    session.record(*CLOCK, "fail", note="时钟慢了5分钟")
    session.record(*STICKER, "fail", note="标识褪色")
    assert session.verdict() is Verdict.PASS_WITH_REMARKS


@pytest.mark.parametrize("failed", [CHIP, COPIES, HOST, SETTLE], ids=lambda key: key[1])
def test_a_critical_or_major_failure_fails_the_visit(
    session: Session, failed: tuple[str, str]
) -> None:
    answer_all(session, [key for key in ALL_APPLICABLE if key != failed])
    values = {"last4": "1111"} if failed == CHIP else None
    session.record(*failed, "fail", note="不通过", values=values)
    session.record(*CLOCK, "fail", note="时钟慢了")  # a minor failure besides changes nothing
    assert session.verdict() is Verdict.FAIL


def test_not_applicable_answers_are_neither_missing_nor_failures(session: Session) -> None:
    for key in REQUIRED_APPLICABLE:
        session.record(*key, Outcome.NA, note="商户不受理此业务")
    assert session.failures() == []
    assert session.verdict() is Verdict.PASS


def test_undoing_a_failure_restores_the_verdict(session: Session) -> None:
    answer_all(session, REQUIRED_APPLICABLE)
    session.record(*SETTLE, "fail", note="结算失败")
    assert session.verdict() is Verdict.FAIL
    session.undo()
    assert session.verdict() is Verdict.PASS


# -- sign-off and the lifecycle ------------------------------------------------------------


def test_sign_records_both_names_and_the_time_and_locks_the_visit(
    session: Session, clock: FakeClock
) -> None:
    answer_all(session, REQUIRED_APPLICABLE)
    clock.now = datetime(2024, 5, 6, 17, 30, tzinfo=BEIJING)
    signoff = session.sign(" 王伟 ", " 李娜（店长） ")

    assert signoff.technician == "王伟"
    assert signoff.merchant_representative == "李娜（店长）"
    assert signoff.at == "2024-05-06T17:30:00+08:00"
    assert session.signoff == signoff
    assert session.status is Status.SIGNED
    assert not session.editable
    assert session.content_sha256 == session.content_hash()
    event = session.events[-1]
    assert (event.what, event.who) == ("signed", "王伟")
    assert event.detail["merchant_representative"] == "李娜（店长）"
    assert event.detail["verdict"] == "pass"


@pytest.mark.parametrize(
    ("technician", "merchant"), [("", "李娜"), ("王伟", ""), ("   ", "李娜"), ("王伟", " \t ")]
)
def test_sign_needs_both_names(session: Session, technician: str, merchant: str) -> None:
    revision = session.revision
    with pytest.raises(VisitError):
        session.sign(technician, merchant)
    assert session.status is Status.DRAFT
    assert session.signoff is None
    assert session.content_sha256 is None
    assert session.revision == revision


def test_a_signed_visit_is_read_only(session: Session) -> None:
    session.record(*HOST, "pass")
    session.sign("王伟", "李娜")
    answers = dict(session.answers)

    with pytest.raises(VisitError):
        session.record(*HOST, "fail", note="后来发现断线")
    with pytest.raises(VisitError):
        session.record(*SETTLE, "pass")
    with pytest.raises(VisitError):
        session.sign("王伟", "张三")
    assert session.answers == answers
    assert session.signoff is not None
    assert session.signoff.merchant_representative == "李娜"


def test_an_incomplete_visit_can_still_be_signed_with_that_verdict(session: Session) -> None:
    session.sign("王伟", "李娜")
    assert session.events[-1].detail["verdict"] == "incomplete"


@pytest.mark.parametrize("status", [Status.SYNCED, Status.REVIEWED])
def test_a_draft_cannot_be_marked_synced_or_reviewed(session: Session, status: Status) -> None:
    revision = session.revision
    with pytest.raises(VisitError):
        session.mark(status, "sync-service")
    assert session.status is Status.DRAFT
    assert session.revision == revision


def test_a_signed_visit_is_synced_then_reviewed(session: Session) -> None:
    session.sign("王伟", "李娜")
    session.mark(Status.SYNCED, "sync-service", {"server": "acq-01"})
    assert session.to_dict()["status"] == "synced"
    session.mark(Status.REVIEWED, "审核员赵敏")
    assert session.to_dict()["status"] == "reviewed"
    assert [(e.what, e.who) for e in session.events[-2:]] == [
        ("synced", "sync-service"),
        ("reviewed", "审核员赵敏"),
    ]
    assert session.events[-2].detail == {"server": "acq-01"}
    with pytest.raises(VisitError):
        session.record(*HOST, "pass")


def test_mark_cannot_reopen_a_signed_visit_for_editing(session: Session) -> None:
    """Signing makes a visit read-only; `mark` is for the later steps (synced, reviewed) only.

    Marking a signed visit DRAFT again would let its answers change after both people signed.
    """
    session.record(*HOST, "pass")
    session.sign("王伟", "李娜")
    with pytest.raises(VisitError):
        session.mark(Status.DRAFT, "someone")
    assert session.status is Status.SIGNED
    assert not session.editable


def test_every_change_appends_an_event_and_bumps_the_revision(session: Session) -> None:
    pass_item(session, CHIP)
    session.record(*HOST, "fail", note="网线松动")
    session.record(*HOST, "pass", note="已更换网线")
    session.undo()
    session.sign("王伟", "李娜")
    session.mark(Status.SYNCED, "sync-service")

    assert [(e.what, e.who) for e in session.events] == [
        ("created", "王伟"),
        ("answered", "王伟"),
        ("answered", "王伟"),
        ("answered", "王伟"),
        ("undone", "王伟"),
        ("signed", "王伟"),
        ("synced", "sync-service"),
    ]
    assert session.revision == len(session.events) == 7
    times = [e.at for e in session.events]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert session.events[2].detail["note"] == "网线松动"
    assert session.events[2].detail["outcome"] == "fail"


def test_refused_changes_leave_no_event(session: Session) -> None:
    for attempt in (
        lambda: session.record(*HOST, "fail"),
        lambda: session.record(*TAP, "pass"),
        lambda: session.record(*CHIP, "pass", values={"last4": "abc"}),
        lambda: session.sign("", ""),
        lambda: session.mark(Status.SYNCED, "x"),
    ):
        with pytest.raises(VisitError):
            attempt()
    assert [e.what for e in session.events] == ["created"]
    assert session.revision == 1


# -- card data -----------------------------------------------------------------------------


def test_a_card_number_in_a_note_is_stored_masked(session: Session) -> None:
    answer = session.record(*HOST, "fail", note=f"测试卡 {VISA_TEST_PAN} 交易超时")
    assert answer.note == "测试卡 ****1111 交易超时"


def test_a_grouped_card_number_in_a_note_is_stored_masked(session: Session) -> None:
    answer = session.record(*HOST, "pass", note="银联卡 6222 0212 3456 7890 128 通过")
    assert answer.note == "银联卡 ****0128 通过"


def test_a_card_number_in_a_field_value_is_stored_masked(session: Session) -> None:
    answer = session.record(*CLOCK, "pass", values={"shown": f"屏幕显示卡号{VISA_TEST_PAN}"})
    assert answer.values == {"shown": "屏幕显示卡号****1111"}


def test_a_full_card_number_never_reaches_the_stored_visit_or_its_log(session: Session) -> None:
    session.record(*HOST, "fail", note=f"卡号 {VISA_TEST_PAN}")
    session.record(*CLOCK, "pass", values={"shown": VISA_TEST_PAN})
    stored = json.dumps(session.to_dict(), ensure_ascii=False)
    logged = json.dumps([e.to_dict() for e in session.events], ensure_ascii=False)
    assert VISA_TEST_PAN not in stored
    assert VISA_TEST_PAN not in logged
    assert "****1111" in stored


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (VISA_TEST_PAN, "1111"),
        ("6222 0212 3456 7890 128", "0128"),  # the last four, never the first ("6222")
        ("62220212345678", "5678"),  # not a card number: still only its last four digits
        ("12345", "2345"),
        ("１２３４", "1234"),  # full-width digits, as a Chinese input method types them
        ("六二二二〇一二八", "0128"),
        ("12a34", "1234"),
        (" 0128 ", "0128"),
    ],
)
def test_a_last4_field_keeps_the_last_four_digits_typed(
    session: Session, typed: str, kept: str
) -> None:
    answer = session.record(*CHIP, "pass", values={"last4": typed})
    assert answer.values == {"last4": kept}
    # Neither the answer nor its line in the event log keeps more than the four digits.
    recorded = json.dumps([answer.to_dict(), session.events[-1].to_dict()], ensure_ascii=False)
    assert typed.strip() not in recorded or typed.strip() == kept


def test_track_data_in_a_note_is_refused_and_nothing_is_recorded(session: Session) -> None:
    revision, events = session.revision, len(session.events)
    with pytest.raises(CardDataError):
        session.record(*HOST, "fail", note=f"读卡器输出 {TRACK2}")
    assert session.answer(*HOST) is None
    assert (session.revision, len(session.events)) == (revision, events)
    assert not session.can_undo
    assert session.position is None


def test_track_data_in_a_field_value_is_refused_and_nothing_is_recorded(session: Session) -> None:
    revision = session.revision
    with pytest.raises(CardDataError):
        session.record(*CLOCK, "pass", values={"shown": TRACK2})
    assert session.answer(*CLOCK) is None
    assert session.revision == revision


def test_track_data_on_a_re_answer_keeps_the_previous_answer(session: Session) -> None:
    first = session.record(*HOST, "pass", note="正常")
    with pytest.raises(CardDataError):
        session.record(*HOST, "fail", note=TRACK2)
    assert session.answer(*HOST) == first
    assert session.undo() == HOST
    assert session.answer(*HOST) is None


def test_a_card_number_in_the_signatures_is_masked(session: Session) -> None:
    signoff = session.sign("王伟", f"李娜 {VISA_TEST_PAN}")
    assert signoff.merchant_representative == "李娜 ****1111"


# -- integrity -----------------------------------------------------------------------------


def test_content_hash_is_stable_across_a_round_trip(session: Session) -> None:
    pass_item(session, CHIP)
    session.record(*HOST, "fail", note="网线松动，已记录")
    draft_hash = session.content_hash()
    assert rebuild(session).content_hash() == draft_hash

    session.sign("王伟", "李娜")
    signed = rebuild(session)
    assert signed.content_hash() == session.content_hash() == session.content_sha256
    assert signed.content_sha256 == session.content_sha256


def test_content_hash_follows_the_answers(session: Session) -> None:
    before = session.content_hash()
    session.record(*HOST, "pass")
    assert session.content_hash() != before
    session.undo()
    assert session.content_hash() == before


def test_a_draft_is_never_altered(session: Session) -> None:
    session.record(*HOST, "pass")
    assert session.content_sha256 is None
    assert not session.altered


def test_a_signed_visit_is_not_altered_even_after_sync_and_review(session: Session) -> None:
    session.record(*HOST, "fail", note="网线松动")
    session.sign("王伟", "李娜")
    assert not session.altered
    session.mark(Status.SYNCED, "sync-service")
    session.mark(Status.REVIEWED, "赵敏")
    assert not session.altered
    assert not rebuild(session).altered


def test_changing_a_note_after_signing_makes_the_visit_altered(session: Session) -> None:
    session.record(*HOST, "fail", note="网线松动")
    session.sign("王伟", "李娜")
    data = session.to_dict()
    [answer] = data["answers"]
    answer["note"] = "一切正常"

    tampered = rebuild(session, data)
    assert tampered.altered
    assert not rebuild(session).altered


def test_changing_the_signoff_after_signing_makes_the_visit_altered(session: Session) -> None:
    session.sign("王伟", "李娜")
    data = session.to_dict()
    data["signoff"]["merchant_representative"] = "张三"
    assert rebuild(session, data).altered


# -- persistence ---------------------------------------------------------------------------


def test_round_trip_keeps_answers_position_status_and_signoff(session: Session) -> None:
    pass_item(session, CHIP)
    session.record(*COPIES, "pass", values={"copies": "2"})
    session.record(*HOST, "fail", note="主机连接超时")
    session.sign("王伟", "李娜")

    restored = rebuild(session)

    assert restored.uuid == session.uuid
    assert restored.created_at == session.created_at
    assert restored.info == session.info
    assert restored.refs == session.refs
    assert restored.answers == session.answers
    assert restored.position == HOST
    assert restored.status is Status.SIGNED
    assert restored.signoff == session.signoff
    assert restored.revision == session.revision
    assert restored.events == session.events
    assert restored.verdict() is session.verdict() is Verdict.INCOMPLETE
    assert restored.to_dict() == session.to_dict()
    with pytest.raises(VisitError):
        restored.record(*SETTLE, "pass")


def test_a_draft_round_trip_has_no_signoff_and_stays_editable(session: Session) -> None:
    session.record(*HOST, "pass")
    restored = rebuild(session)
    assert restored.status is Status.DRAFT
    assert restored.signoff is None
    assert restored.content_sha256 is None
    assert restored.editable


def test_undo_still_works_after_a_round_trip(session: Session) -> None:
    first = session.record(*HOST, "fail", note="断线")
    session.record(*SETTLE, "pass")
    session.record(*HOST, "pass", note="重新插好网线")

    restored = rebuild(session)
    assert restored.can_undo
    assert restored.undo() == HOST
    assert restored.answer(*HOST) == first
    assert restored.undo() == SETTLE
    assert restored.answer(*SETTLE) is None
    assert restored.undo() == HOST
    assert restored.answers == {}
    assert restored.undo() is None


def test_a_round_trip_continues_the_revision_count(session: Session) -> None:
    session.record(*HOST, "pass")
    restored = rebuild(session)
    revision = restored.revision
    assert restored.record(*HOST, "pass", note="复核").revision == 2
    assert restored.revision == revision + 1


def test_to_dict_includes_the_verdict_and_checklist_refs(session: Session) -> None:
    data = session.to_dict()
    assert data["verdict"] == "incomplete"
    assert data["status"] == "draft"
    assert [ref["id"] for ref in data["checklists"]] == [CARD, NET]
    assert all(len(ref["sha256"]) == 64 for ref in data["checklists"])


# -- where to go next ----------------------------------------------------------------------


def test_next_unanswered_starts_at_the_first_item(session: Session) -> None:
    assert session.next_unanswered() == CHIP


def test_next_unanswered_skips_answered_items(session: Session) -> None:
    pass_item(session, CHIP)
    session.record(*COPIES, "na", note="无打印机")
    assert session.next_unanswered() == CLOCK
    assert session.next_unanswered(after=CHIP) == CLOCK


def test_next_unanswered_skips_items_that_do_not_apply(session: Session) -> None:
    # tap-sale sits between sticker and the network checklist, but this terminal has no NFC.
    assert session.next_unanswered(after=STICKER) == HOST


def test_next_unanswered_wraps_round(session: Session) -> None:
    session.record(*SETTLE, "pass")
    assert session.next_unanswered(after=HOST) == CHIP
    assert session.next_unanswered(after=SETTLE) == CHIP


def test_next_unanswered_wraps_round_to_an_earlier_gap(session: Session) -> None:
    answer_all(session, [key for key in ALL_APPLICABLE if key != COPIES])
    assert session.next_unanswered(after=CLOCK) == COPIES


def test_next_unanswered_includes_optional_items(session: Session) -> None:
    answer_all(session, REQUIRED_APPLICABLE)
    assert session.next_unanswered(after=SETTLE) == STICKER


def test_next_unanswered_is_none_when_everything_applicable_is_answered(session: Session) -> None:
    answer_all(session, ALL_APPLICABLE)
    assert session.next_unanswered() is None
    assert session.next_unanswered(after=CLOCK) is None


def test_next_unanswered_offers_the_when_item_to_a_terminal_that_has_it(
    checklists: list[Checklist],
) -> None:
    session = Session.start(
        make_info(capabilities=("chip", "contactless")), checklists, clock=FakeClock()
    )
    assert session.next_unanswered(after=STICKER) == TAP
