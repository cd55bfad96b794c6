"""Card data never reaches storage: masking card numbers, refusing track data, field ids."""

from __future__ import annotations

import ast
import random
import re
import sys
from pathlib import Path

import pytest

from pos_tui.domain import redact
from pos_tui.domain.redact import (
    FORBIDDEN_FIELD_WORDS,
    MASK_PREFIX,
    CardDataError,
    guard_text,
    is_forbidden_field_id,
    looks_like_track_data,
    luhn_valid,
    mask_card_numbers,
)


def independent_luhn(number: str) -> bool:
    """Luhn written differently from the module: read from the left, digit sums by divmod."""
    total = 0
    for index, char in enumerate(number):
        value = int(char)
        # Counting from the right, every second digit is doubled; from the left that is every
        # index whose distance to the end is even.
        if (len(number) - index) % 2 == 0:
            value *= 2
        tens, units = divmod(value, 10)
        total += tens + units
    return total % 10 == 0


# Test numbers published by card schemes and acquirers, or completed with a check digit
# computed and cross-checked by independent_luhn (see test_corpus_passes_luhn).
VALID_CARDS: dict[str, str] = {
    "visa-13": "4222222222222",
    "visa-16": "4111111111111111",
    "visa-19": "4111111111111111110",
    "mastercard-16": "5555555555554444",
    "mastercard-2-series-16": "2223003122003222",
    "amex-15": "378282246310005",
    "unionpay-16": "6200000000000005",
    "unionpay-16-b": "6221261111111116",
    "unionpay-17": "62000000000000000",
    "unionpay-18": "621226111111111114",
    "unionpay-19": "6212261111111111112",
    "unionpay-19-b": "6222021234567890128",
    "jcb-16": "3530111333300000",
    "diners-14": "36227206271667",
    "discover-16": "6011111111111117",
}

# Each fails the Luhn check (asserted below), so none may be masked.
LUHN_FAILING: dict[str, str] = {
    "merchant-number-15": "102100058120001",
    "visa-16-wrong-check-digit": "4111111111111112",
    "unionpay-16-wrong-check-digit": "6221261111111111",
    "reference-like-16": "2024052012345678",
}


def masked(number: str) -> str:
    return MASK_PREFIX + number[-4:]


def grouped(number: str, sizes: list[int], separator: str) -> str:
    parts: list[str] = []
    start = 0
    for size in sizes:
        parts.append(number[start : start + size])
        start += size
    assert start == len(number)
    return separator.join(parts)


def groups_of_four(number: str) -> list[int]:
    sizes = [4] * (len(number) // 4)
    if len(number) % 4:
        sizes.append(len(number) % 4)
    return sizes


_RUN = re.compile(r"[0-9]+(?:[ -][0-9]+)*")


def surviving_card_numbers(text: str) -> list[str]:
    """Brute force: every window of whole digit groups that is still a card number."""
    found: list[str] = []
    for run in _RUN.finditer(text):
        groups = re.findall(r"[0-9]+", run.group())
        after_mask = text[: run.start()].endswith(MASK_PREFIX) and len(groups[0]) <= 4
        for first in range(1 if after_mask else 0, len(groups)):
            for last in range(first, len(groups)):
                digits = "".join(groups[first : last + 1])
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and independent_luhn(digits):
                    found.append(digits)
    return found


def head_at_separator(text: str, limit: int) -> str:
    """A prefix of text cut at a separator, so the cut cannot create a new digit group."""
    cut = max(text.rfind(" ", 0, limit), text.rfind("-", 0, limit))
    return text[:cut] if cut > 0 else text[:limit]


# --- the test data itself -------------------------------------------------------------------


@pytest.mark.parametrize("number", VALID_CARDS.values(), ids=VALID_CARDS.keys())
def test_corpus_passes_luhn(number: str) -> None:
    assert 13 <= len(number) <= 19
    assert independent_luhn(number)


@pytest.mark.parametrize("number", LUHN_FAILING.values(), ids=LUHN_FAILING.keys())
def test_negative_corpus_fails_luhn(number: str) -> None:
    assert not independent_luhn(number)


def test_independent_luhn_on_known_values() -> None:
    # Textbook example, and the same number with every other check digit.
    assert independent_luhn("79927398713")
    assert not any(independent_luhn(f"7992739871{digit}") for digit in "012456789")


# --- luhn_valid -----------------------------------------------------------------------------


@pytest.mark.parametrize("number", VALID_CARDS.values(), ids=VALID_CARDS.keys())
def test_luhn_valid_accepts_test_cards(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", LUHN_FAILING.values(), ids=LUHN_FAILING.keys())
def test_luhn_valid_rejects_wrong_check_digits(number: str) -> None:
    assert not luhn_valid(number)


def test_luhn_valid_agrees_with_an_independent_implementation() -> None:
    rng = random.Random(20240520)
    for _ in range(5000):
        number = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 25)))
        assert luhn_valid(number) == independent_luhn(number), number


