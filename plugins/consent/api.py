"""The root fields the consent module publishes, in schema order."""

from __future__ import annotations

from plugins.consent.mutations import (
    create_consent_configuration,
    resend_consent_request,
    unblock_consent,
    update_consent_configuration,
)
from plugins.consent.queries import (
    client_consent,
    consent_blocked_clients,
    consent_configurations,
    consent_ledger,
    consent_template_fields,
    export_consent_blocked_clients,
    export_consent_ledger,
    user_consent,
)

QUERY_FIELDS = [
    consent_configurations,
    consent_template_fields,
    client_consent,
    user_consent,
    consent_ledger,
    export_consent_ledger,
    consent_blocked_clients,
    export_consent_blocked_clients,
]
MUTATION_FIELDS = [
    create_consent_configuration,
    update_consent_configuration,
    resend_consent_request,
    unblock_consent,
]
