"""Where the technician starts: visits sent back, today's and overdue work orders, unfinished
visits to resume, recent visits, a new one."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text as RichText
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from pos_tui import startup_gc
from pos_tui.domain.session import Session, Status

if TYPE_CHECKING:
    from concurrent.futures import Future
    from pathlib import Path

    from pos_tui.domain.loader import Problem
    from pos_tui.services.orders import OrderLine
    from pos_tui.store.sync import SyncReport
    from pos_tui.ui.screens.summary import SummaryResult
from pos_tui.domain.names import DECISION_NAMES
from pos_tui.services.technician import SENT_BACK, HomeVisits
from pos_tui.store.summary import VisitSummary
from pos_tui.ui.i18n import STATUS_NAMES, VERDICT_NAMES, Text, tr
from pos_tui.ui.screens.base import PosScreen, error_text
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.title_bar import TitleBar

SENT_BACK_TITLE = Text(
    "主管退回的访问（Enter 打开，在汇总中按 E 更正）",
    "Sent back by the supervisor (Enter opens it; E on its summary amends it)",
)
COMMENT = Text("意见：{comment}", "Comment: {comment}")
NAMED_ITEMS = Text("指出的项目：{items}", "Items: {items}")
AMENDING = Text("更正中（{number}）：{reason}", "amending ({number}): {reason}")
FOLLOW_UP = Text("复查", "follow-up")
DISCARD_TITLE = Text("丢弃未完成的访问", "Discard the unfinished visit")
DISCARD_PROMPT = Text(
    "访问将从列表中移除，但保留在本机（连同原因），不会同步。请说明丢弃的原因：",
    "It leaves the lists but stays on this laptop with its reason, and is never synced."
    " Why is it discarded?",
)
DISCARDED = Text("已丢弃：{merchant}", "Discarded: {merchant}")
DRAFTS = Text("未完成的访问", "Unfinished visits")
RECENT = Text("最近的访问", "Recent visits")
NO_DRAFTS = Text(
    "没有未完成的访问。按 N 开始新的访问。", "No unfinished visits. Press N to start one."
)
RESUME_HINT = Text(
    "有一项访问尚未完成：按 Enter 从中断处继续。",
    "A visit was left unfinished: press Enter to carry on where it stopped.",
)
WELCOME = Text("技术员：{name}", "Technician: {name}")
COLUMNS = (
    Text("日期", "Date"),
    Text("商户", "Merchant"),
    Text("终端号", "Terminal"),
    Text("结论", "Verdict"),
    Text("状态", "Status"),
)
CHECKLIST_PROBLEMS = Text(
    "检查表有 {count} 处问题，有问题的检查表未载入（运行 pos-tui validate 查看）：{first}",
    "{count} checklist problem(s): those checklists were not loaded (pos-tui validate): {first}",
)
NO_SHARED_STORE = Text(
    "尚未设置共享存储：在设置文件中填写 shared_store，或用 pos-tui sync --to 路径。",
    "No shared store is set: put shared_store in the settings file, or use pos-tui sync --to.",
)
SYNCING = Text("同步中... {done}/{total}", "Syncing... {done}/{total}")
SYNCED = Text(
    "同步完成：新上传 {added} 个访问，收到 {reviews} 个审核结果（{target}）。",
    "Sync complete: {added} visit(s) sent, {reviews} review decision(s) received ({target}).",
)
DAMAGED = Text(
    "{count} 个访问文件已损坏，未列出（数据未被改动）。恢复方法：pos-tui recover {path}",
    "{count} visit file(s) are damaged and not listed (nothing was changed)."
    " To restore one: pos-tui recover {path}",
)
ORDERS_TITLE = Text(
    "今天和逾期的工单（Enter 按工单开始访问）",
    "Work orders for today and overdue (Enter starts the visit from one)",
)
ORDERS_PULLED = Text("收到 {count} 个工单。", "{count} work order(s) for this laptop.")
RECENT_LIMIT = 50  # the technician needs the latest; `pos-tui list` has them all


class HomeScreen(PosScreen[None]):
    CSS_PATH = "home.tcss"
    BINDINGS = [
        Binding("n", "new_visit", "New visit", id="home.new"),
        Binding("y", "sync", "Sync", id="home.sync"),
        Binding("r", "refresh", "Refresh", id="home.refresh"),
        Binding("d", "discard", "Discard", id="home.discard"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.summaries: list[VisitSummary] = []
        self.visits = HomeVisits([])
        self.orders: list[OrderLine] = []
        self._announced = False

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(id="technician", classes="subtle")
        yield Static(id="resume-hint", classes="notice")
        yield Static(id="sync-status", classes="subtle")
        yield Static(id="damaged", classes="warning-line")
        yield Static(id="sent-back-title", classes="section-title")
        yield OptionList(id="sent-back")
        yield Static(id="orders-title", classes="section-title")
        yield OptionList(id="orders")
        yield Static(id="drafts-title", classes="section-title")
        yield OptionList(id="drafts")
        yield Static(id="recent-title", classes="section-title")
        yield DataTable(id="recent", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        super().on_mount()
        if not self.services.settings.technician:
            from pos_tui.ui.screens.first_run import FirstRunScreen

            self.app.push_screen(FirstRunScreen(), self._technician_named)

    def _technician_named(self, name: str | None) -> None:
        if name:
            self.services.update_settings(technician=name)
            self.apply_language(self.lang)

    def on_screen_resume(self) -> None:
        # Also sent when the screen is first shown, so this is the one place that loads.
        self.action_refresh()

    def apply_language(self, lang: str) -> None:
        self.query_one("#sent-back-title", Static).update(SENT_BACK_TITLE.get(lang))
        self.query_one("#drafts-title", Static).update(DRAFTS.get(lang))
        self.query_one("#orders-title", Static).update(ORDERS_TITLE.get(lang))
        self.query_one("#recent-title", Static).update(RECENT.get(lang))
        name = self.services.settings.technician
        self.query_one("#technician", Static).update(
            WELCOME.get(lang).format(name=name) if name else ""
        )
        self._show_damaged(lang)
        self._show(self.visits)
        self._show_orders(self.orders)

    def _show_damaged(self, lang: str) -> None:
        """Visit files found damaged when the store opened: someone must hear of them."""
        damaged = self.services.store.report.damaged
        line = self.query_one("#damaged", Static)
        line.display = bool(damaged)
        if damaged:
            line.update(escape(DAMAGED.get(lang).format(count=len(damaged), path=damaged[0].path)))

    def action_refresh(self) -> None:
        from pos_tui.services.orders import technician_day

        self.when_done(self.services.home_visits(), self._show_and_announce)
        self.when_done(technician_day(self.services), self._show_orders)

    def _show_orders(self, orders: list[OrderLine]) -> None:
        """Today's and overdue orders, overdue first, each with its appointment; hidden
        while the laptop has none (a bank that does not dispatch never sees the list)."""
        from pos_tui.ui.screens.order_text import order_line

        self.orders = orders
        shown = self.query_one("#orders", OptionList)
        highlighted = shown.highlighted
        shown.clear_options()
        shown.add_options(Option(order_line(line, self.lang), id=line.number) for line in orders)
        if orders:
            shown.highlighted = min(highlighted or 0, len(orders) - 1)
        shown.display = bool(orders)
        self.query_one("#orders-title", Static).display = bool(orders)
        others = [self.query_one(f"#{name}", OptionList) for name in ("sent-back", "drafts")]
        if orders and not any(o.display and o.option_count and o.options[0].id for o in others):
            shown.focus()

    def _show_and_announce(self, visits: HomeVisits) -> None:
        self._show(visits)
        if not self._announced:
            self._announced = True
            startup_gc.release()  # the app is up: what lives as long as it does is made
            self.when_done(self.services.checklist_problems_found(), self._warn_about_checklists)
            # The laptop's key is made on its first run, off the start-up path.
            self.when_done(self.services.prepare_keys(), lambda _fingerprint: None)
        # What needs the technician most first: a visit sent back, then one left unfinished.
        for list_id in ("#sent-back", "#drafts"):
            shown = self.query_one(list_id, OptionList)
            if shown.display and shown.option_count and shown.options[0].id:
                shown.highlighted = shown.highlighted or 0
                shown.focus()
                break
        self.refresh_bindings()
        self.pos_app.home_ready()

    def _warn_about_checklists(self, problems: list[Problem]) -> None:
        if problems:
            text = CHECKLIST_PROBLEMS.get(self.lang).format(count=len(problems), first=problems[0])
            self.notify(text, severity="warning", timeout=15)

    def _show(self, visits: HomeVisits) -> None:
        self.visits = visits
        # A discarded visit stays on disk, with its reason, and out of every list.
        self.summaries = summaries = [s for s in visits.summaries if s.status != Status.DISCARDED]
        lang = self.lang
        self._show_sent_back(lang)
        drafts = [s for s in summaries if s.status == Status.DRAFT]
        draft_list = self.query_one("#drafts", OptionList)
        highlighted = draft_list.highlighted
        draft_list.clear_options()
        if drafts:
            draft_list.add_options(Option(self._draft_line(s, lang), id=s.uuid) for s in drafts)
            draft_list.highlighted = min(highlighted or 0, len(drafts) - 1)
        else:
            draft_list.add_option(Option(NO_DRAFTS.get(lang), disabled=True))
        hint = self.query_one("#resume-hint", Static)
        hint.update(RESUME_HINT.get(lang) if drafts else "")
        hint.display = bool(drafts)
        table = self.query_one("#recent", DataTable)
        table.clear(columns=True)
        table.add_columns(*(column.get(lang) for column in COLUMNS))
        finished = [s for s in summaries if s.status != Status.DRAFT][:RECENT_LIMIT]
        for summary in finished:
            table.add_row(
                summary.updated_at[:16].replace("T", " "),
                RichText(summary.merchant_name),
                summary.terminal_number,
                tr(VERDICT_NAMES.get(summary.verdict), lang),
                self._status_text(summary, lang),
                key=summary.uuid,
            )

    def _show_sent_back(self, lang: str) -> None:
        """Visits a supervisor returned, each with the comment and the items it names; an
        amendment under way is among the unfinished instead, and once signed it awaits its
        own review, so it leaves this list."""
        sent_back = [
            s for s in self.summaries if s.review_decision in SENT_BACK and s.status != Status.DRAFT
        ]
        shown = self.query_one("#sent-back", OptionList)
        highlighted = shown.highlighted
        shown.clear_options()
        shown.add_options(Option(self._sent_back_lines(s, lang), id=s.uuid) for s in sent_back)
        if sent_back:
            shown.highlighted = min(highlighted or 0, len(sent_back) - 1)
        shown.display = bool(sent_back)
        self.query_one("#sent-back-title", Static).display = bool(sent_back)

    def _sent_back_lines(self, summary: VisitSummary, lang: str) -> RichText:
        when = summary.updated_at[:16].replace("T", " ")
        decision = tr(DECISION_NAMES.get(summary.review_decision), lang)
        lines = RichText(f"{when}  {summary.merchant_name}  {summary.terminal_number}  ")
        lines.append(decision or summary.review_decision, style="bold red")
        lines.append("\n  " + COMMENT.get(lang).format(comment=summary.review_comment or "-"))
        if summary.review_items:
            titles = self.visits.item_titles
            items = ", ".join(
                titles[code].get(lang) if code in titles else code for code in summary.review_items
            )
            lines.append("\n  " + NAMED_ITEMS.get(lang).format(items=items))
        return lines

    @staticmethod
    def _status_text(summary: VisitSummary, lang: str) -> RichText:
        """A supervisor's decision says more than "reviewed"; one that needs work stands out."""
        if summary.review_decision:
            name = tr(DECISION_NAMES.get(summary.review_decision), lang) or summary.review_decision
            style = "bold red" if summary.review_decision != "approved" else ""
            return RichText(name, style=style)
        return RichText(tr(STATUS_NAMES.get(summary.status), lang))

    # -- sync ----------------------------------------------------------------------------

    def action_sync(self) -> None:
        target = self.services.settings.shared_store_target()
        if target is None:
            self.notify(NO_SHARED_STORE.get(self.lang), severity="warning", timeout=10)
            return
        self._sync_line(SYNCING.get(self.lang).format(done=0, total="?"))
        progress = self.from_worker(self._sync_progress)
        synced = partial(self._synced, target)
        self.when_done(self.services.sync(target, progress), synced, self._sync_failed)

    def _sync_progress(self, stage: str, done: int, total: int) -> None:
        self._sync_line(SYNCING.get(self.lang).format(done=done, total=total))

    def _sync_line(self, text: str) -> None:
        line = self.query_one("#sync-status", Static)
        line.update(text)
        line.display = bool(text)

    def _synced(self, target: Path | str, report: SyncReport) -> None:
        from pos_tui.services.orders import pull_orders

        self._sync_line("")
        pushed = report.pushed
        message = SYNCED.get(self.lang).format(
            added=len(pushed.added), reviews=report.reviews_applied, target=report.target
        )
        self.notify(message, timeout=10)
        # The laptop's orders come after the visits have gone: a visit signed for an order
        # is in the shared store before the order's new state is read anywhere.
        self.when_done(pull_orders(self.services, target), self._orders_pulled)

    def _orders_pulled(self, count: int) -> None:
        if count:
            self.notify(ORDERS_PULLED.get(self.lang).format(count=count), timeout=10)
        self.action_refresh()

    def _sync_failed(self, error: BaseException) -> None:
        self._sync_line("")
        self.notify(error_text(error, self.lang), severity="error", timeout=15)

    def _draft_line(self, summary: VisitSummary, lang: str) -> str:
        when = summary.updated_at[:16].replace("T", " ")
        line = f"{when}  {summary.merchant_name}  {summary.terminal_number}  ({summary.answered})"
        if summary.amendment:
            reason = self.visits.amendment_reasons.get(summary.uuid, "")
            line += "  " + AMENDING.get(lang).format(number=summary.amendment, reason=reason)
        elif summary.follow_up_of:
            line += "  " + FOLLOW_UP.get(lang)
        return escape(line)

    # -- discarding ----------------------------------------------------------------------

    def _target(self) -> VisitSummary | None:
        """The visit under the cursor of the list that has the focus."""
        if not self.is_mounted:
            return None
        focused, uuid = self.focused, None
        if isinstance(focused, OptionList) and focused.id in ("drafts", "sent-back"):
            index = focused.highlighted
            if index is not None and index < focused.option_count:
                uuid = focused.get_option_at_index(index).id
        elif isinstance(focused, DataTable) and focused.row_count:
            uuid = focused.coordinate_to_cell_key(focused.cursor_coordinate).row_key.value
        return next((s for s in self.summaries if s.uuid == uuid), None) if uuid else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Discard shows only with a visit under the cursor. On a signed visit, or an
        # amendment, it says why not (the domain's sentence) rather than staying silent.
        if action == "discard":
            return self._target() is not None
        return True

    @on(OptionList.OptionHighlighted)
    @on(DataTable.RowHighlighted)
    def _cursor_moved(self) -> None:
        self.refresh_bindings()

    def on_descendant_focus(self, _event: events.DescendantFocus) -> None:
        self.refresh_bindings()

    def action_discard(self) -> None:
        target = self._target()
        if target is None:
            return
        plain_draft = target.status == Status.DRAFT and not target.amendment
        self.when_done(self.services.load(target.uuid), partial(self._discard, plain_draft))

    def _discard(self, plain_draft: bool, session: Session) -> None:
        if not plain_draft:
            # Refused by the domain before any reason is asked for, in its own words.
            self.when_done(self.services.discard(session, ""), self._discarded)
            return
        from pos_tui.ui.screens.reason import ReasonScreen

        def discard(reason: str) -> Future[Session]:
            return self.services.discard(session, reason)

        self.app.push_screen(ReasonScreen(DISCARD_TITLE, DISCARD_PROMPT, discard), self._discarded)

    def _discarded(self, session: Session | None) -> None:
        if session is not None:
            self.notify(DISCARDED.get(self.lang).format(merchant=session.info.merchant_name))
            self.action_refresh()

    def action_new_visit(self) -> None:
        from pos_tui.ui.screens.new_visit import NewVisitScreen

        self.app.push_screen(NewVisitScreen())

    @on(OptionList.OptionSelected, "#drafts")
    def _resume(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.when_done(self.services.load(event.option.id), self._open_runner)

    @on(OptionList.OptionSelected, "#orders")
    def _start_from_order(self, event: OptionList.OptionSelected) -> None:
        line = next((o for o in self.orders if o.number == event.option.id), None)
        if line is None:
            return
        existing = [s for s in self.summaries if s.uuid in line.visits and s.status == Status.DRAFT]
        if existing:
            # The visit for this order is under way: carry on with it, not a second one.
            self.when_done(self.services.load(existing[0].uuid), self._open_runner)
            return
        from pos_tui.ui.screens.order_visit import OrderVisitScreen

        self.app.push_screen(OrderVisitScreen(line.order))

    @on(OptionList.OptionSelected, "#sent-back")
    def _open_sent_back(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.when_done(self.services.load(event.option.id), self._open_summary)

    @on(DataTable.RowSelected, "#recent")
    def _open_finished(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.when_done(self.services.load(event.row_key.value), self._open_summary)

    def _open_runner(self, session: Session) -> None:
        from pos_tui.ui.screens.runner import RunnerScreen

        self.app.push_screen(RunnerScreen(session))

    def _open_summary(self, session: Session) -> None:
        from pos_tui.ui.screens.summary import SummaryScreen

        self.app.push_screen(SummaryScreen(session), self._summary_closed)

    def _summary_closed(self, result: SummaryResult | None) -> None:
        if result is not None and result.runner is not None:
            # An amendment begun, or a follow-up visit: on with it at the counter.
            from pos_tui.ui.screens.runner import RunnerScreen

            self.app.push_screen(RunnerScreen(result.runner))
        elif result is not None and result.jump_to is not None:
            from pos_tui.ui.screens.runner import RunnerScreen

            self.app.push_screen(RunnerScreen(result.session, start_at=result.jump_to))
