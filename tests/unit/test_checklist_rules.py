"""Answers that check themselves: the checklist keys for them, validated with exact line and
column, and the domain's rules they stand for (`answer_checks`, `Session.record`)."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pos_tui.domain import answer_checks, identifiers
from pos_tui.domain.checklist import Checklist, Condition, FieldKind
from pos_tui.domain.loader import load_checklist, load_checklists
from pos_tui.domain.session import Outcome, Session, VisitError
from pos_tui.domain.visit_info import VISIT_DETAILS, VisitInfo
from pos_tui.locations import shipped_checklists_dir

# Every new key, as a checklist author writes it. Line numbers matter below.
RULES = """\
id: rules
version: "1.0"
title: Rules
when: {job: [new_install, relocation]}
items:
  - id: parameters
    title: Terminal parameters
    severity: critical
    when: {capabilities: printer, visit: terminal_serial}
    fields:
      - id: terminal-number
        label: Terminal number
        kind: terminal_number
        expect: visit.terminal_number
      - id: serial
        label: Serial
        kind: text
        prefill: visit.terminal_serial
      - id: result
        label: Result
        kind: choice
        choices: [Balanced, Not balanced]
        fails: [Not balanced]
      - id: amount
        label: Amount
        kind: number
        min: 0.01
        max: 1000
  - id: sticker
    title: Sticker
    severity: minor
    required: false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, old: str, new: str) -> list[str]:
    assert old in RULES
    path = write(tmp_path, RULES.replace(old, new))
    result = load_checklists([path])
    assert not result.checklists
    return [str(problem).removeprefix(f"{path}:") for problem in result.problems]


# -- what a good file gives ----------------------------------------------------------------


def test_every_new_key_is_read_into_the_model(tmp_path: Path) -> None:
    checklist = load_checklist(write(tmp_path, RULES))
    assert checklist.when == Condition(jobs=frozenset({"new_install", "relocation"}))
    parameters, sticker = checklist.items
    # An item's condition includes its checklist's.
    assert parameters.when == Condition(
        capabilities=frozenset({"printer"}),
        jobs=frozenset({"new_install", "relocation"}),
        details=frozenset({"terminal_serial"}),
    )
    assert sticker.when == checklist.when
    number, serial, result, amount = parameters.fields
    assert (number.kind, number.expect, number.prefill) == (
        FieldKind.TERMINAL_NUMBER,
        "terminal_number",
        None,
    )
    assert (serial.prefill, serial.expect) == ("terminal_serial", None)
    assert result.fails == ("Not balanced",)
    # Numbers as written, not as floats: 0.01 stays 0.01.
    assert (amount.minimum, amount.maximum) == (Decimal("0.01"), Decimal("1000"))


def test_a_when_on_its_own_still_means_capabilities(tmp_path: Path) -> None:
    text = RULES.replace("when: {capabilities: printer, visit: terminal_serial}", "when: [printer]")
    checklist = load_checklist(write(tmp_path, text))
    assert checklist.items[0].when.capabilities == frozenset({"printer"})


# -- fails ---------------------------------------------------------------------------------


def test_fails_must_name_choices(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "fails: [Not balanced]", "fails: [Balanced, Unbalanced]") == [
        "23:27: items[0].fields[2].fails[1]: 'Unbalanced' is not one of the choices"
    ]


def test_fails_must_leave_a_choice_that_passes(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "fails: [Not balanced]", "fails: [Balanced, Not balanced]") == [
        "23:16: items[0].fields[2].fails: every choice fails, so the item could never pass"
    ]


def test_fails_is_a_list(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "fails: [Not balanced]", "fails: Not balanced") == [
        "23:16: items[0].fields[2].fails: expected a list, found 'Not balanced'"
    ]


def test_fails_only_with_choices(tmp_path: Path) -> None:
    old = "        expect: visit.terminal_number\n"
    assert problems_of(tmp_path, old, old + "        fails: [x]\n") == [
        "15:16: items[0].fields[0].fails: only allowed with kind: choice"
    ]


# -- min and max ---------------------------------------------------------------------------


def test_min_must_be_a_number_not_text(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "min: 0.01", 'min: "0.01"') == [
        "27:14: items[0].fields[3].min: expected a number, found the text '0.01'"
    ]