@pytest.mark.parametrize(
    "text", ["", "4111 1111 1111 1111", "4111-1111-1111-1111", "41111111x1111111", "４１１１"]
)
def test_luhn_valid_takes_ascii_digits_only(text: str) -> None:
    assert not luhn_valid(text)


# --- mask_card_numbers: what is masked -------------------------------------------------------


@pytest.mark.parametrize("number", VALID_CARDS.values(), ids=VALID_CARDS.keys())
def test_bare_card_number_is_masked_to_last_four(number: str) -> None:
    assert mask_card_numbers(number) == masked(number)


@pytest.mark.parametrize("separator", [" ", "-"])
@pytest.mark.parametrize("number", VALID_CARDS.values(), ids=VALID_CARDS.keys())
def test_card_number_in_groups_of_four_is_masked(number: str, separator: str) -> None:
    text = grouped(number, groups_of_four(number), separator)
    assert mask_card_numbers(text) == masked(number)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6222 0212 3456 7890 128", "****0128"),
        ("4111-1111-1111-1111", "****1111"),
        ("3782 822463 10005", "****0005"),  # Amex 4-6-5
        ("3622 720627 1667", "****1667"),  # Diners 4-6-4
        ("622202 1234567890128", "****0128"),  # BIN then the rest
        ("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "****1111"),  # one digit at a time
        ("4111 1111-1111 1111", "****1111"),  # mixed separators
    ],
)
def test_usual_and_unusual_groupings_are_masked(text: str, expected: str) -> None:
    assert mask_card_numbers(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("卡号6222021234567890128已退款", "卡号****0128已退款"),
        ("卡号：6222 0212 3456 7890 128，已退款。", "卡号：****0128，已退款。"),
        ("持卡人用4111111111111111刷卡，交易成功", "持卡人用****1111刷卡，交易成功"),
        ("Refund to card 4111-1111-1111-1111, done.", "Refund to card ****1111, done."),
        ("Card (5555 5555 5555 4444) declined", "Card (****4444) declined"),
        ("PAN:378282246310005.", "PAN:****0005."),
        ("  4111111111111111\n", "  ****1111\n"),
        ("\t3530111333300000\t", "\t****0000\t"),
    ],
)
def test_card_numbers_inside_sentences(text: str, expected: str) -> None:
    assert mask_card_numbers(text) == expected


def test_several_card_numbers_in_one_text() -> None:
    text = (
        "第一笔 6222 0212 3456 7890 128 成功；第二笔 4111-1111-1111-1111 失败；"
        "third 378282246310005 and 6011111111111117."
    )
    assert mask_card_numbers(text) == (
        "第一笔 ****0128 成功；第二笔 ****1111 失败；third ****0005 and ****1117."
    )


def test_every_corpus_card_in_one_note() -> None:
    text = "\n".join(f"{name}: {number}" for name, number in VALID_CARDS.items())
    expected = "\n".join(f"{name}: {masked(number)}" for name, number in VALID_CARDS.items())
    assert mask_card_numbers(text) == expected


def test_card_number_next_to_other_numbers_in_one_run() -> None:
    # A terminal number typed just before a card number must not shield the card number,
    # and a year typed after it stays readable.
    assert mask_card_numbers("12345678 4111111111111111") == "12345678 ****1111"
    assert mask_card_numbers("4111 1111 1111 1111 2023") == "****1111 2023"
    assert mask_card_numbers("4111111111111111-6011111111111117") == "****1111-****1117"


def test_longest_card_number_wins_when_a_prefix_also_passes() -> None:
    # "4111111111111111" passes, and so does the 19 digits it begins.
    assert luhn_valid("4111111111111111")
    assert mask_card_numbers("4111 1111 1111 1111 110") == "****1110"


