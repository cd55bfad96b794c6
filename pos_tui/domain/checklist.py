"""The checklist model: what a technician must check, as loaded from YAML.

Pure data: no I/O here. `loader.py` builds these from files and is the only place that
knows about YAML; everything else works with these frozen objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

CAPABILITIES: tuple[str, ...] = (
    "chip",
    "magstripe",
    "contactless",
    "pinpad",
    "printer",
    "qr_display",
    "qr_scanner",
    "ethernet",
    "wifi",
    "cellular",
)

LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_ORDER = 1000


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


class FieldKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    CHOICE = "choice"
    LAST4 = "last4"
    # Identifiers: each checked and kept whole by its own rule in `identifiers.py`, where the
    # card-number guard would mask them (a 19-digit ICCID passes the Luhn check).
    ICCID = "iccid"
    TUSN = "tusn"
    TERMINAL_NUMBER = "terminal_number"
    MERCHANT_NUMBER = "merchant_number"
    CREDIT_CODE = "credit_code"
    MCC = "mcc"


IDENTIFIER_KINDS: frozenset[FieldKind] = frozenset(
    {
        FieldKind.ICCID,
        FieldKind.TUSN,
        FieldKind.TERMINAL_NUMBER,
        FieldKind.MERCHANT_NUMBER,
        FieldKind.CREDIT_CODE,
        FieldKind.MCC,
    }
)


@dataclass(frozen=True, slots=True)
class Text:
    """A string in both UI languages; a plain YAML string fills both."""

    zh: str
    en: str

    @classmethod
    def same(cls, value: str) -> Text:
        return cls(zh=value, en=value)

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def to_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


_LAST4 = re.compile(r"[0-9]{4}")


@dataclass(frozen=True, slots=True)
class Field:
    id: str
    label: Text
    kind: FieldKind
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    required: bool = False
    fails: tuple[str, ...] = ()
    """Choices that mean the check failed: recorded with a fail, never with a pass."""
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    """For numbers: a value outside the range is recorded with a fail, never with a pass."""
    prefill: str | None = None
    """A visit detail (a `VisitInfo` attribute) the note dialog starts the field with."""
    expect: str | None = None
    """A visit detail the value must equal for the item to pass."""
    hint: Text | None = None
    """The format in words ("12 digits"), where the pattern is not one that can be put
    into words by itself (`pattern_words.py`)."""

    def problem(self, value: str) -> Text | None:
        """Why `value` cannot be recorded in this field, or None when it can."""
        value = value.strip()
        if not value:
            if self.required:
                return Text("必填", "required")
            return None
        if self.kind is FieldKind.NUMBER:
            try:
                Decimal(value)
            except InvalidOperation:
                return Text("必须是数字", "must be a number")
        elif self.kind is FieldKind.LAST4:
            if not _LAST4.fullmatch(value):
                return Text("必须是4位数字", "must be exactly 4 digits")
        elif self.kind is FieldKind.CHOICE and value not in self.choices:
            options = ", ".join(self.choices)
            return Text(f"须为以下之一：{options}", f"must be one of: {options}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            # Imported here: pattern_words builds its sentences from this module's Text.
            from pos_tui.domain.pattern_words import format_problem

            return format_problem(self.pattern, self.hint)
        return None


@dataclass(frozen=True, slots=True)
class Condition:
    """When an item (or a whole checklist) applies to a visit.

    The terminal has every capability in `capabilities`; the job is one of `jobs` (None:
    any job; an empty set: none, which the loader refuses); every visit detail named in
    `details` is filled in.
    """

    capabilities: frozenset[str] = frozenset()
    jobs: frozenset[str] | None = None
    details: frozenset[str] = frozenset()

    def holds(
        self, capabilities: Iterable[str], job_type: str = "", filled: Iterable[str] = ()
    ) -> bool:
        return self.unmet(capabilities, job_type, filled) is None

    def unmet(
        self, capabilities: Iterable[str], job_type: str = "", filled: Iterable[str] = ()
    ) -> Condition | None:
        """The parts of this condition the visit does not meet, or None when it applies."""
        missing_capabilities = self.capabilities - frozenset(capabilities)
        wrong_job = self.jobs is not None and job_type not in self.jobs
        missing_details = self.details - frozenset(filled)
        if not (missing_capabilities or wrong_job or missing_details):
            return None
        return Condition(missing_capabilities, self.jobs if wrong_job else None, missing_details)

    def __and__(self, other: Condition) -> Condition:
        """Both conditions: how an item's own `when` combines with its checklist's."""
        if self.jobs is None or other.jobs is None:
            jobs = self.jobs if other.jobs is None else other.jobs
        else:
            jobs = self.jobs & other.jobs
        return Condition(self.capabilities | other.capabilities, jobs, self.details | other.details)


ALWAYS = Condition()


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class EvidenceRule:
    """What an item asks for: `minimum` files to pass when `required`, at most `maximum`."""

    kind: EvidenceKind = EvidenceKind.PHOTO
    minimum: int = 1
    maximum: int = 5
    required: bool = True

    @property
    def needed(self) -> int:
        """How many files a pass needs."""
        return self.minimum if self.required else 0


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    title: Text
    severity: Severity
    required: bool = True
    guidance: Text | None = None
    fields: tuple[Field, ...] = ()
    when: Condition = ALWAYS
    evidence: EvidenceRule | None = None
    """The photos or files the item asks for; None when it asks for none."""

    def applies_to(
        self, capabilities: Iterable[str], job_type: str = "", filled: Iterable[str] = ()
    ) -> bool:
        return self.when.holds(capabilities, job_type, filled)

    @property
    def na_needs_reason(self) -> bool:
        """Not applicable is a claim about the site that a reviewer must be able to check: on
        an item that counts (required) or that could hide a risk (critical), it needs a note."""
        return self.required or self.severity is Severity.CRITICAL

    def field(self, field_id: str) -> Field:
        for candidate in self.fields:
            if candidate.id == field_id:
                return candidate
        raise KeyError(field_id)


@dataclass(frozen=True, slots=True)
class Checklist:
    id: str
    version: str
    title: Text
    items: tuple[Item, ...]
    description: Text | None = None
    order: int = DEFAULT_ORDER
    source: Path | None = field(default=None, compare=False)
    sha256: str = ""
    when: Condition = ALWAYS
    """When the checklist is offered at all; every item's `when` already includes it."""

    def item(self, item_id: str) -> Item:
        for candidate in self.items:
            if candidate.id == item_id:
                return candidate
        raise KeyError(item_id)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)


def in_visit_order(checklists: Iterable[Checklist]) -> list[Checklist]:
    return sorted(checklists, key=lambda checklist: (checklist.order, checklist.id))
