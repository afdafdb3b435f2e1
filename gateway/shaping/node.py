"""One record by id on the kernel's fast path: :func:`shaped_node` answers a plain selection
of a declared entity (``contact(id)``) in one statement — the record's row with the caller's
read criteria, its to-one relations outer-joined, its to-many ones as JSON aggregates — or
returns ``None`` so that the general path answers.

A record the caller may not read reads as no row, i.e. ``null``, as on the general path.
``@fullAccess`` fields (:attr:`Entity.full_access`) are read with the caller's full access
to the record, in the same statement: without it the general path answers (its per-field
FORBIDDEN error is its own to give), so a shaped answer never differs from it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, bindparam, case, or_, select, true

from gateway.access.binds import USER, value_of
from gateway.access.enforcement import AccessContext, access_of, plain_rows
from gateway.access.named import NamedCriteria, values_of
from gateway.access.predicates import Mode, predicate
from gateway.graphql.shaped import Selected, Shaped, plain_selection
from gateway.shaping import statements
from gateway.shaping.declare import Entity
from gateway.shaping.shape import Shaper, compiled


class NodePlan(Shaper):
    """A compiled selection of one record (any caller; criteria added per statement)."""

    def __init__(self, entity: Entity, selection: Selected) -> None:
        super().__init__(entity, full_access=True)
        self.selection = selection
        self.columns.positions((entity.model.id,))  # a row, whatever is selected
        self.shape = self.object_getter(entity, selection, None)
        #: Statements built once per scope shape (gateway.shaping.statements).
        self.statements: dict[tuple[Any, ...], Any] = {}

    def statement(self, access: AccessContext) -> Select[Any]:
        """The row of the record :data:`PK`: its columns, and last, when ``@fullAccess``
        fields are selected, whether the caller has full access to it (1 or 0). Built once
        per scope shape with named parameters; run with :func:`node_values`."""
        key = ("node", id(access.registry), access.dialect)
        return statements.cached(self, key, access, self._build)

    def _build(self, named: NamedCriteria) -> Select[Any]:
        model = self.entity.model
        expressions = self.expressions(named)
        if self.reads_full_access:
            expressions.append(case((full_access(named, model), 1), else_=0))
        pk = bindparam(PK, type_=Integer)
        stmt = select(*expressions).where(model.id == pk, named.read_criteria(model))
        return self.joined(stmt.select_from(model.__table__), named)


#: The parameter of the record's id.
PK = "crm_pk"


def node_values(access: AccessContext, pk: int) -> dict[str, Any]:
    """The parameters of :meth:`NodePlan.statement` for this caller and record."""
    values = values_of(access)
    values[PK] = pk
    return values


def full_access(named: NamedCriteria, model: Any) -> Any:
    """SQL for :func:`gateway.access.fields.has_full_access`: everything seen, the owner,
    or any grant but a public level (named parameters, as the statement's criteria)."""
    access = named.access
    entity = access.registry.entity_of_model.get(model)
    if entity is None or access.scope.sees_everything:  # sees_everything: part of the shape
        return true()
    named.read_criteria(model)  # the shape covers the entity's grants
    grants = predicate(access.scope, access.registry, entity, Mode.FULL, named.dialect, named=True)
    return or_(getattr(model, entity.owner_attribute) == value_of(USER, None, True), grants)


#: Compiled plans by (entity, selection) (see :func:`~gateway.shaping.shape.compiled`).
_PLANS: dict[tuple[int, Selected], NodePlan | None] = {}


def node_plan_for(entity: Entity, selection: Selected) -> NodePlan | None:
    """The plan for this selection, or ``None`` if the general path must answer it."""
    found: NodePlan | None = compiled(
        _PLANS, (id(entity), selection), lambda: NodePlan(entity, selection)
    )
    return found


def shaped_node(info: Any, entity: Entity, pk: int, *, abstract: bool = False) -> Shaped | None:
    """The record ``pk`` as a pre-shaped result (``null`` if the caller may not read it), or
    ``None``: shaped results off, a selection the declaration does not answer, or selected
    ``@fullAccess`` fields of a record the caller has no full access to. ``abstract``: the
    field is interface-typed (``node(id)``), its selection is read as the entity's type."""
    ctx = info.context
    if not ctx.gateway.settings.shaped_results:
        return None
    selection = plain_selection(info, entity.type_name if abstract else None)
    if selection is None:
        return None
    plan = node_plan_for(entity, selection)
    if plan is None:
        return None
    access = access_of(ctx.session)
    if access is None:
        return None
    row = plain_rows(ctx.session, plan.statement(access), node_values(access, pk)).first()
    if row is None:
        return Shaped(None)
    if plan.reads_full_access and not row[-1]:
        return None
    return Shaped(plan.shape(row))
