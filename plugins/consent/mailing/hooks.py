"""What mass email contributes to the consent module, as plain lists and functions the
module's ``__init__`` appends to its own hook implementations (the module keeps the one
``crm_plugin_info`` and migrations branch)."""

from __future__ import annotations

from typing import Any

from plugins.consent.mailing import api, demo, sending
from plugins.consent.mailing.models import Mailing, MailingRecipient
from plugins.consent.mailing.permissions import CATALOGUE
from plugins.consent.mailing.types import GRAPHQL_TYPES as _TYPES

MODELS: list[type[Any]] = [Mailing, MailingRecipient]
PERMISSIONS = list(CATALOGUE)
JOB_KINDS = list(sending.KINDS)
GRAPHQL_TYPES: list[type[Any]] = list(_TYPES)
QUERY_FIELDS = list(api.QUERY_FIELDS)
MUTATION_FIELDS = list(api.MUTATION_FIELDS)
#: ``crm_demo_data(session, tenant)``: grants the sending permission to demo profiles.
demo_data = demo.seed
