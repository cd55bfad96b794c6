"""Where the technician starts: unfinished visits to resume, recent visits, a new one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text as RichText
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from pos_tui.domain.session import Session, Status

if TYPE_CHECKING:
    from pos_tui.domain.loader import Problem
    from pos_tui.store.sync import SyncReport
    from pos_tui.ui.screens.summary import SummaryResult
from pos_tui.domain.names import DECISION_NAMES
from pos_tui.store.summary import VisitSummary
from pos_tui.ui.i18n import STATUS_NAMES, VERDICT_NAMES, Text, tr
from pos_tui.ui.screens.base import PosScreen, error_text
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.title_bar import TitleBar

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
RECENT_LIMIT = 50  # the technician needs the latest; `pos-tui list` has them all


class HomeScreen(PosScreen[None]):
    BINDINGS = [
        Binding("n", "new_visit", "New visit", id="home.new"),
        Binding("y", "sync", "Sync", id="home.sync"),
        Binding("r", "refresh", "Refresh", id="home.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.summaries: list[VisitSummary] = []
        self._announced = False

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(id="technician", classes="subtle")
        yield Static(id="resume-hint", classes="notice")
        yield Static(id="sync-status", classes="subtle")
        yield Static(id="damaged", classes="warning-line")
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
        self.query_one("#drafts-title", Static).update(DRAFTS.get(lang))
        self.query_one("#recent-title", Static).update(RECENT.get(lang))
        name = self.services.settings.technician
        self.query_one("#technician", Static).update(
            WELCOME.get(lang).format(name=name) if name else ""
        )
        self._show_damaged(lang)
        self._show(self.summaries)

    def _show_damaged(self, lang: str) -> None:
        """Visit files found damaged when the store opened: someone must hear of them."""
        damaged = self.services.store.report.damaged
        line = self.query_one("#damaged", Static)
        line.display = bool(damaged)
        if damaged:
            line.update(escape(DAMAGED.get(lang).format(count=len(damaged), path=damaged[0].path)))

    def action_refresh(self) -> None:
        self.when_done(self.services.summaries(), self._show_and_announce)

    def _show_and_announce(self, summaries: list[VisitSummary]) -> None:
        self._show(summaries)
        if not self._announced:
            self._announced = True
            self.when_done(self.services.checklist_problems_found(), self._warn_about_checklists)
            # The laptop's key is made on its first run, off the start-up path.
            self.when_done(self.services.prepare_keys(), lambda _fingerprint: None)
        drafts = self.query_one("#drafts", OptionList)
        if drafts.option_count and drafts.options[0].id:
            drafts.highlighted = 0
            drafts.focus()
        self.pos_app.home_ready()

    def _warn_about_checklists(self, problems: list[Problem]) -> None:
        if problems:
            text = CHECKLIST_PROBLEMS.get(self.lang).format(count=len(problems), first=problems[0])
            self.notify(text, severity="warning", timeout=15)

    def _show(self, summaries: list[VisitSummary]) -> None:
        self.summaries = summaries
        lang = self.lang
        drafts = [s for s in summaries if s.status == Status.DRAFT]
        draft_list = self.query_one("#drafts", OptionList)
        highlighted = draft_list.highlighted
        draft_list.clear_options()
        if drafts:
            draft_list.add_options(Option(self._draft_line(s), id=s.uuid) for s in drafts)
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
        target = self.services.settings.shared_store_path()
        if target is None:
            self.notify(NO_SHARED_STORE.get(self.lang), severity="warning", timeout=10)
            return
        self._sync_line(SYNCING.get(self.lang).format(done=0, total="?"))
        progress = self.from_worker(self._sync_progress)
        self.when_done(self.services.sync(target, progress), self._synced, self._sync_failed)

    def _sync_progress(self, stage: str, done: int, total: int) -> None:
        self._sync_line(SYNCING.get(self.lang).format(done=done, total=total))

    def _sync_line(self, text: str) -> None:
        line = self.query_one("#sync-status", Static)
        line.update(text)
        line.display = bool(text)

    def _synced(self, report: SyncReport) -> None:
        self._sync_line("")
        pushed = report.pushed
        message = SYNCED.get(self.lang).format(
            added=len(pushed.added), reviews=report.reviews_applied, target=report.target
        )
        self.notify(message, timeout=10)
        self.action_refresh()

    def _sync_failed(self, error: BaseException) -> None:
        self._sync_line("")
        self.notify(error_text(error, self.lang), severity="error", timeout=15)

    @staticmethod
    def _draft_line(summary: VisitSummary) -> str:
        when = summary.updated_at[:16].replace("T", " ")
        return escape(
            f"{when}  {summary.merchant_name}  {summary.terminal_number}  ({summary.answered})"
        )

    def action_new_visit(self) -> None:
        from pos_tui.ui.screens.new_visit import NewVisitScreen

        self.app.push_screen(NewVisitScreen())

    @on(OptionList.OptionSelected, "#drafts")
    def _resume(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.when_done(self.services.load(event.option.id), self._open_runner)

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
        if result is not None and result.jump_to is not None:
            from pos_tui.ui.screens.runner import RunnerScreen

            self.app.push_screen(RunnerScreen(result.session, start_at=result.jump_to))
