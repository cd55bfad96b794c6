"""The UI in Chinese and English.

Words shared across screens live here; a screen's own sentences live beside it as `Text`
constants (see docs/decisions.md). Footer descriptions are translated by binding id.
"""

from __future__ import annotations

from dataclasses import replace

from textual.dom import DOMNode

from pos_tui.domain.checklist import Text
from pos_tui.domain.names import CAPABILITY_NAMES, SEVERITY_NAMES, STATUS_NAMES
from pos_tui.domain.progress import VERDICT_NAMES
from pos_tui.domain.session import Outcome

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}

OUTCOME_NAMES: dict[str, Text] = {
    Outcome.PASS: Text("通过", "Pass"),
    Outcome.FAIL: Text("不通过", "Fail"),
    Outcome.NA: Text("不适用", "N/A"),
}


BINDING_TEXT: dict[str, Text] = {
    "app.help": Text("帮助", "Help"),
    "app.language": Text("English", "中文"),
    "app.quit": Text("退出", "Quit"),
    "home.new": Text("新建访问", "New visit"),
    "home.open": Text("打开", "Open"),
    "home.refresh": Text("刷新", "Refresh"),
    "home.sync": Text("同步", "Sync"),
    "item.pass": Text("通过", "Pass"),
    "item.fail": Text("不通过", "Fail"),
    "item.na": Text("不适用", "N/A"),
    "item.undo": Text("撤销", "Undo"),
    "item.next_open": Text("下一未答", "Next open"),
    "item.details": Text("备注/数据", "Note/values"),
    "item.down": Text("下一项", "Down"),
    "item.up": Text("上一项", "Up"),
    "visit.summary": Text("汇总", "Summary"),
    "visit.back": Text("返回", "Back"),
    "visit.sign": Text("签署", "Sign off"),
    "visit.report": Text("报告", "Report"),
    "form.save": Text("保存", "Save"),
    "form.cancel": Text("取消", "Cancel"),
    "form.start": Text("开始", "Start"),
}

SAVED = Text("已保存", "Saved")
SAVING = Text("保存中...", "Saving...")  # "…" is drawn two cells wide by CJK terminals
NOT_SAVED = Text("未保存", "Not saved")
READ_ONLY = Text("只读", "Read-only")


def tr(text: Text | None, lang: str) -> str:
    return "" if text is None else text.get(lang)


def translate_bindings(node: DOMNode, lang: str) -> None:
    """Put the footer of `node` into `lang`; bindings are matched by their id."""
    bindings = node._bindings.key_to_bindings
    for key, key_bindings in bindings.items():
        bindings[key] = [
            replace(binding, description=BINDING_TEXT[binding.id].get(lang))
            if binding.id in BINDING_TEXT
            else binding
            for binding in key_bindings
        ]


__all__ = [
    "BINDING_TEXT",
    "CAPABILITY_NAMES",
    "LANGUAGE_NAMES",
    "OUTCOME_NAMES",
    "SEVERITY_NAMES",
    "STATUS_NAMES",
    "VERDICT_NAMES",
    "Text",
    "tr",
    "translate_bindings",
]
