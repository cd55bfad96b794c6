"""Typed reads from a YAML node tree, collecting a positioned problem for every mismatch.

Each read returns the value, or None after recording why not, so callers can keep going
and report everything wrong with a file in one pass.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import yaml

from pos_tui.domain.checklist import Text
from pos_tui.domain.yaml_nodes import Position, position_of

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _BOOL = _TAG + "str", _TAG + "int", _TAG + "bool"
_FLOAT = _TAG + "float"
_SLUG = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
_YAML_TYPE_NAMES = {
    _TAG + "int": "a number",
    _TAG + "float": "a number",
    _TAG + "bool": "a yes/no value",
    _TAG + "null": "empty",
    _TAG + "map": "a mapping",
    _TAG + "seq": "a list",
}


class NodeReader:
    def __init__(self) -> None:
        self.problems: list[tuple[Position, str]] = []

    # -- reporting -------------------------------------------------------------------

    def problem_at(self, node: object, message: str) -> None:
        self.problems.append((self.position(node), message))

    @staticmethod
    def position(node: object) -> Position:
        return position_of(node) if isinstance(node, yaml.Node) else Position(1, 1)

    @staticmethod
    def id_node(node: object) -> object:
        """The node of the `id` value of a mapping, for pointing at it; else the mapping."""
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == "id":
                    return value
        return node

    # -- containers ------------------------------------------------------------------

    def mapping(
        self, node: object, where: str, allowed: Sequence[str], required: Sequence[str]
    ) -> dict[str, yaml.Node] | None:
        label = where or "the checklist"
        if not isinstance(node, yaml.MappingNode):
            self.problem_at(node, f"{label}: expected a mapping of keys, found {_kind(node)}")
            return None
        found: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            key_where = f"{where}.{key}" if where else str(key)
            if not isinstance(key, str) or key_node.tag != _STR:
                self.problem_at(key_node, f"{label}: keys must be plain names")
            elif key in found:
                first = self.position(found[key])
                self.problem_at(
                    key_node, f"{key_where}: duplicate key (first given at line {first.line})"
                )
            elif key not in allowed:
                self.problem_at(
                    key_node, f"{label}: unknown key '{key}'{_did_you_mean(key, allowed)}"
                )
            else:
                found[key] = value_node
        for key in required:
            if key not in found and not self._declared(node, key):
                self.problem_at(node, f"{label}: missing key '{key}'")
        return found

    @staticmethod
    def _declared(node: yaml.MappingNode, key: str) -> bool:
        # A duplicated key is reported as such, not also as missing.
        return any(isinstance(k, yaml.ScalarNode) and k.value == key for k, _ in node.value)

    def sequence(self, node: object, where: str, non_empty: bool) -> list[yaml.Node] | None:
        if node is None:  # a missing key, already reported by mapping()
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.problem_at(node, f"{where}: expected a list, found {_kind(node)}")
            return None
        if non_empty and not node.value:
            self.problem_at(node, f"{where}: must not be empty")
            return None
        return list(node.value)

    # -- scalars ---------------------------------------------------------------------

    def string(self, node: object, where: str) -> str | None:
        if node is None:  # a missing key, already reported by mapping()
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.problem_at(node, f"{where}: expected text, found {_kind(node)}")
            return None
        if node.tag != _STR:
            self.problem_at(
                node,
                f"{where}: expected text, but YAML reads {node.value} as "
                f'{_YAML_TYPE_NAMES.get(node.tag, "another type")}; quote it: "{node.value}"',
            )
            return None
        value = str(node.value)
        if not value.strip():
            self.problem_at(node, f"{where}: must not be empty")
            return None
        return value

    def text(self, node: object, where: str) -> Text | None:
        """A plain string, or a mapping with both `zh` and `en`."""
        if isinstance(node, yaml.MappingNode):
            keys = self.mapping(node, where, ("zh", "en"), required=("zh", "en"))
            if keys is None:
                return None
            zh = self.string(keys.get("zh"), f"{where}.zh") if "zh" in keys else None
            en = self.string(keys.get("en"), f"{where}.en") if "en" in keys else None
            return Text(zh=zh, en=en) if zh is not None and en is not None else None
        value = self.string(node, where)
        return Text.same(value) if value is not None else None

    def slug(self, node: object, where: str) -> str | None:
        value = self.string(node, where)
        if value is not None and not _SLUG.fullmatch(value):
            self.problem_at(
                node,
                f"{where}: '{value}' is not a valid id: use lowercase letters, digits and '-',"
                " starting with a letter",
            )
            return None
        return value

    def integer(self, node: object, where: str) -> int | None:
        if node is None:  # a missing key, already reported by mapping()
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag == _INT:
            try:
                return int(str(node.value).replace("_", ""), 0)
            except ValueError:
                pass
        self.problem_at(node, f"{where}: expected a whole number, found {_shown(node)}")
        return None

    def number(self, node: object, where: str) -> Decimal | None:
        """A whole or decimal number as written (1000.01 stays 1000.01, never a float)."""
        if node is None:  # a missing key, already reported by mapping()
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag in (_INT, _FLOAT):
            try:
                number = Decimal(str(node.value).replace("_", ""))
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite():
                return number
        self.problem_at(node, f"{where}: expected a number, found {_shown(node)}")
        return None

    def boolean(self, node: object, where: str) -> bool | None:
        if node is None:  # a missing key, already reported by mapping()
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL:
            word = str(node.value).lower()
            if word in ("true", "false"):
                return word == "true"
        self.problem_at(node, f"{where}: expected true or false, found {_shown(node)}")
        return None

    def choice(self, node: object, where: str, allowed: Sequence[str]) -> str | None:
        value = self.string(node, where)
        return None if value is None else self.choice_value(node, value, where, allowed)

    def choice_value(
        self, node: object, value: str, where: str, allowed: Sequence[str]
    ) -> str | None:
        if value in allowed:
            return value
        self.problem_at(
            node,
            f"{where}: must be one of {', '.join(allowed)}, not '{value}'"
            f"{_did_you_mean(value, allowed)}",
        )
        return None

    def string_list(self, node: object, where: str) -> tuple[str, ...] | None:
        entries = self.sequence(node, where, non_empty=True)
        if entries is None:
            return None
        values = [self.string(entry, f"{where}[{index}]") for index, entry in enumerate(entries)]
        if any(value is None for value in values):
            return None
        strings = [value for value in values if value is not None]
        for index, value in enumerate(strings):
            if value in strings[:index]:
                self.problem_at(entries[index], f"{where}[{index}]: '{value}' is listed twice")
                return None
        return tuple(strings)

    def string_or_list(self, node: object, where: str) -> list[tuple[yaml.Node, str]] | None:
        if isinstance(node, yaml.SequenceNode):
            entries = self.sequence(node, where, non_empty=True)
            if entries is None:
                return None
            pairs = [
                (entry, self.string(entry, f"{where}[{i}]")) for i, entry in enumerate(entries)
            ]
            if any(value is None for _, value in pairs):
                return None
            return [(entry, value) for entry, value in pairs if value is not None]
        value = self.string(node, where)
        return None if value is None or not isinstance(node, yaml.Node) else [(node, value)]

    def regex(self, node: object, where: str) -> str | None:
        value = self.string(node, where)
        if value is None:
            return None
        try:
            re.compile(value)
        except re.error as error:
            self.problem_at(node, f"{where}: not a valid regular expression: {error}")
            return None
        return value


def _kind(node: object) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _TAG + "null":
            return "nothing"
        return f"'{node.value}'"
    return "nothing"


def _shown(node: object) -> str:
    if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
        return f"the text '{node.value}'"
    return _kind(node)


def _did_you_mean(value: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
