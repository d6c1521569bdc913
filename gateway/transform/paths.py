"""Reading values out of a record by dotted path.

``events.date`` walks into every item of the ``events`` list; ``where`` keeps only the
list items whose fields equal the given values (``{"type": "sale"}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def resolve(
    record: Mapping[str, Any], path: str, where: Mapping[str, Any] | None = None
) -> list[Any]:
    """Every value at ``path``; empty when the record has none.

    Empty strings, empty lists and nulls count as absent.
    """
    current: list[Any] = [record]
    for name in path.split("."):
        step: list[Any] = []
        for node in current:
            if isinstance(node, list):
                items = [i for i in node if _matches(i, where)] if where else node
                step.extend(i.get(name) for i in items if isinstance(i, Mapping))
            elif isinstance(node, Mapping):
                step.append(node.get(name))
        current = [v for v in step if v is not None]
    out: list[Any] = []
    for value in current:
        if isinstance(value, list):
            out.extend(v for v in value if v not in (None, ""))
        elif value != "":
            out.append(value)
    return out


def _matches(item: Any, where: Mapping[str, Any]) -> bool:
    return isinstance(item, Mapping) and all(item.get(k) == v for k, v in where.items())
