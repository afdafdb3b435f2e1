"""Reassign clients between company-user pairs (MISSION M7): what moves, counted and moved
by the same SQL.

The selection is the caller's visible contacts (the contacts list's ``filtered``: search
and filters) at the origin — assigned to the origin user in the origin company, without an
assignment there (orphans), and/or in some zones — narrowed to the multi-select. Each
selected client then either moves or is skipped for one reason, decided in SQL, in this
order: the caller may not change it (``NOT_WRITABLE``), it keeps its existing destination
assignment (``KEPT_AT_DESTINATION``), or moving would change nothing
(``ALREADY_AT_DESTINATION``). The preview and the job run :func:`classified` alike, so the
confirmation count is what the job moves (unless the data changes in between). The
semantics of the options are tabled in docs/modules/contacts.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, not_, select, true
from sqlalchemy.orm import selectinload

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    JobHandle,
    check_filterable_fields,
    companies,
    get_user,
    writable_rows,
)
from plugins.contacts import assignments, services
from plugins.contacts.assignments import AssignmentData
from plugins.contacts.models import Contact
from plugins.contacts.reassign.common import batches, count_tasks, move_tasks, visible_ids


class Skip(StrEnum):
    """Why a selected client does not move."""

    NOT_WRITABLE = "NOT_WRITABLE"
    KEPT_AT_DESTINATION = "KEPT_AT_DESTINATION"
    ALREADY_AT_DESTINATION = "ALREADY_AT_DESTINATION"
    #: A multi-selected client that is not at the origin (or not in the filters).
    NOT_AT_ORIGIN = "NOT_AT_ORIGIN"


@dataclass(frozen=True)
class Origin:
    company_id: int
    user_id: int | None = None
    #: Clients with no assignment in the origin company ("orphans").
    orphans: bool = False
    zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClientMove:
    """One reassignment, as asked (ids already parsed)."""

    origin: Origin
    destination: AssignmentData
    contact_ids: tuple[int, ...] | None = None
    search: str | None = None
    filter: services.ContactFilter | None = None
    #: The ``Contact`` fields the filter reads (they must be readable: ``filter_reads``).
    reads: frozenset[str] = frozenset()
    with_tasks: bool = False
    keep_origin: bool = False
    keep_existing: bool = False

    @property
    def same_company(self) -> bool:
        return self.origin.company_id == self.destination.company_id


@dataclass
class Counts:
    selected: int = 0
    moved: int = 0
    skipped: dict[Skip, int] = field(default_factory=dict)
    tasks: int | None = None

    def as_result(self) -> dict[str, int]:
        result = {"selected": self.selected, "moved": self.moved}
        result.update({f"skipped{s.title().replace('_', '')}": n for s, n in self.skipped.items()})
        if self.tasks is not None:
            result["tasksMoved"] = self.tasks
        return result


def check(ctx: CallerContext, ask: ClientMove) -> None:
    """Refuse what cannot run, before anything is counted or written (typed errors)."""
    origin, destination = ask.origin, ask.destination
    companies.get_company(ctx.session, ctx.tenant_id, origin.company_id)
    if origin.orphans and origin.user_id is not None:
        raise BadUserInput("orphans have no origin user", field="origin.userId")
    if origin.user_id is None and not origin.orphans and not origin.zones:
        raise BadUserInput("name an origin user, orphans or zones", field="origin.userId")
    if origin.user_id is not None:
        get_user(ctx.session, ctx.tenant_id, origin.user_id, "origin.userId")  # may be inactive
    if ask.same_company:
        if origin.user_id == destination.user_id:
            raise BadUserInput("the origin and the destination are the same", field="destination")
        if ask.keep_origin or ask.keep_existing:
            field = "keepOriginAssignment" if ask.keep_origin else "keepExistingDestination"
            raise BadUserInput("only when the managing companies differ", field=field)
    if ask.with_tasks and origin.user_id is None:
        raise BadUserInput("tasks move from an origin user: name one", field="withTasks")
    zone = ("zone",) if origin.zones else ()
    check_filterable_fields(ctx.access, "Contact", {"assignments", *zone, *ask.reads})
    assignments.check_assignable(ctx, destination)
    if ask.contact_ids is not None:
        visible_ids(ctx, ask.contact_ids)


def _at_origin(ctx: CallerContext, ask: ClientMove) -> list[ColumnElement[bool]]:
    origin, tenant_id = ask.origin, ctx.tenant_id
    conditions: list[ColumnElement[bool]] = []
    if origin.user_id is not None:
        conditions.append(assignments.matching(tenant_id, origin.company_id, origin.user_id))
    if origin.orphans:
        conditions.append(not_(assignments.matching(tenant_id, origin.company_id, None)))
    if origin.zones:
        conditions.append(Contact.zone.in_(origin.zones))
    return conditions


def classified(ctx: CallerContext, ask: ClientMove) -> Any:
    """The selected clients, one row each: ``id`` and the skip flags ``w`` (writable),
    ``k`` (kept at destination), ``a`` (already there) as 0/1 — a subquery."""
    tenant_id, dest = ctx.tenant_id, ask.destination
    stmt: Select[Any] = services.filtered(ctx, ask.search, ask.filter).where(*_at_origin(ctx, ask))
    if ask.contact_ids is not None:
        stmt = stmt.where(Contact.id.in_(ask.contact_ids))
    kept: ColumnElement[bool] = (
        assignments.matching(tenant_id, dest.company_id, None)
        if ask.keep_existing and not ask.same_company
        else false()
    )
    # nothing would change: the destination user is already there and the origin stays
    unchanged_origin: ColumnElement[bool] = (
        true()
        if ask.same_company or ask.keep_origin
        else not_(assignments.matching(tenant_id, ask.origin.company_id, None))
    )
    already = and_(assignments.matching(tenant_id, dest.company_id, dest.user_id), unchanged_origin)
    return stmt.with_only_columns(
        Contact.id.label("id"),
        case((writable_rows(ctx.access, Contact), 1), else_=0).label("w"),
        case((kept, 1), else_=0).label("k"),
        case((already, 1), else_=0).label("a"),
    ).subquery("reassigned")


def _moving(rows: Any) -> ColumnElement[bool]:
    return and_(rows.c.w == 1, rows.c.k == 0, rows.c.a == 0)


def count(ctx: CallerContext, ask: ClientMove) -> Counts:
    """The confirmation count: how many would move, how many are skipped and why, and (with
    tasks) how many tasks the modules that own tasks would move."""
    rows = classified(ctx, ask)
    writable = rows.c.w == 1

    def total(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    found = ctx.session.execute(
        select(
            func.count(),
            total(_moving(rows)),
            total(rows.c.w == 0),
            total(and_(writable, rows.c.k == 1)),
            total(and_(writable, rows.c.k == 0, rows.c.a == 1)),
        ).select_from(rows)
    ).one()
    selected, moved, not_writable, kept, already = (int(v) for v in found)
    counts = Counts(selected=selected, moved=moved)
    for skip, n in (
        (Skip.NOT_WRITABLE, not_writable),
        (Skip.KEPT_AT_DESTINATION, kept),
        (Skip.ALREADY_AT_DESTINATION, already),
        (Skip.NOT_AT_ORIGIN, len(set(ask.contact_ids)) - selected if ask.contact_ids else 0),
    ):
        if n:
            counts.skipped[skip] = n
    if ask.with_tasks:
        counts.tasks = sum(
            count_tasks(ctx, ask.origin.company_id, _from(ask), chunk, None, None)
            for chunk in batches(moving_ids(ctx, ask))
        )
    return counts


def moving_ids(ctx: CallerContext, ask: ClientMove) -> list[int]:
    """The ids of the clients that move, in id order (read once, before any change)."""
    rows = classified(ctx, ask)
    return list(ctx.session.scalars(select(rows.c.id).where(_moving(rows)).order_by(rows.c.id)))


def _from(ask: ClientMove) -> int:
    assert ask.origin.user_id is not None  # check(): tasks need an origin user
    return ask.origin.user_id


def run(ctx: CallerContext, ask: ClientMove, job: JobHandle | None = None) -> Counts:
    """Move the clients (the job's one transaction: all of them or none), batch by batch:
    assignments through :func:`assignments.move`, then their tasks through the hook."""
    check(ctx, ask)
    counts = count(ctx, replace(ask, with_tasks=False))  # tasks: counted as they move
    ids = moving_ids(ctx, ask)
    if ask.with_tasks:
        counts.tasks = 0
    done = 0
    for chunk in batches(ids):
        contacts = ctx.session.scalars(
            select(Contact)
            .where(Contact.id.in_(chunk))
            .options(selectinload(Contact.assignments))
            .order_by(Contact.id)
        ).all()
        for contact in contacts:
            assignments.move(
                ctx, contact, ask.origin.company_id, ask.destination, keep_origin=ask.keep_origin
            )
        ctx.session.flush()
        if ask.with_tasks:
            counts.tasks = (counts.tasks or 0) + move_tasks(
                ctx,
                ask.origin.company_id,
                _from(ask),
                ask.destination.user_id,
                chunk,
                None,
                None,
            )
        done += len(chunk)
        if job is not None:
            job.progress(done, len(ids))
    counts.moved = len(ids)
    return counts
