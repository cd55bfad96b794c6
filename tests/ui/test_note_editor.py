"""The note's editor (`NoteEditor`): lines broken as Chinese is typeset while it is typed,
and the keys, paste, click and undo a note needs."""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult

from pos_tui.domain.line_breaking import NO_LINE_START, text_width
from pos_tui.ui.widgets.note_editor import NoteEditor
from tests.unit.test_line_breaking import naive_fold

NOTE = "终端时间比北京时间慢了5分钟，已在管理菜单中重新同步，商户确认小票时间正确（重启后复查）。"


class EditorApp(App[None]):
    CSS = "NoteEditor { width: 30; max-height: 4; }"

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text
        self.changes: list[str] = []

    def compose(self) -> ComposeResult:
        yield NoteEditor(self.text, placeholder="写下情况")

    def on_mount(self) -> None:
        self.query_one(NoteEditor).focus()

    def on_note_editor_changed(self, event: NoteEditor.Changed) -> None:
        self.changes.append(event.value)


def drawn(editor: NoteEditor) -> list[str]:
    return [editor.render_line(y).text.rstrip() for y in range(editor.size.height)]


async def test_typed_chinese_never_starts_a_line_with_a_stop_mark_at_any_width() -> None:
    app = EditorApp()
    async with app.run_test(size=(80, 24)) as pilot:
        editor = app.query_one(NoteEditor)
        for character in NOTE:  # as an input method sends them: a key each, its character
            app.post_message(events.Key(character, character))
        await pilot.pause()
        assert editor.value == NOTE and app.changes[-1] == NOTE
        naive_breaks = 0
        for width in range(16, 41):
            editor.styles.width = width
            editor.styles.max_height = 20
            await pilot.pause()
            room = editor.scrollable_content_region.width - 1
            naive_breaks += sum(line[:1] in NO_LINE_START for line in naive_fold(NOTE, room))
            lines = [line for line in drawn(editor) if line]
            assert "".join(lines) == NOTE, width  # all of it, in order, nothing doubled
            for line in lines:
                assert line[0] not in NO_LINE_START, (width, line)
                assert text_width(line) <= room
        assert naive_breaks, "no width where folding by cells breaks a rule: tests nothing"


async def test_the_keys_a_note_needs_move_edit_and_undo() -> None:
    app = EditorApp()
    async with app.run_test(size=(80, 24)) as pilot:
        editor = app.query_one(NoteEditor)
        assert "写下情况" in drawn(editor)[0]  # the placeholder until something is typed
        await pilot.press(*"小票未打印", "enter", *"已重试")
        assert editor.value == "小票未打印\n已重试"
        await pilot.press("up")  # the same column a line up (cells, not characters)
        assert editor.cursor == 3
        await pilot.press("end", "backspace", "backspace")
        assert editor.value == "小票未\n已重试"
        await pilot.press("ctrl+home", "delete")
        assert editor.value == "票未\n已重试" and editor.cursor == 0
        await pilot.press("ctrl+end", "left", "left")
        assert editor.cursor == len(editor.value) - 2
        await pilot.press("ctrl+z")  # the delete
        assert editor.value == "小票未\n已重试"
        await pilot.press("ctrl+z")  # both backspaces: one step
        assert editor.value == "小票未打印\n已重试"
        await pilot.press("ctrl+y")
        assert editor.value == "小票未\n已重试"
        await pilot.press("ctrl+z", "ctrl+z")  # each run of typing is one step, and Enter
        assert editor.value == "小票未打印\n"
        await pilot.press("ctrl+z", "ctrl+z")
        assert editor.value == ""
        editor.post_message(events.Paste("第一行\r\n第二行\t完"))
        await pilot.pause()
        assert editor.value == "第一行\n第二行 完"  # line breaks kept, a tab a space
        await pilot.click(NoteEditor, offset=(2, 0))  # the second character's cell
        assert editor.cursor == 1


async def test_a_long_note_opens_at_its_beginning_and_follows_the_cursor() -> None:
    app = EditorApp(NOTE * 3)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = app.query_one(NoteEditor)
        await pilot.pause()
        assert editor.cursor == 0 and drawn(editor)[0].startswith(NOTE[:5])
        assert editor.virtual_size.height > editor.size.height  # it scrolls
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert drawn(editor)[-1].endswith("。")  # the end, where the cursor is, in view
        editor.value = "短"
        await pilot.pause()
        assert editor.cursor == 1 and drawn(editor)[0].startswith("短")
