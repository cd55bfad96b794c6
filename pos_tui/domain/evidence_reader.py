"""An item's `evidence:` rule, read from its YAML node (part of the loader).

    evidence: {kind: photo, min: 1, max: 5, required: true}

`kind` is required; `required` defaults to true (an item that names evidence wants it),
`min` to 1 when required, `max` to 5. An optional item has no minimum.
"""

from __future__ import annotations

from pos_tui.domain.checklist import EvidenceKind, EvidenceRule
from pos_tui.domain.evidence import MAX_PER_ITEM
from pos_tui.domain.node_reader import NodeReader

_EVIDENCE_KEYS = ("kind", "min", "max", "required")


def read_evidence(reader: NodeReader, node: object, where: str) -> EvidenceRule | None:
    keys = reader.mapping(node, where, _EVIDENCE_KEYS, required=("kind",))
    if keys is None:
        return None
    kind = reader.choice(keys.get("kind"), f"{where}.kind", tuple(EvidenceKind))
    required = reader.boolean(keys["required"], f"{where}.required") if "required" in keys else True
    minimum = reader.integer(keys["min"], f"{where}.min") if "min" in keys else None
    maximum = reader.integer(keys["max"], f"{where}.max") if "max" in keys else 5
    if kind is None or required is None or maximum is None or ("min" in keys and minimum is None):
        return None
    if minimum is None:
        minimum = 1 if required else 0
    if not required and minimum > 0:
        reader.problem_at(
            keys["min"],
            f"{where}.min: {minimum} with required: false; optional evidence has no minimum "
            "(set required: true, or remove min)",
        )
        return None
    if required and minimum < 1:
        reader.problem_at(keys["min"], f"{where}.min: required evidence needs at least 1 file")
        return None
    if not 1 <= maximum <= MAX_PER_ITEM:
        reader.problem_at(
            keys["max"], f"{where}.max: must be from 1 to {MAX_PER_ITEM}, not {maximum}"
        )
        return None
    if minimum > maximum:
        reader.problem_at(keys["max"], f"{where}.max: {maximum} is less than min {minimum}")
        return None
    return EvidenceRule(EvidenceKind(kind), minimum, maximum, required)
