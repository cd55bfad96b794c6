"""The Textual app: modes, global keys, the language switch. Screens do the work."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.markup import escape
from textual.reactive import reactive
from textual.screen import Screen
from textual.signal import Signal

from pos_tui import startup_gc
from pos_tui.config import system_language
from pos_tui.ui.i18n import LANGUAGE_NAMES, Text
from pos_tui.ui.screens.base import LanguageMixin, PosModal, key_hint

if TYPE_CHECKING:
    from pos_tui.services.review import ReviewServices
    from pos_tui.services.technician import Services

SWITCH_LANGUAGE = Text("切换语言 / Switch language", "Switch language / 切换语言")
SWITCH_LANGUAGE_HELP = Text("在中文和英文之间切换界面", "Show the app in Chinese or English")
SHOW_HELP = Text("帮助：所有按键", "Help: every key")
CHANGE_THEME = Text("配色主题", "Theme")
CHANGE_THEME_HELP = Text("更换界面的配色", "Change the colours of the app")
QUIT = Text("退出", "Quit")
QUIT_HELP = Text("退出程序；已保存的内容不会丢失", "Leave the app; everything saved stays saved")
PALETTE_PLACEHOLDER = Text("搜索命令…", "Search for commands…")
THEME_PLACEHOLDER = Text("搜索配色主题…", "Search for themes…")
DEFAULT_THEME = "textual-dark"
COLLECTOR_HELD_AT_MOST = 10.0
"""Seconds after the app starts by which the collector runs again, whatever has shown."""


def _technician_home() -> Screen[None]:
    # Imported on first use, as the review side's: a supervisor never pays for it.
    from pos_tui.ui.screens.home import HomeScreen

    return HomeScreen()


def _review_home() -> Screen[None]:
    # Imported on first use: a technician who never reviews never pays for it.
    from pos_tui.ui.screens.review_list import ReviewListScreen

    return ReviewListScreen()


HOME_CSS = {"technician": "screens/home.tcss", "review": "screens/review.tcss"}
"""The CSS of each side's home screen, read with the app's: a screen's own CSS_PATH read
when it is shown costs Textual a second parse of all the CSS and a restyle of every node
(30-50 ms of the start); a screen whose file is already read costs neither."""


class PosApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "pos-tui"
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("f2", "toggle_language", "中文", id="app.language"),
        # Not a priority binding: keys typed before ctrl+q are handled first, in order, so
        # answers given in the same burst as the quit are still saved.
        Binding("ctrl+q", "quit", "Quit", id="app.quit", show=False),
        Binding("ctrl+p", "command_palette", "Commands", id="app.palette"),
    ]

    lang: reactive[str] = reactive("en", init=False)

    def __init__(
        self,
        services: Services | None,
        lang: str = "en",
        review: ReviewServices | None = None,
    ) -> None:
        # The supervisor's side starts on the review list and may have no local store.
        self.side = "technician" if services is not None else "review"
        super().__init__(css_path=[self.CSS_PATH, HOME_CSS[self.side]])
        self._services = services
        self._review = review
        self.set_reactive(PosApp.lang, lang if lang in LANGUAGE_NAMES else "en")
        self.language_signal: Signal[str] = Signal(self, "language")
        """Published with the new language; every pos_tui screen subscribes on mount."""
        settings = services.settings if services is not None else None
        theme = settings.theme if settings is not None else ""
        self.theme = theme if theme in self.available_themes else DEFAULT_THEME
        if settings is not None and settings.keymap:
            self.set_keymap(dict(settings.keymap))

    def get_default_screen(self) -> Screen[None]:
        # The side's home is the default screen, not the first of a mode: Textual parses
        # all the CSS again when a mode's first screen is shown (20-40 ms of the start).
        return _technician_home() if self.side == "technician" else _review_home()

    async def on_event(self, event: events.Event) -> None:
        # Keys typed before a dialog was shown were meant for the screen under it: never let
        # them land in its fields as text (`pp` in a note) or press its keys (ctrl+s).
        if (
            isinstance(event, events.Key)
            and isinstance(self.screen, PosModal)
            and self.screen.typed_before_shown(event)
        ):
            event.stop()
            return
        await super().on_event(event)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        # Each side's home ends the start's hold on the collector once it shows its data;
        # this, should it never get to (a store that fails to read), ends it all the same.
        self.set_timer(COLLECTOR_HELD_AT_MOST, startup_gc.end_hold)

    def _theme_changed(self, _theme: object) -> None:
        if self._services is not None and self.theme != self.services.settings.theme:
            self.services.update_settings(theme=self.theme)

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the technician's side was not started")
        return self._services

    @property
    def review(self) -> ReviewServices:
        if self._review is None:
            raise RuntimeError("the review side was not started")
        return self._review

    def on_unmount(self) -> None:
        for side in (self._services, self._review):
            if side is not None:
                side.close()

    def home_ready(self) -> None:
        """Called each time the home screen has shown the visits; the startup bench hooks it."""

    def watch_lang(self, lang: str) -> None:
        self.language_signal.publish(lang)

    def action_toggle_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"
        if self._services is not None:
            self.services.update_settings(language=self.lang)

    def action_help(self) -> None:
        from pos_tui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_command_palette(self) -> None:
        # Textual's own, with its placeholder in the app's language.
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            placeholder = PALETTE_PLACEHOLDER.get(self.lang)
            self.push_screen(CommandPalette(id="--command-palette", placeholder=placeholder))

    def search_themes(self) -> None:
        # Textual's theme picker, with its placeholder in the app's language.
        from textual.theme import ThemeProvider

        placeholder = THEME_PLACEHOLDER.get(self.lang)
        self.push_screen(CommandPalette(providers=[ThemeProvider], placeholder=placeholder))

    def _with_key(self, words: Text, key: str) -> str:
        return f"{escape(words.get(self.lang))}  {key_hint(key, self.lang)}"

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        # Not Textual's list: its entries (Keys, Maximize, Screenshot...) are English only
        # and name framework features a technician has no use for.
        lang = self.lang
        yield SystemCommand(QUIT.get(lang), self._with_key(QUIT_HELP, "ctrl+q"), self.action_quit)
        yield SystemCommand(
            CHANGE_THEME.get(lang), CHANGE_THEME_HELP.get(lang), self.action_change_theme
        )
        yield SystemCommand(
            SWITCH_LANGUAGE.get(lang),
            self._with_key(SWITCH_LANGUAGE_HELP, "f2"),
            self.action_toggle_language,
        )
        yield SystemCommand(SHOW_HELP.get(lang), key_hint("f1", lang), self.action_help)
        if isinstance(screen, LanguageMixin):
            yield from screen.screen_commands()


def make_app(
    services: Services | None,
    lang: str | None = None,
    review: ReviewServices | None = None,
) -> PosApp:
    """The one way to build the app, for the command line and the tests alike."""
    if lang is None:
        settings = services.settings if services is not None else None
        lang = settings.ui_language if settings is not None else system_language()
    return PosApp(services, lang, review)