def test_mask_does_not_look_like_a_card_number() -> None:
    assert not any(char.isdigit() for char in MASK_PREFIX)
    result = mask_card_numbers("6222021234567890128")
    assert sum(char.isdigit() for char in result) == 4
    assert surviving_card_numbers(result) == []


@pytest.mark.parametrize(
    "text",
    [
        "卡号6222021234567890128已退款",
        "12345678 4111111111111111 2023",
        "4111 1111 1111 1111 6011 1111 1111 1117",
        "****1111 6011111111111117",
        "\n".join(VALID_CARDS.values()),
    ],
)
def test_masking_twice_changes_nothing_more(text: str) -> None:
    once = mask_card_numbers(text)
    assert mask_card_numbers(once) == once


def test_digits_typed_after_a_single_asterisk_are_still_masked() -> None:
    assert mask_card_numbers("*4111111111111111") == "*****1111"
    assert mask_card_numbers("****4111111111111111") == "********1111"


# --- mask_card_numbers: what is left alone ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "12345678",  # terminal number
        "终端号12345678",
        "102100058120001",  # merchant number failing Luhn
        "商户号：102100058120001",
        "123456789012",  # reference number
        "参考号 123456789012",
        "000123",  # batch number
        "批次号000123 凭证号000045",
        "1000.00",
        "金额 ¥1,000.00 元",
        "Amount 12345.67",
        "13812345678",  # mobile phone number
        "联系电话 13812345678 / 138-1234-5678",
        "2024-05-20 14:30:00",
        "4111111111111112",  # Luhn fails
        "6221261111111111",
        "2024052012345678",
        "411111111111111",  # 15 digits of a 16 digit card: not valid on its own
        "1111111111111111111111111",  # 25 digits
        "41111111111111111234",  # 20 digits, beginning with a valid card number
        "94111111111111111",  # 17 digits, ending with a valid card number, failing as a whole
        "123456789012345678901234567890",
        "",
        "检查完毕，无异常。",
        "****1234",
    ],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert mask_card_numbers(text) == text


def test_whole_runs_chosen_for_the_unmasked_cases_really_fail() -> None:
    # Guard the test data above: these would be masked if they passed Luhn.
    assert not independent_luhn("94111111111111111")
    assert independent_luhn("4111111111111111")


def test_typical_visit_note_is_unchanged() -> None:
    note = (
        "商户号 102100058120001，终端号 12345678，批次号 000123，参考号 123456789012，"
        "金额 1000.00 元，联系人电话 13812345678。Terminal 12345678 OK, batch 000123 settled."
    )
    assert mask_card_numbers(note) == note


def test_masks_exactly_when_luhn_passes_for_random_bare_numbers() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        number = "".join(rng.choice("0123456789") for _ in range(rng.randint(13, 19)))
        expected = masked(number) if independent_luhn(number) else number
        assert mask_card_numbers(f"x {number} y") == f"x {expected} y"


def test_no_card_number_survives_in_random_digit_soup() -> None:
    rng = random.Random(11)
    alphabet = "0123456789" * 3 + " " * 3 + "-" + "a"
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        assert surviving_card_numbers(mask_card_numbers(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        "1 " * 50_000,
        "4111 " * 20_000,
        "7" * 100_000,
        "1-" * 50_000,
    ],
    ids=["one-digit-groups", "four-digit-groups", "one-long-run", "dashes"],
)
def test_long_inputs_are_handled(text: str) -> None:
    # Saves call this on every note: a pathological one must stay linear (no timing
    # assertion, a catastrophic regex would simply make this test hang).
    result = mask_card_numbers(text)
    assert surviving_card_numbers(head_at_separator(result, 2000)) == []


def test_long_random_input_of_digits_and_spaces() -> None:
    rng = random.Random(3)
    text = "".join(rng.choice("0123456789 ") for _ in range(100_000))
    result = mask_card_numbers(text)
    assert len(result) <= len(text)
    assert not looks_like_track_data(text)


# --- track data -----------------------------------------------------------------------------

