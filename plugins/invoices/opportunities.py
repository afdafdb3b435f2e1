"""The link from an invoice to an opportunity of the leads module, without importing it
(the kernel's ``EntityLink``): visible-only, ``null`` when the leads module is off."""

from __future__ import annotations

from gateway.sdk import BadUserInput, EntityLink

LINK = EntityLink(
    "opportunity", field="opportunityId", needs="the leads module", missing=BadUserInput
)
entity_of = LINK.entity_of
checked_link = LINK.checked
prime = LINK.prime
node_of = LINK.node_of
visible_id = LINK.visible_id
owners_of = LINK.owners_of
