"""Tables for the terminal (`pos-tui list`), aligned for Chinese text by Rich."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pos_tui.store.summary import VisitSummary

_SHORT_VERDICTS = {"pass_with_remarks": "remarks"}
_VERDICT_STYLES = {"fail": "bold red", "pass_with_remarks": "yellow", "incomplete": "dim"}
# Narrow columns first and the merchant last, so an 80-column terminal cuts only names.
_COLUMNS = {
    "Date": 16,
    "Visit": 8,
    "Status": 8,
    "Verdict": 10,
    "Fails": 5,
    "Terminal": 8,
    "Technician": 8,
    "Merchant": 6,
}


def visits_table(summaries: Sequence[VisitSummary], console: Console | None = None) -> None:
    console = console or Console()
    if not summaries:
        console.print("No visits.")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column, width in _COLUMNS.items():
        table.add_column(column, no_wrap=True, min_width=width)
    for summary in summaries:
        table.add_row(
            summary.updated_at[:16].replace("T", " "),
            summary.uuid[:8],
            summary.status,
            Text(
                _SHORT_VERDICTS.get(summary.verdict, summary.verdict),
                style=_VERDICT_STYLES.get(summary.verdict, ""),
            ),
            str(summary.failures),
            summary.terminal_number,
            summary.technician,
            Text(summary.merchant_name, overflow="ellipsis"),
        )
    console.print(table)
    console.print(f"{len(summaries)} visit{'s' if len(summaries) != 1 else ''}.")
