"""The checklist loader on good and bad files, with exact line and column."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from pos_tui.domain.checklist import Condition, FieldKind, Severity, Text
from pos_tui.domain.loader import (
    ChecklistError,
    load_checklist,
    load_checklists,
)
from pos_tui.locations import shipped_checklists_dir

GOOD = """\
id: receipt-printing
version: "1.2"
title:
  zh: 小票打印
  en: Receipt printing
order: 40
items:
  - id: masked-pan
    title: {zh: 卡号已屏蔽, en: Card number masked}
    guidance: Check both copies.
    severity: critical
    when: [printer, chip]
    fields:
      - id: last4
        label: Last 4
        kind: last4
        required: true
      - id: copies
        label: Copies
        kind: choice
        choices: ["1", "2"]
  - id: clock
    title: Terminal clock
    severity: minor
    required: false
"""


def write(tmp_path: Path, text: str, name: str = "checklist.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    result = load_checklists([path])
    assert not result.checklists
    return [str(problem) for problem in result.problems]


def test_good_file_loads_every_part(tmp_path: Path) -> None:
    checklist = load_checklist(write(tmp_path, GOOD))
    assert checklist.id == "receipt-printing"
    assert checklist.version == "1.2"
    assert checklist.title == Text(zh="小票打印", en="Receipt printing")
    assert checklist.order == 40
    assert len(checklist.sha256) == 64
    first, second = checklist.items
    assert first.severity is Severity.CRITICAL
    assert first.required is True
    assert first.guidance == Text.same("Check both copies.")
    assert first.when == Condition(capabilities=frozenset({"printer", "chip"}))
    assert [f.kind for f in first.fields] == [FieldKind.LAST4, FieldKind.CHOICE]
    assert first.fields[0].required is True
    assert first.fields[1].choices == ("1", "2")
    assert second.required is False
    assert second.when == Condition()
    assert second.applies_to([]) and not first.applies_to(["printer"])


def test_unquoted_version_says_to_quote_it(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('version: "1.2"', "version: 1.10"))
    assert problems_of(path) == [
        f'{path}:2:10: version: expected text, but YAML reads 1.10 as a number; quote it: "1.10"'
    ]


def test_no_as_title_is_a_yes_no_value(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    title: Terminal clock", "    title: NO"))
    assert problems_of(path) == [
        f"{path}:23:12: items[1].title: expected text, but YAML reads NO as a yes/no value;"
        ' quote it: "NO"'
    ]


def test_unknown_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    title: Terminal clock", "    tittle: Terminal clock"))
    assert problems_of(path) == [
        f"{path}:22:5: items[1]: missing key 'title'",
        f"{path}:23:5: items[1]: unknown key 'tittle' (did you mean 'title'?)",
    ]


def test_missing_top_level_key_points_at_the_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('version: "1.2"\n', ""))
    assert problems_of(path) == [f"{path}:1:1: the checklist: missing key 'version'"]


def test_duplicate_key_names_the_first(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("order: 40\n", "order: 40\norder: 50\n"))
    assert problems_of(path) == [f"{path}:7:1: order: duplicate key (first given at line 6)"]


def test_duplicate_item_id(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  - id: clock", "  - id: masked-pan"))
    assert problems_of(path) == [
        f"{path}:22:9: items[1].id: 'masked-pan' is already used at line 8"
    ]


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    broken = (
        GOOD.replace("severity: critical", "severity: high")
        .replace("kind: last4", "kind: digits")
        .replace("when: [printer, chip]", "when: [printer, nfc]")
        .replace("required: false", "required: nope")
    )
    path = write(tmp_path, broken)
    assert problems_of(path) == [
        f"{path}:11:15: items[0].severity: must be one of critical, major, minor, not 'high'",
        f"{path}:12:21: items[0].when: must be one of chip, magstripe, contactless, pinpad, "
        "printer, qr_display, qr_scanner, ethernet, wifi, cellular, not 'nfc'",
        f"{path}:16:15: items[0].fields[0].kind: must be one of text, number, choice, last4,"
        " iccid, tusn, terminal_number, merchant_number, credit_code, mcc, not 'digits'",
        f"{path}:25:15: items[1].required: expected true or false, found the text 'nope'",
    ]


def test_yes_is_not_a_boolean_here(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("required: false", "required: yes"))
    assert problems_of(path) == [
        f"{path}:25:15: items[1].required: expected true or false, found 'yes'"
    ]


def test_choice_without_choices_and_choices_on_text(tmp_path: Path) -> None:
    broken = GOOD.replace('        choices: ["1", "2"]\n', "").replace(
        "        kind: last4\n", '        kind: last4\n        choices: ["a"]\n'
    )
    path = write(tmp_path, broken)
    assert problems_of(path) == [
        f"{path}:17:18: items[0].fields[0].choices: only allowed with kind: choice",
        f"{path}:19:9: items[0].fields[1]: kind: choice needs a 'choices' list",
    ]


def test_invalid_pattern(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD.replace("        kind: last4\n", '        kind: last4\n        pattern: "[0-9"\n'),
    )
    [problem] = problems_of(path)
    assert problem.startswith(
        f"{path}:17:18: items[0].fields[0].pattern: not a valid regular expression:"
    )


def test_field_that_would_capture_a_pin_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("      - id: last4", "      - id: customer-pin"))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:14:13: items[0].fields[0].id: 'customer-pin' would capture")


def test_bad_slug_and_empty_items(tmp_path: Path) -> None:
    path = write(tmp_path, 'id: Receipt Printing\nversion: "1"\ntitle: R\nitems: []\n')
    assert problems_of(path) == [
        f"{path}:1:5: id: 'Receipt Printing' is not a valid id: use lowercase letters, digits"
        " and '-', starting with a letter",
        f"{path}:4:8: items: must not be empty",
    ]


def test_title_mapping_needs_both_languages(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  en: Receipt printing\n", ""))
    assert problems_of(path) == [f"{path}:4:3: title: missing key 'en'"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- just\n- a list\n", "1:1: the checklist: expected a mapping of keys, found a list"),
        ("hello\n", "1:1: the checklist: expected a mapping of keys, found 'hello'"),
        ("", "1:1: the file is empty"),
        (
            "id: [unclosed\n",
            "2:1: invalid YAML: while parsing a flow sequence, did not find expected ',' or ']'",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "2:1: invalid YAML: expected a single document in the stream,"
            " but found another document",
        ),
        (
            "id: !!python/object/apply:os.system ['true']\n",
            "1:5: the tag tag:yaml.org,2002:python/object/apply:os.system is not allowed"
            " in checklists",
        ),
        ("a: &x 1\nb: *x\n", "1:4: anchors and aliases (& and *) are not allowed in checklists"),
        ("a: " + "[" * 40 + "]" * 40 + "\n", "1:35: nesting deeper than 32 levels"),
    ],
)
def test_hostile_or_wrong_shape_input(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert f"{path}:{expected}" in problems_of(path)


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    assert problems_of(path) == [
        f"{path}:1:5: anchors and aliases (& and *) are not allowed in checklists"
    ]


def test_multi_megabyte_file_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("a: " + "x" * (3 * 1024 * 1024) + "\n", encoding="utf-8")
    assert problems_of(path) == [
        f"{path}:1:1: file is 3072 KiB; checklists are limited to 1024 KiB"
    ]


def test_binary_and_non_utf8_bytes(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"id: x\n\x89PNG\x00\x00")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("id: x\ntitle: caf\xe9\n".encode("latin-1"))
    assert problems_of(binary) == [f"{binary}:2:5: binary file, not YAML text"]
    assert problems_of(latin) == [f"{latin}:2:11: not UTF-8 text: save the file as UTF-8"]


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert load_checklist(path).id == "receipt-printing"


def test_load_checklist_raises_with_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "id: x\n")
    with pytest.raises(ChecklistError) as raised:
        load_checklist(path)
    assert [p.message for p in raised.value.problems] == [
        "the checklist: missing key 'version'",
        "the checklist: missing key 'title'",
        "the checklist: missing key 'items'",
    ]


def test_id_clash_across_files_names_both(tmp_path: Path) -> None:
    first = write(tmp_path, GOOD, "a.yaml")
    second = write(tmp_path, GOOD.replace("order: 40", "order: 41"), "b.yaml")
    result = load_checklists([tmp_path])
    assert [c.source for c in result.checklists] == [first]
    assert [str(p) for p in result.problems] == [
        f"{second}:1:5: checklist id 'receipt-printing' is also used by {first}"
    ]


def test_folders_are_expanded_and_sorted_by_order(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "b.yaml")
    write(
        tmp_path, GOOD.replace("receipt-printing", "card").replace("order: 40", "order: 5"), "a.yml"
    )
    (tmp_path / "notes.txt").write_text("not a checklist", encoding="utf-8")
    result = load_checklists([tmp_path])
    assert result.ok
    assert [c.id for c in result.checklists] == ["card", "receipt-printing"]


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = load_checklists([tmp_path / "nope.yaml", empty])
    assert [str(p) for p in result.problems] == [
        f"{tmp_path / 'nope.yaml'}:1:1: no such file or folder",
        f"{empty}:1:1: no .yaml checklist files in this folder",
    ]


def test_the_shipped_checklists_are_valid_and_bilingual() -> None:
    result = load_checklists([shipped_checklists_dir()])
    assert result.problems == []
    assert [c.id for c in result.checklists] == [
        "preflight",
        "merchant-registration",
        "relocation",
        "card-acceptance",
        "qr-payment",
        "receipt-printing",
        "data-backup",
        "merchant-walkthrough",
    ]
    for checklist in result.checklists:
        for item in checklist.items:
            assert item.title.zh != item.title.en, f"{checklist.id}/{item.id} lacks Chinese"
            assert item.guidance is not None, f"{checklist.id}/{item.id} has no guidance"


def test_large_valid_file_loads(tmp_path: Path) -> None:
    items = "".join(
        f"  - id: item-{i}\n    title: {{zh: 检查{i}, en: Check {i}}}\n    severity: minor\n"
        for i in range(2000)
    )
    path = write(tmp_path, 'id: big\nversion: "1"\ntitle: Big\nitems:\n' + items)
    checklist = load_checklist(path)
    assert len(checklist.items) == 2000
    assert checklist.item("item-1999").title == Text(zh="检查1999", en="Check 1999")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_reported_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert problems_of(fifo) == [
        f"{fifo}:1:1: not a checklist file: it is a FIFO (named pipe), not a regular file"
    ]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_link_to_dev_zero_is_reported_not_read_forever(tmp_path: Path) -> None:
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    assert problems_of(link) == [
        f"{link}:1:1: not a checklist file: it is a character device, not a regular file"
    ]


def test_a_link_to_a_checklist_is_followed(tmp_path: Path) -> None:
    (tmp_path / "kept").mkdir()
    target = write(tmp_path / "kept", GOOD)
    (tmp_path / "in-use").mkdir()
    (tmp_path / "in-use" / "receipt.yaml").symlink_to(target)
    result = load_checklists([tmp_path / "in-use"])
    assert result.ok and [c.id for c in result.checklists] == ["receipt-printing"]


def test_a_folder_named_like_a_checklist_is_reported_and_the_rest_load(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    (tmp_path / "x.yaml").mkdir()
    result = load_checklists([tmp_path])
    assert [c.id for c in result.checklists] == ["receipt-printing"]
    assert [str(p) for p in result.problems] == [
        f"{tmp_path / 'x.yaml'}:1:1: not a checklist file: it is a folder, not a regular file"
    ]


EVIDENCE = """\
id: site-photos
version: "1.0"
title: Site photographs
items:
  - id: storefront
    title: {{zh: 门头照, en: Storefront}}
    severity: major
    evidence: {evidence}
