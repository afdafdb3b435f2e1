"""Page statements built once per selection and scope shape, reused by every caller
(issue 19: "statements compiled once per selection and scope shape").

Building a page statement per request (the caller's predicates, the plan's columns and
joins, the cursor, the limit) and having SQLAlchemy key it cost more than running it. A
plain page — the module's own ``select(Model)``, no filter or search — is instead built
once per (plan, registry, dialect, narrowed?, descending?, cursor?, and the scope's shape
for the entities it reads) with
*named* parameters for everything that varies (:mod:`gateway.access.binds`: tenant, user,
id sets; here the limit and the cursor), kept on its :class:`~gateway.shaping.plan.ListPlan`,
and executed with the request's values. SQLAlchemy memoises a statement object's cache key,
so a reused statement also skips keying and finds its compiled form in the engine's cache.

The cached statement holds no caller's value: every named parameter is required, so one
left out fails the execution instead of reading as another caller's. A filtered page (its
``stmt`` holds the module's conditions, with their values) is built per request as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select, tuple_
from sqlalchemy.sql.cache_key import CacheKey

from gateway.access.enforcement import AccessContext
from gateway.access.named import NamedCriteria, shape_of, values_of
from gateway.access.narrowing import visible_ids
from gateway.errors import BadUserInput
from gateway.graphql.pagination import decode_cursor
from gateway.shaping.plan import ListPlan

#: Off: every page statement is built per request (the A/B switch of ``python -m bench.binds``).
ENABLED = True

LIMIT = "crm_limit"
AFTER_VALUE = "crm_after_value"
AFTER_ID = "crm_after_id"

#: Statements kept per plan and key: a plan sees few scope shapes; past this it starts again.
PER_PLAN = 64

_PLAIN: dict[type[Any], CacheKey | None] = {}


def is_plain(stmt: Select[Any], model: type[Any]) -> bool:
    """Whether ``stmt`` is the module's bare ``select(model)`` (no filter, search or join),
    compared by SQLAlchemy's cache key: anything added to it makes it another statement."""
    plain = _PLAIN.get(model)
    if plain is None:
        plain = _PLAIN[model] = select(model)._generate_cache_key()
    return stmt._generate_cache_key() == plain


def cursor_values(sort_column: Any, cursor: str) -> tuple[Any, int]:
    """The cursor's sort value and id, checked as :func:`~gateway.graphql.pagination.after_cursor`
    checks them (BAD_USER_INPUT for a cursor of another order)."""
    value, pk = decode_cursor(cursor)
    if not isinstance(value, sort_column.type.python_type):
        raise BadUserInput("this cursor belongs to a list in another order", field="after")
    return value, pk


class _Built:
    """A plan's statements for one (registry, dialect, narrowed, order, cursor?): the
    entities their predicates consulted, and a statement per scope shape of those."""

    def __init__(self, registry: Any, entities: tuple[str, ...]) -> None:
        #: Kept so that the registry's id in the key cannot be another registry's.
        self.registry = registry
        self.entities = entities
        self.by_shape: dict[tuple[Any, ...], Select[Any]] = {}


def page_statement(
    plan: ListPlan,
    access: AccessContext,
    sort_column: Any,
    *,
    narrowed: bool,
    descending: bool,
    after: bool,
) -> Select[Any]:
    """The plain page's statement for this caller's shape, built on first use. Its
    parameters: :func:`~gateway.access.named.values_of`, :data:`LIMIT` and, ``after``,
    :data:`AFTER_VALUE` and :data:`AFTER_ID`.

    The shape is taken over the entities the statement reads only (a share of a task does
    not make another contacts statement); which they are is learnt at the first build.
    """
    key = (id(access.registry), access.dialect, narrowed, descending, after)
    return cached(
        plan,
        key,
        access,
        lambda named: _build(
            plan, named, sort_column, narrowed=narrowed, descending=descending, after=after
        ),
    )


def cached(
    plan: Any,
    key: tuple[Any, ...],
    access: AccessContext,
    build: Callable[[NamedCriteria], Select[Any]],
) -> Select[Any]:
    """The statement kept on ``plan.statements`` (a list's or a lookup's plan) under ``key``
    for this caller's scope shape, built by ``build`` (with named criteria) on first use."""
    built: _Built | None = plan.statements.get(key)
    if built is not None:
        found = built.by_shape.get(shape_of(access, built.entities))
        if found is not None:
            return found
    named = NamedCriteria(access)
    stmt = build(named)
    entities = tuple(named.consulted)
    if built is None or built.entities != entities or len(built.by_shape) >= PER_PLAN:
        built = plan.statements[key] = _Built(access.registry, entities)
    built.by_shape[shape_of(access, entities)] = stmt
    return stmt


def _build(
    plan: ListPlan,
    named: NamedCriteria,
    sort_column: Any,
    *,
    narrowed: bool,
    descending: bool,
    after: bool,
) -> Select[Any]:
    model = plan.entity.model
    base = select(model)
    if narrowed:
        base = base.where(model.id.in_(visible_ids(named.access, model, named=True)))
        named.read_criteria(model)  # visible_ids reads the listed entity's grants too
    stmt = plan.statement(base, named)
    id_column = model.id
    if after:
        bound = tuple_(sort_column, id_column)
        cursor = tuple_(
            bindparam(AFTER_VALUE, type_=sort_column.type), bindparam(AFTER_ID, type_=Integer)
        )
        stmt = stmt.where(bound < cursor if descending else bound > cursor)
    by = (sort_column.desc(), id_column.desc()) if descending else (sort_column, id_column)
    return stmt.order_by(*by).limit(bindparam(LIMIT, type_=Integer))


def count_statement(plan: ListPlan, access: AccessContext, *, narrowed: bool) -> Select[Any]:
    """``totalCount`` of a plain list, built once per shape like :func:`page_statement` (kept
    on the plan too); its parameters are :func:`~gateway.access.named.values_of`."""
    key = ("count", id(access.registry), access.dialect, narrowed)

    def build(named: NamedCriteria) -> Select[Any]:
        model = plan.entity.model
        ids = select(model.id).where(named.read_criteria(model))
        if narrowed:
            ids = ids.where(model.id.in_(visible_ids(access, model, named=True)))
        return select(func.count()).select_from(ids.subquery())

    return cached(plan, key, access, build)


def page_values(access: AccessContext, limit: int, after: tuple[Any, int] | None) -> dict[str, Any]:
    """The parameters of :func:`page_statement` for this request."""
    values = values_of(access)
    values[LIMIT] = limit
    if after is not None:
        values[AFTER_VALUE], values[AFTER_ID] = after
    return values
