"""An interaction's optional opportunity, a record of the leads module, reached through the
plugin registry without importing that module (the kernel's ``EntityLink``, as invoices and
tasks do): visible-only, ``null`` when the leads module is off for the tenant."""

from __future__ import annotations

from typing import Any

from gateway.sdk import BadUserInput, CallerContext, EntityLink, Loader

LINK = EntityLink(
    "opportunity", field="opportunityId", needs="the leads module", missing=BadUserInput
)
entity_of = LINK.entity_of
checked_opportunity = LINK.checked
opportunity_node = LINK.node_of


def opportunities(ctx: CallerContext) -> Loader[int, Any]:
    """The per-operation loader of visible opportunities (one statement per page)."""
    return LINK.loader(ctx)
