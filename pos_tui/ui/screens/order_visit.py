"""A new visit started from a work order: the new-visit form, filled in from the order.

What the technician finds on site that differs from the order (another serial on the
device, a new contact) is typed over the order's value as usual, but the visit does not
silently start with it: it starts with the order's details, then records each difference
as a change of details (`Session.change_details`), whose event in the visit's signed log
says the order's value and the one found. The visit carries the order's number
(`VisitInfo.work_order`), which cannot be edited here.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.widgets import Input, Select, SelectionList, Static

from pos_tui.domain.orders import Order, differences, starting_info
from pos_tui.domain.visit_info import DETAIL_NAMES, JobType, VisitInfo
from pos_tui.ui.screens.base import error_text
from pos_tui.ui.screens.new_visit import TEXT_FIELDS, NewVisitScreen
from pos_tui.ui.screens.new_visit_text import INTRO
from pos_tui.ui.screens.order_text import DIFFERENCES, FROM_ORDER

if TYPE_CHECKING:
    from pos_tui.domain.session import Session
    from pos_tui.services.technician import DetailsChanged


class OrderVisitScreen(NewVisitScreen):
    def __init__(self, order: Order) -> None:
        super().__init__()
        self.order = order

    def on_mount(self) -> None:
        # Runs before NewVisitScreen's own on_mount (Textual calls each class's, the
        # subclass's first), which then shows the reason row for the job type set here.
        wanted = self.order.visit_info()
        for name in TEXT_FIELDS:
            value = wanted.detail(name) if name != "site_address" else ""
            if value:
                self.query_one(f"#{name}", Input).value = value
        self.query_one("#work_order", Input).disabled = True
        self.query_one("#job_type", Select).value = self.order.job_type or JobType.NEW_INSTALL
        if self.order.reason:
            self.query_one("#reason", Select).value = self.order.reason
        if self.order.capabilities:
            capabilities = self.query_one("#capabilities", SelectionList)
            capabilities.deselect_all()
            for capability in self.order.capabilities:
                capabilities.select(capability)

    def apply_language(self, lang: str) -> None:
        super().apply_language(lang)
        intro = FROM_ORDER.get(lang).format(number=self.order.order_number)
        if self.order.site_address:
            intro += f"\n{DETAIL_NAMES['site_address'].get(lang)}: {self.order.site_address}"
        self.query_one("#form-intro", Static).update(f"{intro}\n{INTRO.get(lang)}")

    def _start(self, info: VisitInfo) -> None:
        # What the technician found on site is kept as found; the order's own values go in
        # first, so each difference is recorded as a change, never silently overwritten.
        changes = differences(self.order, info)
        self.when_done(
            self.services.start_visit(starting_info(self.order, info), self.chosen_checklists()),
            partial(self._record_differences, changes),
            self._not_started,
        )

    def _record_differences(self, changes: dict[str, str], session: Session) -> None:
        if not changes:
            self._started(session)
            return

        def recorded(done: DetailsChanged) -> None:
            names = ", ".join(DETAIL_NAMES[n].get(self.lang) for n in sorted(done.changes))
            self.notify(DIFFERENCES.get(self.lang).format(names=names), timeout=10)
            self._started(done.session)

        def not_recorded(error: BaseException) -> None:
            # The visit exists already: on with it, saying what was not recorded.
            self.notify(error_text(error, self.lang), severity="error", timeout=15)
            self._started(session)

        self.when_done(self.services.change_details(session, changes), recorded, not_recorded)
