"""What-if: who would gain or lose access if an admin saved a change, without saving it.

The change is applied through the real service function inside a SAVEPOINT; every user's
access facts are read before and after it (one statement each time, for all users), and
for every entity the records each changed user would newly see or stop seeing are counted
by the real visibility predicate (:func:`gateway.access.predicates.predicate`) in ONE
aggregate statement: one ``count(CASE …)`` column per user and direction. Then the
savepoint is rolled back: nothing is saved, logged or notified. Adding a kind of change is
one function ``apply(session)`` that calls the service.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.access.enforcement import access_of
from gateway.access.fields import scope_effective_rules
from gateway.access.models import FieldMode
from gateway.access.predicates import Mode, predicate
from gateway.access.scope import SYSTEM, AccessScope, Facts, fact_branches, facts_from_rows
from gateway.contract import AccessControlledEntity
from gateway.errors import Conflict
from gateway.identity.models import Profile, ProfileKind, User
from gateway.plugins import PluginRegistry

#: At most this many users whose access changes are counted per preview (the first by id);
#: the answer says how many changed in all (``usersChanged``) and whether it was cut.
MAX_PREVIEW_USERS = 100

_SYS = {SYSTEM: True}


@dataclass(frozen=True)
class EntityChange:
    entity: str
    read_gained: int
    read_lost: int
    write_gained: int
    write_lost: int


@dataclass(frozen=True)
class FieldChange:
    type_name: str
    field_name: str
    before: FieldMode | None  # None: readable and writable
    after: FieldMode | None


@dataclass
class UserChange:
    user_id: int
    kind_before: ProfileKind
    kind_after: ProfileKind
    entities: list[EntityChange] = field(default_factory=list)
    fields: list[FieldChange] = field(default_factory=list)
    permissions_gained: list[str] = field(default_factory=list)
    permissions_lost: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.entities
            or self.fields
            or self.permissions_gained
            or self.permissions_lost
            or self.kind_before is not self.kind_after
        )


@dataclass
class Preview:
    users_compared: int
    users_changed: int
    truncated: bool
    users: list[UserChange]


def scopes(session: Session, registry: PluginRegistry, tenant_id: int) -> dict[int, AccessScope]:
    """Every active user's access scope as it stands in ``session``'s transaction: the users
    and their profile kinds in one statement, all their facts in one more (the same
    :func:`fact_branches` sign-in reads, joined to the users instead of bound to one)."""
    people = session.execute(
        select(User.id, User.profile_id, Profile.kind)
        .join(Profile, Profile.id == User.profile_id)
        .where(User.tenant_id == tenant_id, User.is_active.is_(True))
        .order_by(User.id)
        .execution_options(**_SYS)
    ).all()
    branches = [
        branch.add_columns(User.id.label("uid")).where(
            User.tenant_id == tenant_id, User.is_active.is_(True)
        )
        for branch in fact_branches(
            User.profile_id, User.id, User.tenant_id, admin=False, assistant=True
        )
    ]
    union = branches[0].union_all(*branches[1:]).subquery()
    rows_of: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(select(union).execution_options(**_SYS)):
        rows_of[row[-1]].append(row)
    everything = frozenset(registry.permissions)
    result: dict[int, AccessScope] = {}
    for uid, profile_id, kind in people:
        facts: Facts = facts_from_rows(rows_of.get(uid, []), kind)
        result[uid] = AccessScope(
            tenant_id=tenant_id,
            user_id=uid,
            profile_id=profile_id,
            kind=kind,
            all_permissions=everything,
            session=session,
            prefetched=facts,
        )
    return result


def _fingerprint(scope: AccessScope) -> tuple[object, ...]:
    return (
        scope.kind,
        scope.permissions,
        tuple(sorted(scope.field_rules.items())),
        scope.subordinate_ids,
        scope.served_ids,
        tuple(sorted((e, tuple(sorted(s.items()))) for e, s in scope.shares.items())),
        scope.rule_grants,
    )


def _field_changes(
    registry: PluginRegistry, before: AccessScope, after: AccessScope
) -> list[FieldChange]:
    old, new = scope_effective_rules(before, registry), scope_effective_rules(after, registry)
    keys = sorted(set(old) | set(new))
    return [
        FieldChange(t, f, old.get((t, f)), new.get((t, f)))
        for t, f in keys
        if old.get((t, f)) != new.get((t, f))
    ]


def _gained(now: ColumnElement[bool], was: ColumnElement[bool]) -> Any:
    """Rows ``now`` grants and ``was`` did not (a NULL ``was`` is "not visible", as in a
    WHERE clause)."""
    return func.count(case((was, None), (now, 1)))


def _count_changes(
    session: Session,
    registry: PluginRegistry,
    entity: AccessControlledEntity,
    pairs: list[tuple[AccessScope, AccessScope]],
) -> list[tuple[int, int, int, int]]:
    """Read gained/lost and write gained/lost per (before, after) pair, in one statement."""
    dialect = session.get_bind().dialect.name
    columns = []
    for before, after in pairs:
        for mode in (Mode.READ, Mode.WRITE):
            was = predicate(before, registry, entity, mode, dialect)
            now = predicate(after, registry, entity, mode, dialect)
            columns += [_gained(now, was), _gained(was, now)]
    tenant_id = pairs[0][0].tenant_id
    row = session.execute(
        select(*columns)
        .select_from(entity.model)
        .where(entity.model.tenant_id == tenant_id)
        .execution_options(**_SYS)
    ).one()
    return [(row[i], row[i + 1], row[i + 2], row[i + 3]) for i in range(0, len(row), 4)]


def preview(
    session: Session,
    registry: PluginRegistry,
    tenant_id: int,
    entities: Iterable[str],
    apply: Callable[[Session], object],
) -> Preview:
    """Apply ``apply`` in a savepoint, compare everyone's access before and after, roll back.

    Raises what ``apply`` raises (a typed error for a change the service refuses)."""
    before = scopes(session, registry, tenant_id)
    savepoint = session.begin_nested()
    try:
        try:
            apply(session)
            session.flush()
        except IntegrityError as exc:
            raise Conflict("this conflicts with an existing record or one just changed") from exc
        after = scopes(session, registry, tenant_id)
    finally:
        savepoint.rollback()
        access = access_of(session)
        if access is not None:
            access.invalidate()
    changed = [
        uid
        for uid in sorted(set(before) | set(after))
        if uid in before and uid in after and _fingerprint(before[uid]) != _fingerprint(after[uid])
    ]
    counted = changed[:MAX_PREVIEW_USERS]
    report = {
        uid: UserChange(
            uid,
            before[uid].kind,
            after[uid].kind,
            fields=_field_changes(registry, before[uid], after[uid]),
            permissions_gained=sorted(after[uid].permissions - before[uid].permissions),
            permissions_lost=sorted(before[uid].permissions - after[uid].permissions),
        )
        for uid in counted
    }
    if counted:
        pairs = [(before[uid], after[uid]) for uid in counted]
        for key in sorted(entities):
            entity = registry.entities[key]
            for uid, counts in zip(
                counted, _count_changes(session, registry, entity, pairs), strict=True
            ):
                if any(counts):
                    report[uid].entities.append(EntityChange(key, *counts))
    return Preview(
        users_compared=len(before),
        users_changed=len(changed),
        truncated=len(changed) > len(counted),
        users=[change for change in report.values() if not change.empty],
    )
