"""Record visibility as SQL: the one place that decides who may read or write a record.

Each grant is a named clause (:class:`Reason`), so the same code builds the predicate
that filters every query and the explanation ``explainAccess`` gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, String, exists, false, literal_column, or_, select, true

from gateway.access.binds import (
    ASSIGNEES,
    BELOW,
    SERVED,
    USER,
    id_set,
    rules_name,
    shared_name,
    tenant_is,
    value_of,
)
from gateway.access.scope import AccessScope
from gateway.contract import AccessControlledEntity, AccessLevel, Action
from gateway.plugins import PluginRegistry


class Reason(StrEnum):
    """Why access is granted (or, for the first and last, refused)."""

    MODULE_PERMISSION = "MODULE_PERMISSION"
    #: The module permission comes from a user group the caller belongs to, not the profile.
    GROUP_GRANT = "GROUP_GRANT"
    PROFILE_KIND = "PROFILE_KIND"
    OWNERSHIP = "OWNERSHIP"
    HIERARCHY = "HIERARCHY"
    #: The owner's role is below the caller's (organisations whose visibility follows roles).
    ROLE_HIERARCHY = "ROLE_HIERARCHY"
    ASSISTANT = "ASSISTANT"
    ASSIGNMENT = "ASSIGNMENT"
    SHARE = "SHARE"
    SHARING_RULE = "SHARING_RULE"
    PUBLIC_LEVEL = "PUBLIC_LEVEL"
    UNOWNED = "UNOWNED"
    FIELD_RULE = "FIELD_RULE"


class Mode(StrEnum):
    READ = "read"
    WRITE = "write"
    #: Read through anything but a public level: owner, hierarchy, share… (full-access fields)
    FULL = "full"


@dataclass(frozen=True)
class Clause:
    reason: Reason
    condition: ColumnElement[bool]


def member_of(column: Any, ids: Iterable[int], dialect: str) -> ColumnElement[bool]:
    """``column`` in a set of ids, bound as ONE parameter whatever its size (a PostgreSQL
    array, a JSON array on SQLite: see :func:`gateway.access.binds.id_set`), so the SQL
    text does not change with the number of ids."""
    found: ColumnElement[bool] = id_set(column, ids, dialect)
    return found


def _member(
    column: Any, ids: Iterable[int], dialect: str, name: str, named: bool
) -> ColumnElement[bool]:
    """``column`` in ``ids``: their value, or (``named``) the parameter ``name``."""
    found: ColumnElement[bool] = id_set(column, None if named else ids, dialect, name)
    return found


#: The public levels as SQL constants (our own enum's values): a list of values would be an
#: expanding parameter, whose SQL SQLAlchemy renders anew at every execution.
_PUBLIC = [
    literal_column(f"'{level.value}'", String)
    for level in (AccessLevel.PUBLIC_READ, AccessLevel.PUBLIC_WRITE)
]


def required_action(mode: Mode) -> Action:
    return Action.UPDATE if mode is Mode.WRITE else Action.READ


def grant_clauses(
    scope: AccessScope,
    entity: AccessControlledEntity,
    mode: Mode,
    dialect: str,
    *,
    named: bool = False,
) -> list[Clause]:
    """The alternatives that grant ``mode`` on ``entity``, in the order explanations use.

    ``named`` (reads, and full access, which reads the same grants): the caller's values as
    named parameters (:mod:`gateway.access.binds`); every branch on ``scope`` here must be
    part of :func:`~gateway.access.binds.scope_shape`.
    """
    if named and mode is Mode.WRITE:
        raise ValueError("named parameters serve read predicates only")
    model = entity.model
    owner = getattr(model, entity.owner_attribute)
    access = getattr(model, entity.access_attribute)
    write = mode is Mode.WRITE
    clauses: list[Clause] = []
    if scope.sees_everything:
        clauses.append(Clause(Reason.PROFILE_KIND, true()))
    clauses.append(Clause(Reason.OWNERSHIP, owner == value_of(USER, scope.user_id, named)))
    if scope.subordinate_ids:
        below = Reason.ROLE_HIERARCHY if scope.role_tree else Reason.HIERARCHY
        ids = scope.subordinate_ids
        clauses.append(Clause(below, _member(owner, ids, dialect, BELOW, named)))
    if scope.served_ids:
        ids = scope.served_ids
        clauses.append(Clause(Reason.ASSISTANT, _member(owner, ids, dialect, SERVED, named)))
    if entity.assignments is not None:
        clauses.append(Clause(Reason.ASSIGNMENT, assigned_to(scope, entity, dialect, named=named)))
    shared = scope.shared_ids(entity.entity, write=write)
    if shared:
        name = shared_name(entity.entity)
        clauses.append(Clause(Reason.SHARE, _member(model.id, shared, dialect, name, named)))
    rule_owners = scope.rule_owner_ids(entity.entity, write=write)
    if rule_owners:
        name = rules_name(entity.entity)
        clauses.append(
            Clause(Reason.SHARING_RULE, _member(owner, rule_owners, dialect, name, named))
        )
    if mode is Mode.READ:
        clauses.append(Clause(Reason.PUBLIC_LEVEL, access.in_(_PUBLIC)))
        if entity.unowned_visible:
            clauses.append(Clause(Reason.UNOWNED, owner.is_(None)))
    elif write:
        clauses.append(Clause(Reason.PUBLIC_LEVEL, access == AccessLevel.PUBLIC_WRITE.value))
    return clauses


def assignees(scope: AccessScope) -> frozenset[int]:
    """Whose assignments count as the caller's: their own, those of everyone below them,
    and (for assistants) those of the users they serve — as for ownership."""
    return frozenset({scope.user_id}) | scope.subordinate_ids | scope.served_ids


def assigned_to(
    scope: AccessScope, entity: AccessControlledEntity, dialect: str, *, named: bool = False
) -> ColumnElement[bool]:
    """``EXISTS`` an assignment of the record to one of :func:`assignees` (a semi-join the
    ``(user, record)`` index answers; correlated with the entity's row)."""
    grant = entity.assignments
    assert grant is not None
    rows = grant.model
    return exists(
        select(getattr(rows, grant.record_attribute)).where(
            getattr(rows, grant.record_attribute) == entity.model.id,
            tenant_is(rows, scope, named),
            _member(
                getattr(rows, grant.user_attribute), assignees(scope), dialect, ASSIGNEES, named
            ),
        )
    )


def predicate(
    scope: AccessScope,
    registry: PluginRegistry,
    entity: AccessControlledEntity,
    mode: Mode,
    dialect: str,
    *,
    named: bool = False,
) -> ColumnElement[bool]:
    """Tenant AND module permission AND any grant clause (``named``: see
    :func:`grant_clauses`)."""
    tenant = tenant_is(entity.model, scope, named)
    if not scope.has(registry.permission_for(entity.entity, required_action(mode))):
        return false()
    clauses = grant_clauses(scope, entity, mode, dialect, named=named)
    if clauses and clauses[0].reason is Reason.PROFILE_KIND:
        return tenant
    return tenant & or_(*(c.condition for c in clauses))