"""


def with_evidence(tmp_path: Path, evidence: str) -> Path:
    return write(tmp_path, EVIDENCE.format(evidence=evidence))


def test_evidence_rules_load_with_their_defaults(tmp_path: Path) -> None:
    text = EVIDENCE.format(evidence="{kind: photo, min: 2, max: 4, required: true}")
    text += "\n".join(
        [
            "  - id: plate",
            "    title: Serial plate",
            "    severity: critical",
            "    evidence: {kind: photo}",
            "  - id: slip",
            "    title: Parameter slip",
            "    severity: minor",
            "    evidence: {kind: file, max: 2, required: false}",
            "",
        ]
    )
    checklist = load_checklist(write(tmp_path, text))
    storefront, plate, slip = (item.evidence for item in checklist.items)
    assert storefront is not None and plate is not None and slip is not None
    assert (storefront.kind, storefront.minimum, storefront.maximum, storefront.needed) == (
        "photo",
        2,
        4,
        2,
    )
    # An item that names evidence wants it: required, at least one, at most five.
    assert (plate.minimum, plate.maximum, plate.required, plate.needed) == (1, 5, True, 1)
    assert (slip.kind, slip.minimum, slip.maximum, slip.needed) == ("file", 0, 2, 0)


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        (
            "{kind: photo, count: 2}",
            "8:29: items[0].evidence: unknown key 'count'",
        ),
        (
            "{kind: photo, min: 3, max: 2}",
            "8:42: items[0].evidence.max: 2 is less than min 3",
        ),
        (
            "{kind: photo, min: 1, required: false}",
            "8:34: items[0].evidence.min: 1 with required: false; optional evidence has no "
            "minimum (set required: true, or remove min)",
        ),
        (
            "{kind: photo, max: 21}",
            "8:34: items[0].evidence.max: must be from 1 to 20, not 21",
        ),
        (
            "{kind: video}",
            "8:22: items[0].evidence.kind: must be one of photo, file, not 'video'",
        ),
        (
            "{min: 1}",
            "8:15: items[0].evidence: missing key 'kind'",
        ),
    ],
)
def test_evidence_problems_say_where_and_what_to_write(
    tmp_path: Path, evidence: str, expected: str
) -> None:
    path = with_evidence(tmp_path, evidence)
    assert problems_of(path) == [f"{path}:{expected}"]
