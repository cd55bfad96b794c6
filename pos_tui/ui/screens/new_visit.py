"""A new visit: the merchant, the terminal, what it can do and which checklists to run."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from pos_tui.domain.checklist import CAPABILITIES, Checklist, in_visit_order
from pos_tui.domain.session import Session
from pos_tui.domain.visit_info import (
    JOB_TYPE_NAMES,
    REASON_NAMES,
    TERMINAL_NUMBER_LENGTH,
    JobType,
    VisitInfo,
)
from pos_tui.ui.i18n import CAPABILITY_NAMES, Text
from pos_tui.ui.screens.base import ENTER_MOVES_ON, PosScreen, error_text, focused_input
from pos_tui.ui.screens.form_fields import field_row, label_text, options, show_message
from pos_tui.ui.screens.new_visit_text import (
    CHOOSE_CHECKLIST,
    CHOOSE_REASON,
    DISCARD,
    FIX_MARKED,
    INTRO,
    LABELS,
    NO_TECHNICIAN,
    PLACEHOLDERS,
    START,
    STARTING,
    TECHNICIAN,
    TITLE,
)
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.title_bar import TitleBar

TEXT_FIELDS = (
    "merchant_name",
    "merchant_number",
    "terminal_number",
    "terminal_serial",
    "model",
    "site_address",
    "merchant_contact",
)
REQUIRED = frozenset(
    {"job_type", "reason", "merchant_name", "merchant_number", "terminal_number", "checklists"}
)
MAX_LENGTHS = {"terminal_number": TERMINAL_NUMBER_LENGTH, "site_address": 120}
# Fields in the order they are shown; the first one with a problem gets the focus on submit.
FORM_ORDER = ("job_type", "reason", *TEXT_FIELDS, "capabilities", "checklists")


class NewVisitScreen(PosScreen[None]):
    CSS_PATH = "forms.tcss"
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", id="form.start"),
        ENTER_MOVES_ON,
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._touched: set[str] = set()
        self._submitted = False
        self._starting = False
        self._discard_armed = False
        self._checklists: list[Checklist] = []

    # -- building ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        lang = self.lang
        self._checklists = in_visit_order(self.services.ready_checklists())
        yield TitleBar()
        with VerticalScroll(id="visit-form"):
            yield Static(id="form-intro", classes="hint")
            yield field_row(
                "job_type",
                Select(
                    options(JOB_TYPE_NAMES, lang),
                    allow_blank=False,
                    value=JobType.NEW_INSTALL,
                    id="job_type",
                    compact=True,
                ),
            )
            yield field_row(
                "reason", Select(options(REASON_NAMES, lang), id="reason", compact=True)
            )
            for name in TEXT_FIELDS:
                yield field_row(name, self._input(name))
            # All ticked to begin with: a capability left ticked by mistake costs an "n/a"
            # answer, one left unticked would skip its checks without anyone noticing.
            yield field_row(
                "capabilities",
                SelectionList[str](
                    *(Selection(CAPABILITY_NAMES[c].get(lang), c, True) for c in CAPABILITIES),
                    id="capabilities",
                ),
            )
            yield field_row(
                "checklists",
                SelectionList[str](
                    *(Selection(c.title.get(lang), c.id, True) for c in self._checklists),
                    id="checklists",
                ),
            )
            yield Static(id="form-error", classes="form-message")
            with Horizontal(id="form-buttons"):
                yield Button(START.get(lang), id="start", variant="primary")
        yield KeyBar()

    @staticmethod
    def _input(name: str) -> Input:
        if name == "terminal_number":
            return Input(
                id=name, restrict=r"[0-9]*", max_length=TERMINAL_NUMBER_LENGTH, compact=True
            )
        # Compact: one line a field, so 80x24 shows most of the form at once.
        return Input(id=name, max_length=MAX_LENGTHS.get(name, 80), compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self._show_reason()
        self.query_one("#merchant_name", Input).focus()

    def apply_language(self, lang: str) -> None:
        self.title = TITLE.get(lang)
        name = self.services.settings.technician
        self.sub_title = TECHNICIAN.get(lang).format(name=name) if name else ""
        self.query_one("#form-intro", Static).update(INTRO.get(lang))
        for field, label in LABELS.items():
            self.query_one(f"#{field}-label", Static).update(
                label_text(label, lang, field in REQUIRED)
            )
        for field, placeholder in PLACEHOLDERS.items():
            self.query_one(f"#{field}", Input).placeholder = placeholder.get(lang)
        self._relabel_select("job_type", options(JOB_TYPE_NAMES, lang))
        reason = self.query_one("#reason", Select)
        reason.prompt = CHOOSE_REASON.get(lang)
        self._relabel_select("reason", options(REASON_NAMES, lang))
        capabilities = self.query_one("#capabilities", SelectionList)
        for index, capability in enumerate(CAPABILITIES):
            capabilities.replace_option_prompt_at_index(
                index, CAPABILITY_NAMES[capability].get(lang)
            )
        checklists = self.query_one("#checklists", SelectionList)
        for index, checklist in enumerate(self._checklists):
            checklists.replace_option_prompt_at_index(index, checklist.title.get(lang))
        self.query_one("#start", Button).label = START.get(lang)
        self._show_messages()

    def _relabel_select(self, select_id: str, choices: list[tuple[str, str]]) -> None:
        select: Select[str] = self.query_one(f"#{select_id}", Select)
        value = select.value
        with select.prevent(Select.Changed):
            select.set_options(choices)
            if value != Select.NULL:
                select.value = value

    # -- reading and checking ------------------------------------------------------

    def visit_info(self) -> VisitInfo:
        """What the form holds now, trimmed, as the visit would be started with."""
        job_type = self._select_value("job_type")
        settings = self.services.settings
        return VisitInfo(
            job_type=job_type,
            reason=self._select_value("reason") if job_type == JobType.REACTIVATION else "",
            capabilities=tuple(
                c
                for c in CAPABILITIES
                if c in self.query_one("#capabilities", SelectionList).selected
            ),
            technician=settings.technician,
            device_id=settings.device_id,
            **{name: self.query_one(f"#{name}", Input).value for name in TEXT_FIELDS},
        ).trimmed()

    def chosen_checklists(self) -> list[Checklist]:
        chosen = set(self.query_one("#checklists", SelectionList).selected)
        return [checklist for checklist in self._checklists if checklist.id in chosen]

    def _select_value(self, select_id: str) -> str:
        value = self.query_one(f"#{select_id}", Select).value
        return "" if value == Select.NULL else str(value)

    def _problems(self) -> tuple[dict[str, Text], dict[str, Text]]:
        info = self.visit_info()
        problems = info.problems()
        if not self.chosen_checklists():
            problems["checklists"] = CHOOSE_CHECKLIST
        return problems, info.warnings()

    def _show_messages(self) -> None:
        """Each field's error (or warning) under it, once it was touched or the form sent."""
        lang = self.lang
        problems, warnings = self._problems()
        for field in FORM_ORDER:
            shown = self._submitted or field in self._touched
            problem = problems.get(field) if shown else None
            warning = warnings.get(field) if shown else None
            message = self.query_one(f"#{field}-message", Static)
            if problem is not None:
                show_message(message, problem.get(lang))
            else:
                show_message(message, warning.get(lang) if warning else "", "field-warning")
            self.query_one(f"#{field}-row").set_class(problem is not None, "has-error")
        form_error = self.query_one("#form-error", Static)
        if self._starting:
            show_message(form_error, STARTING.get(lang), kind="")
        elif self._submitted and "technician" in problems:
            show_message(form_error, NO_TECHNICIAN.get(lang))
        else:
            show_message(form_error, FIX_MARKED.get(lang) if self._submitted and problems else "")

    def _show_reason(self) -> None:
        reactivation = self._select_value("job_type") == JobType.REACTIVATION
        self.query_one("#reason-row").display = reactivation
        self.query_one("#reason", Select).disabled = not reactivation

    # -- reacting ------------------------------------------------------------------

    @on(Input.Changed)
    @on(Input.Blurred)
    def _input_touched(self, event: Input.Changed | Input.Blurred) -> None:
        if event.input.id:
            self._touched.add(event.input.id)
        if isinstance(event, Input.Changed):
            self._discard_armed = False
        self._show_messages()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "job_type":
            self._show_reason()
        elif event.select.id:
            self._touched.add(event.select.id)
        self._show_messages()

    @on(SelectionList.SelectedChanged)
    def _selection_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        if event.selection_list.id:
            self._touched.add(event.selection_list.id)
        self._show_messages()

    def action_next_field(self) -> None:
        focused_input(self)
        self.focus_next()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    # -- actions -------------------------------------------------------------------

    def action_start(self) -> None:
        if self._starting:
            return
        self._submitted = True
        problems, _warnings = self._problems()
        if problems:
            self._show_messages()
            self._focus_first(problems)
            return
        self._set_starting(True)
        self.when_done(
            self.services.start_visit(self.visit_info(), self.chosen_checklists()),
            self._started,
            self._not_started,
        )

    def _focus_first(self, problems: dict[str, Text]) -> None:
        for field in FORM_ORDER:
            if field in problems:
                widget = self.query_one(f"#{field}")
                widget.focus()
                self.query_one(f"#{field}-row").scroll_visible()
                return

    def _set_starting(self, starting: bool) -> None:
        self._starting = starting
        self.query_one("#start", Button).disabled = starting
        self._show_messages()

    def _started(self, session: Session) -> None:
        from pos_tui.ui.screens.runner import RunnerScreen

        self.app.switch_screen(RunnerScreen(session))

    def _not_started(self, error: BaseException) -> None:
        self._set_starting(False)
        show_message(self.query_one("#form-error", Static), error_text(error, self.lang))

    def action_cancel(self) -> None:
        """Back home; with something typed, only on a second Esc, so one slip loses nothing."""
        if self._starting:
            return
        typed = any(self.query_one(f"#{name}", Input).value.strip() for name in TEXT_FIELDS)
        if typed and not self._discard_armed:
            self._discard_armed = True
            self.notify(DISCARD.get(self.lang), severity="warning")
            return
        self.dismiss(None)
