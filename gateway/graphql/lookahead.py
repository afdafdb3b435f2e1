"""Look-ahead: which fields a query selects below the current one, so resolvers load only
what will be returned (and load it in one query per relation, never per row)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField


def _flatten(selections: Iterable[Any]) -> list[SelectedField]:
    fields: list[SelectedField] = []
    for item in selections:
        if isinstance(item, SelectedField):
            fields.append(item)
        elif isinstance(item, (InlineFragment, FragmentSpread)):
            fields.extend(_flatten(item.selections))
    return fields


def selected(info: Info, *path: str) -> set[str]:
    """Names selected under the current field, following ``path`` (e.g. "edges", "node")."""
    level = _flatten(info.selected_fields)
    level = _flatten(s for f in level for s in f.selections)
    for step in path:
        level = _flatten(s for f in level if f.name == step for s in f.selections)
    return {f.name for f in level}
