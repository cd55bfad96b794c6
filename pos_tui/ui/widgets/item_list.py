"""The items of a visit under their checklist titles, each with a fixed-width status column.

Only words and ASCII go in the status column, padded by terminal cells, so Chinese and
English lines stay aligned even on terminals that draw ambiguous-width symbols wide.
"""

from __future__ import annotations

from collections.abc import Collection

from rich.cells import cell_len
from rich.style import Style
from rich.table import Table
from rich.text import Text as RichText
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from pos_tui.domain.checklist import Checklist, Item
from pos_tui.domain.session import Outcome, Session
from pos_tui.ui.i18n import Text
from pos_tui.ui.widgets.broken_text import BrokenText

Key = tuple[str, str]

STATUS_WORDS: dict[str, Text] = {
    Outcome.PASS: Text("通过", "PASS"),
    Outcome.FAIL: Text("不通过", "FAIL"),
    Outcome.NA: Text("不适用", "N/A"),
}
SAVING_MARK = "..."
INAPPLICABLE_MARK = "-"
TERMINAL_NA = Text("（本终端不适用）", "(n/a: terminal)")


def status_width(lang: str) -> int:
    """Cells of the status column: its widest word in `lang`."""
    return max(cell_len(word.get(lang)) for word in STATUS_WORDS.values())


def option_id(key: Key) -> str:
    return f"{key[0]}/{key[1]}"


class ItemList(OptionList, inherit_bindings=False):
    """OptionList without its own Enter, so the screen's Enter (note/values) shows in the footer."""

    BINDINGS = [
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("pagedown", "page_down", "Page Down", show=False),
        Binding("pageup", "page_up", "Page Up", show=False),
    ]
    COMPONENT_CLASSES = {
        "item-list--pass",
        "item-list--fail",
        "item-list--na",
        "item-list--pending",
        "item-list--inapplicable",
        "item-list--done",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: list[Key | None] = []
        self._index: dict[Key, int] = {}

    # -- reading --------------------------------------------------------------------

    @property
    def current_key(self) -> Key | None:
        index = self.highlighted
        return None if index is None or index >= len(self.keys) else self.keys[index]

    def item_keys(self) -> list[Key]:
        return [key for key in self.keys if key is not None]

    def select_key(self, key: Key) -> None:
        index = self._index.get(key)
        if index is not None:
            self.highlighted = index
            self.scroll_to_highlight()

    # -- drawing --------------------------------------------------------------------

    def show(self, session: Session, lang: str, pending: Collection[Key] = ()) -> None:
        """Rebuild every line (on mount and on a language switch), keeping the cursor."""
        current = self.current_key
        options: list[Option] = []
        self.keys = []
        for checklist in session.checklists:
            options.append(self._heading(session, checklist, lang))
            self.keys.append(None)
            for item in checklist.items:
                key = (checklist.id, item.id)
                options.append(
                    Option(
                        self._line(session, checklist, item, lang, key in pending), option_id(key)
                    )
                )
                self.keys.append(key)
        self._index = {key: index for index, key in enumerate(self.keys) if key is not None}
        self.set_options(options)
        if current is not None:
            self.select_key(current)

    def refresh_item(self, session: Session, key: Key, lang: str, pending: bool = False) -> None:
        """Redraw one item's line and its checklist's heading after an answer changed."""
        checklist = session.checklist(key[0])
        item = checklist.item(key[1])
        self.replace_option_prompt(
            option_id(key), self._line(session, checklist, item, lang, pending)
        )
        heading = self._heading(session, checklist, lang)
        self.replace_option_prompt(f"heading:{checklist.id}", heading.prompt)

    def _heading(self, session: Session, checklist: Checklist, lang: str) -> Option:
        progress = session.progress(checklist.id)
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, overflow="fold")
        grid.add_column(justify="right", no_wrap=True)
        count_style = self._style("item-list--done") if progress.done else Style()
        grid.add_row(
            BrokenText(RichText(checklist.title.get(lang))),
            RichText(f" {progress}", style=count_style),
        )
        return Option(grid, id=f"heading:{checklist.id}", disabled=True)

    def _line(
        self, session: Session, checklist: Checklist, item: Item, lang: str, pending: bool
    ) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=status_width(lang), no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        title = RichText(item.title.get(lang))
        if not session.applies(item):
            dim = self._style("item-list--inapplicable")
            title.stylize(dim)
            title.append(" " + TERMINAL_NA.get(lang), style=dim)
            grid.add_row(RichText(INAPPLICABLE_MARK, style=dim), BrokenText(title))
            return grid
        answer = session.answer(checklist.id, item.id)
        if pending:
            status = RichText(SAVING_MARK, style=self._style("item-list--pending"))
        elif answer is None:
            status = RichText("")
        else:
            status = RichText(
                STATUS_WORDS[answer.outcome].get(lang),
                style=self._style(f"item-list--{answer.outcome}"),
            )
        marker = self._evidence_marker(session, item, (checklist.id, item.id))
        if marker is not None:
            title.append_text(marker)
        grid.add_row(status, BrokenText(title))
        return grid

    def _evidence_marker(self, session: Session, item: Item, key: Key) -> RichText | None:
        """[1/1] after the title of an item that asks for files: how many it has against
        what a pass needs ([2] when they are optional). ASCII, so both languages align."""
        rule = item.evidence
        if rule is None:
            return None
        attached = len(session.evidence_of(*key))
        if not rule.needed and not attached:
            return None
        shown = f" [{attached}/{rule.needed}]" if rule.needed else f" [{attached}]"
        component = "item-list--done" if attached >= rule.needed else "item-list--pending"
        return RichText(shown, style=self._style(component))

    def _style(self, component: str) -> Style:
        # The full style, for colours with alpha blended in, less the background: the
        # highlighted line must keep its own.
        style = self.get_component_rich_style(component)
        return Style(color=style.color, bold=style.bold, italic=style.italic)