@pytest.mark.parametrize("written", ["lots", ".inf", ".nan", "true"])
def test_max_must_be_a_finite_number(tmp_path: Path, written: str) -> None:
    [problem] = problems_of(tmp_path, "max: 1000", f"max: {written}")
    assert problem.startswith("28:14: items[0].fields[3].max: expected a number, found ")


def test_max_below_min_points_at_max(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "min: 0.01", "min: 2000") == [
        "28:14: items[0].fields[3].max: 1000 is less than min 2000"
    ]


def test_min_only_with_numbers(tmp_path: Path) -> None:
    old = "        prefill: visit.terminal_serial\n"
    assert problems_of(tmp_path, old, old + "        min: 1\n") == [
        "19:14: items[0].fields[1].min: only allowed with kind: number"
    ]


# -- prefill and expect --------------------------------------------------------------------


def test_expect_is_written_visit_dot_detail(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "expect: visit.terminal_number", "expect: terminal_number") == [
        "14:17: items[0].fields[0].expect: write it as visit.<detail>, e.g. visit.terminal_number"
    ]


def test_expect_of_an_unknown_detail_suggests_the_right_one(tmp_path: Path) -> None:
    [problem] = problems_of(
        tmp_path, "expect: visit.terminal_number", "expect: visit.termnal_number"
    )
    assert problem.startswith(
        "14:17: items[0].fields[0].expect: 'visit.termnal_number' is no visit detail"
        " (did you mean 'visit.terminal_number'?); the details are work_order, "
    )


def test_prefill_cannot_name_who_ran_the_visit(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "prefill: visit.terminal_serial", "prefill: visit.technician")
    assert problem.startswith(
        "18:18: items[0].fields[1].prefill: 'visit.technician' is no visit detail;"
    )


def test_prefill_is_text(tmp_path: Path) -> None:
    assert problems_of(
        tmp_path, "prefill: visit.terminal_serial", "prefill: [visit.terminal_serial]"
    ) == ["18:18: items[0].fields[1].prefill: expected text, found a list"]


def test_no_prefill_or_expect_on_a_choice_or_last4(tmp_path: Path) -> None:
    old = "        fails: [Not balanced]\n"
    assert problems_of(tmp_path, old, old + "        prefill: visit.model\n") == [
        "24:18: items[0].fields[2].prefill: not allowed with kind: choice"
    ]


# -- identifier kinds ----------------------------------------------------------------------


def test_an_identifier_field_must_use_a_name_reports_show_whole(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "kind: text\n        prefill", "kind: iccid\n        prefill") == [
        "15:13: items[0].fields[1].id: a field of kind iccid must be named iccid, sim_iccid or"
        " sim-iccid, the name under which reports show it whole"
    ]


def test_each_identifier_kind_has_its_rule_and_a_name() -> None:
    kinds = {str(kind) for kind in FieldKind} - {"text", "number", "choice", "last4"}
    assert set(identifiers.KINDS) == kinds
    for rule in identifiers.KINDS.values():
        assert identifiers.field_ids(rule)


# -- when ----------------------------------------------------------------------------------


def test_when_job_must_be_a_job_type(tmp_path: Path) -> None:
    assert problems_of(
        tmp_path, "{job: [new_install, relocation]}", "{job: [new_install, relocaton]}"
    ) == [
        "4:27: when.job: must be one of new_install, reactivation, replacement, relocation,"
        " not 'relocaton' (did you mean 'relocation'?)"
    ]


def test_when_keys_are_checked(tmp_path: Path) -> None:
    assert problems_of(
        tmp_path, "{capabilities: printer, visit: terminal_serial}", "{capability: printer}"
    ) == ["9:12: items[0].when: unknown key 'capability' (did you mean 'capabilities'?)"]


def test_when_visit_must_be_a_visit_detail(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "visit: terminal_serial}", "visit: serial}")
    assert problem.startswith("9:42: items[0].when.visit: must be one of work_order, ")
    assert problem.endswith("not 'serial' (did you mean 'pinpad_serial'?)")


