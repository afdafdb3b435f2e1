"""``Contact.cases``: the cases a contact takes part in, added to the contacts module's
type through the kernel's ``crm_type_fields`` (present only where the calendar module is
on)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.sdk import RequestContext, TypeField
from plugins.calendar.cases import loading
from plugins.calendar.cases.types import CaseNode, CaseStatusEnum
from plugins.contacts.types import ContactNode

Ctx = Info[RequestContext, None]


@strawberry.field(
    name="cases",
    description="The cases this contact takes part in that you may see, newest first; at "
    "most `first` (up to 100). The full, paginated list is `cases(filter: {contactId})`.",
)
def contact_cases(
    root: ContactNode, info: Ctx, first: int = 20, status: CaseStatusEnum | None = None
) -> list[CaseNode]:
    found = loading.contact_cases(info, root.record.id, first, status)
    return [CaseNode(record=c) for c in found]


FIELDS = [TypeField("Contact", contact_cases)]
