"""Tables for the terminal (`pos-tui list`), aligned for Chinese text by Rich."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pos_tui.store.summary import VisitSummary

_SHORT_VERDICTS = {"pass_with_remarks": "remarks"}
_VERDICT_STYLES = {"fail": "bold red", "pass_with_remarks": "yellow", "incomplete": "dim"}

MERCHANT_MIN = 16
"""Cells the merchant keeps before other columns give way: eight Chinese characters."""

_GAP = 2
"""Cells between two columns (Rich's padding of one on each side, none at the edges)."""


@dataclass(frozen=True)
class _Column:
    header: str
    cell: Callable[[VisitSummary], str]


def _verdict(summary: VisitSummary) -> str:
    return _SHORT_VERDICTS.get(summary.verdict, summary.verdict)


_DATE_TIME = _Column("Date", lambda s: s.updated_at[:16].replace("T", " "))
_DATE = _Column("Date", lambda s: s.updated_at[:10])
_VISIT = _Column("Visit", lambda s: s.uuid[:8])
_STATUS = _Column("Status", lambda s: s.status)
_VERDICT = _Column("Verdict", _verdict)
_FAILS = _Column("Fails", lambda s: str(s.failures))
_TERMINAL = _Column("Terminal", lambda s: s.terminal_number)
_TECHNICIAN = _Column("Technician", lambda s: s.technician)

# From the widest to the narrowest, each giving up what matters least: the time of day, the
# count of failures (the verdict says fail), then the technician (on a technician's own
# laptop nearly always the reader); never the visit id `pos-tui report` takes.
_LAYOUTS: tuple[tuple[_Column, ...], ...] = (
    (_DATE_TIME, _VISIT, _STATUS, _VERDICT, _FAILS, _TERMINAL, _TECHNICIAN),
    (_DATE, _VISIT, _STATUS, _VERDICT, _FAILS, _TERMINAL, _TECHNICIAN),
    (_DATE, _VISIT, _STATUS, _VERDICT, _TERMINAL, _TECHNICIAN),
    (_DATE, _VISIT, _STATUS, _VERDICT, _TERMINAL),
    (_DATE, _VISIT, _VERDICT, _TERMINAL),
    (_DATE, _VISIT, _VERDICT),
)


def visits_table(summaries: Sequence[VisitSummary], console: Console | None = None) -> None:
    console = console or Console()
    if not summaries:
        console.print("No visits.")
        return
    columns, widths, merchant_width = _fit(summaries, console.width)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column, width in zip(columns, widths, strict=True):
        table.add_column(column.header, no_wrap=True, width=width)
    table.add_column("Merchant", no_wrap=True, overflow="ellipsis", max_width=merchant_width)
    for summary in summaries:
        # Text, not str: a str cell would be read as Rich markup, and names are typed by people.
        cells = [
            Text(column.cell(summary), style=_style(column, summary), overflow="ellipsis")
            for column in columns
        ]
        table.add_row(*cells, Text(summary.merchant_name, overflow="ellipsis"))
    console.print(table)
    console.print(f"{len(summaries)} visit{'s' if len(summaries) != 1 else ''}.")


def _style(column: _Column, summary: VisitSummary) -> str:
    return _VERDICT_STYLES.get(summary.verdict, "") if column is _VERDICT else ""


def _fit(
    summaries: Sequence[VisitSummary], width: int
) -> tuple[tuple[_Column, ...], list[int], int]:
    """The widest layout that leaves the merchant's name readable, its widths and what's left."""
    measured = {
        column: max(cell_len(column.header), *(cell_len(column.cell(s)) for s in summaries))
        for column in {column for layout in _LAYOUTS for column in layout}
    }
    longest_merchant = max(cell_len(s.merchant_name) for s in summaries)
    wanted = max(cell_len("Merchant"), min(longest_merchant, MERCHANT_MIN))
    for columns in _LAYOUTS:
        widths = [measured[column] for column in columns]
        left = width - sum(widths) - _GAP * len(columns)
        if left >= wanted:
            break
    return columns, widths, max(left, cell_len("Merchant"))
