"""Field-level authorization (MISSION A10).

Three kinds of declarations, all visible in the SDL as directives:

* ``@requires(permission: "…")`` on a field, and profile field rules (hidden / read-only
  per ``Type.field``): checked once per operation, *before execution* — selecting a field
  the caller's profile may not read answers ``FORBIDDEN`` naming it, and no SQL runs.
* ``@fullAccess`` on a field of an access-controlled type: the value is shown only when the
  caller has full access to that record (owner, hierarchy, assistant, share, sharing rule,
  structural/admin); a record visible only through a public level resolves the field to
  ``null`` with a ``FORBIDDEN`` error at its path. Decided for all loaded records of an
  entity with one query, not per row.
* ``@derivedFrom(fields: ["Type.field", …])``: the field's value is computed from, or repeats,
  those fields (a total from its lines, a pipeline figure from the budgets, ``phone`` from
  ``phones`` and back). Rules are enforced per field name, so without this any other field
  exposing the same data would bypass them. The caller's *effective* rules
  (:func:`effective_rules`) follow the derivations: a field is hidden when it or anything it
  derives from (transitively) is hidden or needs a permission the caller lacks; it is
  read-only when it, anything it derives from or anything derived from it is read-only
  (changing it would change them). Every check below reads the effective rules.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import strawberry
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
)
from sqlalchemy import select
from strawberry.extensions import FieldExtension
from strawberry.schema_directive import Location
from strawberry.types import Info

from gateway.access.models import FieldMode
from gateway.access.predicates import Mode
from gateway.access.scope import SYSTEM
from gateway.errors import Forbidden, PluginError

if TYPE_CHECKING:
    from gateway.access.scope import AccessScope
    from gateway.plugins import PluginRegistry

#: ``(GraphQL type, field)``, e.g. ``("Contact", "phone")``: what field rules name.
FieldKey = tuple[str, str]


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requires",
    description="Reading this field needs the named permission in the caller's profile.",
)
class Requires:
    permission: str


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="fullAccess",
    description="Shown only with full access to the record (not through a public level).",
)
class FullAccess:
    pass


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="derivedFrom",
    description="This field's value is computed from, or repeats, these fields "
    "(`Type.field`): a profile that may not read one of them may not read this field either, "
    "and a read-only rule on one of them also protects this field.",
)
class DerivedFrom:
    fields: list[str]


@dataclass(frozen=True)
class FieldPolicy:
    permission: str | None = None
    full_access: bool = False


def field_label(key: FieldKey) -> str:
    return f"{key[0]}.{key[1]}"


def parse_field(name: str, type_name: str | None = None) -> FieldKey:
    """``"Type.field"`` as a key; a bare ``"field"`` names a field of ``type_name``."""
    head, dot, tail = name.partition(".")
    if not dot:
        if type_name is None or not head:
            raise ValueError(f"{name!r} is not of the form Type.field")
        return (type_name, head)
    if not head or not tail or "." in tail:
        raise ValueError(f"{name!r} is not of the form Type.field")
    return (head, tail)


def _object_fields(schema: GraphQLSchema) -> Iterator[tuple[FieldKey, GraphQLField]]:
    for type_name, gql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(gql_type, GraphQLObjectType):
            continue
        for field_name, gql_field in gql_type.fields.items():
            yield (type_name, field_name), gql_field


def _directives(gql_field: GraphQLField) -> list[object]:
    definition = (gql_field.extensions or {}).get("strawberry-definition")
    return list(getattr(definition, "directives", None) or [])


def field_policies(schema: GraphQLSchema) -> dict[FieldKey, FieldPolicy]:
    """``(type, field)`` → what reading it needs, read from the fields' schema directives."""
    policies: dict[FieldKey, FieldPolicy] = {}
    for key, gql_field in _object_fields(schema):
        directives = _directives(gql_field)
        permission = next((d.permission for d in directives if isinstance(d, Requires)), None)
        full = any(isinstance(d, FullAccess) for d in directives)
        if permission or full:
            policies[key] = FieldPolicy(permission, full)
    return policies


