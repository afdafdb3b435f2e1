"""What a caller may read, for code that matches or prints values outside the typed fields:
searches, filters on the id of a related record, duplicate finders.

The typed fields are guarded before execution (``FieldGuard``) and record visibility is
added to every ORM statement (``do_orm_execute``). A search or a filter, though, *compares*
values the caller never selects: it must compare only readable fields of visible records,
or its matches reveal the rest (issue 12). Two helpers say what is readable:

* :func:`unreadable_fields` — the fields of a GraphQL type the caller's profile may not
  read (a hidden field rule, or an ``@requires`` permission it lacks);
* :func:`visible_rows` — a model's rows the caller may read, as an aliased table and a
  condition on it, usable in any statement (also those run as plain rows, which the ORM
  hook does not see), and :func:`refers_to_visible` built on it for "column = id" filters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select, true
from sqlalchemy.sql import Alias
from sqlalchemy.sql.util import ClauseAdapter

from gateway.access.fields import effective_rules
from gateway.access.models import FieldMode
from gateway.access.predicates import Mode


def unreadable_fields(context: Any, type_name: str, fields: Iterable[str]) -> frozenset[str]:
    """The fields among ``fields`` of ``type_name`` that the caller of ``context`` may not
    read, by its *effective* rules (gateway.access.fields): hidden by a field rule of its
    profile, guarded by an ``@requires(permission)`` it lacks, or derived from such a field
    (``email`` from ``emails``…). Nothing for signed-out, visitor or system contexts."""
    access = getattr(context, "access", None)
    if access is None:
        return frozenset()
    rules = effective_rules(access)
    return frozenset(n for n in fields if rules.get((type_name, n)) is FieldMode.HIDDEN)


def _policies(context: Any) -> dict[tuple[str, str], Any]:
    """The field policies (``@requires``, ``@fullAccess``) of the caller's schema, the one
    already built for its organisation's modules."""
    return context.gateway.schemas.for_modules(context.enabled_modules).crm_field_policies


def full_access_fields(context: Any, type_name: str, fields: Iterable[str]) -> frozenset[str]:
    """The fields among ``fields`` shown only with full access to the record (``@fullAccess``)."""
    policies = _policies(context)
    return frozenset(
        name
        for name in fields
        if (policy := policies.get((type_name, name))) is not None and policy.full_access
    )


def full_access_rows(access: Any, model: type[Any]) -> ColumnElement[bool]:
    """The condition on ``model`` that keeps the records the caller has *full* access to
    (any grant but a public level): where ``@fullAccess`` values are compared."""
    if access is None:
        return true()
    entity = access.registry.entity_of_model.get(model)
    if entity is None:
        return access.read_criteria(model)
    return access.predicate(entity, Mode.FULL)


def writable_rows(access: Any, model: type[Any]) -> ColumnElement[bool]:
    """The condition on ``model`` that keeps the records the caller may *change*: the write
    predicate the flush check applies, for mass operations that must count and pick exactly
    the rows they will be allowed to write (a count that included read-only rows would
    promise what the flush then refuses)."""
    if access is None:
        return true()
    entity = access.registry.entity_of_model.get(model)
    if entity is None:
        return access.read_criteria(model)
    return access.predicate(entity, Mode.WRITE)


@dataclass(frozen=True)
class VisibleRows:
    """A model's table under an alias of its own, and the condition that keeps the rows the
    caller may read: ``select(v.table.c.id).where(v.condition)``. The alias never
    correlates with the statement it is used in, even one over the same table."""

    table: Alias
    condition: ColumnElement[bool]


def visible_rows(access: Any, model: type[Any], name: str | None = None) -> VisibleRows:
    """``model``'s rows that the caller of ``access`` (an ``AccessContext``; ``None`` for a
    system session) may read: the read predicate of an access-controlled entity (tenant,
    module permission, grants), the tenant for other tenant models — the condition the ORM
    hook would add, adapted to the alias."""
    table = model.__table__.alias(name or f"visible_{model.__tablename__}")
    if access is None:
        return VisibleRows(table, true())
    condition = ClauseAdapter(table).traverse(access.read_criteria(model))
    return VisibleRows(table, condition)


def refers_to_visible(
    access: Any, column: Any, model: type[Any], value: Any
) -> ColumnElement[bool]:
    """``column == value`` where ``value`` is the id of a ``model`` record, true only when the
    caller may read that record: a filter on a related id then behaves as if an invisible id
    did not exist, instead of confirming the hidden link through the records it returns.

    The visibility test is an uncorrelated ``EXISTS`` on the primary key: evaluated once
    per statement, not per row."""
    if access is None:
        return column == value
    rows = visible_rows(access, model)
    return and_(
        column == value,
        exists(select(rows.table.c.id).where(rows.table.c.id == value, rows.condition)),
    )
