"""The zones template (MISSION M6): entity ``zone``, no variant. Columns Zone (required)
and Users (emails, several per cell); it comes filled with the zones as they are, one row
per zone, so the team edits the sheet and sends it back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gateway.sdk import SheetColumn, SheetTemplate, load_users
from plugins.contacts.templates import users
from plugins.contacts.zones import service
from plugins.contacts.zones.models import NAME_LENGTH

ZONE = "zone"
USERS = "users"


def current(ctx: Any) -> Iterator[Mapping[str, str]]:
    """The tenant's zones with their users' emails, by zone name."""
    zones = list(ctx.session.scalars(service.listed()))
    links = service.users_of(ctx, [z.id for z in zones])
    known = load_users(ctx, sorted({u for ids in links.values() for u in ids}))
    for zone in zones:
        emails = sorted(known[u].email for u in links[zone.id] if u in known)
        yield {ZONE: zone.name, USERS: ", ".join(emails)}


ZONES = SheetTemplate(
    entity="zone",
    variant="",
    title="Zones",
    description="The sales team's zones and the users assigned to each: importing it "
    "replaces the users of every zone it names (and creates the zones that do not exist).",
    columns=(
        SheetColumn(
            header="Zone",
            key=ZONE,
            required=True,
            format=f"The zone's name (at most {NAME_LENGTH} characters), e.g. North",
        ),
        SheetColumn(
            header="Users",
            key=USERS,
            kind="EMAIL",
            multiple=True,
            choices_from=users,
            format="The users' emails, e.g. ana@example.com, luis@example.com",
        ),
    ),
    notes=(
        "One zone per row (a zone named on several rows gets the users of all of them).",
        "The zone's users become exactly the users listed; an empty Users cell leaves the "
        "zone without users. Zones the file does not name are left as they are.",
        "Users not found are reported on their cell; the others are linked.",
    ),
    rows=current,
)
