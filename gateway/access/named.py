"""A caller's read criteria with named parameters, and what a statement built from them is
cached under (:mod:`gateway.access.binds` explains why).

:class:`NamedCriteria` answers ``read_criteria(model)`` like
:class:`~gateway.access.enforcement.AccessContext` (the interface the shaper's plans and
the modules' declared relations call), but with parameters in place of the caller's values.
A statement built from it is the same for every caller of the same :func:`shape_of`, and
runs with :func:`values_of` as its parameters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from gateway.access.binds import scope_shape, scope_values, tenant_is
from gateway.access.enforcement import AccessContext
from gateway.access.predicates import Mode, predicate


class NamedCriteria:
    """``read_criteria`` of a caller with named parameters (see the module docstring)."""

    def __init__(self, access: AccessContext) -> None:
        self.access = access
        self.dialect = access.dialect
        #: The entities whose predicates were asked for, in order: the statement's SQL
        #: depends on the scope's shape for these only (see :func:`shape_of`).
        self.consulted: list[str] = []

    def read_criteria(self, model: type[Any]) -> ColumnElement[bool]:
        access = self.access
        entity = access.registry.entity_of_model.get(model)
        if entity is not None:
            if entity.entity not in self.consulted:
                self.consulted.append(entity.entity)
            return predicate(
                access.scope, access.registry, entity, Mode.READ, self.dialect, named=True
            )
        return tenant_is(model, access.scope, named=True)


def shape_of(access: AccessContext, entities: tuple[str, ...]) -> tuple[Any, ...]:
    """What a statement built from :class:`NamedCriteria` that consulted ``entities``
    depends on besides its own construction: the scope's shape for those entities.
    Computed once per request and set of entities."""
    key = ("shape", entities)
    found = access.bound_cache.get(key)
    if found is None:
        found = access.bound_cache[key] = scope_shape(access.scope, access.registry, entities)
    return found


def values_of(access: AccessContext) -> dict[str, Any]:
    """The caller's parameter values (a fresh dict, the caller may add its own)."""
    found = access.bound_cache.get(("values",))
    if found is None:
        found = access.bound_cache[("values",)] = scope_values(
            access.scope, access.registry, access.dialect
        )
    return dict(found)