class FieldGraph:
    """Every installed module's fields: what reading each needs and what each derives from.

    Built once per registry (:func:`field_graph`) from all modules' types, so a figure of
    one module may derive from another module's field. Declarations are checked when it is
    built: an unknown source fails, and so does a field derived from a ``@fullAccess`` field
    without being ``@fullAccess`` itself, or of another type (an aggregate over many records
    would count those the caller sees only through a public level).
    """

    def __init__(self, schema: GraphQLSchema) -> None:
        known = dict(_object_fields(schema))
        self.fields: frozenset[FieldKey] = frozenset(known)
        self.policies = field_policies(schema)
        derived: dict[FieldKey, frozenset[FieldKey]] = {}
        for key, gql_field in known.items():
            directives = _directives(gql_field)
            names = [n for d in directives if isinstance(d, DerivedFrom) for n in d.fields]
            if names:
                derived[key] = frozenset(self._source(key, name) for name in names) - {key}
        self.derived_from = derived
        into: dict[FieldKey, set[FieldKey]] = defaultdict(set)
        for key, sources in derived.items():
            for source in sources:
                into[source].add(key)
        self._into = {k: frozenset(v) for k, v in into.items()}
        self._sources: dict[FieldKey, frozenset[FieldKey]] = {}
        self._dependents: dict[FieldKey, frozenset[FieldKey]] = {}
        self._check_full_access()

    def _source(self, key: FieldKey, name: str) -> FieldKey:
        try:
            source = parse_field(name)
        except ValueError as exc:
            raise PluginError(f"@derivedFrom of {field_label(key)}: {exc}") from exc
        if source not in self.fields:
            raise PluginError(f"{field_label(key)} is @derivedFrom unknown field {name!r}")
        return source

    def _check_full_access(self) -> None:
        for key in self.derived_from:
            own = self.policies.get(key, FieldPolicy())
            for source in self.sources(key):
                if not self.policies.get(source, FieldPolicy()).full_access:
                    continue
                if source[0] != key[0]:
                    raise PluginError(
                        f"{field_label(key)} derives from {field_label(source)}, which needs "
                        "full access to each record: aggregates over such fields are not "
                        "supported"
                    )
                if not own.full_access:
                    raise PluginError(
                        f"{field_label(key)} derives from the @fullAccess field "
                        f"{field_label(source)}: mark it full_access too"
                    )

    @staticmethod
    def _closure(
        key: FieldKey, edges: Mapping[FieldKey, frozenset[FieldKey]]
    ) -> frozenset[FieldKey]:
        found: set[FieldKey] = set()
        pending = list(edges.get(key, ()))
        while pending:
            current = pending.pop()
            if current not in found:
                found.add(current)
                pending.extend(edges.get(current, ()))
        found.discard(key)
        return frozenset(found)

    def sources(self, key: FieldKey) -> frozenset[FieldKey]:
        """Every field ``key`` derives from, directly or not (not itself)."""
        found = self._sources.get(key)
        if found is None:
            found = self._sources[key] = self._closure(key, self.derived_from)
        return found

    def dependents(self, key: FieldKey) -> frozenset[FieldKey]:
        """Every field derived from ``key``, directly or not (not itself)."""
        found = self._dependents.get(key)
        if found is None:
            found = self._dependents[key] = self._closure(key, self._into)
        return found


_GRAPHS: WeakKeyDictionary[PluginRegistry, FieldGraph] = WeakKeyDictionary()
_GRAPHS_LOCK = threading.Lock()


def field_graph(registry: PluginRegistry) -> FieldGraph:
    """The field graph of every module in ``registry`` (built on first use, then kept)."""
    graph = _GRAPHS.get(registry)
    if graph is None:
        with _GRAPHS_LOCK:
            graph = _GRAPHS.get(registry)
            if graph is None:
                graph = _GRAPHS[registry] = FieldGraph(_all_types(registry))
    return graph


def _all_types(registry: PluginRegistry) -> GraphQLSchema:
    """Every module's types composed into one schema, with the fields modules add to each
    other's types (types only: no extensions)."""
    from strawberry.tools import create_type

    from gateway.graphql.schema_factory import GatewaySchema  # it imports this module

    mutations = [f for f, _ in registry.mutation_fields.values()]
    type_fields = {
        name: [f for f, _ in fields.values()] for name, fields in registry.type_fields.items()
    }
    return GatewaySchema(
        type_fields=type_fields,
        query=create_type("Query", [f for f, _ in registry.query_fields.values()]),
        mutation=create_type("Mutation", mutations) if mutations else None,
        types=[cls for cls, _ in registry.types.values()],
    )._schema


