"""The supervisor's work orders: every order with its state now, overdue first; assign and
reassign to the keyring's technicians; one technician's day.

Opened from the review list (`w`). The states come from the review list's own rows (the
visits that carry each order's number, with their review states), so the two screens
never disagree about a visit.
"""

from __future__ import annotations

from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from pos_tui.domain.orders import STATE_NAMES, STATES
from pos_tui.domain.review_filter import ReviewRow
from pos_tui.services.orders import OrderLine, OrderReview, technician_day_of
from pos_tui.ui.i18n import tr
from pos_tui.ui.screens.base import PosModal, PosScreen
from pos_tui.ui.screens.order_text import (
    ASSIGN_TITLE,
    ASSIGNED,
    COLUMNS,
    COUNT,
    DAY_OF,
    NO_ORDERS,
    NO_TECHNICIANS,
    NOBODY,
    ONLY_STATE,
    ORDERS_TITLE,
    state_text,
    when,
)
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.title_bar import TitleBar

NOBODY_ID = "-"


class OrdersScreen(PosScreen[None]):
    CSS_PATH = "orders.tcss"
    BINDINGS = [
        Binding("a", "assign", "Assign", id="orders.assign"),
        Binding("s", "next_state", "State", id="orders.state"),
        Binding("d", "day", "Their day", id="orders.day"),
        Binding("f5", "reload", "Reload", id="orders.reload", show=False),
        Binding("escape", "back", "Back", id="orders.back"),
    ]

    def __init__(self, today: date | None = None) -> None:
        super().__init__()
        self.today = today or date.today()
        self.lines: list[OrderLine] = []
        self.shown: list[OrderLine] = []
        self.state: str = ""
        self.day_of: str = ""
        self._orders: OrderReview | None = None

    @property
    def order_review(self) -> OrderReview:
        if self._orders is None:
            self._orders = OrderReview(self.pos_app.review, self.today)
        return self._orders

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(id="orders-count", classes="subtle")
        yield DataTable(id="orders-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#orders-table", DataTable).focus()
        self.action_reload()

    def apply_language(self, lang: str) -> None:
        self.title = ORDERS_TITLE.get(lang)
        self._show()

    def action_reload(self) -> None:
        self.when_done(self.pos_app.review.rows(), self._rows_read)

    def _rows_read(self, rows: list[ReviewRow]) -> None:
        self.when_done(self.order_review.lines(rows), self._loaded)

    def _loaded(self, found: list[OrderLine]) -> None:
        self.lines = found
        self._show()

    def _show(self) -> None:
        if not self.is_mounted:
            return
        lang = self.lang
        if self.day_of:
            shown = technician_day_of(self.lines, self.day_of, self.today)
        else:
            shown = [line for line in self.lines if not self.state or line.state == self.state]
        self.shown = shown
        table = self.query_one("#orders-table", DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        for key, title in COLUMNS:
            table.add_column(title.get(lang), key=key)
        for line in shown:
            order = line.order
            table.add_row(
                state_text(line.state, lang),
                order.order_number,
                line.assignee or "-",
                when(line, lang),
                order.due or "-",
                order.merchant_name,
                key=line.number,
            )
        if shown:
            table.move_cursor(row=min(cursor, len(shown) - 1))
        which = ""
        if self.day_of:
            which = DAY_OF.get(lang).format(name=self.day_of)
        elif self.state:
            which = ONLY_STATE.get(lang).format(state=tr(STATE_NAMES.get(self.state), lang))
        count = self.query_one("#orders-count", Static)
        if not self.lines:
            count.update(NO_ORDERS.get(lang))
        else:
            count.update(
                COUNT.get(lang).format(total=len(self.lines), shown=len(shown), which=which)
            )

    def highlighted(self) -> OrderLine | None:
        table = self.query_one("#orders-table", DataTable)
        if not self.shown or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def action_next_state(self) -> None:
        """Each state in turn, then all of them again."""
        self.day_of = ""
        order = ["", *STATES]
        self.state = order[(order.index(self.state) + 1) % len(order)]
        self._show()

    def action_day(self) -> None:
        """The highlighted order's technician: their orders today and overdue; again: all."""
        line = self.highlighted()
        if self.day_of or line is None or not line.assignee:
            self.day_of = ""
        else:
            self.day_of, self.state = line.assignee, ""
        self._show()

    def action_assign(self) -> None:
        line = self.highlighted()
        if line is None:
            return
        names = self.order_review.technicians()
        if not names:
            self.notify(NO_TECHNICIANS.get(self.lang), severity="warning", timeout=10)
            return
        self.app.push_screen(
            AssignScreen(line.number, names, line.assignee),
            lambda name: self._assign(line.number, name),
        )

    def _assign(self, number: str, name: str | None) -> None:
        if name is None:
            return

        def assigned(_changed: list[str]) -> None:
            said = name or NOBODY.get(self.lang)
            self.notify(ASSIGNED.get(self.lang).format(number=number, name=said))
            self.action_reload()

        self.when_done(self.order_review.assign([number], name), assigned)

    def action_back(self) -> None:
        self.dismiss(None)


class AssignScreen(PosModal[str | None]):
    """A picker of the keyring's technicians; "" takes the order back from everyone."""

    CSS_PATH = "orders.tcss"
    BINDINGS = [Binding("escape", "cancel", "Back", id="orders.back")]

    def __init__(self, number: str, names: list[str], current: str = "") -> None:
        super().__init__()
        self.number = number
        self.names = names
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(id="assign-title", classes="dialog-title")
            yield OptionList(
                *(Option(name, id=name) for name in self.names),
                Option(NOBODY.get(self.lang), id=NOBODY_ID),
                id="assign-names",
            )

    def on_mount(self) -> None:
        super().on_mount()
        names = self.query_one("#assign-names", OptionList)
        names.highlighted = self.names.index(self.current) if self.current in self.names else 0
        names.focus()

    def apply_language(self, lang: str) -> None:
        self.query_one("#assign-title", Static).update(
            ASSIGN_TITLE.get(lang).format(number=self.number)
        )
        names = self.query_one("#assign-names", OptionList)
        names.replace_option_prompt(NOBODY_ID, NOBODY.get(lang))

    @on(OptionList.OptionSelected, "#assign-names")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id or ""
        self.dismiss("" if chosen == NOBODY_ID else chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
