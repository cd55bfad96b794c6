"""One visit in full, for the supervisor: details, its evidence, every answer, the log, and
the decision.

The evidence comes in steps, each off the UI thread: the record (its files hashed), then
the warnings on each file (reuse against every visit the background pass has read), then
the picture shown, one at a time: a detail with ten 5 MB photos is readable before any of
them is decoded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from pos_tui.domain.integrity import Integrity
from pos_tui.domain.review_filter import APPROVED, HAS_ISSUES, REJECTED, ReviewRow
from pos_tui.services.review_evidence import EvidenceLine, EvidenceReport, ViewerError
from pos_tui.store.sources import VisitRecord
from pos_tui.store.storage import StoreError
from pos_tui.ui.i18n import BINDING_TEXT, Text
from pos_tui.ui.screens import review_render as render
from pos_tui.ui.screens import review_revisions as revisions_text
from pos_tui.ui.screens import review_text as words
from pos_tui.ui.screens.base import PosScreen, error_text
from pos_tui.ui.widgets.evidence_picture import EvidencePicture
from pos_tui.ui.widgets.key_bar import KeyBar
from pos_tui.ui.widgets.title_bar import TitleBar

TITLE = Text("审核：{merchant} | {terminal}", "Review: {merchant} | {terminal}")
DETAILS = Text("访问信息", "Visit")
FAILURES = Text("不通过项（{n}）", "Failed items ({n})")
ANSWERS = Text("全部检查结果", "All answers")
TIMELINE = Text("时间线", "Timeline")
SAVED = Text("已记录：{state}", "Recorded: {state}")
EVIDENCE = Text("凭证（{n}）", "Evidence ({n})")
CAPTION = Text(
    "第 {n}/{total} 份：{name}（[ ] 切换，v 用系统查看器打开）",
    "File {n} of {total}: {name} ([ ] for another, v opens it in the viewer)",
)
PICTURE_LOADING = Text("正在读取照片…", "Reading the photo...")
NOT_A_PICTURE = Text(
    "这是 PDF 文件：按 v 用系统查看器打开。", "A PDF: press v to open it in the viewer."
)
WHY_MISSING = Text("共享库中缺少此文件", "the file is missing from the shared store")
WHY_REPLACED = Text(
    "共享库中的此文件已被替换，与记录的哈希不符",
    "the file in the shared store was replaced and no longer matches the record",
)
WHY_BROKEN = Text("文件无法读取或解码", "the file cannot be read or decoded")
WHY_NO_VIEWER = Text("查看器无法启动", "the viewer could not be started")
PICTURE_FAILED = Text("无法显示：{why}。", "Cannot show it: {why}.")
VIEW_FAILED = Text("未交给查看器：{why}。", "Not handed to the viewer: {why}.")
OPENED = Text("已交给查看器：{path}", "Handed to the viewer: {path}")
HISTORY = Text("版本历史（{n} 个版本，d 对比）", "Revisions ({n}; d compares them)")
LINKS = Text("复查", "Follow-ups")

BINDING_TEXT["review.view"] = Text("查看器", "Viewer")
BINDING_TEXT["review.previous_file"] = Text("上一份", "Previous file")
BINDING_TEXT["review.next_file"] = Text("下一份", "Next file")
BINDING_TEXT["review.diff"] = Text("版本对比", "Compare")
BINDING_TEXT["review.linked"] = Text("关联访问", "Linked visit")
_EVIDENCE_ACTIONS = frozenset({"view", "other_file"})


class ReviewDetailScreen(PosScreen[None]):
    CSS_PATH = "review.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="review.back"),
        Binding("a", "decide('approved')", "Approve", id="review.approve"),
        Binding("i", "decide('has_issues')", "Has issues", id="review.issues"),
        Binding("x", "decide('rejected')", "Reject", id="review.reject"),
        Binding("ctrl+r", "report", "Report", id="visit.report"),
        Binding("v", "view", "Viewer", id="review.view"),
        Binding(
            "left_square_bracket",
            "other_file(-1)",
            "Previous file",
            id="review.previous_file",
            key_display="[",
            show=False,
        ),
        Binding(
            "right_square_bracket",
            "other_file(1)",
            "Next file",
            id="review.next_file",
            key_display="]",
        ),
        Binding("d", "diff", "Compare", id="review.diff"),
        Binding("l", "linked", "Linked visit", id="review.linked"),
    ]

    def __init__(
        self,
        row: ReviewRow,
        on_decided: Callable[[dict[str, Any], str], None],
        rows: Sequence[ReviewRow] = (),
    ) -> None:
        """`rows`: the list's, to find the visit this one follows up and its follow-ups."""
        super().__init__()
        self.row = row
        self.on_decided = on_decided
        self.rows = rows
        self.revisions: list[VisitRecord | StoreError] = []
        """Every revision of the visit in the store, oldest first; read after the record."""
        self._linked_at = 0
        self.record: VisitRecord | None = None
        self.integrity: Integrity | None = None
        self.evidence: EvidenceReport | None = None
        self.file_at = 0
        """Which of the evidence's files the picture and the viewer key are on."""
        self.picture_ready = False
        """The current file's picture, or the sentence instead of it, is on screen."""
        self._pictures: dict[str, Any] = {}
        """Decoded photos by hash, so going back and forth decodes each once."""
        self._requested: set[str] = set()
        """Photos asked of the worker, arrived or not."""

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(id="detail-banner")
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-meta-title", classes="section-title")
            yield Static(id="detail-meta")
            yield Static(id="detail-links-title", classes="section-title")
            yield Static(id="detail-links")
            yield Static(id="detail-history-title", classes="section-title")
            yield Static(id="detail-history")
            yield Static(id="detail-failures-title", classes="section-title")
            yield Static(id="detail-failures")
            yield Static(id="detail-evidence-title", classes="section-title")
            yield Static(id="detail-evidence")
            yield Static(id="detail-picture-caption", classes="subtle")
            yield EvidencePicture(id="detail-picture")
            yield Static(id="detail-answers-title", classes="section-title")
            yield Static(id="detail-answers")
            yield Static(id="detail-timeline-title", classes="section-title")
            yield Static(id="detail-timeline")
        yield KeyBar()

    def on_mount(self) -> None:
        # LanguageMixin.on_mount runs too (Textual calls every class's handler).
        self.query_one("#detail-banner", Static).display = False
        for selector in (
            "#detail-links-title",
            "#detail-links",
            "#detail-history-title",
            "#detail-history",
        ):
            self.query_one(selector).display = False
        self._show_evidence_parts(False)
        self.query_one("#detail-body", VerticalScroll).focus()
        self._load()

    def _load(self) -> None:
        self.when_done(self.pos_app.review.record(self.row.row), self._loaded)

    def _loaded(self, record: VisitRecord) -> None:
        self.record = record
        self.integrity = render.integrity_of(record)
        # The list's row too, so its column agrees before the background pass reaches it.
        self.row.checked(self.integrity)
        if not self.is_attached:  # closed while it loaded: the row's verdict is all to keep
            return
        # Behind the record on the worker: a visit's other revisions, for its history.
        self.when_done(self.pos_app.review.revisions(self.row.uuid), self._revisions)
        if not record.session.evidence:
            self.row.evidence = frozenset()
            self.apply_language(self.lang)
            self.record_shown()
            return
        # Drawn once with its evidence, a millisecond of the worker's later: drawing the
        # detail and then again with the evidence in it would lay out the whole screen twice.
        self.when_done(
            self.pos_app.review.evidence(self.row.key, record),
            self._evidence,
            lambda error: self._without_evidence(error),
        )
        # Asked for now, behind the warnings on the worker: decoding a 5 MB photo takes as
        # long as the rest, and the first file is known before its warnings are.
        first = record.session.all_evidence()[0][1]
        if first.is_photo:
            self._request_picture(first.sha256)

    def _revisions(self, found: list[VisitRecord | StoreError]) -> None:
        self.revisions = found
        if self.is_attached:
            self._show_history(self.lang)
            self.refresh_bindings()

    def _show_history(self, lang: str) -> None:
        # Only for a visit with more than one revision: most have one, and a history of one
        # line would say again what the details above say.
        shown = len(self.revisions) > 1
        for selector in ("#detail-history-title", "#detail-history"):
            self.query_one(selector).display = shown
        if shown:
            self.query_one("#detail-history-title", Static).update(
                HISTORY.get(lang).format(n=len(self.revisions))
            )
            self.query_one("#detail-history", Static).update(
                revisions_text.history(self.revisions, self.row.key, lang)
            )

    @property
    def followed_up(self) -> ReviewRow | None:
        """The listed visit this one follows up."""
        of = self.row.follow_up_of
        return next((r for r in self.rows if of and r.uuid == of), None)

    @property
    def follow_ups(self) -> list[ReviewRow]:
        """The listed follow-ups of this visit, oldest first."""
        found = [r for r in self.rows if r.follow_up_of == self.row.uuid]
        return sorted(found, key=lambda r: r.updated_at)

    @staticmethod
    def _named(row: ReviewRow) -> str:
        return f"{row.merchant_name} {row.when} ({row.uuid[:8]})"

    def _show_links(self, lang: str) -> None:
        if self.record is None:
            return
        original = self.followed_up
        said = revisions_text.links(
            self.record.session,
            None if original is None else self._named(original),
            [self._named(row) for row in self.follow_ups],
            lang,
        )
        for selector in ("#detail-links-title", "#detail-links"):
            self.query_one(selector).display = bool(said)
        self.query_one("#detail-links-title", Static).update(LINKS.get(lang))
        self.query_one("#detail-links", Static).update(said)

    @property
    def linked(self) -> list[ReviewRow]:
        """The visits `l` opens, in turn: the one followed up, then each follow-up."""
        original = self.followed_up
        return ([] if original is None else [original]) + self.follow_ups

    def action_linked(self) -> None:
        linked = self.linked
        if not linked:
            return
        row = linked[self._linked_at % len(linked)]
        self._linked_at += 1
        self.app.push_screen(ReviewDetailScreen(row, self.on_decided, self.rows))

    def action_diff(self) -> None:
        if len(self.revisions) < 2:
            return
        from pos_tui.ui.screens.revision_diff import RevisionDiffScreen

        before, after = revisions_text.default_pair(self.revisions)
        self.app.push_screen(
            RevisionDiffScreen(
                self.revisions, before, after, self.row.merchant_name, self.row.terminal_number
            )
        )

    def _without_evidence(self, error: BaseException) -> None:
        """The record without its files' warnings, and why: better than no record."""
        if self.is_attached:
            self.apply_language(self.lang)
            self.record_shown()
            self.notify(error_text(error, self.lang), severity="error", timeout=8)

    def _evidence(self, report: EvidenceReport) -> None:
        self.evidence = report
        # The list's row learns what the detail found, as it does of the integrity.
        self.row.evidence = report.codes
        if not self.is_attached:
            return
        self.file_at = min(self.file_at, max(0, len(report.lines) - 1))
        self.apply_language(self.lang)
        self.refresh_bindings()
        self.record_shown()
        self.evidence_shown()
        self._load_picture()

    def record_shown(self) -> None:
        """Called when the record's details and answers are on screen; the bench hooks it."""

    def evidence_shown(self) -> None:
        """Called when the evidence list is on screen; the bench hooks it."""

    def picture_shown(self) -> None:
        """Called when a picture (or the sentence instead of one) is on screen; the bench
        hooks it."""

    @property
    def current_file(self) -> EvidenceLine | None:
        if self.evidence is None or not self.evidence.lines:
            return None
        return self.evidence.lines[self.file_at]

    def _load_picture(self) -> None:
        line = self.current_file
        if line is None:
            return
        self._caption()
        picture = self.query_one(EvidencePicture)
        sha = line.ref.sha256
        if not line.ref.is_photo:
            picture.say(NOT_A_PICTURE.get(self.lang))
            self._picture_on_screen()
        elif sha in self._pictures:
            picture.show(sha, self._pictures[sha])
            self._picture_on_screen()
        else:
            self.picture_ready = False
            picture.say(PICTURE_LOADING.get(self.lang))
            self._request_picture(sha)

    def _request_picture(self, sha: str) -> None:
        if sha in self._requested:
            return  # on its way: shown when it comes if it is still the current one
        self._requested.add(sha)
        self.when_done(
            self.pos_app.review.picture(sha, self.query_one(EvidencePicture).pixels),
            lambda image: self._picture(sha, image),
            lambda error: self._no_picture(sha, error),
        )

    def _picture(self, sha: str, image: Any) -> None:
        self._pictures[sha] = image
        line = self.current_file
        if self.is_attached and line is not None and line.ref.sha256 == sha:
            self.query_one(EvidencePicture).show(sha, image)
            self._picture_on_screen()

    def _no_picture(self, sha: str, error: BaseException) -> None:
        self._requested.discard(sha)  # asked again when shown again: it may be mended
        line = self.current_file
        if not self.is_attached or line is None or line.ref.sha256 != sha:
            return
        said = PICTURE_FAILED.get(self.lang).format(why=self._why(line, error))
        self.query_one(EvidencePicture).say(said)
        self._picture_on_screen()

    def _why(self, line: EvidenceLine, error: BaseException) -> str:
        """Why a file cannot be shown or opened, in the screen's language: the store's
        errors are written in English for logs and the command line."""
        if isinstance(error, ViewerError):
            return WHY_NO_VIEWER.get(self.lang)
        problem = line.problem
        if problem is None and isinstance(error, StoreError):
            text = str(error)
            problem = "missing" if "missing" in text else "replaced" if "replaced" in text else None
        why = {"missing": WHY_MISSING, "replaced": WHY_REPLACED}.get(problem or "", WHY_BROKEN)
        return why.get(self.lang)

    def _picture_on_screen(self) -> None:
        self.picture_ready = True
        self.picture_shown()

    def _caption(self) -> None:
        line = self.current_file
        if line is None or self.evidence is None:
            return
        self.query_one("#detail-picture-caption", Static).update(
            CAPTION.get(self.lang).format(
                n=self.file_at + 1, total=len(self.evidence.lines), name=line.ref.name
            )
        )

    def _show_evidence_parts(self, shown: bool) -> None:
        for selector in (
            "#detail-evidence-title",
            "#detail-evidence",
            "#detail-picture-caption",
            "#detail-picture",
        ):
            self.query_one(selector).display = shown

    def action_other_file(self, step: int) -> None:
        if self.evidence is None or not self.evidence.lines:
            return
        self.file_at = (self.file_at + step) % len(self.evidence.lines)
        self._load_picture()

    def action_view(self) -> None:
        """A verified copy of the file to the system viewer, off the UI thread."""
        line = self.current_file
        if line is None:
            return
        self.when_done(
            self.pos_app.review.open_evidence(line.ref),
            lambda path: self.notify(OPENED.get(self.lang).format(path=path)),
            lambda error: self.notify(
                VIEW_FAILED.get(self.lang).format(why=self._why(line, error)),
                severity="error",
                timeout=8,
            ),
        )

    @property
    def warnings(self) -> list[str]:
        return [] if self.integrity is None else list(self.integrity.warnings)

    def apply_language(self, lang: str) -> None:
        row = self.row
        self.title = TITLE.get(lang).format(
            merchant=row.merchant_name, terminal=row.terminal_number
        )
        self.query_one("#detail-meta-title", Static).update(DETAILS.get(lang))
        self.query_one("#detail-answers-title", Static).update(ANSWERS.get(lang))
        self.query_one("#detail-timeline-title", Static).update(TIMELINE.get(lang))
        if self.record is None:
            self.query_one("#detail-meta", Static).update(words.LOADING.get(lang))
            return
        banner = self.query_one("#detail-banner", Static)
        found = render.integrity_of(self.record) if self.integrity is None else self.integrity
        banner.update(render.banner(found, lang, self.record))
        alarm = not found.trusted or bool(self.record.forged) or self.record.log_has_gap
        banner.display = bool(found.warnings) or alarm
        banner.set_class(alarm, "-altered")
        self.query_one("#detail-meta", Static).update(
            render.meta(self.record, row.review_state, lang)
        )
        failed = render.failures(self.record.session, lang)
        for selector in ("#detail-failures-title", "#detail-failures"):
            self.query_one(selector, Static).display = failed is not None
        if failed is not None:
            n = len(self.record.session.failures())
            self.query_one("#detail-failures-title", Static).update(FAILURES.get(lang).format(n=n))
            self.query_one("#detail-failures", Static).update(failed)
        self.query_one("#detail-answers", Static).update(
            render.checklists(self.record.session, lang)
        )
        self.query_one("#detail-timeline", Static).update(render.timeline(self.record, lang))
        self._show_links(lang)
        self._show_history(lang)
        self._show_evidence(lang)

    def _show_evidence(self, lang: str) -> None:
        report = self.evidence
        if self.record is None:
            return
        self._show_evidence_parts(report is not None and bool(report.lines))
        if report is not None and report.lines:
            self.query_one("#detail-evidence-title", Static).update(
                EVIDENCE.get(lang).format(n=len(report.lines))
            )
            self.query_one("#detail-evidence", Static).update(
                render.evidence(report, self.record.session, lang)
            )
            self._caption()

    def action_back(self) -> None:
        self.dismiss()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "decide":
            return True if self.record is not None else None
        if action == "diff":
            return len(self.revisions) > 1
        if action == "linked":
            return bool(self.linked)
        if action in _EVIDENCE_ACTIONS:
            # Hidden, not greyed out, on a visit with no files: most visits have none yet.
            return self.evidence is not None and bool(self.evidence.lines)
        return True

    def action_report(self) -> None:
        """The visit's printable acceptance report, written off the UI thread."""
        if self.record is None:
            return
        self.when_done(
            self.pos_app.review.write_report(self.record, self.lang),
            lambda path: self.notify(
                words.REPORT_WRITTEN.get(self.lang).format(path=path), timeout=10
            ),
        )

    def action_decide(self, decision: str) -> None:
        from pos_tui.ui.screens.review_decision import ReviewDecisionScreen

        if decision not in (APPROVED, HAS_ISSUES, REJECTED) or self.record is None:
            return
        self.app.push_screen(
            ReviewDecisionScreen(self.row, decision, self.warnings, self.record), self._decided
        )

    def _decided(self, decision: dict[str, Any] | None) -> None:
        if decision is None:
            return
        self.row.review_state = decision["decision"]
        self.on_decided(decision, self.row.key)
        state = words.REVIEW_STATE_NAMES[decision["decision"]].get(self.lang)
        self.notify(SAVED.get(self.lang).format(state=state))
        self._load()