# -- effective rules ------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveRules(Mapping[FieldKey, FieldMode]):
    """A caller's field rules once derivations are followed; reads like the profile's own
    rules (``rules.get(("Contact", "phone")) is FieldMode.HIDDEN``), so exports and
    documents can use it in their place."""

    modes: dict[FieldKey, FieldMode] = field(default_factory=dict)
    #: field → the fields whose rule (or missing permission) decides its mode.
    causes: dict[FieldKey, frozenset[FieldKey]] = field(default_factory=dict)
    #: (type, fields) already found writable: an import checks the same columns per row.
    writable: set[tuple[str, frozenset[str]]] = field(default_factory=set, compare=False)

    def __getitem__(self, key: FieldKey) -> FieldMode:
        return self.modes[key]

    def __iter__(self) -> Iterator[FieldKey]:
        return iter(self.modes)

    def __len__(self) -> int:
        return len(self.modes)

    def hidden(self, key: FieldKey) -> bool:
        return self.modes.get(key) is FieldMode.HIDDEN


NO_RULES = EffectiveRules()


def compute_effective_rules(
    graph: FieldGraph, rules: Mapping[FieldKey, FieldMode], has: Callable[[str], bool]
) -> EffectiveRules:
    """Hidden: the field, or anything it derives from, is hidden or needs a permission the
    caller lacks. Read-only (if not hidden): the field, anything it derives from or anything
    derived from it has a read-only rule."""
    hidden_roots = {k for k, mode in rules.items() if mode is FieldMode.HIDDEN} | {
        k for k, p in graph.policies.items() if p.permission is not None and not has(p.permission)
    }
    modes: dict[FieldKey, FieldMode] = {}
    causes: dict[FieldKey, set[FieldKey]] = defaultdict(set)
    for root in hidden_roots:
        for key in (root, *graph.dependents(root)):
            modes[key] = FieldMode.HIDDEN
            causes[key].add(root)
    for root in (k for k, mode in rules.items() if mode is FieldMode.READ_ONLY):
        for key in (root, *graph.sources(root), *graph.dependents(root)):
            if modes.get(key) is not FieldMode.HIDDEN:
                modes[key] = FieldMode.READ_ONLY
                causes[key].add(root)
    return EffectiveRules(modes, {k: frozenset(v) for k, v in causes.items()})


def scope_effective_rules(scope: AccessScope, registry: PluginRegistry) -> EffectiveRules:
    """The effective rules of ``scope``'s user.

    Computed once per distinct (field graph, rules, permissions) in the process: following
    every policy's derivations took ~4% of a list request's CPU, and every caller of a
    profile (and groups) asks the same. Keyed by content, so a change of rules or grants
    is a new key (no invalidation), and the result is immutable but for its ``writable``
    memo, which depends on the modes alone.
    """
    if not scope.field_rules and scope.permissions >= scope.all_permissions:
        return NO_RULES
    return _effective_by_content(
        field_graph(registry), frozenset(scope.field_rules.items()), scope.permissions
    )


@lru_cache(maxsize=512)
def _effective_by_content(
    graph: FieldGraph, rules: frozenset[tuple[FieldKey, FieldMode]], permissions: frozenset[str]
) -> EffectiveRules:
    return compute_effective_rules(graph, dict(rules), permissions.__contains__)


#: access context → (the rules and permissions they were computed from, the result).
_EFFECTIVE: WeakKeyDictionary[Any, tuple[object, object, EffectiveRules]] = WeakKeyDictionary()


def effective_rules(access: Any) -> EffectiveRules:
    """The caller's effective field rules, computed once per operation (again after the
    scope is invalidated by a change of rules). No rules for system sessions (``None``)."""
    if access is None:
        return NO_RULES
    scope = access.scope
    rules, permissions = scope.field_rules, scope.permissions
    cached = _EFFECTIVE.get(access)
    if cached is not None and cached[0] is rules and cached[1] is permissions:
        return cached[2]
    result = scope_effective_rules(scope, access.registry)
    _EFFECTIVE[access] = (rules, permissions, result)
    return result


def effective_mode(access: Any, type_name: str, field_name: str) -> FieldMode | None:
    """``HIDDEN``, ``READ_ONLY`` or ``None`` for one field, derivations followed; e.g.
    ``effective_mode(ctx.access, "Contact", "phone")``."""
    return effective_rules(access).get((type_name, field_name))


def _keys(type_name: str, fields: Iterable[str]) -> set[FieldKey]:
    """Field names as keys: ``"phone"`` of ``type_name``, or qualified ``"Address.city"``."""
    return {parse_field(name, type_name) for name in fields}


