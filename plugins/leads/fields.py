"""The lead's and the opportunity's fields, declared once (``gateway.sdk.DeclaredField``):
what the services' "which fields does this change write" mapping and text limits read, and
what the lead import (issue 14) will read (rows with ``Feature.IMPORT``: kind, required)."""

from __future__ import annotations

from gateway.sdk import DeclaredField, Feature, ValueKind, features, having, writes

F, K = DeclaredField, ValueKind
IMPORT = features(Feature.IMPORT)

LEAD_FIELDS: tuple[DeclaredField, ...] = (
    F("name", "name", "Name", K.TEXT, features=IMPORT, required=True, max_length=200),
    F("company", "company", "Company", K.TEXT, features=IMPORT, max_length=200),
    F("email", "email", "Email", K.EMAIL, features=IMPORT),
    F("phone", "phone", "Phone", K.PHONE, features=IMPORT),
    F("source", "source", "Source", K.TEXT, features=IMPORT, max_length=80),
    F("notes", "notes", "Notes", K.TEXT, features=IMPORT, max_length=20_000),
    F("status", "status", "Status", K.CHOICE),
    F("owner", "owner_id", "Owner", K.REFERENCE, features=IMPORT),  # a user, by email
    F("access", "access", "Access", K.CHOICE, features=IMPORT),
    F("contact", "contact_id", "Contact", K.REFERENCE),
    F("companyContact", "company_contact_id", "Company contact", K.REFERENCE),
)


def _budget(part: str) -> tuple[str, ...]:
    return ("budget", f"Budget.{part}")


OPPORTUNITY_FIELDS: tuple[DeclaredField, ...] = (
    F("title", "title", "Title", K.TEXT, features=IMPORT, required=True, max_length=200),
    F("contact", "contact_id", "Contact", K.REFERENCE, features=IMPORT),
    F("description", "description", "Description", K.TEXT, features=IMPORT),
    F("budgetType", "budget_type", "Budget type", K.CHOICE, rules=_budget("type")),
    F("budgetCount", "budget_count", "Budget count", K.DECIMAL, rules=_budget("count")),
    F("amount", "amount", "Amount", K.DECIMAL, rules=_budget("amount"), features=IMPORT),
    F("currency", "currency", "Currency", K.CHOICE, rules=_budget("currency"), features=IMPORT),
    F("expectedCloseDate", "expected_close_date", "Expected close", K.DATE, features=IMPORT),
    F("stage", "stage_id", "Stage", K.REFERENCE, features=IMPORT),  # by name
    F("responsible", "owner_id", "Responsible", K.REFERENCE, features=IMPORT),  # by email
    F("access", "access", "Access", K.CHOICE),
    F(
        "customFields",
        "custom_fields",
        "Custom fields",
        K.LIST,
        rules=("customFields", "CustomFieldValue.value"),
    ),
)

#: By GraphQL type: service attribute → the GraphQL fields it writes (field rules).
WRITES: dict[str, dict[str, tuple[str, ...]]] = {
    "Lead": writes(LEAD_FIELDS),
    "Opportunity": writes(OPPORTUNITY_FIELDS),
}
#: A lead's plain text attributes and their longest value.
LEAD_TEXT = {
    f.attr: f.max_length for f in LEAD_FIELDS if f.kind is K.TEXT and f.attr and f.max_length
}
#: What a lead import reads, in column order.
LEAD_IMPORT = having(LEAD_FIELDS, Feature.IMPORT)
OPPORTUNITY_IMPORT = having(OPPORTUNITY_FIELDS, Feature.IMPORT)