TRACK_DATA = [
    "%B4111111111111111^ZHANG/SAN^2512101000000000?",
    ";4111111111111111=25121010000000000?",
    "4111111111111111=2512101",
    "B4111111111111111^ZHANG/SAN^2512101",
    "%B6222021234567890128^LI/SI^2612",  # sentinel, no second caret yet
    ";6222021234567890128=2612",
    "刷卡数据：;4111111111111111=25121010000000000? 请核对",
    "reader log: track2=4111111111111111=2512101000",
    "4111111111111111D25121010000000000F",  # EMV tag 57 style
    "%b4111111111111111^X^",
    "4111111111111112=2512",  # a bad check digit does not make track data harmless
]


@pytest.mark.parametrize("text", TRACK_DATA)
def test_track_data_is_recognised(text: str) -> None:
    assert looks_like_track_data(text)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "12345678=2025",
        "1000.00=1000.00",
        "1111111111111111111111111=2512",  # 25 digits is not a PAN
        "参考号 123456789012=正常",
        "^_^ 很好",
        "B12345^X^",
        "B4111111111111111 ^ not track",
        "a=b;c=d",
        "%B^^?",
        "商户号 102100058120001，终端号 12345678",
    ],
)
def test_other_text_is_not_track_data(text: str) -> None:
    assert not looks_like_track_data(text)


@pytest.mark.parametrize("text", TRACK_DATA)
def test_guard_text_refuses_track_data(text: str) -> None:
    with pytest.raises(CardDataError):
        guard_text(text)


def test_refusal_messages_are_plain_sentences_without_the_card_data() -> None:
    with pytest.raises(CardDataError) as caught:
        guard_text("%B4111111111111111^ZHANG/SAN^2512101000000000?")
    error = caught.value
    assert isinstance(error, ValueError)
    english, chinese = str(error), error.message_zh
    assert "track" in english
    assert english.endswith(".")
    assert "磁道" in chinese
    assert chinese.endswith("。")
    for message in (english, chinese):
        assert "4111" not in message
        assert "ZHANG" not in message
        assert "\n" not in message


def test_guard_text_masks_everything_else() -> None:
    assert guard_text("卡号6222021234567890128已退款") == "卡号****0128已退款"
    assert guard_text("终端号 12345678 正常") == "终端号 12345678 正常"
    assert guard_text("") == ""


def test_guard_text_accepts_its_own_output() -> None:
    once = guard_text("6222 0212 3456 7890 128 / 4111-1111-1111-1111")
    assert guard_text(once) == once


# --- field ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field_id",
    [
        "pin",
        "customer-pin",
        "pin-block",
        "pinblock",
        "cvv",
        "cvv2",
        "card-cvc2",
        "cvn",
        "pan",
        "full-pan",
        "track",
        "track1",
        "track2",
        "track-2",
        "track2-data",
        "card-number",
        "cardnumber",
        "customer-card-number",
        "card-no",
        "PIN",
        "Card_Number",
        "pin-last4",  # qualifiers excuse a partial card number, never a PIN
        "masked-cvv",
        "pan-and-pin",
    ],
)
def test_forbidden_field_ids(field_id: str) -> None:
    assert is_forbidden_field_id(field_id)


@pytest.mark.parametrize(
    "field_id",
    [
        "pinpad-ok",
        "pinpad",
        "spin-count",
        "last4",
        "pan-last4",
        "card-number-last4",
        "last-4-of-pan",
        "masked-pan",
        "pan-bin",
        "card-type",
        "card-brand",
        "number",
        "reference",
        "terminal-number",
        "batch-number",
        "copies",
        "tracking-number",
        "printing",
        "shipping",
        "company",
        "",
    ],
)
def test_allowed_field_ids(field_id: str) -> None:
    assert not is_forbidden_field_id(field_id)


def test_forbidden_words_cover_the_spec() -> None:
    assert isinstance(FORBIDDEN_FIELD_WORDS, frozenset)
    required = {"pin", "cvv", "cvv2", "cvc", "cvc2", "cvn", "pan", "track", "track1", "track2"}
    assert required | {"card-number", "cardnumber"} <= FORBIDDEN_FIELD_WORDS
    assert all(word == word.lower() for word in FORBIDDEN_FIELD_WORDS)


@pytest.mark.parametrize("word", sorted(FORBIDDEN_FIELD_WORDS))
def test_every_forbidden_word_is_itself_a_forbidden_id(word: str) -> None:
    assert is_forbidden_field_id(word)


# --- purity ---------------------------------------------------------------------------------


