"""Where a visit stands: counts, verdict, failures, what is still missing, and the sign-off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text as RichText
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from pos_tui.domain.line_breaking import wrap
from pos_tui.domain.names import DECISION_NAMES
from pos_tui.domain.session import Outcome, Session, Status
from pos_tui.ui.i18n import READ_ONLY, SEVERITY_NAMES, VERDICT_NAMES, Text, amendment_banner
from pos_tui.ui.screens.base import PosScreen, error_text
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.progress import CellSafeProgressBar
from pos_tui.ui.widgets.title_bar import TitleBar
from pos_tui.ui.widgets.wrapped_text import WrappedText

if TYPE_CHECKING:
    from concurrent.futures import Future

    from pos_tui.services.technician import DetailsChanged

REVIEWED = Text(
    "主管 {reviewer} 审核结果：{decision}。意见：{comment}",
    "Reviewed by {reviewer}: {decision}. Comment: {comment}",
)
SENT_BACK_ITEMS = Text("指出的项目：{items}", "Items named: {items}")
AMEND_TITLE = Text("更正已签署的访问", "Amend the signed visit")
AMEND_PROMPT = Text(
    "已签署的版本保持不变，更正将成为新的版本，须重新签署。请说明更正的原因：",
    "The signed revision stays as it is; the amendment is a new revision, signed again."
    " Why is it amended?",
)
FOLLOW_UP_OF = Text(
    "复查访问：只重做 {count} 个项目（原访问 {uuid}）",
    "Follow-up visit: re-runs {count} item(s) of visit {uuid}",
)
DETAILS_CHANGED = Text("已更正：{names}", "Corrected: {names}")
FOLLOW_UP_STARTED = Text(
    "已开始复查访问：{count} 个项目", "Follow-up visit started: {count} item(s)"
)
SIGNED_STATUSES = (Status.SIGNED, Status.SYNCED, Status.REVIEWED)
REPORT_WRITTEN = Text("验收报告已保存：{path}", "Acceptance report written to {path}")
TITLE = Text("访问汇总", "Visit summary")
VERDICT = Text("结论：{verdict}", "Verdict: {verdict}")
COUNTS = Text(
    "通过 {passed}，不通过 {failed}，不适用 {na}，未答 {open}（适用项共 {applicable} 个）",
    "Pass {passed}, Fail {failed}, N/A {na}, Open {open} (of {applicable} that apply)",
)
PROGRESS = Text("已答 {progress}", "Answered {progress}")
FAILURES = Text("不通过的项目（{count}）", "Failed items ({count})")
NO_FAILURES = Text("没有不通过的项目。", "No item failed.")
MISSING = Text("未答的必填项（{count}）", "Required items still open ({count})")
JUMP_HINT = Text("按 Enter 跳到该项作答。", "Enter jumps to the item.")
NO_MISSING = Text("所有必填项都已作答。", "Every required item is answered.")
NOT_SIGNED = Text("尚未签署：按 Ctrl+S 签署。", "Not signed yet: press Ctrl+S to sign off.")
SIGNED = Text(
    "已于 {at} 签署。技术员：{technician}，商户代表：{representative}",
    "Signed on {at} by {technician} (technician) and {representative} (merchant)",
)
SIGNED_NOTICE = Text("访问已签署，现为只读。", "The visit is signed and is now read-only.")
ALTERED = Text(
    "警告：签署后内容被改动过，与签名不符。",
    "Warning: the content changed after it was signed and no longer matches the signatures.",
)
VISIT_LINE = Text(
    "{merchant}，商户号 {merchant_number}，终端号 {terminal}",
    "{merchant}, merchant {merchant_number}, terminal {terminal}",
)
# The summary's padding and scrollbar, beside the table.
TABLE_MARGIN = 4
MIN_NOTE_WIDTH = 16
MIN_ITEM_WIDTH = 18
CELL_PADDING = 2
TABLE_SCROLLBAR = 2
COLUMNS = (
    Text("检查项", "Item"),
    Text("级别", "Severity"),
    Text("说明", "Note"),
)


def failure_widths(
    room: int, headers: list[str], rows: list[tuple[str, str, str, str, str]]
) -> tuple[int, int, int]:
    """Item, severity and note widths that fit `room` cells, so nothing needs sideways
    scrolling: severity as wide as its longest name, the item at most half of what is left
    (its title wraps), the note the rest."""
    severity = max(cell_len(text) for text in [headers[1], *(row[2] for row in rows)])
    room -= 3 * CELL_PADDING + severity
    longest_item = max(
        cell_len(text)
        for text in [headers[0], *(row[0] for row in rows), *(row[1] for row in rows)]
    )
    item = min(longest_item, max(MIN_ITEM_WIDTH, room // 2))
    return item, severity, max(room - item, MIN_NOTE_WIDTH)


@dataclass(frozen=True, slots=True)
class SummaryResult:
    """What the summary hands back: the visit as it now stands (signed there, perhaps), and
    the item to go to when the technician chose one."""

    session: Session
    jump_to: tuple[str, str] | None = None
    runner: Session | None = None
    """A visit to go on with in the runner: the amendment just begun (this visit's next
    revision), or a follow-up visit (another visit)."""


class SummaryScreen(PosScreen[SummaryResult]):
    CSS_PATH = "summary.tcss"
    BINDINGS = [
        Binding("ctrl+s", "sign", "Sign off", id="visit.sign"),
        Binding("ctrl+r", "report", "Report", id="visit.report"),
        Binding("e", "amend", "Amend", id="visit.amend"),
        Binding("i", "edit_details", "Details", id="visit.details_edit"),
        Binding("v", "follow_up", "Follow-up visit", id="visit.follow_up"),
        Binding("escape", "back", "Back", id="visit.back"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self._signing = False
        self._missing_keys: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="summary"):
            yield WrappedText(id="summary-amendment", classes="notice")
            yield Static(id="summary-verdict")
            yield Static(id="summary-visit", classes="subtle")
            yield Static(id="summary-counts")
            with Horizontal(id="summary-progress-row"):
                yield Static(id="summary-progress-label")
                yield CellSafeProgressBar(id="summary-progress", show_eta=False)
            yield WrappedText(id="summary-signoff")
            yield Static(id="failures-title", classes="section-title")
            yield Static(id="no-failures", classes="hint")
            yield DataTable(id="failures", cursor_type="row", zebra_stripes=True)
            yield Static(id="missing-title", classes="section-title")
            yield Static(id="missing-hint", classes="hint")
            yield OptionList(id="missing")
        yield KeyBar()

    def on_mount(self) -> None:
        super().on_mount()
        missing = self.query_one("#missing", OptionList)
        table = self.query_one("#failures", DataTable)
        # Focused without scrolling to it: the verdict at the top is what is read first.
        (missing if missing.option_count else table).focus(scroll_visible=False)

    def on_resize(self) -> None:
        self._show_failures()

    def apply_language(self, lang: str) -> None:
        self.title = TITLE.get(lang)
        self.show_session()

    # -- showing -------------------------------------------------------------------

    def show_session(self) -> None:
        """Render everything from the session; cheap enough to do on every change."""
        session, lang = self.session, self.lang
        self.sub_title = session.info.merchant_name + (
            f" [{READ_ONLY.get(lang)}]" if not session.editable else ""
        )
        verdict = session.verdict()
        box = self.query_one("#summary-verdict", Static)
        box.update(VERDICT.get(lang).format(verdict=VERDICT_NAMES[verdict].get(lang)))
        box.set_classes(f"verdict-{verdict}")
        info = session.info
        self.query_one("#summary-visit", Static).update(
            escape(
                VISIT_LINE.get(lang).format(
                    merchant=info.merchant_name,
                    merchant_number=info.merchant_number,
                    terminal=info.terminal_number,
                )
            )
        )
        self._show_links()
        self._show_counts()
        self._show_signoff()
        self._show_failures()
        self._show_missing()

    def _show_links(self) -> None:
        """Over an amendment, which one and why; over a follow-up, what it re-runs."""
        session, lang = self.session, self.lang
        lines = []
        if session.corrects is not None:
            lines.append(amendment_banner(session.corrects).get(lang))
        if session.follow_up is not None:
            follow_up = session.follow_up
            lines.append(
                FOLLOW_UP_OF.get(lang).format(
                    count=len(follow_up.items), uuid=follow_up.of_uuid[:8]
                )
            )
        banner = self.query_one("#summary-amendment", WrappedText)
        banner.set_text("\n".join(lines))
        banner.display = bool(lines)

    def _named_items(self) -> list[tuple[str, str]]:
        """The items the latest decision points at, those this visit has."""
        review = self.session.review or {}
        known = {(c.id, i.id) for c, i in self.session.all_items()}
        named = review.get("items") or []
        return [
            (str(pair[0]), str(pair[1]))
            for pair in named
            if isinstance(pair, list | tuple)
            and len(pair) == 2
            and (str(pair[0]), str(pair[1])) in known
        ]

    def _show_counts(self) -> None:
        session = self.session
        applicable = [(c.id, i.id) for c, i in session.all_items() if session.applies(i)]
        outcomes = [a.outcome for key in applicable if (a := session.answers.get(key))]
        self.query_one("#summary-counts", Static).update(
            COUNTS.get(self.lang).format(
                passed=outcomes.count(Outcome.PASS),
                failed=outcomes.count(Outcome.FAIL),
                na=outcomes.count(Outcome.NA),
                open=len(applicable) - len(outcomes),
                applicable=len(applicable),
            )
        )
        progress = session.progress()
        self.query_one("#summary-progress-label", Static).update(
            PROGRESS.get(self.lang).format(progress=progress)
        )
        self.query_one("#summary-progress", CellSafeProgressBar).update(
            total=max(progress.applicable, 1), progress=progress.answered
        )

    def _show_signoff(self) -> None:
        session, lang = self.session, self.lang
        line = self.query_one("#summary-signoff", WrappedText)
        signoff = session.signoff
        if signoff is None:
            line.set_text(NOT_SIGNED.get(lang) if session.editable else "")
        else:
            text = SIGNED.get(lang).format(
                at=signoff.at[:16].replace("T", " "),
                technician=signoff.technician,
                representative=signoff.merchant_representative,
            )
            if session.review:
                decision = str(session.review.get("decision", ""))
                name = DECISION_NAMES.get(decision)
                text += "\n" + REVIEWED.get(lang).format(
                    reviewer=session.review.get("reviewer", ""),
                    decision=name.get(lang) if name else decision,
                    comment=session.review.get("comment", "") or "-",
                )
                named = self._named_items()
                if named:
                    titles = ", ".join(session.item(*key).title.get(lang) for key in named)
                    text += "\n" + SENT_BACK_ITEMS.get(lang).format(items=titles)
            if session.altered:
                text += "\n" + ALTERED.get(lang)
            line.set_text(text)
        line.set_class(signoff is not None, "signed")
        line.set_class(session.altered, "altered")
        line.display = bool(line.plain)

    def _show_failures(self) -> None:
        lang = self.lang
        failures = self.session.failures()
        self.query_one("#failures-title", Static).update(
            FAILURES.get(lang).format(count=len(failures))
        )
        self.query_one("#no-failures", Static).update(NO_FAILURES.get(lang))
        self.query_one("#no-failures", Static).display = not failures
        table = self.query_one("#failures", DataTable)
        table.display = bool(failures)
        cursor = table.cursor_row
        rows = [
            (
                item.title.get(lang),
                checklist.title.get(lang),
                SEVERITY_NAMES[item.severity].get(lang),
                answer.note,
                f"{checklist.id}\t{item.id}",
            )
            for checklist, item, answer in failures
        ]
        headers = [column.get(lang) for column in COLUMNS]
        table.clear(columns=True)
        item_width, severity_width, note_width = failure_widths(
            self.size.width - TABLE_MARGIN - TABLE_SCROLLBAR, headers, rows
        )
        table.add_column(headers[0], width=item_width)
        table.add_column(headers[1], width=severity_width)
        table.add_column(headers[2], width=note_width)
        for item_title, checklist_title, severity, note, key in rows:
            # The checklist under the item, dimmed: one column less to share 80 cells with.
            # Broken into lines here, as Chinese is typeset (no line starts with `，`).
            item_cell = RichText("\n".join(wrap(item_title, item_width)))
            item_cell.append("\n" + "\n".join(wrap(checklist_title, item_width)), style="dim")
            note_cell = RichText("\n".join(wrap(note, note_width)))
            table.add_row(item_cell, RichText(severity), note_cell, key=key, height=None)
        if failures:
            table.move_cursor(row=min(cursor, len(failures) - 1))

    def _show_missing(self) -> None:
        lang = self.lang
        missing = self.session.missing_required()
        self._missing_keys = [(checklist.id, item.id) for checklist, item in missing]
        self.query_one("#missing-title", Static).update(
            MISSING.get(lang).format(count=len(missing))
        )
        self.query_one("#missing-hint", Static).update(
            (JUMP_HINT if missing else NO_MISSING).get(lang)
        )
        options = self.query_one("#missing", OptionList)
        options.display = bool(missing)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(
            Option(escape(f"{checklist.title.get(lang)} / {item.title.get(lang)}"))
            for checklist, item in missing
        )
        if missing:
            options.highlighted = min(highlighted or 0, len(missing) - 1)

    # -- jumping -------------------------------------------------------------------

    @on(DataTable.RowSelected, "#failures")
    def _jump_to_failure(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            checklist_id, item_id = event.row_key.value.split("\t")
            self.jump_to(checklist_id, item_id)

    @on(OptionList.OptionSelected, "#missing")
    def _jump(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.jump_to(*self._missing_keys[event.option_index])

    def jump_to(self, checklist_id: str, item_id: str) -> None:
        """Back to whoever opened the summary, asking to go to that item."""
        self.dismiss(SummaryResult(self.session, (checklist_id, item_id)))

    # -- signing -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        session = self.session
        if action == "sign":
            if not session.editable:
                return False
            return None if self._signing else True
        if action == "amend":
            return session.status in SIGNED_STATUSES
        if action == "edit_details":
            return session.amending and not self._signing
        if action == "follow_up":
            return session.status in SIGNED_STATUSES and bool(
                session.failures() or self._named_items()
            )
        return True

    # -- correcting ----------------------------------------------------------------

    def action_amend(self) -> None:
        from pos_tui.ui.screens.reason import ReasonScreen

        session = self.session

        def amend(reason: str) -> Future[Session]:
            return self.services.amend(session, reason)

        self.app.push_screen(ReasonScreen(AMEND_TITLE, AMEND_PROMPT, amend), self._amended)

    def _amended(self, amended: Session | None) -> None:
        if amended is not None:
            # On to the runner: the amendment is made by answering, as the visit was.
            self.session = amended
            self.dismiss(SummaryResult(amended, runner=amended))

    def action_edit_details(self) -> None:
        from pos_tui.ui.screens.details_edit import DetailsEditScreen

        self.app.push_screen(DetailsEditScreen(self.session), self._details_changed)

    def _details_changed(self, changed: DetailsChanged | None) -> None:
        if changed is None:
            return
        self.session = changed.session
        self.show_session()
        self.refresh_bindings()
        if changed.changes:
            from pos_tui.ui.screens.details_edit import detail_label

            names = ", ".join(detail_label(name).get(self.lang) for name in changed.changes)
            self.notify(DETAILS_CHANGED.get(self.lang).format(names=names))

    def action_follow_up(self) -> None:
        future = self.services.start_follow_up(self.session, self._named_items())
        self.when_done(future, self._followed_up)

    def _followed_up(self, follow_up: Session) -> None:
        assert follow_up.follow_up is not None
        count = len(follow_up.follow_up.items)
        self.notify(FOLLOW_UP_STARTED.get(self.lang).format(count=count))
        self.dismiss(SummaryResult(self.session, runner=follow_up))

    def action_report(self) -> None:
        """Write the printable report next to the store, off the UI thread."""
        self.when_done(
            self.services.write_report(self.session, self.lang),
            lambda path: self.notify(REPORT_WRITTEN.get(self.lang).format(path=path), timeout=10),
        )

    def action_sign(self) -> None:
        from pos_tui.ui.screens.sign_off import SignOffScreen

        self.app.push_screen(SignOffScreen(self.session), self._names_given)

    def _names_given(self, names: tuple[str, str] | None) -> None:
        if names is None:
            return
        self._signing = True
        self.refresh_bindings()
        self.when_done(self.services.sign(self.session, *names), self._signed, self._not_signed)

    def _signed(self, session: Session) -> None:
        self.session = session
        self._signing = False
        self.show_session()
        self.refresh_bindings()
        self.notify(SIGNED_NOTICE.get(self.lang))

    def _not_signed(self, error: BaseException) -> None:
        self._signing = False
        self.refresh_bindings()
        self.notify(error_text(error, self.lang), severity="error", timeout=8)

    def action_back(self) -> None:
        self.dismiss(SummaryResult(self.session))
