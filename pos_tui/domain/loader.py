"""Checklist files → validated `Checklist` models, or every problem at once.

Problems are collected, not raised one at a time, so that a person fixing a file sees the
whole list in one go, each as `path:line:column: message`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pos_tui.domain.checklist import (
    ALWAYS,
    DEFAULT_ORDER,
    Checklist,
    Condition,
    Item,
    Severity,
    in_visit_order,
)
from pos_tui.domain.evidence_reader import read_evidence
from pos_tui.domain.field_reader import read_fields, read_when
from pos_tui.domain.node_reader import NodeReader
from pos_tui.domain.safe_read import FileTooLarge, RefusedFile, read_regular_file
from pos_tui.domain.yaml_nodes import (
    MAX_FILE_BYTES,
    Position,
    RefusedYaml,
    compose,
    decode,
    foreign_tags,
)

CHECKLIST_SUFFIXES = (".yaml", ".yml")

_TOP_KEYS = ("id", "version", "title", "description", "order", "when", "items")
_ITEM_KEYS = ("id", "title", "guidance", "severity", "required", "fields", "when", "evidence")


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@dataclass
class LoadResult:
    checklists: list[Checklist] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class ChecklistError(Exception):
    """Raised by `load_checklist` when a file has problems; carries all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def load_checklist(path: Path) -> Checklist:
    checklist, problems = parse_file(path)
    if checklist is None:
        raise ChecklistError(problems)
    return checklist


