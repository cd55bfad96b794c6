"""A checklist's fields and `when` conditions, read from their YAML nodes.

Part of the loader (`loader.py` reads files, checklists and items): every read returns the
value, or None after the reader recorded a positioned problem.
"""

from __future__ import annotations

import difflib
from decimal import Decimal

import yaml

from pos_tui.domain.checklist import (
    CAPABILITIES,
    IDENTIFIER_KINDS,
    Condition,
    Field,
    FieldKind,
)
from pos_tui.domain.identifiers import KINDS, field_ids
from pos_tui.domain.node_reader import NodeReader
from pos_tui.domain.redact import is_forbidden_field_id
from pos_tui.domain.visit_info import VISIT_DETAILS, JobType

_FIELD_KEYS = (
    *("id", "label", "kind", "choices", "fails", "pattern", "required"),
    *("min", "max", "prefill", "expect", "hint"),
)
_WHEN_KEYS = ("capabilities", "job", "visit")
JOB_TYPES: tuple[str, ...] = tuple(str(job) for job in JobType)
VISIT_PREFIX = "visit."


def read_fields(reader: NodeReader, node: object, where: str) -> tuple[Field, ...] | None:
    entries = reader.sequence(node, where, non_empty=True)
    if entries is None:
        return None
    fields: list[Field] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        spot = f"{where}[{index}]"
        read = _read_field(reader, entry, spot)
        if read is None:
            continue
        if read.id in seen:
            reader.problem_at(reader.id_node(entry), f"{spot}.id: '{read.id}' is already used")
            continue
        seen.add(read.id)
        fields.append(read)
    return tuple(fields) if len(fields) == len(entries) else None


def _read_field(reader: NodeReader, node: object, where: str) -> Field | None:
    keys = reader.mapping(node, where, _FIELD_KEYS, required=("id", "label", "kind"))
    if keys is None:
        return None
    field_id = reader.slug(keys.get("id"), f"{where}.id")
    if field_id is not None and is_forbidden_field_id(field_id):
        reader.problem_at(
            keys["id"],
            f"{where}.id: '{field_id}' would capture a PIN, CVV, track data or a full card "
            "number, which must never be stored; capture the last 4 digits with kind: last4",
        )
        field_id = None
    label = reader.text(keys.get("label"), f"{where}.label")
    kind = reader.choice(keys.get("kind"), f"{where}.kind", tuple(FieldKind))
    if field_id is not None and kind in IDENTIFIER_KINDS and not _named_for(kind, field_id):
        *others, last = field_ids(KINDS[str(kind)])
        names = f"{', '.join(others)} or {last}" if others else last
        reader.problem_at(
            keys["id"],
            f"{where}.id: a field of kind {kind} must be named {names}, the name under "
            "which reports show it whole",
        )
        field_id = None
    required = (
        reader.boolean(keys["required"], f"{where}.required") if "required" in keys else False
    )
    choices: tuple[str, ...] | None = ()
    if "choices" in keys:
        if kind is not None and kind != FieldKind.CHOICE:
            reader.problem_at(keys["choices"], f"{where}.choices: only allowed with kind: choice")
            choices = None
        else:
            choices = reader.string_list(keys["choices"], f"{where}.choices")
    elif kind == FieldKind.CHOICE:
        reader.problem_at(node, f"{where}: kind: choice needs a 'choices' list")
        choices = None
    fails = _read_fails(reader, keys, where, kind, choices)
    pattern = reader.regex(keys["pattern"], f"{where}.pattern") if "pattern" in keys else None
    bounds = _read_bounds(reader, keys, where, kind)
    prefill = _read_detail(reader, keys, "prefill", where, kind)
    expect = _read_detail(reader, keys, "expect", where, kind)
    hint = reader.text(keys["hint"], f"{where}.hint") if "hint" in keys else None
    if (
        None in (field_id, label, kind, required, choices, fails, bounds)
        or ("pattern" in keys and pattern is None)
        or ("prefill" in keys and prefill is None)
        or ("expect" in keys and expect is None)
        or ("hint" in keys and hint is None)
    ):
        return None
    assert field_id is not None and label is not None and kind is not None
    assert required is not None and choices is not None and fails is not None
    assert bounds is not None
    return Field(
        id=field_id,
        label=label,
        kind=FieldKind(kind),
        choices=choices,
        pattern=pattern,
        required=required,
        fails=fails,
        minimum=bounds[0],
        maximum=bounds[1],
        prefill=prefill,
        expect=expect,
        hint=hint,
    )


def _named_for(kind: str, field_id: str) -> bool:
    return field_id in field_ids(KINDS[kind])


