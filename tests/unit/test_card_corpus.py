"""Card data in every way we know it gets typed, counted: none may survive the guard, on
screen or on disk. And the numbers that must survive it, counted too.

The card corpus is generated (seeded, so every run sees the same numbers): for each of 27
brand ranges, each length from 13 to 19 and each of the 26 formats below, three fresh
Luhn-valid numbers: 14,742 texts, 14,742 different numbers. Leaks: 0 in the guard's output,
0 in the visit file on disk, 0 track data kept (all 1,701 track and EMV 57 texts refused).

The false-positive corpus, 1,200 texts of each kind, measured against the guard before this
change ("before") and with it ("now"); each figure is how many texts the guard changed:

    terminal numbers          0 before, 0 now
    mobile numbers           44 before, 0 now   (+86 138 0013 8000: 13 digits, 1 in 10 Luhn)
    reference numbers         0 before, 0 now
    amounts                   0 before, 0 now
    dates and times           0 before, 0 now
    IP addresses              0 before, 0 now
    ICCIDs in their own field     (no such rule before), 0 now
    order numbers            65 before, 65 now  (see ORDER_NUMBER_FALSE_POSITIVES)
    visit notes mixing them  37 before, 15 now  (see NOTE_FALSE_POSITIVES)
"""

from __future__ import annotations

import json
import random
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pos_tui.domain.checklist import Checklist
from pos_tui.domain.identifiers import ICCID, MERCHANT_NUMBER, TUSN
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.redact import CardDataError, guard_text, looks_like_track_data
from pos_tui.domain.session import Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.reports.masking import dumps_masked, masked_tree
from pos_tui.store.local import LocalStore

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261201

# --- an independent idea of card numbers and of a leak ----------------------------------------


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def with_check_digit(payload: str) -> str:
    return next(payload + d for d in "0123456789" if luhn_ok(payload + d))


# (brand, lowest prefix, highest prefix); every length 13-19 is generated for each, whatever
# the brand's own lengths: the guard must not depend on them.
BRAND_RANGES = [
    ("visa", 4, 4),
    ("mastercard", 51, 55),
    ("mastercard-2", 2221, 2720),
    ("amex-34", 34, 34),
    ("amex-37", 37, 37),
    ("unionpay", 62, 62),
    ("unionpay-81", 8100, 8171),
    ("jcb", 3528, 3589),
    ("discover-6011", 6011, 6011),
    ("discover-644", 644, 649),
    ("discover-65", 65, 65),
    ("diners-30", 300, 305),
    ("diners-36", 36, 36),
    ("diners-38", 38, 39),
    ("maestro-5018", 5018, 5018),
    ("maestro-5020", 5020, 5020),
    ("maestro-5038", 5038, 5038),
    ("maestro-5893", 5893, 5893),
    ("maestro-6304", 6304, 6304),
    ("maestro-6759", 6759, 6759),
    ("maestro-676", 6761, 6763),
    ("mir", 2200, 2204),
    ("rupay-60", 60, 60),
    ("rupay-508", 508, 508),
    ("troy", 9792, 9792),
    ("icbc-9558", 9558, 9558),  # no brand's range: the guard must not need one
    ("uatp", 1, 1),
]
LENGTHS = range(13, 20)
PER_COMBINATION = 3

_CHINESE = "零一二三四五六七八九"
_ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
_SEPARATOR_CATEGORIES = {"Pd", "Pc", "Cf", "Mn", "Me"}
_OTHER_SEPARATORS = set("\u2212.·・•‧∙⋅/\\⁄∕")


def _normal_char(char: str) -> str:
    if char in _CHINESE:
        return str(_CHINESE.index(char))
    if char.isspace() or char in _OTHER_SEPARATORS:
        return ""
    if unicodedata.category(char) in _SEPARATOR_CATEGORIES:
        return ""
    decimal = unicodedata.decimal(char, None)
    return char if decimal is None else str(decimal)


def squeezed(text: str) -> str:
    """NFKC, every digit an ASCII digit, every separator gone."""
    return "".join(map(_normal_char, unicodedata.normalize("NFKC", text)))


