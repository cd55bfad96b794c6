"""`pos-tui list` in an 80-column terminal: the merchant's name stays readable."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console

from pos_tui.cli import main
from pos_tui.reports.console import visits_table
from pos_tui.store.summary import VisitSummary

MERCHANTS = (
    "上海老王面馆",
    "北京市朝阳区望京街道幸福里社区便民超市",
    "广州天河城百货有限公司第三分店",
    "Café Zürich",
)


def summary(n: int, merchant: str, **changes: object) -> VisitSummary:
    values: dict[str, object] = {
        "uuid": f"{n:08x}-5f2e-4c1a-9d3b-0123456789ab",
        "status": "signed",
        "verdict": "pass_with_remarks" if n % 2 else "fail",
        "created_at": f"2025-03-{n + 1:02d}T09:00:00+08:00",
        "updated_at": f"2025-03-{n + 1:02d}T10:{n:02d}:00+08:00",
        "merchant_name": merchant,
        "merchant_number": "310104000000001",
        "terminal_number": f"2024{n:04d}",
        "technician": "欧阳建国",
        "device_id": "",
        "job_type": "installation",
        "answered": 40,
        "failures": n,
        "revision": 3,
        "content_sha256": None,
    }
    values.update(changes)
    return VisitSummary(**values)  # type: ignore[arg-type]


def render(summaries: list[VisitSummary], width: int) -> list[str]:
    out = io.StringIO()
    visits_table(summaries, Console(file=out, width=width, color_system=None))
    return out.getvalue().splitlines()


SUMMARIES = [summary(n, name) for n, name in enumerate(MERCHANTS)]


@pytest.mark.parametrize("width", [80, 72, 60])
def test_the_table_fits_and_keeps_the_merchant_readable(width: int) -> None:
    lines = render(SUMMARIES, width)
    assert all(cell_len(line.rstrip()) <= width for line in lines), lines
    assert lines[-1] == "4 visits."
    rows = lines[1:-1]
    for row, visit in zip(rows, SUMMARIES, strict=True):
        assert visit.uuid[:8] in row  # what `pos-tui report` takes
        # Eight Chinese characters at least, or the whole name when it is shorter.
        assert visit.merchant_name[:7] in row, row
    assert "上海老王面馆" in rows[0] and "Café Zürich" in rows[3]


def test_at_80_columns_only_the_least_useful_columns_give_way() -> None:
    header, *_ = render(SUMMARIES, 80)
    assert header.split() == [
        "Date",
        "Visit",
        "Status",
        "Verdict",
        "Terminal",
        "Technician",
        "Merchant",
    ]
    first = render(SUMMARIES, 80)[1]
    assert first.startswith("2025-03-01  00000000  signed  fail ")
    assert "Technician" not in render(SUMMARIES, 70)[0]


def test_a_wide_terminal_shows_every_column() -> None:
    lines = render(SUMMARIES, 140)
    assert lines[0].split() == [
        "Date",
        "Visit",
        "Status",
        "Verdict",
        "Fails",
        "Terminal",
        "Technician",
        "Merchant",
    ]
    assert "2025-03-02 10:01" in lines[2] and "欧阳建国" in lines[2]
    assert "北京市朝阳区望京街道幸福里社区便民超市" in lines[2]


def test_names_are_shown_as_typed_not_read_as_markup() -> None:
    lines = render([summary(1, "[bold]老王[/bold]", technician="[red]张伟")], 140)
    assert "[bold]老王[/bold]" in lines[1] and "[red]张伟" in lines[1]


def test_list_at_80_columns_through_the_command(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    runner = CliRunner()
    made = runner.invoke(main, ["demo", "--sessions", "12", "--data-dir", str(folder)])
    assert made.exit_code == 0, made.output
    rows = json.loads(runner.invoke(main, ["list", "--json", "--data-dir", str(folder)]).output)
    table = runner.invoke(main, ["list", "--data-dir", str(folder)], env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert all(cell_len(line.rstrip()) <= 80 for line in lines), lines
    for row, line in zip(rows, lines[1:-1], strict=True):
        assert line.split()[1] == row["uuid"][:8]
        assert row["merchant_name"][:7] in line, line
