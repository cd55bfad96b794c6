"""What a visit is about, and which visit details stop it from starting."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pos_tui.domain import identifiers
from pos_tui.domain.checklist import CAPABILITIES, Checklist
from pos_tui.domain.identifiers import LOOKS_LIKE_A_CARD
from pos_tui.domain.loader import load_checklist
from pos_tui.domain.redact import CardDataError, luhn_valid
from pos_tui.domain.session import Session, Status, VisitError
from pos_tui.domain.visit_info import JobType, ReactivationReason, VisitInfo

FIXED = datetime(2024, 5, 6, 9, 0, tzinfo=timezone(timedelta(hours=8)))

SMALL_CHECKLIST = """\
id: preflight
version: "1.0"
title: {zh: 准备, en: Preflight}
items:
  - id: power
    title: {zh: 电源, en: Power}
    severity: major
"""


def fixed_clock() -> datetime:
    return FIXED


@pytest.fixture
def checklists(tmp_path: Path) -> list[Checklist]:
    path = tmp_path / "preflight.yaml"
    path.write_text(textwrap.dedent(SMALL_CHECKLIST), encoding="utf-8")
    return [load_checklist(path)]


def make_info(**changes: Any) -> VisitInfo:
    values: dict[str, Any] = {
        "merchant_name": "北京朝阳便利店",
        "merchant_number": "898110053990012",
        "terminal_number": "87654321",
        "technician": "陈静",
        "capabilities": ("chip", "magstripe", "printer"),
    }
    values.update(changes)
    return VisitInfo(**values)


# -- what is fine --------------------------------------------------------------------------


def test_complete_details_have_no_problems_and_no_warnings() -> None:
    info = make_info()
    assert info.problems() == {}
    assert info.warnings() == {}


def test_every_capability_is_known() -> None:
    assert make_info(capabilities=CAPABILITIES).problems() == {}
    assert make_info(capabilities=()).problems() == {}


@pytest.mark.parametrize(
    "job_type", [JobType.NEW_INSTALL, JobType.REPLACEMENT, JobType.RELOCATION, "relocation"]
)
def test_job_types_other_than_reactivation_need_no_reason(job_type: str) -> None:
    assert make_info(job_type=job_type, reason="").problems() == {}


# -- required details ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["merchant_name", "merchant_number", "terminal_number", "technician"]
)
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_required_details_must_be_filled_in(name: str, blank: str) -> None:
    problems = make_info(**{name: blank}).problems()
    assert set(problems) == {name}
    if not blank:
        assert problems[name].en == "required"
        assert problems[name].zh == "必填"


def test_all_missing_details_are_reported_at_once() -> None:
    problems = VisitInfo().problems()
    assert set(problems) == {"merchant_name", "merchant_number", "terminal_number", "technician"}


@pytest.mark.parametrize("name", ["site_address", "merchant_contact", "model", "notes"])
def test_other_details_are_optional(name: str) -> None:
    assert make_info(**{name: ""}).problems() == {}


# -- merchant number -----------------------------------------------------------------------


@pytest.mark.parametrize("number", ["89811005399001", "8981100539900123", "1", "商户号"])
def test_a_merchant_number_must_be_15_characters(number: str) -> None:
    problems = make_info(merchant_number=number).problems()
    assert set(problems) == {"merchant_number"}
    assert "15" in problems["merchant_number"].en
    assert f"now {len(number)}" in problems["merchant_number"].en


@pytest.mark.parametrize("number", ["89811005399A012", "ABCDEFGHIJKLMNO", "898-110-053-990"])
def test_a_15_character_merchant_number_with_letters_is_only_a_warning(number: str) -> None:
    info = make_info(merchant_number=number)
    assert info.problems() == {}
    warnings = info.warnings()
    assert set(warnings) == {"merchant_number"}
    assert warnings["merchant_number"].zh
    assert warnings["merchant_number"].en


def test_a_wrong_length_merchant_number_is_a_problem_not_a_warning() -> None:
    info = make_info(merchant_number="ABC")
    assert "merchant_number" in info.problems()
    assert info.warnings() == {}


# -- terminal number -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "1234567",  # too short
        "123456789",  # too long
        "1234567A",  # a letter
        "1234 567",  # a space
        "１２３４５６７８",  # full-width digits: eight characters, but not ASCII digits
    ],
)
def test_a_terminal_number_must_be_8_digits(number: str) -> None:
    problems = make_info(terminal_number=number).problems()
    assert set(problems) == {"terminal_number"}
    assert "8" in problems["terminal_number"].en


def test_a_terminal_number_may_start_with_zero() -> None:
    assert make_info(terminal_number="00000001").problems() == {}


# -- job type and reason -------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "because", "DEVICE_FAULT"])
def test_a_reactivation_needs_a_known_reason(reason: str) -> None:
    problems = make_info(job_type=JobType.REACTIVATION, reason=reason).problems()
    assert set(problems) == {"reason"}


@pytest.mark.parametrize("reason", list(ReactivationReason))
def test_every_known_reactivation_reason_is_accepted(reason: ReactivationReason) -> None:
    assert make_info(job_type="reactivation", reason=str(reason)).problems() == {}


def test_an_unknown_job_type_is_a_problem() -> None:
    assert set(make_info(job_type="repair").problems()) == {"job_type"}


# -- capabilities --------------------------------------------------------------------------


def test_an_unknown_capability_is_a_problem_naming_it() -> None:
    problems = make_info(capabilities=("chip", "nfc", "bluetooth")).problems()
    assert set(problems) == {"capabilities"}
    assert "bluetooth, nfc" in problems["capabilities"].en


# -- dict round trip -----------------------------------------------------------------------


def test_round_trip_through_a_dict() -> None:
    info = make_info(
        job_type=JobType.REACTIVATION,
        reason=ReactivationReason.SYSTEM_UPGRADE,
        site_address="北京市朝阳区建国路88号",
        merchant_contact="刘经理 13800000000",
        notes="商户要求下午安装",
    )
    data = info.to_dict()
    assert data["capabilities"] == ["chip", "magstripe", "printer"]
    assert VisitInfo.from_dict(data) == info


def test_from_dict_ignores_unknown_keys_and_defaults_missing_ones() -> None:
    info = VisitInfo.from_dict({"merchant_name": "小店", "legacy_field": 1})
    assert info.merchant_name == "小店"
    assert info.capabilities == ()
    assert info.job_type == JobType.NEW_INSTALL


# -- starting a visit ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"merchant_name": ""}, "merchant_name"),
        ({"merchant_number": ""}, "merchant_number"),
        ({"merchant_number": "12345"}, "merchant_number"),
        ({"terminal_number": ""}, "terminal_number"),
        ({"terminal_number": "1234567X"}, "terminal_number"),
        ({"technician": " "}, "technician"),
        ({"job_type": "reactivation", "reason": ""}, "reason"),
        ({"capabilities": ("chip", "nfc")}, "capabilities"),
    ],
)
def test_start_refuses_bad_visit_details(
    checklists: list[Checklist], changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(VisitError) as caught:
        Session.start(make_info(**changes), checklists, clock=fixed_clock)
    assert field in str(caught.value)
    assert field in caught.value.text.zh


def test_start_accepts_a_merchant_number_that_only_warns(checklists: list[Checklist]) -> None:
    info = make_info(merchant_number="89811005399A012")
    session = Session.start(info, checklists, clock=fixed_clock)
    assert session.status is Status.DRAFT
    assert session.info.merchant_number == "89811005399A012"


def test_start_accepts_a_reactivation_with_its_reason(checklists: list[Checklist]) -> None:
    info = make_info(job_type=JobType.REACTIVATION, reason=ReactivationReason.DEVICE_FAULT)
    session = Session.start(info, checklists, clock=fixed_clock)
    assert session.info.reason == "device_fault"


def test_start_keeps_chinese_details(checklists: list[Checklist]) -> None:
    session = Session.start(
        make_info(site_address="上海市浦东新区世纪大道100号", notes="门店二楼收银台"),
        checklists,
        clock=fixed_clock,
    )
    assert session.info.merchant_name == "北京朝阳便利店"
    assert session.info.site_address == "上海市浦东新区世纪大道100号"
    assert session.info.notes == "门店二楼收银台"
    assert session.created_at == "2024-05-06T09:00:00+08:00"


def test_start_masks_a_card_number_in_free_text_details(checklists: list[Checklist]) -> None:
    session = Session.start(
        make_info(notes="测试卡 4111111111111111", merchant_contact="卡 4111-1111-1111-1111"),
        checklists,
        clock=fixed_clock,
    )
    assert session.info.notes == "测试卡 ****1111"
    assert session.info.merchant_contact == "卡 ****1111"


def test_start_refuses_track_data_in_the_details(checklists: list[Checklist]) -> None:
    with pytest.raises(CardDataError):
        Session.start(
            make_info(notes=";4111111111111111=25121010000000000?"), checklists, clock=fixed_clock
        )


# -- every detail is guarded ---------------------------------------------------------------

FREE_TEXT_DETAILS = (
    "technician",
    "model",
    "device_id",
    "merchant_name",
    "site_address",
    "merchant_contact",
    "notes",
    "reason",
    "language",
    "registered_name",
    "province",
    "city",
    "district",
    "street",
    "street_number",
)
CARD_WRITTEN_AS = [
    "6222021234567890128",
    "６２２２　０２１２　３４５６　７８９０　１２８",
    "6222.0212.3456.7890.128",
    "6222\n0212\n3456\n7890\n128",
    "六二二二〇二一二三四五六七八九〇一二八",
]


@pytest.mark.parametrize("written", CARD_WRITTEN_AS)
@pytest.mark.parametrize("name", FREE_TEXT_DETAILS)
def test_start_masks_a_card_number_in_every_free_text_detail(
    checklists: list[Checklist], name: str, written: str
) -> None:
    session = Session.start(make_info(**{name: f"张伟 {written}"}), checklists, clock=fixed_clock)
    assert getattr(session.info, name) == "张伟 ****0128"


def test_a_serial_that_is_no_tusn_is_guarded_as_text(checklists: list[Checklist]) -> None:
    # Thirteen zeros pass the Luhn check: in a serial that is not a TUSN they are masked.
    info = make_info(terminal_serial="SN 0000 0000 0000 0 / A920")
    session = Session.start(info, checklists, clock=fixed_clock)
    assert session.info.terminal_serial == "SN ****0000 / A920"


def test_the_event_log_names_the_technician_guarded(checklists: list[Checklist]) -> None:
    session = Session.start(
        make_info(technician="陈静 6222021234567890128"), checklists, clock=fixed_clock
    )
    assert [event.who for event in session.events] == ["陈静 ****0128"]


@pytest.mark.parametrize("name", FREE_TEXT_DETAILS)
def test_start_refuses_track_data_in_any_detail(checklists: list[Checklist], name: str) -> None:
    with pytest.raises(CardDataError):
        Session.start(
            make_info(**{name: "%B4111111111111111^ZHANG/SAN^2512101?"}),
            checklists,
            clock=fixed_clock,
        )


@pytest.mark.parametrize(
    "name",
    [
        *("merchant_number", "terminal_number", "terminal_serial", "tusn", "pinpad_serial"),
        *("sim_iccid", "credit_code", "mcc", "work_order"),
    ],
)
def test_track_data_in_an_identifier_is_a_problem_of_that_field(name: str) -> None:
    info = make_info(**{name: ";4111111111111111=2512101?"})
    assert info.problems()[name] == LOOKS_LIKE_A_CARD
    with pytest.raises(CardDataError):
        info.guarded()


def test_guarded_leaves_ordinary_details_as_they_are() -> None:
    info = make_info(
        technician="陈静",
        terminal_serial="000002PAX0123456789",
        model="PAX A920",
        device_id="6f1c2d0e-1234-4b5a-9c8d-0123456789ab",
        site_address="北京市朝阳区建国路88号",
        merchant_contact="刘经理 138 0013 8000",
        notes="终端号 87654321，参考号 123456789012，金额 ¥1,234.56，2026-12-01 07:30:50",
    )
    assert info.guarded() == info


def test_a_tusn_serial_is_kept_whole_even_when_it_passes_the_luhn_check(
    checklists: list[Checklist],
) -> None:
    # A six-digit maker code and a serial, 19 digits passing the Luhn check.
    serial = next(
        f"00000212345678901{n:02d}" for n in range(100) if luhn_valid(f"00000212345678901{n:02d}")
    )
    session = Session.start(make_info(terminal_serial=serial), checklists, clock=fixed_clock)
    assert session.info.terminal_serial == serial


# -- identifiers that look like a card number ----------------------------------------------

AMEX_AS_MERCHANT_NUMBER = [
    "378282246310005",
    "371449635398431",
    "３７８２８２２４６３１０００５",
    "37828224631000５",
]


@pytest.mark.parametrize("number", AMEX_AS_MERCHANT_NUMBER)
def test_a_merchant_number_that_is_a_card_number_is_a_problem(number: str) -> None:
    problems = make_info(merchant_number=number).problems()
    assert set(problems) == {"merchant_number"}
    assert problems["merchant_number"] == LOOKS_LIKE_A_CARD
    assert "card number" in problems["merchant_number"].en
    assert "银行卡号" in problems["merchant_number"].zh


@pytest.mark.parametrize("number", [*AMEX_AS_MERCHANT_NUMBER, "3782 822463 10005"])
def test_start_refuses_a_card_number_as_the_merchant_number(
    checklists: list[Checklist], number: str
) -> None:
    with pytest.raises(VisitError) as caught:
        Session.start(make_info(merchant_number=number), checklists, clock=fixed_clock)
    message = caught.value.text
    assert "merchant_number" in message.en
    assert "card number" in message.en
    for text in (message.en, message.zh, str(caught.value)):
        assert "378282246310005" not in text
        assert "0005" not in text


def test_guarded_refuses_a_card_number_as_the_merchant_number_in_both_languages() -> None:
    with pytest.raises(CardDataError) as caught:
        make_info(merchant_number="378282246310005").guarded()
    assert "merchant number" in str(caught.value)
    assert "card number" in str(caught.value)
    assert "商户号" in caught.value.message_zh
    assert "银行卡号" in caught.value.message_zh
    assert "0005" not in str(caught.value) + caught.value.message_zh


def test_a_merchant_number_that_passes_the_luhn_check_but_no_brand_is_kept() -> None:
    # One merchant number in ten passes the Luhn check; none of these is a card.
    for number in ("102100058120002", "898110053990012"[:-1] + "7", "401310000000003"):
        info = make_info(merchant_number=number)
        if luhn_valid(number):
            assert info.problems() == {}
            assert info.guarded().merchant_number == number


def test_a_serial_that_is_a_card_number_is_refused() -> None:
    info = make_info(terminal_serial="4111 1111 1111 1111")
    assert info.problems() == {"terminal_serial": LOOKS_LIKE_A_CARD}
    with pytest.raises(CardDataError):
        info.guarded()


def test_the_exceptions_are_named_in_one_place() -> None:
    assert set(identifiers.FIELDS) >= {"merchant_number", "terminal_number", "terminal_serial"}
    assert {"iccid", "tusn"} <= set(identifiers.FIELDS)
    for rule in identifiers.FIELDS.values():
        assert rule.label.zh
        assert rule.label.en


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("89860012345678901236", None),  # worked out below
        ("8986001234567890123", None),
        ("8986001234567890124", False),  # wrong check digit
        ("8886001234567890123", False),  # not a telecom number
        ("898600123456789", False),  # too short
    ],
)
def test_iccid_rule(value: str, valid: bool | None) -> None:
    if valid is None:
        value = value[:-1] + next(d for d in "0123456789" if luhn_valid(value[:-1] + d))
        assert identifiers.ICCID.problem(value) is None
        assert identifiers.ICCID.guard(value) == value
    else:
        problem = identifiers.ICCID.problem(value)
        assert problem is not None
        assert "ICCID" in problem.en and "ICCID" in problem.zh


# -- what acquirers require (PBOC 银发〔2021〕259号) ------------------------------------------

ICCID = "8986001234567890120"  # passes the Luhn check, as an ICCID's check digit must


def test_the_new_details_are_optional() -> None:
    assert make_info().problems() == {}


def test_an_iccid_is_checked_by_its_own_digit_and_kept_whole(checklists: list[Checklist]) -> None:
    assert set(make_info(sim_iccid=ICCID[:-1] + "1").problems()) == {"sim_iccid"}
    session = Session.start(make_info(sim_iccid=ICCID), checklists, clock=fixed_clock)
    # Nineteen digits that pass the Luhn check: as free text they would be masked.
    assert session.info.sim_iccid == ICCID


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"latitude": "31.2304", "longitude": "121.4737", "accuracy_m": "15"}, set()),
        ({"latitude": "-33.86", "longitude": "151.21"}, set()),
        ({"latitude": "91", "longitude": "121"}, {"latitude"}),
        ({"latitude": "31", "longitude": "181"}, {"longitude"}),
        ({"latitude": "北纬31", "longitude": "121"}, {"latitude"}),
        ({"latitude": "31.2"}, {"longitude"}),
        ({"longitude": "121.4"}, {"latitude"}),
        ({"accuracy_m": "15"}, {"accuracy_m"}),
        ({"latitude": "31", "longitude": "121", "accuracy_m": "-3"}, {"accuracy_m"}),
        ({"latitude": "NaN", "longitude": "121"}, {"latitude"}),
    ],
)
def test_a_position_is_two_numbers_in_range(changes: dict[str, str], fields: set[str]) -> None:
    assert set(make_info(**changes).problems()) == fields


def test_the_address_is_kept_in_parts_and_in_one_line(checklists: list[Checklist]) -> None:
    info = make_info(
        province="北京市", city="北京市", district="朝阳区", street="建国路", street_number="88号"
    )
    session = Session.start(info, checklists, clock=fixed_clock)
    assert session.info.district == "朝阳区"
    assert session.info.site_address == "北京市 北京市 朝阳区 建国路 88号"
    assert session.info.detail("site_address") == session.info.install_address
    # A visit from before the parts keeps its one line.
    assert (
        make_info(site_address="北京市朝阳区建国路88号").install_address == "北京市朝阳区建国路88号"
    )


def test_the_arrival_is_recorded_at_the_start_not_typed(checklists: list[Checklist]) -> None:
    session = Session.start(make_info(), checklists, clock=fixed_clock)
    assert session.arrived_at == "2024-05-06T09:00:00+08:00" == session.created_at
    assert session.departed_at is None
    session.record("preflight", "power", "pass")
    session.sign("陈静", "王老板")
    assert session.departed_at == session.signoff.at  # type: ignore[union-attr]


def test_a_visit_stored_before_the_new_details_reads_and_hashes_as_it_was(
    checklists: list[Checklist],
) -> None:
    # What VisitInfo.to_dict wrote before: a signed visit's hash covers exactly these keys.
    old = {
        "job_type": "new_install",
        "reason": "",
        "merchant_name": "北京朝阳便利店",
        "merchant_number": "898110053990012",
        "terminal_number": "87654321",
        "terminal_serial": "",
        "model": "",
        "capabilities": ["chip"],
        "site_address": "北京市朝阳区建国路88号",
        "merchant_contact": "",
        "technician": "陈静",
        "device_id": "",
        "notes": "",
        "language": "zh",
    }
    info = VisitInfo.from_dict(old)
    assert info.work_order == info.sim_iccid == info.province == ""
    assert info.to_dict() == old
    session = Session.start(make_info(), checklists, clock=fixed_clock)
    data = session.to_dict() | {"info": old}
    assert Session.from_dict(data, checklists).content()["info"] == old


def test_a_hand_edited_later_detail_of_the_wrong_type_reads_as_empty() -> None:
    info = VisitInfo.from_dict({"merchant_name": "小店", "sim_iccid": 8986, "latitude": ["x"]})
    assert (info.sim_iccid, info.latitude) == ("", "")


def test_new_details_are_written_only_when_filled() -> None:
    data = make_info(work_order="GD-0001", mcc="5411").to_dict()
    assert (data["work_order"], data["mcc"]) == ("GD-0001", "5411")
    assert "tusn" not in data and "latitude" not in data
    assert VisitInfo.from_dict(data) == make_info(work_order="GD-0001", mcc="5411")


@pytest.mark.parametrize("number", ["GD-20250314-0007", "WO2025031400001234", "3301-A-000123"])
def test_a_work_order_number_is_kept_whole(number: str) -> None:
    assert make_info(work_order=number).guarded().work_order == number


def test_a_work_order_number_that_is_a_card_number_is_refused() -> None:
    assert make_info(work_order="4111111111111111").problems() == {"work_order": LOOKS_LIKE_A_CARD}
