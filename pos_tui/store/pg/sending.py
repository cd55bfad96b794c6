"""The evidence files a push carries, sent before its transaction, as a folder's sync does.

Only the files the store lacks (sizes looked at; a repair hashes them), each once however
many records name it; each chunk commits on its own, so no lock is held while photos cross
the wire and a copy cut off carries on next time. A record one of whose files is not whole
on the laptop is refused with the reason; the others go on.
"""

from __future__ import annotations

from pos_tui.store.evidence_files import EvidenceFiles
from pos_tui.store.file_meter import FileMeter, FileProgress
from pos_tui.store.pg.evidence import PgEvidenceFiles
from pos_tui.store.shared import Outgoing, PushReport
from pos_tui.store.shared_check import NamedFile, evidence_problem
from pos_tui.store.storage import StoreError


def send_files(
    target: PgEvidenceFiles,
    records: list[Outgoing],
    source: EvidenceFiles | None,
    progress: FileProgress | None,
    report: PushReport,
    thorough: bool,
    writer: str,
) -> list[Outgoing]:
    """The records whose files are all in the store now; the others go to `refused`.
    Before the transaction: each chunk commits on its own, and nobody waits on an upload."""
    if source is None:
        return records
    wanted: dict[str, NamedFile] = {}
    for record in records:
        for file in record.files:
            wanted.setdefault(file.sha256, file)
    if thorough:
        lacking = [f for f in wanted.values() if target.check(f.sha256, f.size) is not None]
    else:
        missing = target.lacking((f.sha256, f.size) for f in wanted.values())
        lacking = [f for f in wanted.values() if f.sha256 in missing]
    meter = FileMeter(progress, len(lacking), sum(f.size for f in lacking))
    failed: dict[str, str] = {}
    for file in lacking:
        try:
            target.copy_from(source, file.sha256, file.size, meter.wrote, writer)
        except StoreError:
            problem = source.check(file.sha256, file.size)
            if problem is None:
                raise
            failed[file.sha256] = evidence_problem(file, problem, " on this laptop")
            continue
        meter.landed(file.size)
    report.files_copied, report.bytes_copied = meter.files, meter.written
    kept = []
    for record in records:
        whys = [failed[f.sha256] for f in record.files if f.sha256 in failed]
        if whys:
            report.refused.append((record.uuid, "; ".join(whys)))
        else:
            kept.append(record)
    return kept