def test_module_imports_only_the_standard_library() -> None:
    source = Path(redact.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports would pull in the rest of pos_tui"
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names)


# --- however it is typed ----------------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("６２２２０２１２３４５６７８９０１２８", "****0128"),
        ("６２２２ ０２１２ ３４５６ ７８９０ １２８", "****0128"),
        ("4111.1111.1111.1111", "****1111"),
        ("4111/1111/1111/1111", "****1111"),
        ("4111\u00a01111\u00a01111\u00a01111", "****1111"),
        ("4111\u30001111\u30001111\u30001111", "****1111"),
        ("4111  1111  1111  1111", "****1111"),
        ("4111\n1111\n1111\n1111", "****1111"),
        ("4111\r\n1111\r\n1111\r\n1111", "****1111"),
        ("4111\t1111\t1111\t1111", "****1111"),
        ("4111\u200b1111\u200b1111\u200b1111", "****1111"),  # zero-width space
        ("4111\u00ad1111\u00ad1111\u00ad1111", "****1111"),  # soft hyphen
        ("4111－1111－1111－1111", "****1111"),  # full-width hyphen
        ("4111 – 1111 – 1111 – 1111", "****1111"),  # en dash, spaced
        ("3782.822463.10005", "****0005"),
        ("3622/720627/1667", "****1667"),
        ("622202\n1234567890128", "****0128"),
        ("4.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1", "****1111"),
        ("41 11 11 11 11 11 11 11", "****1111"),
        ("六二二二〇二一二三四五六七八九〇一二八", "****0128"),  # Chinese numerals
        ("٤١١١١١١١١١١١١١١١", "****1111"),  # Arabic-Indic digits
        ("𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏", "****1111"),  # mathematical bold
        ("⒋⒈⒈⒈⒈⒈⒈⒈⒈⒈⒈⒈⒈⒈⒈⒈", "****1111"),  # one character standing for "4."
    ],
)
def test_card_numbers_however_they_are_typed(text: str, expected: str) -> None:
    assert mask_card_numbers(text) == expected
    assert guard_text(text) == expected


def test_only_the_card_number_is_replaced_and_the_rest_stays_as_typed() -> None:
    text = "客户　卡号：６２２２　０２１２　３４５６　７８９０　１２８，已退款（¥1,234.56）。\n谢谢"
    assert mask_card_numbers(text) == "客户　卡号：****0128，已退款（¥1,234.56）。\n谢谢"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5A084111111111111111", "5A08****1111"),
        ("5a084111111111111111", "5a08****1111"),
        ("5A 08 41 11 11 11 11 11 11 11 5F 34 01 00", "5A 08 ****1111 5F 34 01 00"),
        ("9F360200C55A0841111111111111119505008000", "9F360200C55A08****11119505008000"),
        ("5A0A6222021234567890128F9F0206000000000100", "5A0A****0128F9F0206000000000100"),
        ("5A074222222222222F9F02", "5A07****2222F9F02"),  # 13 digits, F-padded
    ],
)
def test_the_pan_of_an_emv_tag_5a_is_masked(text: str, expected: str) -> None:
    assert mask_card_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "57134111111111111111D25121010000000000F",  # tag 57, length, PAN D YYMM service code
        "57 13 41 11 11 11 11 11 11 11 D2 51 21 01 00 00 00 00 00 0F",
        "9F6B134111111111111111D25122010000000000F",  # tag 9F6B: track 2 data, contactless
        "56 42 34 31 31 31 31 31 31 31 31 31 31 31 31 31 31 31 31 5E",  # tag 56: track 1, hex
        "%Ｂ４１１１１１１１１１１１１１１１＾ＺＨＡＮＧ／ＳＡＮ＾２５１２１０１",
        "；４１１１１１１１１１１１１１１１＝２５１２１０１？",
        "%B4111111111111111 ^ZHANG/SAN^2512101000?",  # a space before the caret
        "4111111111111111^ZHANG/SAN^2512101000",  # no sentinel, no format code
        "4111 1111 1111 1111=2512101",  # a grouped PAN
        "4111111111111111 = 2512101",
        "六二二二〇二一二三四五六七八九〇一二八＝二五一二一〇一",
    ],
)
def test_track_data_however_it_is_typed_is_refused(text: str) -> None:
    assert looks_like_track_data(text)
    with pytest.raises(CardDataError):
        guard_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "¥1,234.56 1500.00 2026-12-01 07:30:50 138 0013 8000",  # passes Luhn across the dots
        "终端号 12345678\n参考号 123456789012",
        "138 0013 8000",
        "+86 145 4183 3182",  # 13 digits passing Luhn, after a country code
        "+86-14598840395",
        "2026-12-01 07:30:50",
        "2026-12-01T07:30:50+08:00",
        "10.56.82.50 10.56.82.94",  # two IP addresses whose digits pass the check
        "192.168.100.200/255.255.255.000",
        "1500.00\n2026.12.01\n07:30:50",
        "07:24:43 174 0143 9819",  # seconds, then a mobile number: 13 digits passing Luhn
        "89860012345678901234",  # a 20-digit ICCID
        "一一核对三号机",
    ],
)
def test_numbers_that_are_no_card_stay_as_they_are(text: str) -> None:
    assert guard_text(text) == text


