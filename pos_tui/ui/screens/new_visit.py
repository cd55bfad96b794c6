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
from pos_tui.ui.screens.form_fields import (
    field_row,
    inline_label,
    label_text,
    options,
    show_message,
)
from pos_tui.ui.screens.new_visit_text import (
    CHOOSE_CHECKLIST,
    CHOOSE_REASON,
    DISCARD,
    FIX_MARKED,
    INLINE,
    INTRO,
    LABELS,
    NO_TECHNICIAN,
    PLACEHOLDERS,
    START,
    STARTING,
    TECHNICIAN,
    TITLE,
)
from pos_tui.ui.widgets.in_order_input import InOrderInput
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.title_bar import TitleBar

# Rows of typed details, each named by its label. Related details share a row, so the form
# stays short at 80x24: a row's first field is named by the row's label, the others by a
# short label before them (or, for the parts of an address, by their placeholder). The
# required details come first and in the order they always had, so that Enter after each
# (a fast typist, a barcode scanner) lands where it always did.
ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("merchant_name", ("merchant_name",)),
    ("merchant_number", ("merchant_number",)),
    ("terminal_number", ("terminal_number", "model")),
    ("work_order", ("work_order",)),
    ("registered_name", ("registered_name",)),
    ("credit_code", ("credit_code", "mcc")),
    ("terminal_serial", ("terminal_serial", "tusn")),
    ("pinpad_serial", ("pinpad_serial", "sim_iccid")),
    ("address", ("province", "city", "district")),
    ("street", ("street", "street_number")),
    ("position", ("latitude", "longitude", "accuracy_m")),
    ("merchant_contact", ("merchant_contact",)),
)
TEXT_FIELDS = tuple(name for _row, names in ROWS for name in names)
ROW_OF = {name: row for row, names in ROWS for name in names}
SHOWN_INLINE = frozenset({"mcc", "model", "tusn", "sim_iccid"})
REQUIRED = frozenset(
    {"job_type", "reason", "merchant_name", "merchant_number", "terminal_number", "checklists"}
)
# What each field may hold, checked while typing; the rules themselves are the domain's.
RESTRICT = {
    "terminal_number": r"[0-9]*",
    "mcc": r"[0-9]*",
    "sim_iccid": r"[0-9]*",
    "latitude": r"[-+0-9.]*",
    "longitude": r"[-+0-9.]*",
    "accuracy_m": r"[0-9.]*",
}
MAX_LENGTHS = {
    "terminal_number": TERMINAL_NUMBER_LENGTH,
    "mcc": 4,
    "credit_code": 18,
    "sim_iccid": 20,
    "latitude": 12,
    "longitude": 12,
    "accuracy_m": 8,
    "street": 60,
}
# Narrow inputs for short values; the others share what is left of the row.
NARROW = frozenset({"mcc", "terminal_number", "street_number", "accuracy_m"})
# Fields in the order they are shown; the first one with a problem gets the focus on submit.
FORM_ORDER = ("job_type", "reason", *TEXT_FIELDS, "capabilities", "checklists")
ROW_ORDER = ("job_type", "reason", *(row for row, _names in ROWS), "capabilities", "checklists")


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
        self._offered: list[Checklist] = []
        """The checklists the list shows: those that apply to the job chosen."""

    # -- building ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        lang = self.lang
        self._checklists = in_visit_order(self.services.ready_checklists())
        self._offered = self._applicable(VisitInfo(capabilities=CAPABILITIES))
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
            for row, names in ROWS:
                yield field_row(row, self._inputs(names))
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
                    *(Selection(c.title.get(lang), c.id, True) for c in self._offered),
                    id="checklists",
                ),
            )
            yield Static(id="form-error", classes="form-message")
            with Horizontal(id="form-buttons"):
                yield Button(START.get(lang), id="start", variant="primary")
        yield KeyBar()

    def _inputs(self, names: tuple[str, ...]) -> Input | Horizontal:
        if len(names) == 1:
            return self._input(names[0])
        parts: list[Static | Input] = []
        for name in names:
            if name in SHOWN_INLINE:
                parts.append(inline_label(name))
            parts.append(self._input(name))
        return Horizontal(*parts, classes="field-parts")

    @staticmethod
    def _input(name: str) -> Input:
        # Compact: one line a field, so 80x24 shows most of the form at once.
        return InOrderInput(
            id=name,
            restrict=RESTRICT.get(name),
            max_length=MAX_LENGTHS.get(name, 80),
            compact=True,
            classes="narrow" if name in NARROW else "",
        )

    def on_mount(self) -> None:
        super().on_mount()
        self._show_reason()
        self.query_one("#merchant_name", Input).focus()

    def apply_language(self, lang: str) -> None:
        self.title = TITLE.get(lang)
        name = self.services.settings.technician
        self.sub_title = TECHNICIAN.get(lang).format(name=name) if name else ""
        self.query_one("#form-intro", Static).update(INTRO.get(lang))
        for row, label in LABELS.items():
            self.query_one(f"#{row}-label", Static).update(label_text(label, lang, row in REQUIRED))
        for field in SHOWN_INLINE:
            self.query_one(f"#{field}-inline", Static).update(INLINE[field].get(lang))
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
        for index, checklist in enumerate(self._offered):
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
        return [checklist for checklist in self._offered if checklist.id in chosen]

    def _applicable(self, info: VisitInfo) -> list[Checklist]:
        filled = info.filled()
        return [
            c for c in self._checklists if c.when.holds(info.capabilities, info.job_type, filled)
        ]

    def _offer_checklists(self) -> None:
        """Show the checklists for the job as it now stands: a relocation's only for one.

        One newly offered is ticked, as they all are to begin with; the others keep their
        ticks.
        """
        offered = self._applicable(self.visit_info())
        if [c.id for c in offered] == [c.id for c in self._offered]:
            return
        listed = self.query_one("#checklists", SelectionList)
        before = {c.id for c in self._offered}
        kept = set(listed.selected)
        with listed.prevent(SelectionList.SelectedChanged):
            listed.clear_options()
            listed.add_options(
                [
                    Selection(c.title.get(self.lang), c.id, c.id in kept or c.id not in before)
                    for c in offered
                ]
            )
        self._offered = offered

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
        """Each field's error (or warning) under its row, once it was touched or the form
        sent; a field that shares its row is named in front of its message."""
        lang = self.lang
        problems, warnings = self._problems()
        shown = {field for field in FORM_ORDER if self._submitted or field in self._touched}
        for row in ROW_ORDER:
            fields = dict(ROWS).get(row, (row,))
            errors = [
                self._said(row, f, problems[f]) for f in fields if f in shown and f in problems
            ]
            cautions = [
                self._said(row, f, warnings[f]) for f in fields if f in shown and f in warnings
            ]
            message = self.query_one(f"#{row}-message", Static)
            if errors:
                show_message(message, "; ".join(errors))
            else:
                show_message(message, "; ".join(cautions), "field-warning")
            self.query_one(f"#{row}-row").set_class(bool(errors), "has-error")
            for field in fields:
                if field in TEXT_FIELDS:
                    invalid = field in shown and field in problems
                    self.query_one(f"#{field}", Input).set_class(invalid, "-invalid")
        form_error = self.query_one("#form-error", Static)
        if self._starting:
            show_message(form_error, STARTING.get(lang), kind="")
        elif self._submitted and "technician" in problems:
            show_message(form_error, NO_TECHNICIAN.get(lang))
        else:
            show_message(form_error, FIX_MARKED.get(lang) if self._submitted and problems else "")

    def _said(self, row: str, field: str, text: Text) -> str:
        said = text.get(self.lang)
        return said if field == row else f"{INLINE[field].get(self.lang)}: {said}"

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
            self._offer_checklists()  # a checklist may be for visits with a detail filled in
        self._show_messages()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "job_type":
            self._show_reason()
            self._offer_checklists()
        elif event.select.id:
            self._touched.add(event.select.id)
        self._show_messages()

    @on(SelectionList.SelectedChanged)
    def _selection_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        if event.selection_list.id:
            self._touched.add(event.selection_list.id)
        if event.selection_list.id == "capabilities":
            self._offer_checklists()
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
        self._start(self.visit_info())

    def _start(self, info: VisitInfo) -> None:
        """Start the visit with the details the form holds, now they have been checked."""
        self.when_done(
            self.services.start_visit(info, self.chosen_checklists()),
            self._started,
            self._not_started,
        )

    def _focus_first(self, problems: dict[str, Text]) -> None:
        for field in FORM_ORDER:
            if field in problems:
                widget = self.query_one(f"#{field}")
                widget.focus()
                self.query_one(f"#{ROW_OF.get(field, field)}-row").scroll_visible()
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
