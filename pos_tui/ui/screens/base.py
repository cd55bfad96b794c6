"""What every pos_tui screen shares: the services, the language, and bringing results home."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events, on
from textual.actions import SkipAction
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.markup import escape
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

from pos_tui.domain.redact import CardDataError
from pos_tui.domain.session import VisitError
from pos_tui.store.storage import StoreError
from pos_tui.ui.i18n import BINDING_TEXT, Text, describe

if TYPE_CHECKING:
    from pos_tui.services.technician import Services
    from pos_tui.ui.app import PosApp

T = TypeVar("T")
ScreenResult = TypeVar("ScreenResult")

EXPECTED_ERRORS = (VisitError, CardDataError, StoreError)


ENTER_MOVES_ON = Binding("enter", "next_field", show=False, priority=True)
"""For forms: a priority binding runs in the app's own key loop, so focus has moved before
the next key is dispatched. As a handler of Input.Submitted it moved too late, and text
typed fast (or sent by a barcode scanner) after Enter landed in the field just left."""


def focused_input(screen: Screen[Any]) -> Input:
    """The Input that has focus; anything else lets Enter do its usual work there."""
    focused = screen.focused
    if not isinstance(focused, Input):
        raise SkipAction()
    return focused


def error_text(error: BaseException, lang: str) -> str:
    """A plain sentence for the person at the counter."""
    if isinstance(error, VisitError):
        return error.text.get(lang)
    if isinstance(error, CardDataError):
        return error.message_zh if lang == "zh" else str(error)
    if isinstance(error, StoreError):
        return error.text.get(lang)
    return str(error)


def screen_keys(screen: Screen[Any], lang: str) -> list[tuple[str, str, Binding, bool]]:
    """The keys that work on `screen` now, ours only (not the framework's), one per action:
    (key as shown, words, binding, enabled)."""
    found: list[tuple[str, str, Binding, bool]] = []
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.id not in BINDING_TEXT or binding.action in seen:
            continue
        seen.add(binding.action)
        shown = screen.app.get_key_display(binding)
        found.append((shown, describe(binding, lang), binding, active.enabled))
    return found


KEY_HINT = Text("按键：{key}", "Key: {key}")


def key_hint(shown: str, lang: str) -> str:
    """A key under a command's title in the palette, whose text is markup: `[esc]` would
    vanish as a tag."""
    return escape(KEY_HINT.get(lang).format(key=shown))


class LanguageMixin:
    """Screens draw their words in `apply_language`; the app's language signal calls it."""

    @property
    def pos_app(self) -> PosApp:
        from pos_tui.ui.app import PosApp

        app = self.app  # type: ignore[attr-defined]
        assert isinstance(app, PosApp)
        return app

    @property
    def services(self) -> Services:
        return self.pos_app.services

    @property
    def lang(self) -> str:
        return self.pos_app.lang

    def apply_language(self, lang: str) -> None:
        """Override to re-render words; the key bar follows by itself."""

    def language_changed(self, lang: str) -> None:
        self.apply_language(lang)
        self.refresh_bindings()  # type: ignore[attr-defined]

    _mounted = False

    def on_mount(self) -> None:
        # Textual calls on_mount of every class in the MRO, and screens that need the words
        # drawn before their own set-up call this first themselves: draw once.
        if self._mounted:
            return
        self._mounted = True
        self.pos_app.language_signal.subscribe(
            self,  # type: ignore[arg-type]
            self.language_changed,
            immediate=True,
        )
        self.apply_language(self.lang)

    def screen_commands(self) -> Iterable[SystemCommand]:
        """Every key of this screen that works now, also in the command palette: its words
        as the title (what is searched), its key under them. The app's own keys are the
        app's commands, said more fully there (`PosApp.get_system_commands`)."""
        for shown, words, binding, enabled in screen_keys(self, self.lang):  # type: ignore[arg-type]
            if not enabled or (binding.id or "").startswith("app."):
                continue
            yield SystemCommand(
                escape(words),
                key_hint(shown, self.lang),
                partial(self.run_action, binding.action),  # type: ignore[attr-defined]
            )

    def from_worker(self, callback: Callable[..., Any]) -> Callable[..., None]:
        """`callback`, made safe to call from the worker thread: it runs on the UI thread,
        and the worker never waits for that (the UI may be closing, waiting for the worker)."""
        loop = asyncio.get_running_loop()
        app = self.pos_app

        def call(*args: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to tell
                loop.call_soon_threadsafe(_while_running, app, callback, *args)

        return call

    def when_done(
        self,
        future: Future[T],
        on_ok: Callable[[T], Any],
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> None:
        """Run `on_ok(result)` (or `on_error`) on the UI thread once `future` is done.

        Expected errors (rules, card data, disk) go to `on_error`, or become a notification;
        anything else is a bug, and the worker's failure stops the app with its traceback
        rather than hiding it. The wait belongs to the app, not the screen, so a result
        still arrives after its screen has closed, though not once the app shuts down;
        it is shielded, so cancelling the wait (the app quitting) never cancels a save
        that is queued.
        """
        app = self.pos_app
        if future.done() and not future.cancelled() and future.exception() is None:
            # Already there (read ahead while the app started): handed over before the
            # screen is next drawn, not after a draw without it (60 ms of the review's
            # start went on drawing an empty list first). On this screen's queue, which
            # closes with it, as the app's workers are cancelled when it quits: a result
            # for a screen taken down meanwhile has no widgets left to show it in.
            self.call_next(on_ok, future.result())  # type: ignore[attr-defined]
            return

        async def deliver() -> None:
            try:
                result = await asyncio.shield(asyncio.wrap_future(future))
            except EXPECTED_ERRORS as error:
                if on_error is not None:
                    _while_running(app, on_error, error)
                elif app.is_running:
                    app.notify(error_text(error, app.lang), severity="error", timeout=8)
                return
            _while_running(app, on_ok, result)

        app.run_worker(deliver(), group="results", exit_on_error=True)


def _while_running(app: App[Any], callback: Callable[..., Any], *args: Any) -> None:
    """`callback(*args)`, unless the app has begun to shut down: its screens' widgets are
    being taken down by then, so a late result has nowhere to be shown. The work it
    reports is not lost for that: a worker's save is done, or kept, whoever is told."""
    if app.is_running:
        callback(*args)


class PosScreen(LanguageMixin, Screen[ScreenResult]):
    pass


def event_clock() -> float:
    """Now, on the clock Textual stamps its events with (`Message.time`)."""
    return Message().time


class PosModal(LanguageMixin, ModalScreen[ScreenResult]):
    # Textual keeps the app's own keys from a modal screen: without this, nobody could
    # leave the first-run dialog without typing a name. The same id as the app's, so a
    # keymap that moves quitting moves it here too.
    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", id="app.quit", show=False)]

    shown_at = float("inf")
    """When the dialog was ready for keys; every key typed before it was meant for the
    screen underneath (a fast second `p` after the `p` that opened it)."""

    @on(events.Mount)
    def _ready_for_keys(self) -> None:
        # After the subclass's own on_mount (handlers run subclass first): its first field
        # has focus by now.
        self.shown_at = event_clock()

    def typed_before_shown(self, event: events.Key) -> bool:
        """A key that was typed before this dialog was on screen: never the dialog's."""
        return event.time < self.shown_at
