"""Pre-shaped results: a resolver may answer its whole sub-tree at once, already in the
response's shape, so graphql-core does not resolve and complete every field of every row.

graphql-core costs about 20 µs per resolved field through Strawberry's wrappers: a 50-row
contact list with its owners and tags resolves ~600 fields, i.e. ~12 ms against ~2 ms of SQL.
A hot list resolver can instead ask :func:`plain_selection` for the fields the operation
selects below it (fragments flattened, aliases kept) and, when every one of them is a plain
column or relation it knows how to fetch, build the response value itself from a few SQL
rows and return it wrapped in :class:`Shaped`. :class:`ShapingExecutionContext` returns that
value as is. Anything it does not know (a directive, arguments on a nested field, an
interface-typed field, a field with its own resolver logic such as ``@fullAccess`` checks)
makes the resolver take the general path, which stays the reference: a differential test
compares both for random selections.

Field rules are not affected: hidden fields are refused before execution (FieldGuard), so a
shaped resolver never sees them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info


class Shaped:
    """A resolver's result that is already the completed response value of its field."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class ShapingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, returning :class:`Shaped` results without completing them."""

    def complete_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if type(result) is Shaped:
            return result.value
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )


@dataclass(frozen=True, slots=True)
class Selected:
    """One response entry: ``key`` (alias or name) ← field ``name`` with its own selection."""

    key: str
    name: str
    children: tuple[Selected, ...] = ()

    def names(self) -> set[str]:
        return {c.name for c in self.children}

    def child(self, name: str) -> Selected | None:
        """The first entry selecting ``name`` (there may be several under aliases)."""
        return next((c for c in self.children if c.name == name), None)


class NotPlain(Exception):
    """The selection uses something a shaped resolver does not handle."""


def plain_selection(info: Info, object_type: str | None = None) -> Selected | None:
    """The current field's selection as a tree of :class:`Selected`, or ``None`` if it is not
    plain: directives anywhere, arguments below the current field, or abstract-typed fields.

    ``object_type``: the object type an abstract-typed current field resolves to, known to
    the resolver (``node(id)``: the ID names it); fragments on other types drop out."""
    raw = info._raw_info
    try:
        parent = (
            _object_type(raw.return_type)
            if object_type is None
            else _object_type(raw.schema.get_type(object_type))
        )
        children = _collect(raw.schema, raw.fragments, parent, raw.field_nodes)
    except NotPlain:
        return None
    return Selected(key=str(raw.path.key), name=raw.field_name, children=children)


def _object_type(graphql_type: Any) -> GraphQLObjectType:
    named: GraphQLNamedType = get_named_type(graphql_type)
    if not isinstance(named, GraphQLObjectType):
        raise NotPlain(named.name)
    return named


def _collect(
    schema: Any,
    fragments: Mapping[str, Any],
    parent: GraphQLObjectType,
    nodes: Iterable[FieldNode],
) -> tuple[Selected, ...]:
    grouped: dict[str, list[FieldNode]] = {}
    for node in nodes:
        if node.selection_set is not None:
            _group(schema, fragments, parent, node.selection_set, grouped)
    selected = []
    for key, same_key in grouped.items():
        first = same_key[0]
        name = first.name.value
        if any(n.arguments for n in same_key):
            raise NotPlain(name)
        children: tuple[Selected, ...] = ()
        if first.selection_set is not None:
            field = parent.fields.get(name)
            if field is None:
                raise NotPlain(name)
            children = _collect(schema, fragments, _object_type(field.type), same_key)
        selected.append(Selected(key=key, name=name, children=children))
    return tuple(selected)


def _group(
    schema: Any,
    fragments: Mapping[str, Any],
    parent: GraphQLObjectType,
    selection_set: SelectionSetNode,
    grouped: dict[str, list[FieldNode]],
) -> None:
    for node in selection_set.selections:
        if node.directives:
            raise NotPlain("directive")
        if isinstance(node, FieldNode):
            key = node.alias.value if node.alias else node.name.value
            grouped.setdefault(key, []).append(node)
            continue
        if isinstance(node, FragmentSpreadNode):
            fragment = fragments[node.name.value]
            condition, inner = fragment.type_condition, fragment.selection_set
            if fragment.directives:
                raise NotPlain("directive")
        elif isinstance(node, InlineFragmentNode):
            condition, inner = node.type_condition, node.selection_set
        else:  # pragma: no cover - the spec has no other selection kind
            raise NotPlain(type(node).__name__)
        if condition is not None and not _matches(schema, parent, condition.name.value):
            continue
        _group(schema, fragments, parent, inner, grouped)


def _matches(schema: Any, parent: GraphQLObjectType, condition: str) -> bool:
    return condition == parent.name or any(i.name == condition for i in parent.interfaces)
