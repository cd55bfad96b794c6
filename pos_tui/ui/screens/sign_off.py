"""Sign-off: the technician and the merchant's representative put their names to the visit."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Static

from pos_tui.domain.progress import Verdict
from pos_tui.domain.session import Session
from pos_tui.ui.i18n import VERDICT_NAMES, Text
from pos_tui.ui.screens.base import ENTER_MOVES_ON, PosModal, focused_input
from pos_tui.ui.screens.form_fields import field_row, label_text, show_message
from pos_tui.ui.widgets.in_order_input import InOrderInput
from pos_tui.ui.widgets.wrapped_text import WrappedText

TITLE = Text("签署访问", "Sign off the visit")
VERDICT = Text("结论：{verdict}", "Verdict: {verdict}")
TECHNICIAN = Text("技术员", "Technician")
REPRESENTATIVE = Text("商户代表", "Merchant rep.")
REPRESENTATIVE_PLACEHOLDER = Text("在场商户代表的姓名", "Name of the merchant's representative")
FROM_ACKNOWLEDGEMENT = Text(
    "取自商户确认项，请与本人核对", "From the merchant's acknowledgement: check it with them"
)
SIGNED_BEFORE = Text(
    "上次签署的商户代表，请与本人核对", "The merchant who signed before: check it with them"
)
REQUIRED = Text("必填", "required")
INCOMPLETE_WARNING = Text(
    "还有 {count} 个必填项未作答。签署后访问将以「未完成」结束，不能再修改。",
    "{count} required item(s) are still unanswered. Once signed, the visit ends as "
    "incomplete and can no longer change.",
)
CONFIRM_INCOMPLETE = Text("我确认在未完成的情况下签署", "I confirm signing it incomplete")
CONFIRM_REQUIRED = Text("请先勾选确认", "tick the confirmation first")
MERCHANT_SIGNS_AGAIN = Text(
    "第{number}次更正改动了商户确认的内容（结果或访问信息），商户代表须重新签名。",
    "Amendment {number} changed what the merchant accepted (an outcome or a visit detail):"
    " the merchant signs again.",
)
TECHNICIAN_ALONE = Text(
    "第{number}次更正只改动了备注、数据或附件，商户确认的内容未变：由技术员单独签署，"
    "沿用商户代表 {representative} 原来的签名。",
    "Amendment {number} changed only notes, values or files, nothing the merchant accepted:"
    " the technician signs alone, and {representative}'s earlier signature is carried.",
)
SIGN = Text("签署", "Sign")
CANCEL = Text("取消", "Cancel")


class SignOffScreen(PosModal[tuple[str, str] | None]):
    """Returns `(technician, representative)`, trimmed, or None when cancelled."""

    CSS_PATH = "forms.tcss"
    BINDINGS = [
        Binding("ctrl+s", "confirm", "Sign off", id="visit.sign"),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        ENTER_MOVES_ON,
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.verdict = session.verdict()
        self.missing = len(session.missing_required())
        # Recorded once in the walkthrough's acknowledgement: offered here, not typed again.
        self.representative = session.representative_named()
        self.correction = session.corrects
        # An amendment that left the merchant's part alone is signed by the technician
        # alone: the domain carries the merchant's earlier name when none is given.
        self.merchant_signs = session.merchant_must_sign
        self.offered_as = FROM_ACKNOWLEDGEMENT
        if self.correction is not None and not self.representative:
            self.representative = self.correction.representative
            self.offered_as = SIGNED_BEFORE
        self._submitted = False

    @property
    def incomplete(self) -> bool:
        return self.verdict is Verdict.INCOMPLETE

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="signoff-box", classes="dialog"):
            yield Static(id="signoff-title", classes="dialog-title")
            yield Static(id="signoff-verdict", classes=f"verdict-{self.verdict}")
            if self.correction is not None:
                yield WrappedText(id="signoff-amendment")
            if self.incomplete:
                yield WrappedText(id="signoff-warning")
                yield Checkbox(id="signoff-confirm", compact=True)
                yield Static(id="signoff-confirm-message", classes="field-message")
            technician = self.services.settings.technician
            entry = InOrderInput(technician, id="signoff-technician", max_length=40)
            yield field_row("signoff-technician", entry)
            rep = field_row(
                "signoff-rep", InOrderInput(self.representative, id="signoff-rep", max_length=40)
            )
            rep.display = self.merchant_signs
            yield rep
            with Horizontal(id="signoff-buttons"):
                yield Button(id="signoff-cancel")
                yield Button(id="signoff-sign", variant="success")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#signoff-rep" if self.merchant_signs else "#signoff-technician").focus()

    def apply_language(self, lang: str) -> None:
        self.query_one("#signoff-title", Static).update(TITLE.get(lang))
        verdict = VERDICT_NAMES[self.verdict].get(lang)
        self.query_one("#signoff-verdict", Static).update(VERDICT.get(lang).format(verdict=verdict))
        if self.correction is not None:
            said = MERCHANT_SIGNS_AGAIN if self.merchant_signs else TECHNICIAN_ALONE
            self.query_one("#signoff-amendment", WrappedText).set_text(
                said.get(lang).format(
                    number=self.correction.number, representative=self.correction.representative
                )
            )
        if self.incomplete:
            warning = INCOMPLETE_WARNING.get(lang).format(count=self.missing)
            self.query_one("#signoff-warning", WrappedText).set_text(warning)
            self.query_one("#signoff-confirm", Checkbox).label = CONFIRM_INCOMPLETE.get(lang)
        self.query_one("#signoff-technician-label", Static).update(
            label_text(TECHNICIAN, lang, required=True)
        )
        self.query_one("#signoff-rep-label", Static).update(
            label_text(REPRESENTATIVE, lang, required=True)
        )
        self.query_one("#signoff-rep", Input).placeholder = REPRESENTATIVE_PLACEHOLDER.get(lang)
        self.query_one("#signoff-sign", Button).label = SIGN.get(lang)
        self.query_one("#signoff-cancel", Button).label = CANCEL.get(lang)
        self._show_messages()

    def _names(self) -> tuple[str, str]:
        """The merchant's name is "" when they do not sign again (see `merchant_signs`)."""
        technician = self.query_one("#signoff-technician", Input).value.strip()
        if not self.merchant_signs:
            return technician, ""
        return technician, self.query_one("#signoff-rep", Input).value.strip()

    def _problems(self) -> dict[str, Text]:
        technician, representative = self._names()
        found: dict[str, Text] = {}
        if self.incomplete and not self.query_one("#signoff-confirm", Checkbox).value:
            found["confirm"] = CONFIRM_REQUIRED
        if not technician:
            found["technician"] = REQUIRED
        if not representative and self.merchant_signs:
            found["rep"] = REQUIRED
        return found

    def _show_messages(self) -> None:
        problems = self._problems() if self._submitted else {}
        fields = ("confirm", "technician", "rep") if self.incomplete else ("technician", "rep")
        for field in fields:
            problem = problems.get(field)
            message = self.query_one(f"#signoff-{field}-message", Static)
            show_message(message, problem.get(self.lang) if problem else "")
            if field != "confirm":
                self.query_one(f"#signoff-{field}-row").set_class(bool(problem), "has-error")
        if "rep" not in problems and self.representative:
            offered = self._names()[1] == self.representative
            note = self.offered_as.get(self.lang) if offered else ""
            show_message(self.query_one("#signoff-rep-message", Static), note, "field-warning")

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self._show_messages()

    def action_next_field(self) -> None:
        last = "signoff-rep" if self.merchant_signs else "signoff-technician"
        if focused_input(self).id == last:
            self.action_confirm()
        else:
            self.focus_next()

    @on(Button.Pressed, "#signoff-sign")
    def action_confirm(self) -> None:
        self._submitted = True
        problems = self._problems()
        self._show_messages()
        if problems:
            first = next(iter(problems))
            self.query_one(f"#signoff-{first}").focus()
            return
        self.dismiss(self._names())

    @on(Button.Pressed, "#signoff-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
