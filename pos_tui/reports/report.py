"""One call for a finished report: what `pos-tui report` and the app's screens use.

from pos_tui.reports.report import record_of, write_report
path = write_report(record_of(session), folder / default_name(session, "html"))
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from pos_tui.domain.session import Event, Session
from pos_tui.reports import words
from pos_tui.reports.html import render_html
from pos_tui.reports.markdown import render_markdown
from pos_tui.reports.model import build_report
from pos_tui.store.evidence_files import EvidenceFiles
from pos_tui.store.sources import VisitRecord
from pos_tui.store.storage import StoreError

FORMATS = ("html", "md")


def decisions_from_events(session: Session) -> list[dict[str, Any]]:
    """Review decisions as a local store keeps them: in the visit's own event log."""
    return [_from_event(session, event) for event in session.events if event.what == "reviewed"]


def _from_event(session: Session, event: Event) -> dict[str, Any]:
    return {"uuid": session.uuid, "reviewer": event.who} | event.detail


def record_of(session: Session, files: EvidenceFiles | None = None) -> VisitRecord:
    """For the app's screens, which hold a session rather than a store row; `files`: the
    store's evidence files, so that the report shows the photos and checks them."""
    return VisitRecord(session, {"uuid": session.uuid}, decisions_from_events(session), files=files)


def format_for(path: Path | None, asked: str | None) -> str:
    """--format wins; otherwise the file's extension; otherwise HTML."""
    if asked:
        return asked
    if path is not None and path.suffix.lower() in (".md", ".markdown"):
        return "md"
    return "html"


def render_report(record: VisitRecord, fmt: str = "html", lang: str | None = None) -> str:
    language = words.report_language(lang, record.session.info.language)
    # Markdown lists the files without pictures: no photo is decoded for it.
    data = build_report(record, language, pictures=fmt != "md")
    return render_markdown(data) if fmt == "md" else render_html(data)


def default_name(session: Session, fmt: str) -> str:
    day = session.created_at[:10]
    return f"acceptance-{session.info.terminal_number or 'terminal'}-{day}-{session.uuid[:8]}.{fmt}"


def write_report(
    record: VisitRecord, path: Path, fmt: str | None = None, lang: str | None = None
) -> Path:
    """Write the report next to where it is wanted, whole or not at all."""
    text = render_report(record, format_for(path, fmt), lang)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(temp, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise StoreError(f"Cannot write the report to {path}: {error.strerror}.") from None
    return path


__all__ = ["FORMATS", "default_name", "format_for", "record_of", "render_report", "write_report"]