@pytest.mark.parametrize(
    "digits",
    ["234561500002026", "1056825010568294", "8614541833182", "8614598840395", "4317401439819"],
)
def test_those_numbers_would_be_masked_but_for_how_they_are_written(digits: str) -> None:
    # Guard the test data above: read as one number each, these pass the Luhn check.
    assert independent_luhn(digits)


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1111\n6011.1111.1111.1117",
        "５A084111111111111111",
        "六二二二〇二一二三四五六七八九〇一二八",
        "4111\u30001111\u30001111\u30001111 and ****1111 1234",
    ],
)
def test_masking_the_new_forms_twice_changes_nothing_more(text: str) -> None:
    once = mask_card_numbers(text)
    assert mask_card_numbers(once) == once


def test_find_card_numbers_names_what_would_be_masked() -> None:
    text = "卡１：４１１１ １１１１ １１１１ １１１１；卡2：5A08601111111111111795"
    assert redact.find_card_numbers(text) == ["4111111111111111", "6011111111111117"]
    assert redact.find_card_numbers("终端号 12345678") == []


def test_plain_digits_drops_every_separator() -> None:
    assert redact.plain_digits("３７８２\u3000822463-10005") == "378282246310005"
    assert redact.plain_digits("89811005399A012") is None
    assert redact.plain_digits("") is None


def test_mask_card_data_replaces_track_data_instead_of_refusing_it() -> None:
    assert redact.mask_card_data("%B4111111111111111^ZHANG/SAN^2512101?") == (
        redact.TRACK_DATA_REMOVED
    )
    assert redact.mask_card_data("卡 4111.1111.1111.1111") == "卡 ****1111"


def test_the_skeleton_keeps_one_character_per_character() -> None:
    text = "卡号：６２２２　０２１２\u00a0x"
    shape, origin = redact.skeleton(text)
    assert origin is None
    assert len(shape) == len(text)
    assert shape == "卡号:6222 0212 x"
    shape, origin = redact.skeleton("⑩⑪")
    assert shape == "1011"
    assert origin == [0, 0, 1, 1]


def test_identifiers_module_is_pure_too() -> None:
    from pos_tui.domain import identifiers

    source = Path(identifiers.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pos_tui."):
            assert (node.module or "").startswith("pos_tui.domain.")
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
    assert imported <= set(sys.stdlib_module_names)


def test_every_digit_of_every_script_is_a_digit_in_the_skeleton() -> None:
    import unicodedata

    digits = [
        chr(code) for code in range(0x110000) if unicodedata.decimal(chr(code), None) is not None
    ]
    assert len(digits) > 600
    shape, origin = redact.skeleton("".join(digits))
    assert origin is None
    assert shape == "".join(str(unicodedata.decimal(char)) for char in digits)


def test_the_ideographs_skipped_on_the_fast_path_are_their_own_skeleton() -> None:
    import unicodedata

    ideographs = "".join(chr(code) for code in range(0x4E00, 0xA000))
    numerals = "〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖貳參陸"
    shape, _origin = redact.skeleton(ideographs)
    changed = {char for char, mapped in zip(ideographs, shape, strict=True) if char != mapped}
    assert changed == set(numerals) - {"〇"}
    assert unicodedata.normalize("NFKC", ideographs) == ideographs
    # The quick path skips them; the full translation table agrees with what it leaves.
    assert ideographs.translate(redact._TABLE) == shape
