"""A value in the wrong format is told in words, never as the regular expression."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_tui.domain.checklist import Field, FieldKind, Text
from pos_tui.domain.loader import parse_bytes
from pos_tui.domain.pattern_words import pattern_in_words


@pytest.mark.parametrize(
    ("pattern", "zh", "en"),
    [
        ("^[0-9]{12}$", "12位数字", "12 digits"),
        ("^[0-9A-Za-z]{6}$", "6位字母或数字", "6 letters or digits"),
        ("[A-Z0-9]{8}", "8位大写字母或数字", "8 capital letters or digits"),
        (r"^\d{4,6}$", "4至6位数字", "4 to 6 digits"),
        ("^[A-Z]{2}$", "2位大写字母", "2 capital letters"),
    ],
)
def test_common_formats_are_put_into_words(pattern: str, zh: str, en: str) -> None:
    assert pattern_in_words(pattern) == Text(zh, en)


def test_a_field_says_its_format_in_words_or_by_its_hint_never_as_a_regex() -> None:
    plain = Field("rrn", Text.same("RRN"), FieldKind.TEXT, pattern="^[0-9]{12}$")
    assert plain.problem("12345") == Text("须为12位数字", "must be 12 digits")
    phone = Field(
        "hotline",
        Text.same("hotline"),
        FieldKind.TEXT,
        pattern="^[0-9][0-9 -]{3,19}$",
        hint=Text("电话号码（数字、空格或-）", "a phone number (digits, spaces or -)"),
    )
    assert phone.problem("call us").en == "must be a phone number (digits, spaces or -)"
    bare = Field("x", Text.same("x"), FieldKind.TEXT, pattern="^ab+c$")
    problem = bare.problem("zz")
    assert problem is not None and "^" not in problem.en + problem.zh


def test_the_hint_is_read_from_the_checklist(tmp_path: Path) -> None:
    text = b"""id: c
version: "1"
title: t
items:
  - id: i
    title: t
    severity: minor
    fields:
      - id: code
        label: code
        kind: text
        pattern: "^Q[0-9]+$"
        hint: {zh: Q\xe5\xbc\x80\xe5\xa4\xb4\xe5\x8a\xa0\xe6\x95\xb0\xe5\xad\x97, en: Q and digits}
"""
    checklist, problems = parse_bytes(text, "c.yaml")
    assert problems == [] and checklist is not None
    field = checklist.items[0].fields[0]
    assert field.problem("x") == Text("须为Q开头加数字", "must be Q and digits")