# A record's own ids and hashes are no card data, but squeezed they can join into a
# Luhn-valid run: a uuid whose middle groups are all digits (`…-9767-2900-4373-85…`) does
# in about one visit file in a thousand, so they are set apart before looking.
_OWN_IDS = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<![0-9a-f])[0-9a-f]{64}"
)


def leaks(text: str, numbers: list[str]) -> list[str]:
    """The given card numbers still in `text`, and any 13-19 digit Luhn-valid run in it."""
    flat = squeezed(_OWN_IDS.sub("ID", text))  # letters: squeezing keeps them apart
    found = [number for number in numbers if number in flat]
    found += [run for run in re.findall(r"[0-9]+", flat) if 13 <= len(run) <= 19 and luhn_ok(run)]
    return found


# --- formats ------------------------------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def layout(number: str, rng: random.Random) -> list[int]:
    """How card numbers are grouped on cards and in the way people copy them."""
    n = len(number)
    fours = [4] * (n // 4) + ([n % 4] if n % 4 else [])
    choices = [fours, [6, n - 6]]
    if n == 15:
        choices.append([4, 6, 5])
    if n == 14:
        choices.append([4, 6, 4])
    return rng.choice(choices)


def split(number: str, sizes: list[int]) -> list[str]:
    parts, start = [], 0
    for size in sizes:
        parts.append(number[start : start + size])
        start += size
    return parts


def joined(separator: str) -> Callable[[str, random.Random], str]:
    def render(number: str, rng: random.Random) -> str:
        return separator.join(split(number, layout(number, rng)))

    return render


def mixed(number: str, rng: random.Random) -> str:
    separators = [" ", "-", ".", "/", "\u00a0", "\u3000", "  ", "\n", "\u200b", "\t", " - "]
    parts = split(number, layout(number, rng))
    text = parts[0]
    for part in parts[1:]:
        text += rng.choice(separators) + part
    return text


def mixed_width(number: str, rng: random.Random) -> str:
    text = "".join(d.translate(FULL_WIDTH) if rng.random() < 0.5 else d for d in number)
    return rng.choice([" ", "\u3000", ""]).join(split(text, layout(number, rng)))


def one_at_a_time(number: str, rng: random.Random) -> str:
    return rng.choice([" ", "\u00a0", "  ", ".", "-"]).join(number)


def in_sentence(number: str, rng: random.Random) -> str:
    written = rng.choice([joined(" "), joined("."), joined("\u3000"), mixed, mixed_width])
    template = rng.choice(
        [
            "持卡人卡号{}，已退款。",
            "客户说卡号是{}谢谢",
            "测试卡：{}（请勿外传）",
            "Refund to card {}, done.",
            "卡号\n{}\n签购单已打印",
        ]
    )
    return template.format(written(number, rng))


def bcd(number: str) -> str:
    return number + ("F" if len(number) % 2 else "")


def spaced_bytes(hex_text: str) -> str:
    return " ".join(hex_text[i : i + 2] for i in range(0, len(hex_text), 2))


def emv_5a(number: str, rng: random.Random) -> str:
    value = bcd(number)
    tlv = f"5A{len(value) // 2:02X}{value}"
    dump = rng.choice([tlv, spaced_bytes(tlv), f"9F360200C5{tlv}5F340101", tlv.lower()])
    return rng.choice(["{}", "芯片数据 {}", "EMV: {} 已读取"]).format(dump)


def track2_equivalent(number: str, rng: random.Random) -> str:
    value = f"{number}D2512{rng.choice(['101', '201', '220'])}{rng.randrange(10**8):08d}"
    value += "F" if len(value) % 2 else ""
    tag = rng.choice(["57", "9F6B"])
    tlv = f"{tag}{len(value) // 2:02X}{value}"
    return rng.choice([tlv, spaced_bytes(tlv), f"5F2A020156{tlv}"])


def track1(number: str, rng: random.Random) -> str:
    name = rng.choice(["ZHANG/SAN", "LI/SI MS", "WANG/WU"])
    tail = f"2512{rng.choice(['101', '201'])}{rng.randrange(10**9):09d}"
    return rng.choice(
        [
            f"%B{number}^{name}^{tail}?",
            f"B{number}^{name}^{tail}",
            f"{number}^{name}^{tail}",
            f"%B{number} ^{name}^{tail}?",
            f"%B{number}^{name}^{tail}?".translate(FULL_WIDTH).replace("^", "＾"),
            f"刷卡记录 B{number}^{name}^{tail} 结束",
        ]
    )


def track2(number: str, rng: random.Random) -> str:
    tail = f"2512{rng.choice(['101', '201'])}{rng.randrange(10**8):08d}"
    return rng.choice(
        [
            f";{number}={tail}?",
            f"{number}={tail}",
            f";{number}={tail}?".translate(FULL_WIDTH).replace("=", "＝").replace(";", "；"),
            f"{number} = {tail}",
            f"读卡器日志：track2={number}={tail}",
        ]
    )


MASKED_FORMATS: dict[str, Callable[[str, random.Random], str]] = {
    "plain": lambda number, rng: number,
    "spaces": joined(" "),
    "dashes": joined("-"),
    "dots": joined("."),
    "slashes": joined("/"),
    "nbsp": joined("\u00a0"),
    "ideographic-space": joined("\u3000"),
    "double-spaces": joined("  "),
    "newlines": joined("\n"),
    "crlf": joined("\r\n"),
    "tabs": joined("\t"),
    "zero-width-space": joined("\u200b"),
    "underscores": joined("_"),
    "full-width": lambda number, rng: number.translate(FULL_WIDTH),
    "full-width-grouped": lambda number, rng: joined("\u3000")(number.translate(FULL_WIDTH), rng),
    "full-width-dashes": lambda number, rng: joined("－")(number.translate(FULL_WIDTH), rng),
    "mixed-separators": mixed,
    "mixed-widths": mixed_width,
    "one-at-a-time": one_at_a_time,
    "chinese-numerals": lambda number, rng: "".join(_CHINESE[int(d)] for d in number),
    "arabic-indic": lambda number, rng: "".join(_ARABIC_INDIC[int(d)] for d in number),
    "in-a-sentence": in_sentence,
    "emv-5a": emv_5a,
}
REFUSED_FORMATS: dict[str, Callable[[str, random.Random], str]] = {
    "emv-57": track2_equivalent,
    "track-1": track1,
    "track-2": track2,
}


def card_numbers(rng: random.Random) -> Iterator[tuple[str, str]]:
    for brand, low, high in BRAND_RANGES:
        for length in LENGTHS:
            for _ in range(PER_COMBINATION):
                prefix = str(rng.randint(low, high))
                body = "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
                yield brand, with_check_digit(prefix + body)


def corpus() -> list[tuple[str, str, str, str]]:
    """(format, brand, number, text), every format for every brand and every length."""
    rng = random.Random(SEED)
    samples = []
    for name, render in {**MASKED_FORMATS, **REFUSED_FORMATS}.items():
        for brand, number in card_numbers(rng):
            samples.append((name, brand, number, render(number, rng)))
    return samples


CORPUS = corpus()


def test_the_corpus_covers_every_brand_length_and_format() -> None:
    numbers = {number for _, _, number, _ in CORPUS}
    assert len(numbers) >= 10_000
    assert all(luhn_ok(number) for number in numbers)
    combinations = {(name, brand, len(number)) for name, brand, number, _ in CORPUS}
    assert len(combinations) == len(MASKED_FORMATS | REFUSED_FORMATS) * len(BRAND_RANGES) * 7


def test_no_card_number_survives_the_guard() -> None:
    survived: Counter[str] = Counter()
    for name, _brand, number, text in CORPUS:
        refused = name in REFUSED_FORMATS
        try:
            result = guard_text(text)
        except CardDataError:
            if not refused:
                survived[f"{name}: refused instead of masked"] += 1
            continue
        if refused:
            survived[f"{name}: track data kept"] += 1
        elif leaks(result, [number]):
            survived[name] += 1
    assert survived == Counter()  # 0 leaks out of len(CORPUS) texts


def test_masking_keeps_the_last_four_digits_and_the_rest_as_typed() -> None:
    for name, _brand, number, text in CORPUS:
        if name not in ("in-a-sentence", "emv-5a"):
            continue
        result = guard_text(text)
        assert f"****{number[-4:]}" in result
        # Only the number is replaced: what was typed around it is all still there.
        before, _, after = result.partition(f"****{number[-4:]}")
        assert text.startswith(before)
        assert text.endswith(after)


# --- on disk ------------------------------------------------------------------------------------


@pytest.fixture
def shipped() -> list[Checklist]:
    result = load_checklists([ROOT / "checklists"])
    assert result.ok, result.problems
    return result.checklists


def batches(size: int) -> Iterator[tuple[str, list[str], str]]:
    """Many samples to a note, one format each; "。" ends each (it joins no digits)."""
    for name in MASKED_FORMATS:
        samples = [(number, text) for n, _b, number, text in CORPUS if n == name]
        for start in range(0, len(samples), size):
            chunk = samples[start : start + size]
            yield name, [number for number, _ in chunk], "。".join(text for _, text in chunk)


def stored_strings(value: object, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from stored_strings(k, "")
            yield from stored_strings(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from stored_strings(v, key)


# Written by the app or checked by their own rule, not typed free text.
WHOLE = {"uuid", "sha256", "content_sha256", "merchant_number", "terminal_number", "at"}


def test_no_card_number_reaches_the_visit_file(
    tmp_path: Path, shipped: list[Checklist], info: VisitInfo
) -> None:
    started = time.perf_counter()
    with LocalStore.open(tmp_path / "data") as store:
        session = Session.start(info, shipped)
        store.create(session)
        written: list[str] = []
        for name, numbers, note in batches(size=400):
            values = {"serial": note, "model": name}
            session.record("preflight", "serial-number", "pass", note=note, values=values)
            store.save(session)
            written += numbers
        path = store.visit_path(session.uuid)
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    assert len(written) == len(MASKED_FORMATS) * len(BRAND_RANGES) * 7 * PER_COMBINATION
    # Every note is in the file, each answer in the event log too: the test saw what it wrote.
    assert text.count("****") >= 2 * len(written)
    # Every file of the store (the index, backups), not only the visit's.
    for stored in sorted((tmp_path / "data").rglob("*")):
        if stored.is_file():
            flat = squeezed(stored.read_bytes().decode("utf-8", errors="replace"))
            assert [number for number in written if number in flat] == [], stored
    document = json.loads(text)
    suspicious = [
        value for key, value in stored_strings(document) if key not in WHOLE and leaks(value, [])
    ]
    assert suspicious == []
    assert time.perf_counter() - started < 30


def test_track_data_never_reaches_the_visit_file(session: Session, store: LocalStore) -> None:
    refused = 0
    for name, _brand, _number, text in CORPUS:
        if name not in REFUSED_FORMATS:
            continue
        with pytest.raises(CardDataError):
            session.record("card", "void", "pass", note=text)
        refused += 1
    store.save(session)
    stored = store.visit_path(session.uuid).read_text(encoding="utf-8")
    assert refused == len(REFUSED_FORMATS) * len(BRAND_RANGES) * 7 * PER_COMBINATION
    assert not looks_like_track_data(stored)
    assert "^" not in stored


def test_visit_details_with_card_numbers_are_masked_on_disk(
    store: LocalStore, checklists: list[Checklist]
) -> None:
    rng = random.Random(SEED + 1)
    texts = [text for name, _b, _n, text in CORPUS if name in MASKED_FORMATS]
    numbers = [number for name, _b, number, _t in CORPUS if name in MASKED_FORMATS]
    picked = rng.sample(range(len(texts)), 200)
    fields = (
        *("technician", "model", "device_id", "merchant_name"),
        *("site_address", "notes", "merchant_contact", "reason"),
    )
    for start in range(0, len(picked), len(fields)):
        chosen = picked[start : start + len(fields)]
        details = {field: f"{field} {texts[i]}" for field, i in zip(fields, chosen, strict=False)}
        info = VisitInfo(
            merchant_name=details.pop("merchant_name", "小店"),
            merchant_number="310104000000001",
            terminal_number="20240001",
            capabilities=("chip",),
            **details,
        )
        session = Session.start(info, checklists)
        store.create(session)
        stored = store.visit_path(session.uuid).read_text(encoding="utf-8")
        assert leaks(stored, [numbers[i] for i in chosen]) == []


# --- what must survive --------------------------------------------------------------------------

COUNT = 1200


def terminal_numbers(rng: random.Random) -> Iterator[str]:
    for _ in range(COUNT):
        tid = f"{rng.randrange(10**8):08d}"
        yield rng.choice(["{}", "终端号 {}", "TID:{}", "终端号：{}，已签到", "{} OK"]).format(tid)


def mobile(rng: random.Random) -> str:
    digits = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    return rng.choice(
        [
            digits,
            f"{digits[:3]} {digits[3:7]} {digits[7:]}",
            f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
            f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}",
            f"+86-{digits}",
            f"（+86）{digits[:3]}\u00a0{digits[3:7]}\u00a0{digits[7:]}",
        ]
    )


def mobile_numbers(rng: random.Random) -> Iterator[str]:
    for _ in range(COUNT):
        yield rng.choice(["{}", "联系电话 {}", "店长 {} 王先生", "Tel: {}"]).format(mobile(rng))


def reference_numbers(rng: random.Random) -> Iterator[str]:
    for _ in range(COUNT):
        rrn = f"{rng.randrange(10**12):012d}"
        yield rng.choice(["{}", "参考号 {}", "RRN:{}", "参考号：{}，交易成功"]).format(rrn)


def amount(rng: random.Random) -> str:
    value = rng.randrange(1, 10**8) / 100
    return rng.choice(
        [f"¥{value:,.2f}", f"{value:.2f}", f"￥{value:,.2f}", f"{value:,.2f}元", f"RMB {value:.2f}"]
    )


def amounts(rng: random.Random) -> Iterator[str]:
    for _ in range(COUNT):
        yield rng.choice(["{}", "金额 {}", "金额：{} 元", "退款 {}，原交易 {}"]).format(
            amount(rng), amount(rng)
        )


def moment(rng: random.Random) -> tuple[str, str]:
    date = f"{rng.randint(2020, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    return date, clock


def dates_and_times(rng: random.Random) -> Iterator[str]:
    for _ in range(COUNT):
        date, clock = moment(rng)
        yield rng.choice(
            [
                f"{date} {clock}",
                f"{date}T{clock}+08:00",
                f"{date.replace('-', '/')} {clock}",
                f"{date.replace('-', '.')} {clock}",
                f"{date.replace('-', '')}T{clock.replace(':', '')}",
                f"交易时间 {date} {clock}",
                f"{date} {clock} 至 {moment(rng)[0]} {moment(rng)[1]}",
            ]
        )


def ip_addresses(rng: random.Random) -> Iterator[str]:
    for _ in range(COUNT):
        host = f"{rng.choice(['10', '172', '192'])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}"
        address = f"{host}.{rng.randint(1, 254)}"
        yield rng.choice(
            [
                address,
                f"主机 {address}:{rng.randint(1000, 65535)}",
                f"IP/掩码/网关 {address}/255.255.255.0/{host}.1",
                f"{address} {host}.{rng.randint(1, 254)}",
            ]
        )


def iccid(rng: random.Random) -> str:
    length = rng.choice([19, 20])
    return with_check_digit("8986" + "".join(rng.choice("0123456789") for _ in range(length - 5)))


FALSE_POSITIVE_CORPUS: dict[str, Callable[[random.Random], Iterator[str]]] = {
    "terminal numbers": terminal_numbers,
    "mobile numbers": mobile_numbers,
    "reference numbers": reference_numbers,
    "amounts": amounts,
    "dates and times": dates_and_times,
    "IP addresses": ip_addresses,
}


def changed_by_the_guard(texts: Iterator[str]) -> tuple[int, int]:
    changed = total = 0
    for text in texts:
        total += 1
        try:
            changed += guard_text(text) != text
        except CardDataError:
            changed += 1
    return changed, total


@pytest.mark.parametrize("kind", FALSE_POSITIVE_CORPUS)
def test_numbers_that_are_no_card_are_never_masked(kind: str) -> None:
    changed, total = changed_by_the_guard(FALSE_POSITIVE_CORPUS[kind](random.Random(SEED)))
    assert (changed, total) == (0, COUNT)


def test_iccids_in_their_own_field_are_kept_whole() -> None:
    rng = random.Random(SEED)
    kept = 0
    for _ in range(COUNT):
        value = iccid(rng)
        assert ICCID.problem(value) is None
        kept += ICCID.guard(value) == value and ICCID.shown_whole(value)
    assert kept == COUNT


def order_numbers(rng: random.Random) -> Iterator[str]:
    for _ in range(COUNT):
        stamp = f"{rng.randint(2024, 2027)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        yield rng.choice(
            [
                # A POS order number: a date, a time or a sequence, 14 to 18 digits.
                f"{stamp}{rng.randrange(10**6):06d}",
                f"{stamp}{rng.randrange(10**10):010d}",
                # WeChat Pay and Alipay: 28 and 32 digits, longer than any card number.
                f"4200{rng.randrange(10**4):04d}{stamp}{rng.randrange(10**12):012d}",
                f"{stamp}2200{rng.randrange(10**20):020d}",
                f"订单号 DD{stamp}{rng.randrange(10**6):06d}",
            ]
        )


# One order number in ten that is 13 to 19 digits typed in one piece passes the Luhn check
# and is masked: unavoidable, since such a number is a card number as far as anyone can tell.
# Measured: 65 / 1200 before this change, the same 65 now.
ORDER_NUMBER_FALSE_POSITIVES = 65


def test_order_numbers_are_masked_only_when_they_could_be_a_card() -> None:
    rng = random.Random(SEED)
    texts = list(order_numbers(rng))
    changed, total = changed_by_the_guard(iter(texts))
    assert (changed, total) == (ORDER_NUMBER_FALSE_POSITIVES, COUNT)
    for text in texts:
        if guard_text(text) != text:
            assert any(13 <= len(run) <= 19 and luhn_ok(run) for run in re.findall(r"[0-9]+", text))


def visit_notes(rng: random.Random) -> Iterator[str]:
    """Notes a technician writes, every kind of number above in one text."""
    for _ in range(COUNT):
        tid = f"{rng.randrange(10**8):08d}"
        rrn = f"{rng.randrange(10**12):012d}"
        batch, voucher = f"{rng.randrange(10**6):06d}", f"{rng.randrange(10**6):06d}"
        date, clock = moment(rng)
        yield rng.choice(
            [
                f"终端号 {tid}，参考号 {rrn}，金额 {amount(rng)}，时间 {date} {clock}",
                f"批次号{batch} 凭证号{voucher}\n参考号 {rrn}\n{date} {clock}",
                f"{amount(rng)} {amount(rng)} {date} {clock} {mobile(rng)}",
                f"{tid}\n{batch}\n{voucher}",
                f"{amount(rng)}\n{amount(rng)}\n{amount(rng)}",
                f"{date}\n{moment(rng)[0]}\n{clock}",
                f"{amount(rng)}/{amount(rng)}/{amount(rng)}",
                f"联系人 {mobile(rng)}\n{mobile(rng)}",
                f"一一核对三号机、第二次签到正常，终端 {tid}",
                f"{tid} {batch}",
            ]
        )


# Measured: 37 / 1200 before this change, 15 now. The 15 are all "{terminal} {batch}": two
# numbers joined by one plain space whose 14 digits pass the Luhn check, which is exactly how
# a card number is written too; masked before as well. The 22 no longer masked were mobile
# numbers after "+86" or after the seconds of a clock time.
NOTE_FALSE_POSITIVES = 15


def test_visit_notes_lose_no_more_numbers_than_before() -> None:
    changed, total = changed_by_the_guard(visit_notes(random.Random(SEED)))
    assert (changed, total) == (NOTE_FALSE_POSITIVES, COUNT)


def test_a_merchant_number_that_is_a_card_number_is_refused_while_real_ones_are_kept() -> None:
    rng = random.Random(SEED)
    refused = kept = 0
    for _ in range(COUNT):
        acquirer = rng.choice(["102", "103", "104", "105", "301", "308", "401", "898"])
        merchant = acquirer + "".join(rng.choice("0123456789") for _ in range(12))
        kept += MERCHANT_NUMBER.problem(merchant) is None and MERCHANT_NUMBER.shown_whole(merchant)
        amex = with_check_digit(rng.choice(["34", "37"]) + f"{rng.randrange(10**12):012d}")
        refused += MERCHANT_NUMBER.problem(amex) is not None
    assert (kept, refused) == (COUNT, COUNT)


def test_a_tusn_is_kept_whole_even_when_it_passes_the_luhn_check() -> None:
    rng = random.Random(SEED)
    kept = 0
    for _ in range(COUNT):
        tusn = f"{rng.randint(1, 999):06d}" + f"{rng.randrange(10**13):013d}"
        kept += TUSN.guard(tusn) == tusn
    assert kept == COUNT


# --- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "unit", ["1 ", "4111 ", "1.", "1\u3000", "12 ", "4111  ", "1\n", "7", "4111\u00a0-"]
)
def test_a_megabyte_of_digits_and_separators_is_handled_in_linear_time(unit: str) -> None:
    text = unit * (1_000_000 // len(unit))
    started = time.perf_counter()
    result = guard_text(text)
    elapsed = time.perf_counter() - started
    # A catastrophic pattern would take hours here; this bound only has to tell the two apart.
    assert elapsed < 20, elapsed
    assert len(result) <= len(text)


# --- on the way out -----------------------------------------------------------------------------


def test_reports_and_exports_mask_what_a_hand_edited_store_holds() -> None:
    rng = random.Random(SEED + 2)
    samples = rng.sample(CORPUS, 3000)
    fp_texts = [text for kind in FALSE_POSITIVE_CORPUS.values() for text in kind(rng)]
    leaked = 0
    for start in range(0, len(samples), 30):
        chunk = samples[start : start + 30]
        document = {
            "uuid": "6f1c2d0e-1234-4b5a-9c8d-012345678901",
            "info": {
                "merchant_number": rng.choice(["310104000000001", "378282246310005"]),
                "terminal_serial": rng.choice(["000002PAX0123456789", "4111 1111 1111 1111"]),
                "notes": "\n".join(rng.sample(fp_texts, 5)),
            },
            "answers": [
                {"note": text, "values": {"serial": text, "iccid": iccid(rng)}}
                for _n, _b, _number, text in chunk
            ],
            "events": [{"who": f"张伟 {text}", "detail": {text: "x"}} for *_, text in chunk[:5]],
        }
        walked = json.dumps(masked_tree(document), ensure_ascii=False)
        # The quick path (one search of the JSON text) writes exactly what the walk writes.
        assert dumps_masked(document) == walked
        flat = squeezed(walked)
        leaked += sum(number in flat for _n, _b, number, _t in chunk)
        leaked += sum(
            bool(leaks(value, []))
            for key, value in stored_strings(json.loads(walked))
            # Notes hold the false-positive corpus: numbers that pass Luhn once their
            # separators are gone, and are no card ("+86 152 2695 8384").
            if key not in WHOLE | {"iccid", "notes"}
        )
        assert not looks_like_track_data(walked)
        assert "378282246310005" not in walked
        assert walked.count('"iccid": "89') == len(chunk)  # ICCIDs shown whole, in their field
    assert leaked == 0


def test_an_export_without_card_data_is_written_as_it_is() -> None:
    rng = random.Random(SEED + 3)
    notes = [text for kind in FALSE_POSITIVE_CORPUS.values() for text in kind(rng)]
    document = {
        "info": {"merchant_number": "310104000000001", "terminal_number": "20240001"},
        "answers": [{"note": note} for note in notes],
    }
    assert dumps_masked(document) == json.dumps(document, ensure_ascii=False)
