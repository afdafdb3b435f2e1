"""The sales team's zones and their users (MISSION M6): models, services, the template,
the import job and the GraphQL fields. Wired in by the contacts plugin's hooks."""

from plugins.contacts.zones.graphql import MUTATION_FIELDS, QUERY_FIELDS
from plugins.contacts.zones.importing import IMPORT_ZONES_JOB, KINDS
from plugins.contacts.zones.models import Zone, ZoneUser
from plugins.contacts.zones.template import ZONES

__all__ = [
    "IMPORT_ZONES_JOB",
    "KINDS",
    "MUTATION_FIELDS",
    "QUERY_FIELDS",
    "ZONES",
    "Zone",
    "ZoneUser",
]