def _read_fails(
    reader: NodeReader,
    keys: dict[str, yaml.Node],
    where: str,
    kind: str | None,
    choices: tuple[str, ...] | None,
) -> tuple[str, ...] | None:
    if "fails" not in keys:
        return ()
    node = keys["fails"]
    if kind is not None and kind != FieldKind.CHOICE:
        reader.problem_at(node, f"{where}.fails: only allowed with kind: choice")
        return None
    fails = reader.string_list(node, f"{where}.fails")
    if fails is None or choices is None:
        return None
    unknown = [(index, value) for index, value in enumerate(fails) if value not in choices]
    for index, value in unknown:
        entry = node.value[index] if isinstance(node, yaml.SequenceNode) else node
        reader.problem_at(entry, f"{where}.fails[{index}]: '{value}' is not one of the choices")
    if unknown:
        return None
    if set(fails) == set(choices):
        reader.problem_at(node, f"{where}.fails: every choice fails, so the item could never pass")
        return None
    return fails


Bounds = tuple["Decimal | None", "Decimal | None"]


def _read_bounds(
    reader: NodeReader, keys: dict[str, yaml.Node], where: str, kind: str | None
) -> Bounds | None:
    found: list[Decimal | None] = []
    broken = False
    for key in ("min", "max"):
        if key not in keys:
            found.append(None)
            continue
        if kind is not None and kind != FieldKind.NUMBER:
            reader.problem_at(keys[key], f"{where}.{key}: only allowed with kind: number")
            broken = True
            continue
        number = reader.number(keys[key], f"{where}.{key}")
        broken = broken or number is None
        found.append(number)
    if broken:
        return None
    low, high = found
    if low is not None and high is not None and low > high:
        reader.problem_at(keys["max"], f"{where}.max: {high} is less than min {low}")
        return None
    return low, high


# Compared as text, so not with a choice (the visit's value is no choice) or a last4 (no
# visit detail is four digits of a card).
_NOT_COMPARED = (FieldKind.CHOICE, FieldKind.LAST4)


def _read_detail(
    reader: NodeReader, keys: dict[str, yaml.Node], key: str, where: str, kind: str | None
) -> str | None:
    """A `visit.<detail>` reference: the detail's name, or None after saying what is wrong."""
    if key not in keys:
        return None
    node = keys[key]
    spot = f"{where}.{key}"
    if kind in _NOT_COMPARED:
        reader.problem_at(node, f"{spot}: not allowed with kind: {kind}")
        return None
    value = reader.string(node, spot)
    if value is None:
        return None
    if not value.startswith(VISIT_PREFIX):
        reader.problem_at(node, f"{spot}: write it as visit.<detail>, e.g. visit.terminal_number")
        return None
    detail = value.removeprefix(VISIT_PREFIX)
    if detail in VISIT_DETAILS:
        return detail
    close = difflib.get_close_matches(detail, VISIT_DETAILS, n=1, cutoff=0.6)
    hint = f" (did you mean 'visit.{close[0]}'?)" if close else ""
    reader.problem_at(
        node,
        f"{spot}: '{value}' is no visit detail{hint}; the details are {', '.join(VISIT_DETAILS)}",
    )
    return None


def read_when(reader: NodeReader, node: object, where: str) -> Condition | None:
    """A capability, a list of them, or a mapping of `capabilities`, `job` and `visit`."""
    if not isinstance(node, yaml.MappingNode):
        capabilities = _read_names(reader, node, where, CAPABILITIES)
        return None if capabilities is None else Condition(capabilities=capabilities)
    keys = reader.mapping(node, where, _WHEN_KEYS, required=())
    if keys is None:
        return None
    if not node.value:
        reader.problem_at(node, f"{where}: name at least one of {', '.join(_WHEN_KEYS)}")
        return None
    parts = {
        key: _read_names(reader, keys[key], f"{where}.{key}", known) if key in keys else None
        for key, known in (("capabilities", CAPABILITIES), ("job", JOB_TYPES))
    }
    details = (
        _read_names(reader, keys["visit"], f"{where}.visit", VISIT_DETAILS)
        if "visit" in keys
        else frozenset()
    )
    if details is None or any(key in keys and parts[key] is None for key in parts):
        return None
    return Condition(
        capabilities=parts["capabilities"] or frozenset(), jobs=parts["job"], details=details
    )


def _read_names(
    reader: NodeReader, node: object, where: str, known: tuple[str, ...]
) -> frozenset[str] | None:
    names = reader.string_or_list(node, where)
    if names is None:
        return None
    checked = [reader.choice_value(name_node, name, where, known) for name_node, name in names]
    if None in checked:
        return None
    return frozenset(name for name in checked if name is not None)
