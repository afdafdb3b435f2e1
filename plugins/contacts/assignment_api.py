"""Root mutations of client assignments: assign, replace, unassign (MISSION C9).

Each needs write access to the contact (``NOT_FOUND`` if invisible, ``FORBIDDEN`` if
read-only) and answers the contact with its assignments. The caller may lose sight of the
contact by unassigning themselves: the answer still shows it, as a deletion shows its id.
"""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.sdk import RequestContext, get_writable, mutate, parse_global_id
from plugins.contacts import assignments
from plugins.contacts.assignment_types import ContactAssignmentInput
from plugins.contacts.models import Contact
from plugins.contacts.types import ContactNode, ContactPayload

Ctx = Info[RequestContext, None]


def _run(
    info: Ctx, contact_id: strawberry.ID, change: Callable[[Contact], Contact]
) -> ContactPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Contact:
        pk = parse_global_id(contact_id, "Contact", "contactId")
        found = get_writable(session, Contact, pk, "contact")
        return change(found)

    return mutate(
        ctx, ContactPayload, work, lambda c: ContactPayload(contact=ContactNode(record=c))
    )


@strawberry.mutation(
    description="Assign the contact to a user for a managing company (CONFLICT if that "
    "company already has a user for it: replace it instead)."
)
def assign_contact(
    info: Ctx, contact_id: strawberry.ID, assignment: ContactAssignmentInput
) -> ContactPayload:
    return _run(
        info, contact_id, lambda c: assignments.assign(info.context, c, assignment.to_data())
    )


@strawberry.mutation(
    description="Give the contact's assignment for a managing company another user or branch."
)
def replace_contact_assignment(
    info: Ctx, contact_id: strawberry.ID, assignment: ContactAssignmentInput
) -> ContactPayload:
    return _run(
        info, contact_id, lambda c: assignments.replace(info.context, c, assignment.to_data())
    )


@strawberry.mutation(description="Remove the contact's assignment for a managing company.")
def unassign_contact(
    info: Ctx, contact_id: strawberry.ID, company_id: strawberry.ID
) -> ContactPayload:
    def change(contact: Contact) -> Contact:
        company = parse_global_id(company_id, "ManagingCompany", "companyId")
        return assignments.unassign(info.context, contact, company)

    return _run(info, contact_id, change)


MUTATION_FIELDS = [assign_contact, replace_contact_assignment, unassign_contact]
