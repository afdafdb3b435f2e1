"""The reporting hierarchy ("reports to"), kept as a closure table for indexed lookups."""

from __future__ import annotations

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.orm import Session

from gateway.access.models import UserHierarchy
from gateway.access.scope import SYSTEM
from gateway.errors import BadUserInput
from gateway.identity.models import User

_SYS = {SYSTEM: True}


def ancestors(session: Session, user_id: int) -> list[tuple[int, int]]:
    """``(ancestor id, depth)`` for everyone above ``user_id`` and the user itself (depth 0)."""
    rows = session.execute(
        select(UserHierarchy.ancestor_id, UserHierarchy.depth)
        .where(UserHierarchy.descendant_id == user_id)
        .order_by(UserHierarchy.depth)
        .execution_options(**_SYS)
    )
    return [(a, d) for a, d in rows]


def descendants(session: Session, user_id: int) -> list[tuple[int, int]]:
    """``(descendant id, depth)`` for the user (depth 0) and everyone below."""
    rows = session.execute(
        select(UserHierarchy.descendant_id, UserHierarchy.depth)
        .where(UserHierarchy.ancestor_id == user_id)
        .order_by(UserHierarchy.depth, UserHierarchy.descendant_id)
        .execution_options(**_SYS)
    )
    return [(d, depth) for d, depth in rows]


def attach(session: Session, user: User) -> None:
    """Add a new user (no subordinates yet) under its manager."""
    session.flush()
    rows = [{"ancestor_id": user.id, "descendant_id": user.id, "depth": 0}]
    if user.manager_id is not None:
        rows += [
            {"ancestor_id": a, "descendant_id": user.id, "depth": d + 1}
            for a, d in ancestors(session, user.manager_id)
        ]
    session.execute(insert(UserHierarchy), rows)


def set_manager(session: Session, user: User, manager: User | None) -> None:
    """Make ``user`` (and its whole subtree) report to ``manager``; cycles are refused."""
    if user.manager_id == (manager.id if manager else None):
        return
    sub_depths = dict(descendants(session, user.id))
    subtree = set(sub_depths)
    if manager is not None:
        if manager.tenant_id != user.tenant_id:
            raise BadUserInput("no such user", field="managerId")
        if manager.id in subtree:
            raise BadUserInput(
                "a user cannot report to themselves or to someone who reports to them",
                field="managerId",
            )
    # Cut the subtree loose from everyone above the user...
    old_above = [a for a, d in ancestors(session, user.id) if d > 0]
    if old_above:
        session.execute(
            delete(UserHierarchy).where(
                and_(
                    UserHierarchy.ancestor_id.in_(old_above),
                    UserHierarchy.descendant_id.in_(subtree),
                )
            )
        )
    # ...and hang it under the new manager's chain.
    if manager is not None:
        session.execute(
            insert(UserHierarchy),
            [
                {"ancestor_id": a, "descendant_id": d, "depth": ad + 1 + dd}
                for a, ad in ancestors(session, manager.id)
                for d, dd in sub_depths.items()
            ],
        )
    user.manager_id = manager.id if manager else None
    session.flush()


def chain(session: Session, from_user_id: int, to_ancestor_id: int) -> list[int]:
    """User ids from ``from_user_id`` up to ``to_ancestor_id`` (both included), via managers."""
    path = [from_user_id]
    managers = dict(
        session.execute(
            select(User.id, User.manager_id)
            .where(User.id.in_([a for a, _ in ancestors(session, from_user_id)]))
            .execution_options(**_SYS)
        ).all()
    )
    current = from_user_id
    while current != to_ancestor_id and (manager := managers.get(current)) is not None:
        current = manager
        path.append(current)
    return path
