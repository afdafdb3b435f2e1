"""The link from a task to an opportunity of the leads module, without importing leads.

The calendar requires only contacts; opportunities belong to the leads module, which a
tenant may switch off. The link is looked up through the plugin registry's ``opportunity``
entity (as invoices do): its model for reads, so record access applies as to any other
query, and its GraphQL factory for the ``Node`` a task answers. With leads off a task's
link reads ``null``, linking is refused and filtering by it matches nothing.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from gateway.sdk import CallerContext, EntityLink
from plugins.calendar.models import Task

LINK = EntityLink("opportunity", field="opportunityId", needs="the leads module")
entity_of = LINK.entity_of
checked_link = LINK.checked
prime = LINK.prime
record_of = LINK.record_of
node_of = LINK.node_of
visible_id = LINK.visible_id
owners_of = LINK.owners_of


def matches(ctx: CallerContext, opportunity_id: int) -> ColumnElement[bool]:
    """``filter.opportunityId``: tasks linked to that opportunity when the caller may see it;
    nothing when it is invisible or the leads module is off."""
    return LINK.matches(ctx, Task.opportunity_id, opportunity_id)
