"""Realistic signed visits for trying the app and for benchmarks (`pos-tui demo`).

Deterministic for a given seed, so benchmarks and tests compare like with like.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from pos_tui.domain.answer_checks import pass_problem, problem
from pos_tui.domain.checklist import CAPABILITIES, Checklist, Field, FieldKind, Item
from pos_tui.domain.identifiers import credit_code_check, looks_like_a_card
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.signatures import Signer
from pos_tui.domain.visit_info import JobType, ReactivationReason, VisitInfo

_CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "南京", "武汉", "西安", "苏州"]
_ROADS = ["南京西路", "人民路", "解放路", "中山路", "建设路", "和平路", "长江路", "淮海中路"]
_BRANDS = ["老王", "福满楼", "鸿运", "小李", "金鼎", "味千", "好邻居", "一品", "阿婆", "新华"]
_TRADES = [
    "面馆",
    "超市",
    "便利店",
    "茶餐厅",
    "药房",
    "水果店",
    "烘焙坊",
    "五金店",
    "书店",
    "火锅店",
]
_TECHNICIANS = ["张伟", "王芳", "李娜", "刘洋", "陈杰", "Zhao Lei", "杨静", "黄磊"]
_REPRESENTATIVES = ["王老板", "李经理", "陈店长", "周女士", "吴先生", "郑老板"]
# A smart Android terminal does everything but wired Ethernet; the others are subsets.
SMART_TERMINAL = tuple(c for c in CAPABILITIES if c != "ethernet")
_MODELS: list[tuple[str, tuple[str, ...]]] = [
    ("Newland N910", SMART_TERMINAL),
    ("PAX A920", SMART_TERMINAL),
    ("Landi APOS A8", tuple(c for c in SMART_TERMINAL if c not in ("qr_scanner", "wifi"))),
    (
        "Centerm K9",
        ("chip", "contactless", "pinpad", "printer", "qr_display", "qr_scanner", "ethernet"),
    ),
    ("PAX S910", ("chip", "magstripe", "contactless", "pinpad", "printer", "cellular")),
]
_FAIL_NOTES = [
    "复测前失败，已现场处理后记录",
    "打印模糊，已更换热敏纸",
    "网络超时，备用链路切换后正常",
    "终端时间偏差超过5分钟",
    "Terminal showed an error; reported to the help desk",
    "商户不在场，未能完成演示",
]
# Not applicable on a required or critical item needs its reason.
_NA_NOTE = "本次作业不涉及此项"
# Checks that fail more often in the field than the rest: worn printers, weak signal, clocks.
_TROUBLESOME = re.compile(r"clock|time|paper|print|backup|comm|signal|network|settle|tamper|seal")


def _value_for(field: Field, rng: random.Random, info: VisitInfo) -> str:
    """A value that passes: what the visit holds where the field is compared with it."""
    known = info.detail(field.expect or field.prefill or "")
    if known:
        return known
    candidates: list[str]
    if field.kind is FieldKind.LAST4:
        return f"{rng.randrange(10000):04d}"
    if field.kind is FieldKind.NUMBER:
        low = field.minimum if field.minimum is not None else Decimal("0.01")
        high = field.maximum if field.maximum is not None else low + 2000
        step = rng.randrange(0, int((high - low) * 100) + 1)
        candidates = [str(low + Decimal(step) / 100), str(rng.randrange(1, 50))]
    elif field.kind is FieldKind.CHOICE:
        return rng.choice([choice for choice in field.choices if choice not in field.fails])
    elif field.kind is FieldKind.CREDIT_CODE:
        first = f"91{rng.randrange(110000, 660000)}{rng.randrange(10**9):09d}"
        return first + credit_code_check(first)
    else:
        candidates = [
            f"{rng.randrange(10**12):012d}",
            f"{rng.randrange(10**6):06d}",
            "".join(rng.choice("ABCDEF0123456789") for _ in range(6)),
            f"SN{rng.randrange(10**10):010d}",
            "正常",
        ]
    for candidate in candidates:
        if problem(field, candidate) is None and pass_problem(field, candidate, info) is None:
            return candidate
    return ""


def _answer(
    item: Item, rng: random.Random, failure_rate: float, info: VisitInfo
) -> tuple[str, str, dict[str, str]]:
    if not item.required and rng.random() < 0.3:
        return Outcome.NA, _NA_NOTE if item.na_needs_reason else "", {}
    if item.evidence is not None and item.evidence.needed:
        # The demo keeps no photos, and a pass would need them: n/a, with its reason.
        return Outcome.NA, _NA_NOTE, {}
    rate = failure_rate * (6 if _TROUBLESOME.search(item.id) else 1)
    if rng.random() < rate:
        return Outcome.FAIL, rng.choice(_FAIL_NOTES), {}
    values = {f.id: v for f in item.fields if (v := _value_for(f, rng, info))}
    if any(f.required and f.id not in values for f in item.fields):
        return Outcome.NA, _NA_NOTE, {}
    return Outcome.PASS, "", values


def _stepping_clock(start: datetime, rng: random.Random) -> Callable[[], datetime]:
    moment = [start]

    def clock() -> datetime:
        moment[0] += timedelta(seconds=rng.randrange(10, 90))
        return moment[0]

    return clock


def _merchant_number(rng: random.Random) -> str:
    # Acquirers' merchant numbers are not card numbers: a random one that happens to look
    # like one (about 1 in 40) is refused by the visit's rules, as it would be at the counter.
    while True:
        number = f"{rng.randrange(10**15):015d}"
        if not looks_like_a_card(number):
            return number


def demo_sessions(
    checklists: list[Checklist],
    count: int,
    seed: int = 7,
    failure_rate: float = 0.0006,
    now: datetime | None = None,
    signer: Signer | None = None,
) -> Iterator[Session]:
    """`count` signed visits spread over the year before `now`, signed with `signer` (the
    demo store's own device key) when one is given, as a laptop signs them."""
    rng = random.Random(seed)
    now = now or datetime.now().astimezone()
    for _ in range(count):
        model, capabilities = rng.choice(_MODELS)
        job_type = rng.choice(list(JobType))
        start = now - timedelta(days=rng.uniform(0, 365), hours=rng.uniform(0, 8))
        technician = rng.choice(_TECHNICIANS)
        info = VisitInfo(
            job_type=job_type,
            reason=rng.choice(list(ReactivationReason)) if job_type == JobType.REACTIVATION else "",
            merchant_name=f"{rng.choice(_CITIES)}{rng.choice(_BRANDS)}{rng.choice(_TRADES)}",
            merchant_number=_merchant_number(rng),
            terminal_number=f"{rng.randrange(10**8):08d}",
            terminal_serial=f"{model.split()[0][:2].upper()}{rng.randrange(10**10):010d}",
            model=model,
            capabilities=capabilities,
            site_address=f"{rng.choice(_CITIES)}市{rng.choice(_ROADS)}{rng.randrange(1, 999)}号",
            merchant_contact=f"138{rng.randrange(10**8):08d}",
            technician=technician,
            device_id=f"laptop-{_TECHNICIANS.index(technician):02d}",
        )
        session = Session.start(info, checklists, clock=_stepping_clock(start, rng))
        for checklist in checklists:
            for item in checklist.items:
                if session.applies(item):
                    outcome, note, values = _answer(item, rng, failure_rate, session.info)
                    session.record(checklist.id, item.id, outcome, note, values)
        session.sign(technician, rng.choice(_REPRESENTATIVES), signer=signer)
        yield session