def parse_file(path: Path) -> tuple[Checklist | None, list[Problem]]:
    shown = str(path)
    try:
        # Links are followed: a checklist folder may well link to files kept elsewhere.
        data = read_regular_file(path, MAX_FILE_BYTES)
    except FileTooLarge as error:
        limit = MAX_FILE_BYTES // 1024
        size = f"over {limit}" if error.size is None else str(error.size // 1024)
        message = f"file is {size} KiB; checklists are limited to {limit} KiB"
        return None, [Problem(shown, 1, 1, message)]
    except RefusedFile as error:
        return None, [Problem(shown, 1, 1, f"not a checklist file: {error.reason}")]
    except OSError as error:
        return None, [Problem(shown, 1, 1, f"cannot read the file: {error.strerror or error}")]
    return parse_bytes(data, shown, source=path)


def parse_bytes(
    data: bytes, shown_path: str, source: Path | None = None
) -> tuple[Checklist | None, list[Problem]]:
    try:
        root = compose(decode(data))
    except RefusedYaml as refused:
        where = refused.position
        return None, [Problem(shown_path, where.line, where.column, refused.message)]
    if root is None:
        return None, [Problem(shown_path, 1, 1, "the file is empty")]
    foreign = [
        Problem(shown_path, where.line, where.column, f"the tag {tag} is not allowed in checklists")
        for where, tag in foreign_tags(root)
    ]
    if foreign:
        return None, foreign
    reader = NodeReader()
    checklist = _read_checklist(reader, root, source, hashlib.sha256(data).hexdigest())
    problems = [
        Problem(shown_path, where.line, where.column, message)
        for where, message in sorted(reader.problems, key=lambda p: (p[0].line, p[0].column))
    ]
    return (None if problems else checklist), problems


def _read_checklist(
    reader: NodeReader, root: object, source: Path | None, sha256: str
) -> Checklist | None:
    keys = reader.mapping(root, "", _TOP_KEYS, required=("id", "version", "title", "items"))
    if keys is None:
        return None
    checklist_id = reader.slug(keys.get("id"), "id")
    version = reader.string(keys.get("version"), "version")
    title = reader.text(keys.get("title"), "title")
    description = reader.text(keys["description"], "description") if "description" in keys else None
    order = reader.integer(keys["order"], "order") if "order" in keys else DEFAULT_ORDER
    when = read_when(reader, keys["when"], "when") if "when" in keys else ALWAYS
    items = _read_items(reader, keys.get("items"), when or ALWAYS)
    if None in (checklist_id, version, title, order, when) or items is None:
        return None
    assert checklist_id is not None and version is not None and title is not None
    assert order is not None and when is not None
    return Checklist(
        id=checklist_id,
        version=version,
        title=title,
        description=description,
        order=order,
        items=items,
        source=source,
        sha256=sha256,
        when=when,
    )


def _read_items(
    reader: NodeReader, node: object, checklist_when: Condition
) -> tuple[Item, ...] | None:
    entries = reader.sequence(node, "items", non_empty=True)
    if entries is None:
        return None
    items: list[Item] = []
    seen: dict[str, Position] = {}
    for index, entry in enumerate(entries):
        where = f"items[{index}]"
        item = _read_item(reader, entry, where, checklist_when)
        if item is None:
            continue
        if item.id in seen:
            first = seen[item.id]
            reader.problem_at(
                reader.id_node(entry),
                f"{where}.id: '{item.id}' is already used at line {first.line}",
            )
            continue
        seen[item.id] = reader.position(reader.id_node(entry))
        items.append(item)
    return tuple(items) if len(items) == len(entries) else None


def _read_item(
    reader: NodeReader, node: object, where: str, checklist_when: Condition
) -> Item | None:
    keys = reader.mapping(node, where, _ITEM_KEYS, required=("id", "title", "severity"))
    if keys is None:
        return None
    item_id = reader.slug(keys.get("id"), f"{where}.id")
    title = reader.text(keys.get("title"), f"{where}.title")
    guidance = reader.text(keys["guidance"], f"{where}.guidance") if "guidance" in keys else None
    severity = reader.choice(keys.get("severity"), f"{where}.severity", tuple(Severity))
    required = reader.boolean(keys["required"], f"{where}.required") if "required" in keys else True
    fields = read_fields(reader, keys["fields"], f"{where}.fields") if "fields" in keys else ()
    when = read_when(reader, keys["when"], f"{where}.when") if "when" in keys else ALWAYS
    evidence = (
        read_evidence(reader, keys["evidence"], f"{where}.evidence") if "evidence" in keys else None
    )
    if when is not None:
        # The checklist's condition holds for each of its items, so an item never has to
        # repeat it, and `Session.applies` has one condition to look at.
        combined = checklist_when & when
        if combined.jobs is not None and not combined.jobs:
            reader.problem_at(
                keys["when"],
                f"{where}.when: job {', '.join(sorted(when.jobs or ()))} never applies in a "
                f"checklist for job {', '.join(sorted(checklist_when.jobs or ()))}",
            )
            when = None
        else:
            when = combined
    if None in (item_id, title, severity, required, fields, when):
        return None
    if ("guidance" in keys and guidance is None) or ("evidence" in keys and evidence is None):
        return None
    assert item_id is not None and title is not None and severity is not None
    assert required is not None and fields is not None and when is not None
    return Item(
        id=item_id,
        title=title,
        severity=Severity(severity),
        required=required,
        guidance=guidance,
        fields=fields,
        when=when,
        evidence=evidence,
    )


def checklist_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Expand folders into their checklist files, in a stable order."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            # Not only regular files: a FIFO or a folder named x.yaml is reported by
            # parse_file rather than skipped without a word.
            found = sorted(child for child in path.iterdir() if child.suffix in CHECKLIST_SUFFIXES)
            if not found:
                problems.append(Problem(str(path), 1, 1, "no .yaml checklist files in this folder"))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append(Problem(str(path), 1, 1, "no such file or folder"))
    return files, problems


def load_checklists(paths: Iterable[Path]) -> LoadResult:
    """Load files and folders together; checklist ids must be unique across all of them."""
    files, problems = checklist_files(paths)
    result = LoadResult(problems=problems)
    owners: dict[str, Path] = {}
    for path in files:
        checklist, file_problems = parse_file(path)
        result.problems.extend(file_problems)
        if checklist is None:
            continue
        if checklist.id in owners:
            result.problems.append(_clash(path, checklist.id, owners[checklist.id]))
            continue
        owners[checklist.id] = path
        result.checklists.append(checklist)
    result.checklists = in_visit_order(result.checklists)
    return result


def _clash(path: Path, checklist_id: str, owner: Path) -> Problem:
    where = _id_position(path)
    return Problem(
        str(path),
        where.line,
        where.column,
        f"checklist id '{checklist_id}' is also used by {os.fspath(owner)}",
    )


def _id_position(path: Path) -> Position:
    # The file was read once already, but it may have changed (or been swapped) since.
    try:
        root = compose(decode(read_regular_file(path, MAX_FILE_BYTES)))
    except (OSError, RefusedFile, RefusedYaml):
        return Position(1, 1)
    reader = NodeReader()
    return reader.position(reader.id_node(root))