def _refusal(verb: str, refused: Iterable[FieldKey], rules: EffectiveRules, why: str) -> Forbidden:
    """FORBIDDEN naming the refused fields and, when a derivation decided, the fields whose
    rules did (``extensions.fields`` lists both)."""
    named = sorted(set(refused))
    causes = sorted({c for k in named for c in rules.causes.get(k, ())} - set(named))
    message = f"your profile may not {verb} {', '.join(map(field_label, named))}"
    if causes:
        message += f" ({why} {', '.join(map(field_label, causes))})"
    return Forbidden(message, fields=[field_label(k) for k in sorted({*named, *causes})])


def filter_reads(given: object | None, reads: Mapping[str, tuple[str, ...]]) -> set[str]:
    """The fields a filter input matches on: ``reads`` maps each input attribute to the
    GraphQL fields it reads; attributes left empty (None, False, [], unset) read nothing."""
    if given is None:
        return set()
    return {
        field
        for attribute, fields in reads.items()
        if getattr(given, attribute, None) not in (None, False, [], strawberry.UNSET)
        for field in fields
    }


def check_filterable_fields(access: Any, type_name: str, fields: Iterable[str]) -> None:
    """Refuse filtering or sorting by fields the caller may not read (effective rules): the
    matches, the order and the cursors (which carry the sort value) would reveal them.
    ``fields`` are fields of ``type_name`` or qualified (``"Budget.total"``)."""
    rules = effective_rules(access)
    hidden = [key for key in _keys(type_name, fields) if rules.hidden(key)]
    if hidden:
        raise _refusal("filter or sort by", hidden, rules, "derived from")


def check_writable_fields(access: Any, type_name: str, fields: Iterable[str]) -> None:
    """Refuse a change writing fields the caller's effective rules make read-only or hidden.

    ``fields`` are *every* GraphQL field the input writes — aliases and side effects
    included (``phone`` writes ``phones``; a street writes ``address`` and
    ``Address.street``) — as fields of ``type_name`` or qualified names."""
    rules = effective_rules(access)
    if not rules:
        return
    asked = (type_name, frozenset(fields))
    if asked in rules.writable:
        return
    denied = [key for key in _keys(type_name, asked[1]) if key in rules]
    if denied:
        raise _refusal("change", denied, rules, "its value is tied to")
    rules.writable.add(asked)


class FullAccessGuard(FieldExtension):
    """Resolve the field only for records the caller has full access to."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        record = getattr(source, "record", None)
        if record is not None and not has_full_access(info.context, record):
            raise Forbidden("this field needs full access to the record", field=info.field_name)
        return next_(source, info, **kwargs)


def has_full_access(context: Any, record: Any) -> bool:
    """Whether the caller has full access; decided for every loaded record of the entity
    at once (one query), then answered from the request's cache."""
    access = getattr(context, "access", None)
    if access is None or access.scope.sees_everything:
        return True
    entity = access.registry.entity_of_model[type(record)]
    if getattr(record, entity.owner_attribute) == access.scope.user_id:
        return True
    cache: dict[int, bool] = access.full_access_cache.setdefault(entity.entity, {})
    if record.id not in cache:
        session = context.session
        pending = {
            obj.id
            for obj in session.identity_map.values()
            if type(obj) is entity.model and obj.id not in cache
        } | {record.id}
        full = set(
            session.scalars(
                select(entity.model.id)
                .where(entity.model.id.in_(pending), access.predicate(entity, Mode.FULL))
                .execution_options(**{SYSTEM: True})
            )
        )
        cache.update({rid: rid in full for rid in pending})
    return cache[record.id]


def guarded(
    resolver: Callable[..., Any] | None = None,
    *,
    permission: str | None = None,
    full_access: bool = False,
    derived_from: Iterable[str] = (),
    **kwargs: Any,
) -> Any:
    """``strawberry.field`` with access rules: ``@requires``, ``@fullAccess`` and/or
    ``@derivedFrom`` (``"Type.field"`` names, checked when the field graph is built)."""
    directives: list[object] = list(kwargs.pop("directives", []))
    extensions: list[FieldExtension] = list(kwargs.pop("extensions", []))
    if permission:
        directives.append(Requires(permission=permission))
    if full_access:
        directives.append(FullAccess())
        extensions.append(FullAccessGuard())
    sources = list(dict.fromkeys(derived_from))  # once each, in order
    for name in sources:
        parse_field(name)  # "Type.field", or ValueError at import time
    if sources:
        directives.append(DerivedFrom(fields=sources))
    made = strawberry.field(directives=directives, extensions=extensions, **kwargs)
    return made(resolver) if resolver is not None else made
