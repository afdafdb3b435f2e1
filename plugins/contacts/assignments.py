"""Client assignments (MISSION C9): a contact's user per managing company.

A contact has at most one user per managing company (a unique key: two concurrent
assignments of the same company, one wins, the other is ``CONFLICT``). Assigning is
changing the contact: it needs write access to it, the ``Contact.assignments`` field must
not be read-only for the caller, and the engine checks both again at flush time. The
assigned user gets the owner's access (``AssignmentGrant`` in ``__init__.py``), so mass
management reassigns clients between company-user pairs by changing these rows only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    ChangeKind,
    NotFound,
    ProfileKind,
    check_writable_fields,
    companies,
    events,
    get_user,
    load_users,
    utcnow,
)
from plugins.contacts.draft import ContactDraft
from plugins.contacts.models import Contact, ContactAssignment

ENTITY = "contact"
#: The GraphQL field an assignment change writes (field rules: read-only refuses it).
FIELD = "assignments"


@dataclass(frozen=True)
class AssignmentData:
    company_id: int
    user_id: int
    branch_id: int | None = None


def describe(row: ContactAssignment) -> str:
    """How ``explainAccess`` names an assignment: "managing company Iberia"."""
    return f"managing company {row.company.name}"


def _checked(ctx: CallerContext, data: AssignmentData) -> AssignmentData:
    """The company, branch and user exist in the caller's organisation, the branch belongs
    to the company, and the user may manage clients (active, not an assistant)."""
    session, tenant_id = ctx.session, ctx.tenant_id
    company = companies.get_company(session, tenant_id, data.company_id)
    if data.branch_id is not None:
        branch = companies.get_branch(session, tenant_id, data.branch_id)
        if branch.company_id != company.id:
            raise BadUserInput("the branch belongs to another managing company", field="branchId")
    user = get_user(session, tenant_id, data.user_id, "userId")
    if not user.is_active:
        raise BadUserInput("an inactive user cannot be assigned clients", field="userId")
    if user.profile.kind is ProfileKind.ASSISTANT:
        raise BadUserInput("assistants cannot be assigned clients", field="userId")
    return data


def _current(session: Session, contact: Contact, company_id: int) -> ContactAssignment | None:
    return session.scalar(
        select(ContactAssignment).where(
            ContactAssignment.contact_id == contact.id,
            ContactAssignment.company_id == company_id,
        )
    )


def _changed(ctx: CallerContext, contact: Contact) -> Contact:
    ctx.session.flush()  # a company taken twice: unique violation → CONFLICT (the transaction)
    ctx.cache.pop("contact_assignments", None)  # answers read them anew
    events.record_changed(ctx, ChangeKind.UPDATED, ENTITY, contact, frozenset({FIELD}))
    return contact


def initial(
    ctx: CallerContext, contact: Contact | ContactDraft, given: list[AssignmentData]
) -> None:
    """Assignments of a contact being created (``createContact(input: {assignments})``)."""
    if not given:
        return
    check_writable_fields(ctx.access, "Contact", {FIELD})
    seen: set[int] = set()
    for data in given:
        if data.company_id in seen:
            raise BadUserInput("one user per managing company", field="assignments")
        seen.add(data.company_id)
        _checked(ctx, data)
        contact.assignments.append(_row(ctx, data))


def _row(ctx: CallerContext, data: AssignmentData) -> ContactAssignment:
    return ContactAssignment(
        tenant_id=ctx.tenant_id,
        company_id=data.company_id,
        branch_id=data.branch_id,
        user_id=data.user_id,
        assigned_by_id=ctx.user_id,
        assigned_at=utcnow(),
    )


def assign(ctx: CallerContext, contact: Contact, data: AssignmentData) -> Contact:
    """Add an assignment; the company already has a user for this contact: ``CONFLICT``
    (replace it instead)."""
    check_writable_fields(ctx.access, "Contact", {FIELD})
    _checked(ctx, data)
    row = _row(ctx, data)
    row.contact_id = contact.id
    ctx.session.add(row)
    return _changed(ctx, contact)


def replace(ctx: CallerContext, contact: Contact, data: AssignmentData) -> Contact:
    """Give the contact's assignment for ``data.company_id`` another user (and branch)."""
    check_writable_fields(ctx.access, "Contact", {FIELD})
    row = _current(ctx.session, contact, data.company_id)
    if row is None:
        raise NotFound("the contact has no assignment for this managing company", field="companyId")
    _checked(ctx, data)
    row.user_id, row.branch_id = data.user_id, data.branch_id
    row.assigned_by_id, row.assigned_at = ctx.user_id, utcnow()
    return _changed(ctx, contact)


