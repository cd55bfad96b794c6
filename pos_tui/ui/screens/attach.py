"""The attach dialog: the files on one item, and where more come from.

Files come in two ways, both through `Services.attach` on the worker, so the counter never
waits for a disk or a slow USB phone: a path typed or pasted into the box (a terminal
pastes a dragged file's path), and the pictures in the camera folder taken since the visit
started, newest first, several at once. The folder is chosen once (Ctrl+O) and kept in the
settings. What is on the item is listed with its size and the time it was taken, and can
be taken off again (the file itself stays in the store: evidence is never deleted).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from pos_tui.domain.checklist import EvidenceRule, Text
from pos_tui.domain.session import Session
from pos_tui.services.intake import Picture, pasted_paths, pictures_since
from pos_tui.services.technician import Attached
from pos_tui.ui.i18n import evidence_count, file_line, size_text
from pos_tui.ui.screens import attach_text as words
from pos_tui.ui.screens.base import PosModal, error_text
from pos_tui.ui.widgets.in_order_input import InOrderInput
from pos_tui.ui.widgets.key_bar import KeyBar

Key = tuple[str, str]


class PathInput(InOrderInput):
    """An Input that keeps every line of a paste: a file manager copies several files as
    one path a line, and Input alone would keep only the first."""

    def on_paste(self, event: events.Paste) -> None:
        lines = [line.strip() for line in event.text.splitlines() if line.strip()]
        if len(lines) < 2:
            return  # one line: Input's own paste
        # Each line is one path: quoted, so a space in a name survives pasted_paths.
        joined = " ".join(shlex.quote(line) for line in lines)
        self.insert_text_at_cursor(joined)
        event.prevent_default()
        event.stop()


class AttachScreen(PosModal[None]):
    CSS_PATH = "attach.tcss"
    BINDINGS = [
        Binding("ctrl+s", "attach", "Attach", id="attach.add"),
        # Not delete: the path box takes delete (and ctrl+d) for its own text.
        Binding("ctrl+r", "remove", "Remove", id="attach.remove"),
        Binding("ctrl+o", "folder", "Camera folder", id="attach.folder"),
        # Not q: the path box has focus and takes letters.
        Binding("ctrl+t", "phone", "Phone camera", id="attach.phone"),
        Binding("escape", "close", "Close", id="attach.close"),
    ]

    def __init__(self, session: Session, key: Key, changed: Callable[[Session], None]) -> None:
        super().__init__()
        self.session = session
        """The visit as last saved, with this item's files."""
        self.key = key
        self.changed = changed
        """Told of every save, so the runner shows the files even if this dialog closed."""
        self.busy = 0
        self.pictures: list[Picture] | None = []
        """The camera folder's pictures since the visit started; None: the folder is gone."""
        self.listing = False
        self.status: Text | None = None
        self.refused: list[Text] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="attach-box", classes="dialog"):
            yield Static(id="attach-title", classes="dialog-title", markup=False)
            yield Static(id="attach-count", classes="attach-heading")
            yield OptionList(id="attach-files")
            yield Static(id="attach-path-label", classes="attach-heading")
            yield PathInput(id="attach-path")
            yield Static(id="attach-folder", classes="attach-heading", markup=False)
            yield SelectionList[str](id="attach-pictures")
            yield Static(id="attach-status", markup=False)
            yield Static(id="attach-refused", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#attach-path", Input).focus()
        self.list_folder()

    @property
    def item_rule(self) -> EvidenceRule | None:
        return self.session.item(*self.key).evidence

    # -- drawing --------------------------------------------------------------------

    def apply_language(self, lang: str) -> None:
        item = self.session.item(*self.key)
        self.query_one("#attach-title", Static).update(
            words.TITLE.get(lang).format(title=item.title.get(lang))
        )
        self.query_one("#attach-path-label", Static).update(words.PATH.get(lang))
        self.query_one("#attach-path", Input).placeholder = words.PATH_PLACEHOLDER.get(lang)
        self._show_files()
        self._show_pictures()
        self._show_status()

    def _show_files(self) -> None:
        lang = self.lang
        refs = self.session.evidence_of(*self.key)
        rule = self.item_rule
        count = evidence_count(rule, len(refs)).get(lang) if rule else ""
        if not refs:
            count = f"{count}  {words.NONE_YET.get(lang)}".strip()
        if not self.session.editable:
            count = f"{count}\n{words.READ_ONLY.get(lang)}"
        self.query_one("#attach-count", Static).update(count)
        files = self.query_one("#attach-files", OptionList)
        highlighted = files.highlighted
        files.set_options(Option(file_line(ref, lang), ref.sha256) for ref in refs)
        files.display = bool(refs)
        if refs:
            files.highlighted = min(highlighted or 0, len(refs) - 1)
        self.refresh_bindings()

    def _show_pictures(self) -> None:
        lang = self.lang
        folder = self.services.settings.photo_folder
        line = self.query_one("#attach-folder", Static)
        chooser = self.query_one("#attach-pictures", SelectionList)
        if not folder:
            line.update(words.NO_FOLDER.get(lang))
        elif self.listing:
            line.update(words.LISTING.get(lang).format(folder=folder))
        elif self.pictures is None:
            line.update(words.FOLDER_MISSING.get(lang).format(folder=folder))
        elif not self.pictures:
            line.update(words.FOLDER_EMPTY.get(lang).format(folder=folder))
        else:
            line.update(
                words.FOLDER_PICTURES.get(lang).format(folder=folder, count=len(self.pictures))
            )
        chosen = set(chooser.selected)
        chooser.clear_options()
        for picture in self.pictures or []:
            shown = (
                f"{picture.modified:%H:%M:%S}  {size_text(picture.size):>8}  {picture.path.name}"
            )
            value = str(picture.path)
            chooser.add_option(Selection(shown, value, value in chosen))
        chooser.display = bool(self.pictures)
        if self.pictures:
            chooser.highlighted = 0  # space selects the newest at once, as the line says

    def _show_status(self) -> None:
        lang = self.lang
        status = self.status.get(lang) if self.status else ""
        self.query_one("#attach-status", Static).update(status)
        refused = self.query_one("#attach-refused", Static)
        refused.update("\n".join(text.get(lang) for text in self.refused))
        refused.display = bool(self.refused)

    def _say(self, status: Text | None) -> None:
        self.status = status
        if self.is_attached:
            self._show_status()

    # -- the camera folder ----------------------------------------------------------

    def list_folder(self) -> None:
        folder = self.services.settings.photo_folder
        if not folder:
            self.pictures = []
            self._show_pictures()
            return
        since = datetime.fromisoformat(self.session.created_at)
        self.listing = True
        self._show_pictures()
        job = self.services.worker.submit(_pictures_in, Path(folder).expanduser(), since)
        self.when_done(job, self._listed)

    def _listed(self, pictures: list[Picture] | None) -> None:
        self.listing = False
        self.pictures = pictures
        if self.is_attached:
            self._show_pictures()

    def action_folder(self) -> None:
        current = self.services.settings.photo_folder
        self.app.push_screen(FolderScreen(current), self._folder_chosen)

    def _folder_chosen(self, folder: str | None) -> None:
        if folder is None or folder == self.services.settings.photo_folder:
            return
        self.when_done(self.services.update_settings(photo_folder=folder), lambda _: None)
        self.list_folder()

    # -- attaching and removing -----------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("attach", "folder", "remove", "phone") and not self.session.editable:
            return False
        if action == "remove":
            return bool(self.session.evidence_of(*self.key))
        return True

    @on(Input.Submitted, "#attach-path")
    def _submitted(self) -> None:
        self.action_attach()

    def action_attach(self) -> None:
        box = self.query_one("#attach-path", Input)
        chooser = self.query_one("#attach-pictures", SelectionList)
        typed = pasted_paths(box.value)
        picked = [Path(value) for value in chooser.selected]
        if not typed and not picked:
            self._say(words.NOTHING_CHOSEN)
            return
        box.value = ""
        chooser.deselect_all()
        self.refused = []
        # Two sources, two calls: each file's record says how it arrived.
        for paths, source in ((typed, "laptop"), (picked, "folder")):
            if paths:
                self.busy += 1
                self._say(words.fill(words.ATTACHING, count=len(typed) + len(picked)))
                future = self.services.attach(
                    self.session, self.key[0], self.key[1], paths=paths, source=source
                )
                self.when_done(future, self._attached, self._failed)

    def _attached(self, attached: Attached) -> None:
        self.busy -= 1
        self.session = attached.session
        self.changed(attached.session)
        self.refused.extend(text for _name, text in attached.refused)
        if not self.is_attached:
            # Closed before the save came back: the runner shows the files, this the rest.
            for text in self.refused:
                self.app.notify(text.get(self.lang), severity="warning", timeout=8)
            return
        self._show_files()
        if not self.busy:
            # Refused files speak for themselves, below; the line says what went on.
            quiet = attached.refused and not attached.added
            self._say(None if quiet else words.attached_text(attached.added))

    def _failed(self, error: BaseException) -> None:
        self.busy -= 1
        if not self.is_attached:
            self.app.notify(error_text(error, self.lang), severity="error", timeout=8)
            return
        self.refused.append(Text(error_text(error, "zh"), error_text(error, "en")))
        self._say(self.status if self.busy else None)

    def action_remove(self) -> None:
        files = self.query_one("#attach-files", OptionList)
        refs = self.session.evidence_of(*self.key)
        index = files.highlighted
        if index is None or index >= len(refs):
            return
        ref = refs[index]
        self.busy += 1
        self._say(words.fill(words.REMOVING, name=ref.name))
        future = self.services.detach(self.session, self.key[0], self.key[1], ref.sha256)
        self.when_done(future, partial(self._removed, ref.name), self._failed)

    def _removed(self, name: str, session: Session) -> None:
        self.busy -= 1
        self.session = session
        self.changed(session)
        if self.is_attached:
            self._show_files()
            self._say(words.fill(words.REMOVED, name=name))

    def action_phone(self) -> None:
        from pos_tui.ui.screens.phone_qr import PhoneScreen

        self.app.push_screen(PhoneScreen(self.session, self.key, self._from_phone))

    def _from_phone(self, session: Session) -> None:
        """A photo from the phone was saved: this list and the runner show it."""
        self.session = session
        self.changed(session)
        if self.is_attached:
            self._show_files()

    def action_close(self) -> None:
        self.dismiss(None)


def _pictures_in(folder: Path, since: datetime) -> list[Picture] | None:
    """On the worker: a camera folder on a phone over USB can take seconds to list."""
    if not folder.is_dir():
        return None
    return pictures_since(folder, since)


class FolderScreen(PosModal[str | None]):
    """Choose the camera folder: typed, or pasted (a dragged folder's path)."""

    CSS_PATH = "attach.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="folder-box", classes="dialog"):
            yield Static(id="folder-title", classes="dialog-title")
            yield Static(id="folder-hint", classes="hint")
            yield InOrderInput(self.current, id="folder-path")
            yield Static(id="folder-keys", classes="hint")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#folder-path", Input).focus()

    def apply_language(self, lang: str) -> None:
        self.query_one("#folder-title", Static).update(words.FOLDER_TITLE.get(lang))
        self.query_one("#folder-hint", Static).update(words.FOLDER_HINT.get(lang))
        self.query_one("#folder-keys", Static).update(words.FOLDER_KEYS.get(lang))

    @on(Input.Submitted, "#folder-path")
    def _submitted(self, event: Input.Submitted) -> None:
        # A dragged folder arrives quoted, or as a file:// address: read it as a path.
        found = pasted_paths(event.value)
        self.dismiss(str(found[0]) if found else "")

    def action_cancel(self) -> None:
        self.dismiss(None)
