"""The review list's filter bar: text, review state, verdict, photo warnings, technician and
a date range.

Posts `ReviewFilters.Changed` with the whole `Filter` on every change that can be used; a
date that is not YYYY-MM-DD is flagged inline and leaves the filter as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Select, Static

from pos_tui.domain.progress import VERDICT_NAMES, Verdict
from pos_tui.domain.review_filter import EVIDENCE_FILTERS, REVIEW_STATES, Filter, parse_day
from pos_tui.ui.screens import review_text as words
from pos_tui.ui.widgets.in_order_input import InOrderInput

DATES = ("#filter-from", "#filter-to")
DATE_WORDS = dict(zip(DATES, (words.DATE_FROM, words.DATE_TO), strict=True))
"""Each date box's placeholder."""
SELECTS = ("#filter-state", "#filter-verdict", "#filter-photos", "#filter-technician")
DATABASE_REFUSES = ("#filter-state", "#filter-photos")
"""The choices a store that filters in its database cannot filter on."""


class ReviewFilters(Vertical):
    """The filter bar. It starts with the search box; its choice boxes and dates are
    mounted by `show_choices`, once the list has been drawn: four Selects take 120-160 ms
    to mount and the two dates some 40 ms, as long as the rest of the screen, and the
    supervisor waits for the list, not for them (docs/decisions.md)."""

    @dataclass
    class Changed(Message):
        filter: Filter

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = "en"
        self.technicians: list[str] = []
        self.choices_shown = False
        self._database_only = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="review-filters"):
            yield InOrderInput(id="filter-text", compact=True)
        yield Horizontal(id="review-filters-2")  # its line kept: the list does not move

    def show_choices(self) -> None:
        """Mount the choice boxes (review state, verdict, photos, technician) and the dates,
        in the words and with the technicians known by now."""
        if self.choices_shown or not self.is_mounted:
            return
        self.choices_shown = True
        first_row = self.query_one("#review-filters", Horizontal)
        options = self._options()
        first_row.mount_all(self._choice(selector, options) for selector in SELECTS[:3])
        dates = [
            InOrderInput(
                id=selector.removeprefix("#"),
                placeholder=placeholder.get(self.lang),
                compact=True,
                restrict=r"[0-9-]*",
                max_length=10,
            )
            for selector, placeholder in DATE_WORDS.items()
        ]
        second_row = self.query_one("#review-filters-2", Horizontal)
        second_row.mount_all(
            [
                self._choice("#filter-technician", options),
                *dates,
                Static(id="filter-error", classes="field-error"),
            ]
        )

    def _choice(
        self, selector: str, options: dict[str, tuple[str, list[tuple[str, str]]]]
    ) -> Select[str]:
        prompt, choices = options[selector]
        name = selector.removeprefix("#")
        select: Select[str] = Select(choices, prompt=prompt, id=name, compact=True)
        select.display = not (self._database_only and selector in DATABASE_REFUSES)
        return select

    def _options(self) -> dict[str, tuple[str, list[tuple[str, str]]]]:
        """Each choice box's prompt and choices, in the bar's language."""
        lang = self.lang
        states = [(words.REVIEW_STATE_NAMES[s].get(lang), s) for s in REVIEW_STATES]
        verdicts = [(VERDICT_NAMES[v].get(lang), str(v)) for v in Verdict]
        photos = [(words.PHOTO_FILTER_NAMES[f].get(lang), f) for f in EVIDENCE_FILTERS]
        return {
            "#filter-state": (words.ANY_STATE.get(lang), states),
            "#filter-verdict": (words.ANY_VERDICT.get(lang), verdicts),
            "#filter-photos": (words.ANY_PHOTOS.get(lang), photos),
            "#filter-technician": (
                words.ANY_TECHNICIAN.get(lang),
                [(name, name) for name in self.technicians],
            ),
        }

    def _selects(self) -> dict[str, Select[str]]:
        """The choice boxes mounted so far, by selector."""
        return {f"#{select.id}": select for select in self.query(Select)}

    def _dates(self) -> dict[str, Input]:
        """The date boxes mounted so far, by selector."""
        return {f"#{box.id}": box for box in self.query(Input) if f"#{box.id}" in DATES}

    def apply_language(self, lang: str) -> None:
        self.lang = lang
        self.query_one("#filter-text", Input).placeholder = words.SEARCH.get(lang)
        for selector, box in self._dates().items():
            box.placeholder = DATE_WORDS[selector].get(lang)
        options = self._options()
        for selector, select in self._selects().items():
            self._set_options(select, *options[selector])
        self._dates_ok()

    def set_technicians(self, names: list[str]) -> None:
        self.technicians = names
        select = self._selects().get("#filter-technician")
        if select is not None:
            self._set_options(select, *self._options()["#filter-technician"])

    def _set_options(
        self, select: Select[str], prompt: str, options: list[tuple[str, str]]
    ) -> None:
        value = select.value
        with self.prevent(Select.Changed):
            select.prompt = prompt
            select.set_options(options)
            if value in {v for _, v in options}:
                select.value = value

    def database_only(self) -> None:
        """Leave out the choices a store that filters in its database cannot filter on
        (`services.review_pages.NOT_IN_DATABASE`): the review state and photo warnings."""
        self._database_only = True
        for selector, select in self._selects().items():
            if selector in DATABASE_REFUSES:
                select.display = False

    def clear(self) -> None:
        with self.prevent(Input.Changed, Select.Changed):
            for box in (self.query_one("#filter-text", Input), *self._dates().values()):
                box.value = ""
            for select in self._selects().values():
                select.clear()
        self._dates_ok()
        self.post_message(self.Changed(self.current()))

    def focus_text(self) -> None:
        self.query_one("#filter-text", Input).focus()

    @on(Input.Changed, "#filter-text")
    @on(Select.Changed)
    def _changed(self, event: Message) -> None:
        event.stop()
        self.post_message(self.Changed(self.current()))

    @on(Input.Changed, "#filter-from, #filter-to")
    def _date_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._dates_ok():
            self.post_message(self.Changed(self.current()))

    def _dates_ok(self) -> bool:
        """Flag a bad date inline; True when both can be used."""
        ok = True
        for box in self._dates().values():
            try:
                parse_day(box.value)
                box.remove_class("-invalid")
            except ValueError:
                box.add_class("-invalid")
                ok = False
        for said in self.query("#filter-error").results(Static):
            said.update("" if ok else words.BAD_DATE.get(self.lang))
        return ok

    def current(self) -> Filter:
        """The filter as the boxes show it; a bad date counts as no date."""

        selects = self._selects()

        def chosen(selector: str) -> str | None:
            value = selects[selector].value if selector in selects else None
            return value if isinstance(value, str) else None

        boxes = self._dates()
        dates: list[str | None] = []
        for selector in DATES:
            try:
                dates.append(parse_day(boxes[selector].value) if selector in boxes else None)
            except ValueError:
                dates.append(None)
        return Filter(
            text=self.query_one("#filter-text", Input).value,
            review_state=chosen("#filter-state"),
            verdict=chosen("#filter-verdict"),
            evidence=chosen("#filter-photos"),
            technician=chosen("#filter-technician"),
            date_from=dates[0],
            date_to=dates[1],
        )
