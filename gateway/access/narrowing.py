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
union capped at the threshold) and remembered per user for a minute: the answer only picks
a plan, it never decides what anyone sees.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import Session

from gateway.access.enforcement import access_of, plain_rows
from gateway.access.predicates import Mode, Reason, grant_clauses
from gateway.contract import Action

#: How long a "few rows / many rows" answer is reused for a user and entity.
PROBE_TTL_SECONDS = 60.0

_probes: dict[tuple[int, int, str], tuple[float, bool]] = {}
_lock = threading.Lock()


def narrow_to_visible(
    session: Session, stmt: Select[Any], model: type[Any], threshold: int
) -> Select[Any]:
    """``stmt`` with ``model.id IN (union of the caller's grants)`` when the caller sees
    fewer than ``threshold`` rows of ``model``; ``stmt`` unchanged otherwise."""
    access = access_of(session)
    if access is None or threshold <= 0 or access.scope.sees_everything:
        return stmt
    entity = access.registry.entity_of_model.get(model)
    if entity is None:
        return stmt
    scope = access.scope
    if not scope.has(access.registry.permission_for(entity.entity, Action.READ)):
        return stmt
    clauses = grant_clauses(scope, entity, Mode.READ, access.dialect)
    if any(c.reason is Reason.PROFILE_KIND for c in clauses):
        return stmt
    tenant = model.tenant_id == scope.tenant_id
    visible = union_all(*(select(model.id).where(tenant, c.condition) for c in clauses))
    key = (scope.tenant_id, scope.user_id, entity.entity)
    now = time.monotonic()
    with _lock:
        known = _probes.get(key)
    if known is None or now - known[0] > PROBE_TTL_SECONDS:
        capped = select(func.count()).select_from(visible.limit(threshold).subquery())
        few = (plain_rows(session, capped).scalar() or 0) < threshold
        with _lock:
            if len(_probes) > 100_000:  # bounded: forget everything rather than grow
                _probes.clear()
            _probes[key] = (now, few)
    else:
        few = known[1]
    return stmt.where(model.id.in_(visible)) if few else stmt