def test_an_empty_when_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "{capabilities: printer, visit: terminal_serial}", "{}") == [
        "9:11: items[0].when: name at least one of capabilities, job, visit"
    ]


def test_an_item_for_a_job_its_checklist_is_not_for_is_refused(tmp_path: Path) -> None:
    assert problems_of(
        tmp_path, "{capabilities: printer, visit: terminal_serial}", "{job: replacement}"
    ) == [
        "9:11: items[0].when: job replacement never applies in a checklist for job"
        " new_install, relocation"
    ]


# -- the rules themselves ------------------------------------------------------------------

INFO = VisitInfo(
    merchant_name="上海老王面馆",
    merchant_number="310104000000001",
    terminal_number="12345678",
    terminal_serial="N910A0012345",
    technician="张伟",
    capabilities=("printer",),
)


@pytest.fixture
def rules(tmp_path: Path) -> Checklist:
    return load_checklist(write(tmp_path, RULES))


@pytest.fixture
def session(rules: Checklist) -> Session:
    return Session.start(INFO, [rules])


def record(session: Session, outcome: str, **values: str) -> Any:
    return session.record("rules", "parameters", outcome, note="", values=values)


def test_a_value_that_differs_from_the_visit_cannot_pass(session: Session) -> None:
    with pytest.raises(VisitError) as caught:
        record(session, "pass", **{"terminal-number": "12345679"})
    assert caught.value.text.en == (
        "cannot pass: Terminal number: 12345679 entered, but the visit's terminal number is"
        " 12345678"
    )
    assert "本次访问的终端号是 12345678" in caught.value.text.zh
    assert session.answer("rules", "parameters") is None


def test_the_same_value_typed_differently_is_the_same(session: Session) -> None:
    answer = record(session, "pass", **{"terminal-number": "12345678"})
    assert answer.outcome is Outcome.PASS


def test_a_failing_choice_and_an_amount_out_of_range_cannot_pass(session: Session) -> None:
    with pytest.raises(VisitError) as caught:
        record(session, "pass", result="Not balanced", amount="1500")
    assert caught.value.text.en == (
        "cannot pass: Result: 'Not balanced' means the check failed; Amount: must be at most"
        " 1000 (1500 entered)"
    )
    with pytest.raises(VisitError, match=r"at least 0\.01"):
        record(session, "pass", amount="0")


def test_what_cannot_pass_is_recorded_with_a_fail(session: Session) -> None:
    values = {"terminal-number": "12345679", "result": "Not balanced", "amount": "1500"}
    answer = session.record("rules", "parameters", "fail", note="终端号不符", values=values)
    assert answer.values == values


def test_the_fail_note_says_what_differs_in_both_languages(rules: Checklist) -> None:
    item = rules.item("parameters")
    blocked = answer_checks.pass_problems(item, {"terminal-number": "12345679"}, INFO)
    note = answer_checks.fail_note("现场核对", item, blocked)
    assert note == (
        "现场核对 Terminal number：填写的是 12345679，本次访问的终端号是 12345678 / "
        "Terminal number: 12345679 entered, but the visit's terminal number is 12345678"
    )
    assert answer_checks.fail_note(note, item, blocked) == note  # written once


def test_nothing_is_compared_when_the_visit_does_not_know(rules: Checklist) -> None:
    serial = rules.item("parameters").field("serial")
    assert answer_checks.pass_problem(serial, "anything", VisitInfo()) is None


def test_prefilled_values_come_from_the_visit(rules: Checklist) -> None:
    item = rules.item("parameters")
    assert answer_checks.prefilled(item, INFO) == {"serial": "N910A0012345"}
    assert answer_checks.prefilled(item, VisitInfo()) == {}


@pytest.mark.parametrize(
    ("required", "severity", "needs"),
    [(True, "minor", True), (False, "critical", True), (False, "major", False)],
)
def test_na_needs_a_reason_on_required_or_critical_items(
    tmp_path: Path, required: bool, severity: str, needs: bool
) -> None:
    checklist = load_checklist(
        write(
            tmp_path,
            RULES.replace(
                "    severity: minor\n    required: false",
                f"    severity: {severity}\n    required: {str(required).lower()}",
            ),
        )
    )
    session = Session.start(INFO, [checklist])
    if needs:
        with pytest.raises(VisitError, match="needs the reason"):
            session.record("rules", "sticker", "na")
        assert session.record("rules", "sticker", "na", note="无受理标识").outcome is Outcome.NA
    else:
        assert session.record("rules", "sticker", "na").outcome is Outcome.NA


