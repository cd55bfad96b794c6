"""Reading untrusted YAML into a node tree that remembers where everything was.

We compose (never construct) so that every value keeps its line and column for error
messages, and so that no tag can ever turn into a Python object. Anchors and aliases are
refused outright: checklists never need them and they are how "billion laughs" files hang
a loader.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32

STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)


@dataclass(frozen=True, slots=True)
class Position:
    """1-based, as editors count."""

    line: int
    column: int


def position_of(node: yaml.Node) -> Position:
    mark = node.start_mark
    return Position(mark.line + 1, mark.column + 1)


class RefusedYaml(Exception):
    def __init__(self, position: Position, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.message = message


# libyaml when PyYAML was built with it: fifteen times faster, and checklists are parsed on
# every start of the app.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _refuse_anchors_and_depth(text: str) -> None:
    """A first pass over the events, before anything is composed.

    Aliases are refused here rather than while composing so that the fast C composer can be
    used: an alias bomb is only dangerous once something walks or builds it.
    """
    loader = _SafeLoader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            mark = event.start_mark
            where = Position(mark.line + 1, mark.column + 1)
            if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor):
                raise RefusedYaml(
                    where, "anchors and aliases (& and *) are not allowed in checklists"
                )
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise RefusedYaml(where, f"nesting deeper than {MAX_DEPTH} levels")
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


def decode(data: bytes) -> str:
    """UTF-8 text, or RefusedYaml pointing at the first byte that is not."""
    if b"\x00" in data:
        raise RefusedYaml(_position_at(data, data.index(b"\x00")), "binary file, not YAML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RefusedYaml(
            _position_at(data, error.start), "not UTF-8 text: save the file as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def _position_at(data: bytes, offset: int) -> Position:
    before = data[:offset]
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return Position(before.count(b"\n") + 1, column)


def compose(text: str) -> yaml.Node | None:
    """The single document's node tree; RefusedYaml for anything we will not read."""
    try:
        _refuse_anchors_and_depth(text)
        loader = _SafeLoader(text)
        try:
            node: yaml.Node | None = loader.get_single_node()
        finally:
            loader.dispose()
        return node
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        said = ", ".join(part for part in (error.context, error.problem) if part)
        raise RefusedYaml(where, f"invalid YAML: {said}") from None
    except yaml.YAMLError as error:
        raise RefusedYaml(Position(1, 1), f"invalid YAML: {error}") from None


def foreign_tags(root: yaml.Node) -> list[tuple[Position, str]]:
    """Every node tagged with anything but the plain YAML types, e.g. `!!python/object`."""
    found: list[tuple[Position, str]] = []
    pending = [root]
    while pending:
        node = pending.pop()
        if node.tag not in STANDARD_TAGS:
            found.append((position_of(node), node.tag))
        if isinstance(node, yaml.MappingNode):
            pending.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return sorted(found, key=lambda entry: (entry[0].line, entry[0].column))
