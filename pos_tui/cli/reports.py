"""`pos-tui report` and `pos-tui export`.

Both read through `open_source`, so --store may name the laptop's data folder or a shared
store. Data goes to stdout or --out; progress and problems go to stderr, never mixed in.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from pos_tui.cli.common import (
    LANGUAGE_CHOICE,
    STORE_TARGET,
    data_dir_option,
    fail,
    local_folder,
    not_a_file,
    os_error_sentence,
    plain_errors,
)
from pos_tui.cli.store import say_damaged

if TYPE_CHECKING:
    # Only for types: the stores and YAML load when a command runs, so that starting the
    # technician's app does not pay for them (bench/startup.py).
    from pos_tui.reports.export import ExportStats, RowSurvey
    from pos_tui.store.sources import LocalSource, SharedSource, VisitRecord
    from pos_tui.store.targets import Target

PROGRESS_AFTER = 200
"""Exports of more visits than this show a progress bar when writing to a file."""

store_option = click.option(
    "--store",
    type=STORE_TARGET,
    help="A local data folder, a shared store folder or a shared store's postgresql:// URL"
    " (default: the local data folder).",
)
lang_option = click.option(
    "--lang",
    type=LANGUAGE_CHOICE,
    help="Language of the words (default: each visit's own; zh for visits that have none).",
)


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2025-03-31.") from None


@contextlib.contextmanager
def _source(
    ctx: click.Context, store: Target | None, data_dir_value: Path | None
) -> Iterator[LocalSource | SharedSource]:
    from pos_tui.store.sources import open_source

    folder = not_a_file(store, "--store") or local_folder(ctx, data_dir_value)
    if isinstance(folder, Path) and not folder.is_dir():
        fail(f"there is no pos-tui store at {folder}.")
    source = open_source(folder)
    try:
        yield source
    finally:
        source.close()


def _record(source: LocalSource | SharedSource, row: dict[str, Any]) -> VisitRecord:
    from pos_tui.domain.loader import ChecklistError

    try:
        return source.record(row)
    except ChecklistError as error:
        fail(f"a checklist of visit {row['uuid']} cannot be read: {error}")
    except (KeyError, ValueError, TypeError):
        fail(f"the record of visit {row['uuid']} is damaged and cannot be reported.")


@click.command()
@click.argument("visit")
@store_option
@data_dir_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md"]),
    help="html (printable, the default) or md; guessed from --out's extension when not given.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (.html or .md); - for standard output. Default: the reports folder.",
)
@lang_option
@click.pass_context
@plain_errors
def report(
    ctx: click.Context,
    visit: str,
    store: Target | None,
    data_dir: Path | None,
    fmt: str | None,
    out: Path | None,
    lang: str | None,
) -> None:
    """Write the acceptance report of one visit (VISIT: its id or the start of it)."""
    from pos_tui.reports.report import render_report, write_report
    from pos_tui.store.sources import find_row

    chosen = _report_format(out, fmt)
    # Rendered while the store is open: the report reads the record's evidence files
    # (their hashes, a photo's thumbnail), which a database serves through its connection.
    with _source(ctx, store, data_dir) as source:
        record = _record(source, find_row(source, visit))
        if out == Path("-"):
            _write_stdout(render_report(record, chosen, lang))
            return
        if out is None:
            # Not into the terminal: a page of HTML there helps nobody at the counter.
            from pos_tui.locations import reports_dir
            from pos_tui.reports.report import default_name

            folder = reports_dir()
            folder.mkdir(parents=True, exist_ok=True)
            out = folder / default_name(record.session, chosen)
        write_report(record, out, chosen, lang)
    click.echo(f"Wrote the report of visit {record.session.uuid[:8]} to {out}.")


REPORT_SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}


def _report_format(out: Path | None, fmt: str | None) -> str:
    """The format to write: --format, else the file's extension; refused when the two
    disagree, or when the extension names a format pos-tui does not write (.pdf, .txt)."""
    if out is None or out == Path("-"):
        return fmt or "html"
    by_name = REPORT_SUFFIXES.get(out.suffix.lower())
    if by_name is None:
        fail(
            f"{out.name}: reports are written as .html (print it to PDF from a browser) or"
            " .md; give --out a file with one of those extensions."
        )
    if fmt is not None and fmt != by_name:
        fail(f"--format {fmt} and {out.name} disagree: give one or the other.")
    return by_name


@click.command(name="export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "xlsx"]),
    help="csv (one row per item), xlsx (a workbook: a sheet of visits, a sheet of answers)"
    " or json (one document per visit); default: from --out, or csv.",
)
@store_option
@data_dir_option
@click.option(
    "--since",
    callback=_since,
    metavar="DATE",
    help="Only visits last worked on this day (YYYY-MM-DD) or later.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (.csv, .json or .xlsx); - for standard output (not for xlsx).",
)
@click.option(
    "--value-columns/--no-value-columns",
    default=True,
    help="CSV: one value:<field> column per captured value, after the others (the default,"
    " as in the XLSX); --no-value-columns for the fixed columns alone.",
)
@click.option(
    "--evidence",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Also copy the visits' photos and files into DIR (new or empty), with a manifest;"
    " alone (no --out or --format), only that.",
)
@click.option(
    "--drafts",
    is_flag=True,
    help="Include drafts (visits not signed yet, amendments under way); discarded visits"
    " are never exported.",
)
@lang_option
@click.pass_context
@plain_errors
def export_command(
    ctx: click.Context,
    fmt: str | None,
    store: Target | None,
    data_dir: Path | None,
    since: date | None,
    out: Path | None,
    value_columns: bool,
    evidence: Path | None,
    drafts: bool,
    lang: str | None,
) -> None:
    """Export visits for spreadsheets (XLSX; CSV, UTF-8 with BOM) or other programs (JSON)."""
    from pos_tui.reports.export import exportable, rows_since, survey

    # --evidence alone is a request for the files: a CSV poured onto the terminal beside
    # them would only be in the way.
    table = evidence is None or out is not None or fmt is not None
    fmt = _export_format(out, fmt) if table else "csv"
    if out == Path("-"):
        out = None
    with _source(ctx, store, data_dir) as source:
        if evidence is not None and isinstance(source.folder, Path):
            _check_evidence_folder(evidence, source.folder)
        elif evidence is not None:
            from pos_tui.reports.evidence_export import prepare_folder

            prepare_folder(evidence.absolute())

        # The rows stream from the store, in its order, each pass anew: the first counts
        # them and names their checklists, the next writes. The evidence folder follows
        # the same rows: a draft's photos only with its draft.
        def chosen() -> Iterator[dict[str, Any]]:
            return exportable(rows_since(source.iter_rows(), since), drafts)

        surveyed = survey(chosen())
        say_damaged(source.damaged)
        skipped = set(
            _export_table(source, chosen(), surveyed, fmt, out, lang, value_columns)
            if table
            else []
        )
        not_copied = ""
        if evidence is not None:
            # Beside a table on stdout, the summary goes to stderr: never into the data.
            found, not_copied = _export_evidence(
                source, chosen(), surveyed.count, evidence, lang, table, out is None
            )
            skipped |= set(found)
    ending = [sentence for sentence in (_skipped_sentence(len(skipped)), not_copied) if sentence]
    for sentence in ending[:-1]:
        click.echo(f"pos-tui: {sentence}", err=True)
    if ending:
        fail(ending[-1])


EXPORT_SUFFIXES = {".csv": "csv", ".json": "json", ".xlsx": "xlsx"}


def _export_format(out: Path | None, fmt: str | None) -> str:
    """--format, else the extension of --out, else csv; refused when the two disagree, and
    an XLSX anywhere but in a .xlsx file (a workbook is binary: not for a terminal, and a
    spreadsheet refuses a workbook whose name says otherwise)."""
    to_stdout = out is None or out == Path("-")
    by_name = None if to_stdout or out is None else EXPORT_SUFFIXES.get(out.suffix.lower())
    if fmt is not None and by_name is not None and fmt != by_name:
        assert out is not None
        fail(f"--format {fmt} and {out.name} disagree: give one or the other.")
    chosen = fmt or by_name or "csv"
    if chosen == "xlsx" and to_stdout:
        fail(
            "an XLSX workbook is a binary file, not for a terminal or a pipe: give --out a"
            " file ending in .xlsx."
        )
    if chosen == "xlsx" and by_name != "xlsx":
        assert out is not None
        fail(f"{out.name}: an XLSX workbook is written to a file ending in .xlsx.")
    return chosen


def _skipped_sentence(count: int) -> str:
    return f"{count} visit(s) could not be read and are missing from the export." if count else ""


def _export_table(
    source: LocalSource | SharedSource,
    rows: Iterable[dict[str, Any]],
    surveyed: RowSurvey,
    fmt: str,
    out: Path | None,
    lang: str | None,
    value_columns: bool = False,
) -> list[tuple[str, str]]:
    """The CSV, XLSX or JSON export of `rows` (which `surveyed` counted); the visits it
    had to skip, each already named on stderr."""
    from pos_tui.reports.export import surveyed_fields, write_csv, write_json

    stats: ExportStats
    if fmt == "xlsx":
        assert out is not None  # _export_format refused anything else
        fields = surveyed_fields(source, surveyed)
        stats = _export_xlsx(source, rows, surveyed.count, fields, out, lang)
    else:
        with _output(out, "utf-8-sig" if fmt == "csv" else "utf-8") as stream:
            bar = _progress_bar(surveyed.count) if out is not None else None
            with bar or contextlib.nullcontext():
                tick = None if bar is None else (lambda _done: bar.update(1))
                if fmt == "csv":
                    fields = surveyed_fields(source, surveyed) if value_columns else ()
                    stats = write_csv(source, rows, stream, lang, tick, fields)
                else:
                    stats = write_json(source, rows, stream, tick)
    for uuid, why in stats.skipped:
        click.echo(f"pos-tui: skipped visit {uuid}: {why}", err=True)
    if out is not None:
        lines = f" ({stats.rows} rows)" if fmt in ("csv", "xlsx") else ""
        click.echo(f"Exported {stats.visits} visit(s){lines} to {out}.")
    return stats.skipped


def _export_xlsx(
    source: LocalSource | SharedSource,
    rows: Iterable[dict[str, Any]],
    count: int,
    fields: tuple[str, ...],
    out: Path,
    lang: str | None,
) -> ExportStats:
    """The workbook, written beside `out` and renamed into place when whole, like the
    other formats: a file that exists is complete."""
    from pos_tui.reports.xlsx import write_xlsx

    temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        bar = _progress_bar(count)
        with bar or contextlib.nullcontext():
            tick = None if bar is None else (lambda _done: bar.update(1))
            stats = write_xlsx(source, rows, temp, lang, tick, fields)
        with open(temp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temp, out)
    except OSError as error:
        if error.filename not in (None, str(temp), str(out)):
            raise  # reading the store failed, not writing the export
        fail(os_error_sentence(OSError(error.errno, error.strerror, str(out)), verb="write"))
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
    return stats


def _check_evidence_folder(folder: Path, store_folder: Path) -> None:
    """Refuse DIR before anything is written: a non-empty folder, a link, the store itself."""
    from pos_tui.reports.evidence_export import prepare_folder

    target, store_at = folder.absolute(), store_folder.resolve()
    if target.resolve() == store_at or store_at in target.resolve().parents:
        fail(f"{folder} is inside the store; give --evidence a folder outside it.")
    prepare_folder(target)


def _export_evidence(
    source: LocalSource | SharedSource,
    rows: Iterable[dict[str, Any]],
    count: int,
    folder: Path,
    lang: str | None,
    table: bool,
    to_stdout: bool,
) -> tuple[list[tuple[str, str]], str]:
    """Copy the files: the visits skipped, and a sentence naming each file not copied ("" when
    all were). `table`: a CSV or JSON export ran first (and went to stdout, `to_stdout`)."""
    to_stderr = table and to_stdout
    from pos_tui.reports.evidence import size_text
    from pos_tui.reports.evidence_export import MANIFEST_CSV, MANIFEST_JSON, write_evidence

    bar = _progress_bar(count, "Copying evidence")
    with bar or contextlib.nullcontext():
        tick = None if bar is None else (lambda _done: bar.update(1))
        stats = write_evidence(source, rows, folder, lang, tick)
    if not table:
        # Named once: a table export before this has named them already.
        for uuid, why in stats.skipped:
            click.echo(f"pos-tui: skipped visit {uuid}: {why}", err=True)
    click.echo(
        f"Copied {stats.copied} of {stats.files} evidence file(s) of {stats.visits} visit(s)"
        f" ({size_text(stats.bytes_copied)}) to {folder}, listed in {MANIFEST_CSV} and"
        f" {MANIFEST_JSON}.",
        err=to_stderr,
    )
    if not stats.problems:
        return stats.skipped, ""
    named = "; ".join(
        f"{name} of visit {uuid[:8]} ({_FILE_STATE.get(state, state)})"
        for uuid, name, state in stats.problems[:5]
    )
    more = f" and {len(stats.problems) - 5} more" if len(stats.problems) > 5 else ""
    return stats.skipped, (
        f"{len(stats.problems)} evidence file(s) could not be copied: {named}{more}."
        " The manifest lists them; the other files were copied."
    )


_FILE_STATE = {
    "missing": "missing from the store",
    "replaced": "replaced in the store: its hash no longer matches",
}


def _progress_bar(count: int, label: str = "Exporting visits") -> Any:
    if count <= PROGRESS_AFTER:
        return None
    return click.progressbar(length=count, label=label, file=sys.stderr)


@contextlib.contextmanager
def _output(out: Path | None, encoding: str) -> Iterator[TextIO]:
    """A text stream on --out (complete or absent: written aside, then renamed) or stdout."""
    if out is None:
        stream = io.TextIOWrapper(
            sys.stdout.buffer, encoding=encoding, newline="", write_through=False
        )
        try:
            yield stream
            stream.flush()
        except BrokenPipeError:
            # The reader (`| head`) has gone; say nothing more to a closed pipe.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        finally:
            with contextlib.suppress(ValueError, BrokenPipeError):
                stream.detach()  # stdout stays open for click's own messages
        return
    temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "w", encoding=encoding, newline="") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, out)
    except OSError as error:
        if error.filename not in (None, str(temp), str(out)):
            raise  # reading the store failed, not writing the export
        with contextlib.suppress(OSError):
            temp.unlink()
        fail(os_error_sentence(OSError(error.errno, error.strerror, str(out)), verb="write"))
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def _write_stdout(text: str) -> None:
    with _output(None, "utf-8") as stream:
        stream.write(text)
