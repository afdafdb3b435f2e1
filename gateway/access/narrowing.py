"""Lists for callers who see few rows of a large table (issue 6, Q5).

The visibility predicate is an OR of grants (owner, hierarchy, shares, rules, public…).
Ordered by a sort index, a page is found by walking that index and filtering: cheap when
the caller sees a good share of the table, but for a user who sees 33 rows of a million the
walk reads the whole tenant (3 s on SQLite at 1M, and the count too). The same rows are
found in well under a millisecond from the other end: each grant alone is an indexed
lookup (``(tenant_id, owner_id)``, ``(tenant_id, access)``, the primary key), and their
UNION ALL is exactly the visible set.

:func:`narrow_to_visible` adds ``id IN (that union)`` to a list statement when the caller's
visible set is small. The condition is redundant — the visibility predicate still applies,
unchanged — so results are identical either way; only the plan changes (the planner drives
from the small id set and sorts it). Whether the set is small is probed once (a count of the
union capped where the two plans cost the same) and remembered per user for a minute: the
answer only picks a plan, it never decides what anyone sees.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import Session

from gateway.access.binds import tenant_is
from gateway.access.enforcement import AccessContext, access_of, plain_rows
from gateway.access.predicates import Mode, grant_clauses
from gateway.contract import Action

#: How long a "few rows / many rows" answer is reused for a user and entity, and a
#: tenant's row count for the rule below.
PROBE_TTL_SECONDS = 60.0
#: The page size the rule assumes (lists default to 50 rows).
TYPICAL_PAGE = 50


class PlanMemo:
    """Probe answers of one application (``Gateway.plan_memo``), each kept for a minute.

    Bounded: past 100,000 entries it forgets everything rather than grow.
    """

    def __init__(self, ttl: float = PROBE_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[Any, ...], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], compute: Callable[[], int]) -> int:
        now = time.monotonic()
        with self._lock:
            known = self._entries.get(key)
        if known is not None and now - known[0] <= self.ttl:
            return known[1]
        value = compute()
        with self._lock:
            if len(self._entries) > 100_000:
                self._entries.clear()
            self._entries[key] = (now, value)
        return value


def narrow_to_visible(ctx: Any, stmt: Select[Any], model: type[Any]) -> Select[Any]:
    """``stmt`` with ``model.id IN (union of the caller's grants)`` when the caller sees few
    rows of ``model`` (:func:`narrows`); ``stmt`` unchanged otherwise."""
    if not narrows(ctx, model):
        return stmt
    access = access_of(ctx.session)
    assert access is not None
    return stmt.where(model.id.in_(visible_ids(access, model)))


def visible_ids(access: AccessContext, model: type[Any], *, named: bool = False) -> Any:
    """The union of the caller's grants on ``model`` (``SELECT id … UNION ALL …``), with the
    caller's values or (``named``) named parameters (:mod:`gateway.access.binds`)."""
    entity = access.registry.entity_of_model[model]
    scope = access.scope
    tenant = tenant_is(model, scope, named)
    clauses = grant_clauses(scope, entity, Mode.READ, access.dialect, named=named)
    return union_all(*(select(model.id).where(tenant, c.condition) for c in clauses))


def narrows(ctx: Any, model: type[Any]) -> bool:
    """Whether the caller sees few rows of ``model``, so that lists should be narrowed to
    :func:`visible_ids`. ``ctx`` is the request context (its ``session``, and its
    ``gateway``'s ``plan_memo`` and ``settings.narrowing_cap``).

    "Few" is decided by cost: walking the sort index reads about ``page * N / V`` rows of a
    tenant of ``N`` rows to find a page of a caller who sees ``V``; the grants' union reads
    and sorts ``V``. They break even near ``V = sqrt(page * N)``, the cap of the probe.
    ``Settings.narrowing_cap`` fixes it instead (``0``: never narrow).

    The first list of a user in a minute costs up to two probe statements more (the tenant's
    row count, shared by its users, and the user's capped count); budgets are steady-state.
    """
    session: Session = ctx.session
    memo: PlanMemo = ctx.gateway.plan_memo
    cap: int | None = ctx.gateway.settings.narrowing_cap
    access = access_of(session)
    if access is None or cap == 0 or access.scope.sees_everything:
        return False
    entity = access.registry.entity_of_model.get(model)
    if entity is None:
        return False
    scope = access.scope
    if not scope.has(access.registry.permission_for(entity.entity, Action.READ)):
        return False
    tenant = model.tenant_id == scope.tenant_id
    if cap is None:
        rows = memo.get(
            ("rows", scope.tenant_id, entity.entity),
            lambda: plain_rows(session, select(func.count()).where(tenant)).scalar() or 0,
        )
        cap = max(100, math.isqrt(TYPICAL_PAGE * rows) + 1)
    limit = cap
    seen = memo.get(
        ("seen", scope.tenant_id, scope.user_id, entity.entity, limit),
        lambda: (
            plain_rows(
                session,
                select(func.count()).select_from(
                    visible_ids(access, model).limit(limit).subquery()
                ),
            ).scalar()
            or 0
        ),
    )
    return seen < limit
