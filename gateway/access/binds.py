"""The caller's values in visibility predicates as *named* bind parameters (issue 19).

A predicate built with values (:func:`gateway.access.predicates.predicate`) is a new tree
per caller: SQLAlchemy must build it, key it and coerce its values on every request. Built
with named parameters instead (``named=True``), its SQL depends only on the *shape* of the
caller's scope (:func:`scope_shape`: which grants exist, not whose), so a statement holding
it can be built once per shape and reused by every caller of that shape, each supplying
:func:`scope_values` at execution. Such a statement carries no caller's value at all: a
parameter left out fails the execution, it never falls back to someone else's value.

Sets of ids are ONE parameter whatever their size, so the SQL text never changes with the
number of ids (driver and SQLite statement caches keep working): a PostgreSQL array
(``= ANY(:ids)``), on SQLite a JSON array read by ``json_each`` (``IN (SELECT value FROM
json_each(:ids))``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, TextClause, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from gateway.access.scope import AccessScope
from gateway.contract import Action
from gateway.plugins import PluginRegistry

#: Parameter names of the caller's values (the same in every entity's predicate).
TENANT = "crm_tenant"
USER = "crm_user"
BELOW = "crm_below"
SERVED = "crm_served"
ASSIGNEES = "crm_assignees"


def _safe(entity: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", entity)


def shared_name(entity: str) -> str:
    """The parameter of the ids of ``entity`` records shared with the caller (read)."""
    return f"crm_shared_{_safe(entity)}"


def rules_name(entity: str) -> str:
    """The parameter of the owners whose ``entity`` records sharing rules open (read)."""
    return f"crm_rules_{_safe(entity)}"


def ids_value(ids: Iterable[int], dialect: str) -> Any:
    """An id set as the value of its one parameter: a list (PostgreSQL array, or the
    values of an expanding IN elsewhere), a JSON array text on SQLite."""
    values = sorted(ids)
    return json.dumps(values) if dialect == "sqlite" else values


def id_set(column: Any, ids: Iterable[int] | None, dialect: str, name: str | None = None) -> Any:
    """``column`` in a set of ids bound as one parameter: ``ids`` as its value, or (``ids``
    None) the parameter ``name`` without a value, supplied at execution."""
    if dialect not in ("postgresql", "sqlite"):  # an expanding IN, as SQLAlchemy binds a list
        return column.in_(bindparam(name, expanding=True) if ids is None else sorted(ids))
    if dialect == "postgresql":
        if ids is None:
            return column == any_(bindparam(name, type_=_ARRAY))
        return column == any_(bindparam(None, sorted(ids), type_=_ARRAY))
    if ids is None:
        assert name is not None
        return column.op("IN", is_comparison=True)(_named_json_ids(name))
    value = bindparam("ids", ids_value(ids, dialect), type_=_TEXT, unique=True)
    return column.op("IN", is_comparison=True)(_JSON_IDS.bindparams(value))


#: ``IN (SELECT value FROM json_each(:ids))`` as text: the same SQL as a ``select()`` of the
#: table-valued function, at a fifth of its construction cost (it is built per request on
#: the ORM path and for filtered pages).
_JSON_IDS = text("(SELECT value FROM json_each(:ids))")
_TEXT = String()
_ARRAY = ARRAY(Integer)


@cache
def _named_json_ids(name: str) -> TextClause:
    if not re.fullmatch(r"crm_[A-Za-z0-9_]+", name):  # our own names only (see _safe)
        raise ValueError(f"not a parameter name of ours: {name!r}")
    sql = f"(SELECT value FROM json_each(:{name}))"  # noqa: S608 (a checked name, no value)
    return text(sql).bindparams(bindparam(name, type_=_TEXT))


def value_of(name: str, value: Any, named: bool) -> Any:
    """A scalar of the caller (tenant, user): the value itself, or its named parameter."""
    return bindparam(name, type_=Integer) if named else value


def tenant_is(model: Any, scope: AccessScope, named: bool) -> ColumnElement[bool]:
    tenant: ColumnElement[bool] = model.tenant_id == value_of(TENANT, scope.tenant_id, named)
    return tenant


def scope_shape(
    scope: AccessScope, registry: PluginRegistry, entities: Iterable[str]
) -> tuple[Any, ...]:
    """Everything about the caller that changes the SQL of the named read predicates of
    ``entities`` (and nothing that only changes their values). Must follow every branch on
    the scope in :func:`gateway.access.predicates.grant_clauses` and ``predicate``."""
    per_entity = tuple(
        (
            key,
            scope.has(registry.permission_for(key, Action.READ)),
            bool(scope.shared_ids(key, write=False)),
            bool(scope.rule_owner_ids(key, write=False)),
        )
        for key in entities
    )
    return (
        scope.sees_everything,
        bool(scope.subordinate_ids),
        bool(scope.served_ids),
        per_entity,
    )


def scope_values(scope: AccessScope, registry: PluginRegistry, dialect: str) -> dict[str, Any]:
    """The values of every named parameter a read predicate of ``scope`` may hold."""
    from gateway.access.predicates import assignees  # predicates imports this module

    values: dict[str, Any] = {TENANT: scope.tenant_id, USER: scope.user_id}
    if scope.subordinate_ids:
        values[BELOW] = ids_value(scope.subordinate_ids, dialect)
    if scope.served_ids:
        values[SERVED] = ids_value(scope.served_ids, dialect)
    if any(e.assignments is not None for e in registry.entities.values()):
        values[ASSIGNEES] = ids_value(assignees(scope), dialect)
    for key in registry.entities:
        shared = scope.shared_ids(key, write=False)
        if shared:
            values[shared_name(key)] = ids_value(shared, dialect)
        owners = scope.rule_owner_ids(key, write=False)
        if owners:
            values[rules_name(key)] = ids_value(owners, dialect)
    return values