def test_a_visit_starts_without_the_checklists_of_other_jobs(rules: Checklist) -> None:
    assert Session.start(INFO, [rules]).checklists == [rules]
    replacement = VisitInfo(**{**INFO.to_dict(), "job_type": "replacement", "capabilities": ()})
    with pytest.raises(VisitError, match="at least one checklist"):
        Session.start(replacement, [rules])


def test_an_item_needing_a_visit_detail_applies_once_it_is_known(rules: Checklist) -> None:
    item = rules.item("parameters")
    assert Session.start(INFO, [rules]).applies(item)
    without = VisitInfo(**{**INFO.to_dict(), "terminal_serial": "", "capabilities": ("printer",)})
    assert not Session.start(without, [rules]).applies(item)


# -- the shipped checklists ----------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> list[Checklist]:
    loaded = load_checklists([shipped_checklists_dir()])
    assert loaded.ok, loaded.problems
    return loaded.checklists


def test_nothing_the_visit_knows_is_typed_again(shipped: list[Checklist]) -> None:
    # A field about the serial, model, TUSN or terminal number is compared with the visit
    # or starts with its value; the old and new serials of a swap are not the visit's.
    for checklist in shipped:
        for item in checklist.items:
            for item_field in item.fields:
                words = item_field.id.replace("_", "-").split("-")
                about = {"serial", "model", "tusn", "terminal"} & set(words)
                if about and "old" not in words:
                    assert item_field.prefill or item_field.expect, (item.id, item_field.id)


def test_every_compared_detail_exists(shipped: list[Checklist]) -> None:
    named = {
        name
        for checklist in shipped
        for item in checklist.items
        for item_field in item.fields
        for name in (item_field.prefill, item_field.expect)
        if name
    }
    assert named <= set(VISIT_DETAILS)
    assert {"terminal_number", "merchant_number", "terminal_serial", "site_address"} <= named


def test_the_relocation_checklist_is_for_relocations_only(shipped: list[Checklist]) -> None:
    relocation = next(c for c in shipped if c.id == "relocation")
    assert relocation.when.jobs == frozenset({"relocation"})
    assert all(item.when.jobs == frozenset({"relocation"}) for item in relocation.items)
    moved = Session.start(VisitInfo(**{**INFO.to_dict(), "job_type": "relocation"}), shipped)
    installed = Session.start(INFO, shipped)
    assert "relocation" in [c.id for c in moved.checklists]
    assert "relocation" not in [c.id for c in installed.checklists]


# -- identifiers the visit now records ----------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y43", "914403001922038216", "91110000802100433B"],
)
def test_credit_codes_with_the_right_check_character(code: str) -> None:
    assert identifiers.credit_code_check(code[:17]) == code[17]
    assert identifiers.CREDIT_CODE.problem(code) is None
    assert identifiers.CREDIT_CODE.guard(code) == code


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("91350100M000100Y44", "check character"),
        ("91350100M000100Y4", "18"),
        ("91350100M000100I43", "18"),  # I is never used: it reads as 1
        ("91350100m000100y43", "18"),  # VisitInfo.trimmed puts it in capitals first
    ],
)
def test_credit_codes_that_are_wrong(code: str, said: str) -> None:
    problem = identifiers.CREDIT_CODE.problem(code)
    assert problem is not None and said in problem.en and problem.zh


def test_a_credit_code_typed_in_small_letters_is_stored_in_capitals() -> None:
    info = VisitInfo(**{**INFO.to_dict(), "credit_code": " 91350100m000100y43 "}).trimmed()
    assert info.credit_code == "91350100M000100Y43"
    assert info.problems() == {}


@pytest.mark.parametrize(("mcc", "ok"), [("5812", True), ("581", False), ("58A2", False)])
def test_an_mcc_is_four_digits(mcc: str, ok: bool) -> None:
    assert (identifiers.MCC.problem(mcc) is None) is ok
