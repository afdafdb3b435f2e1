"""Mass reassignment (MISSION M7 clients between company-user pairs, M8 tasks between
users): ``clients.py`` and ``tasks.py`` (services), ``job.py`` (job kinds), ``graphql.py``
(previews and mutations). See docs/modules/contacts.md, "Mass reassignment"."""

from plugins.contacts.reassign.graphql import MUTATION_FIELDS, QUERY_FIELDS
from plugins.contacts.reassign.job import KINDS

__all__ = ["KINDS", "MUTATION_FIELDS", "QUERY_FIELDS"]
