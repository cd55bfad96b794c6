"""Chinese line breaking: no line starts with a stop mark or a closing bracket."""

from __future__ import annotations

import pytest

from pos_tui.domain.line_breaking import NO_LINE_END, NO_LINE_START, text_width, wrap

SENTENCE = (
    "输入不超过1000元的小额金额（如0.01元），用带银联闪付标识的IC卡在感应区挥卡。"
    "合格标准：一次挥卡即读卡成功（提示音、指示灯正常），不要求输入密码、不要求签名就完成交易。"
)


def naive_fold(text: str, width: int) -> list[str]:
    """What a wrapper that only counts cells does with a run without spaces."""
    lines, line = [], ""
    for character in text:
        if text_width(line + character) > width:
            lines.append(line)
            line = ""
        line += character
    return [*lines, line]


def test_a_mark_never_starts_a_line_where_counting_cells_would_put_it() -> None:
    # 商户暂未设置 after a comma at the edge: the case seen at the counter.
    text = "请确认终端参数已下载完成" + "，商户暂未设置"
    assert naive_fold(text, 24)[1].startswith("，")
    lines = wrap(text, 24)
    assert lines == ["请确认终端参数已下载完", "成，商户暂未设置"]  # 成 goes down with it


def test_an_opening_bracket_never_ends_a_line() -> None:
    lines = wrap("一二三四五（六）", 12)
    assert lines == ["一二三四五", "（六）"]


@pytest.mark.parametrize("width", range(8, 61))
def test_every_width_keeps_the_rules_and_the_text(width: int) -> None:
    lines = wrap(SENTENCE, width)
    assert "".join(lines) == SENTENCE  # nothing lost, nothing added between Chinese
    for line in lines:
        assert text_width(line) <= width
    for line in lines[1:]:
        assert line[0] not in NO_LINE_START, (width, line)
    for line in lines[:-1]:
        assert line[-1] not in NO_LINE_END, (width, line)


def test_words_break_at_spaces_and_paragraphs_stay_apart() -> None:
    assert wrap("Tap the card on the reader.", 12) == ["Tap the card", "on the", "reader."]
    assert wrap("第一行\n第二行", 40) == ["第一行", "第二行"]
    assert wrap("0123456789012345", 6) == ["012345", "678901", "2345"]  # folded: no space
    assert wrap("用IC卡挥卡", 6) == ["用IC卡", "挥卡"]