def unassign(ctx: CallerContext, contact: Contact, company_id: int) -> Contact:
    """Remove the contact's assignment for a managing company."""
    check_writable_fields(ctx.access, "Contact", {FIELD})
    row = _current(ctx.session, contact, company_id)
    if row is None:
        raise NotFound("the contact has no assignment for this managing company", field="companyId")
    ctx.session.delete(row)
    return _changed(ctx, contact)


def adopt(ctx: CallerContext, kept: Contact, merged: Contact) -> None:
    """A merge keeps the merged contact's assignments for managing companies the kept one
    has none for (one user per company: the kept contact's own assignment wins), so no
    assigned user loses the client because two records were one."""
    session = ctx.session
    taken = set(
        session.scalars(
            select(ContactAssignment.company_id).where(ContactAssignment.contact_id == kept.id)
        )
    )
    rows = session.scalars(
        select(ContactAssignment).where(ContactAssignment.contact_id == merged.id)
    )
    for row in rows:
        if row.company_id not in taken:
            row.contact_id = kept.id
    session.flush()
    # the collections reload: deleting the merged contact must not cascade to moved rows
    session.expire(kept, ["assignments"])
    session.expire(merged, ["assignments"])
    loader(ctx).forget()


def load(ctx: CallerContext, contact_ids: Iterable[int]) -> None:
    """Read the assignments of a page of contacts in one statement (and their users in one
    more), so ``Contact.assignments`` costs the same for 1 or 500 rows."""
    loader(ctx).prime(contact_ids)


def loader(ctx: CallerContext) -> Any:
    def fetch(ids: list[int]) -> dict[int, list[ContactAssignment]]:
        found: dict[int, list[ContactAssignment]] = defaultdict(list)
        rows = ctx.session.scalars(
            select(ContactAssignment)
            .where(ContactAssignment.contact_id.in_(ids))
            .order_by(ContactAssignment.contact_id, ContactAssignment.id)
        )
        for row in rows:
            found[row.contact_id].append(row)
        load_users(ctx, sorted({r.user_id for rs in found.values() for r in rs}))
        return {cid: found.get(cid, []) for cid in ids}

    return ctx.loader("contact_assignments", fetch)


def matching(tenant_id: int, company_id: int | None, user_id: int | None) -> ColumnElement[bool]:
    """Contacts with an assignment of ``company_id`` and/or ``user_id`` (the same row: a
    company-user pair), as an EXISTS. The tenant is explicit, for statements run as plain
    rows (the ORM hook adds it otherwise)."""
    conditions = [
        ContactAssignment.contact_id == Contact.id,
        ContactAssignment.tenant_id == tenant_id,
    ]
    if company_id is not None:
        conditions.append(ContactAssignment.company_id == company_id)
    if user_id is not None:
        conditions.append(ContactAssignment.user_id == user_id)
    return exists().where(*conditions)


def check_assignable(ctx: CallerContext, data: AssignmentData) -> AssignmentData:
    """The checks :func:`assign` makes, once for a mass operation: the caller may write
    ``Contact.assignments`` (field rules), and the company, branch and user are valid."""
    check_writable_fields(ctx.access, "Contact", {FIELD})
    return _checked(ctx, data)


def move(
    ctx: CallerContext,
    contact: Contact,
    origin_company_id: int,
    destination: AssignmentData,
    *,
    keep_origin: bool,
) -> None:
    """Reassign one client from its managing company ``origin_company_id`` to
    ``destination`` (MISSION M7; ``contact.assignments`` loaded, ``destination`` checked by
    :func:`check_assignable`). Same company: its assignment there gets the destination
    user (created if it had none: an orphan). Different companies: the destination
    company's assignment gets the user (created if none) and the origin's is removed unless
    ``keep_origin``. Write access to the contact is checked at flush, as for :func:`assign`.
    """
    rows = {row.company_id: row for row in contact.assignments}
    target = rows.get(destination.company_id)
    if target is None:
        row = _row(ctx, destination)
        row.contact_id = contact.id  # the flush checks write access through it
        contact.assignments.append(row)
    else:
        target.user_id, target.branch_id = destination.user_id, destination.branch_id
        target.assigned_by_id, target.assigned_at = ctx.user_id, utcnow()
    origin = rows.get(origin_company_id)
    if origin is not None and origin_company_id != destination.company_id and not keep_origin:
        contact.assignments.remove(origin)
        ctx.session.delete(origin)  # explicit, so the flush checks it like unassign
    events.record_changed(ctx, ChangeKind.UPDATED, ENTITY, contact, frozenset({FIELD}))
