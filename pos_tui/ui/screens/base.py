"""What every pos_tui screen shares: the services, the language, and bringing results home."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from textual._context import active_app
from textual.actions import SkipAction
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

from pos_tui.domain.redact import CardDataError
from pos_tui.domain.session import VisitError
from pos_tui.store.storage import StoreError
from pos_tui.ui.i18n import translate_bindings

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
    return str(error)


class LanguageMixin:
    """Screens re-render their words in `apply_language`; the app calls it on every switch."""

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
        """Override to re-render words; the footer is done for you."""

    _bindings_language: str | None = None

    def _translate_bindings(self, lang: str) -> bool:
        """True when the footer's words had to change."""
        if self._bindings_language == lang:
            return False
        translate_bindings(self, lang)  # type: ignore[arg-type]
        self._bindings_language = lang
        return True

    def _language_changed(self, lang: str) -> None:
        changed = self._translate_bindings(lang)
        self.apply_language(lang)
        if changed:
            self.refresh_bindings()  # type: ignore[attr-defined]

    def _translate_early(self) -> None:
        # Done before the footer is first composed, so mounting needs no second footer.
        from pos_tui.ui.app import PosApp

        with contextlib.suppress(LookupError):
            app = active_app.get()
            if isinstance(app, PosApp):
                self._translate_bindings(app.lang)

    _mounted = False

    def on_mount(self) -> None:
        # Textual calls on_mount of every class in the MRO, and screens that need the words
        # drawn before their own set-up call this first themselves: draw once.
        if self._mounted:
            return
        self._mounted = True
        self._language_changed(self.lang)

    def key_bindings(self) -> list[tuple[str, Binding]]:
        """This screen's keys that have a description, as the footer and help show them."""
        found: list[tuple[str, Binding]] = []
        for key, bindings in self._bindings.key_to_bindings.items():  # type: ignore[attr-defined]
            found.extend((key, binding) for binding in bindings if binding.description)
        return found

    def screen_commands(self) -> Iterable[SystemCommand]:
        """Every key of this screen, also in the command palette."""
        for key, binding in self.key_bindings():
            if self.check_action(binding.action, ()) is not True:  # type: ignore[attr-defined]
                continue
            yield SystemCommand(
                f"{binding.description} [{binding.key_display or key}]",
                binding.description,
                partial(self.run_action, binding.action),  # type: ignore[attr-defined]
            )

    def when_done(
        self,
        future: Future[T],
        on_ok: Callable[[T], Any],
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> None:
        """Run `on_ok(result)` (or `on_error`) on the UI thread once `future` is done.

        Expected errors (rules, card data, disk) go to `on_error`, or become a notification;
        anything else is a bug and is raised on the UI thread rather than hidden.
        """
        app = self.pos_app

        def deliver(done: Future[T]) -> None:
            error = done.exception()
            if error is None:
                on_ok(done.result())
            elif isinstance(error, EXPECTED_ERRORS):
                if on_error is not None:
                    on_error(error)
                else:
                    app.notify(error_text(error, app.lang), severity="error", timeout=8)
            else:
                # A bug, not a user error: stop the app with the traceback, as Textual does.
                app._handle_exception(error if isinstance(error, Exception) else Exception(error))

        def finished(done: Future[T]) -> None:
            if threading.get_ident() == app._thread_id:
                deliver(done)
                return
            with contextlib.suppress(RuntimeError):  # the app closed while the save ran
                app.call_from_thread(deliver, done)

        future.add_done_callback(finished)


class PosScreen(LanguageMixin, Screen[ScreenResult]):
    def __init__(self, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._translate_early()


class PosModal(LanguageMixin, ModalScreen[ScreenResult]):
    def __init__(self, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._translate_early()
