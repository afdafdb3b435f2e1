"""Web contact forms with target LEAD: each valid submission becomes an unmanaged lead (the
pool everyone with lead read permission works from) and the form's owner is notified."""

from __future__ import annotations

from typing import Any

from gateway.sdk import CallerContext, global_id, notify
from plugins.leads.models import Lead
from plugins.leads.services import LeadData, create_lead

TARGET = "LEAD"
SOURCE_PREFIX = "web form: "
#: Collected contact fields kept in the lead's notes, with their labels.
NOTE_FIELDS = {"website": "Website", "city": "City", "country": "Country"}


def lead_from_submission(
    context: CallerContext, form_name: str, owner_id: int, values: dict[str, str]
) -> Lead:
    """An unmanaged lead of the form's tenant, made by the service ``createLead`` uses (the
    contacts module already checked lengths, required fields and that a name is present)."""
    person = " ".join(v for v in (values.get("firstName"), values.get("lastName")) if v)
    company = values.get("companyName", "")
    lines = [f"{label}: {values[name]}" for name, label in NOTE_FIELDS.items() if name in values]
    notes = "\n\n".join(p for p in (values.get("description", ""), "\n".join(lines)) if p)
    given = {
        "name": (person or company)[:200],
        "company": company[:200] if person else "",
        "email": values.get("email", ""),
        "phone": values.get("phone", ""),
        "source": (SOURCE_PREFIX + form_name)[:80],
        "notes": notes,
    }
    lead = create_lead(context, LeadData(values=given), unmanaged=True)
    notify(
        context.session,
        tenant_id=context.tenant_id,
        user_id=owner_id,
        kind="leads.web_form",
        title=f"New unmanaged lead from {form_name}: {lead.name}",
        subject_id=global_id("Lead", lead.id),
    )
    return lead


def submission(
    context: CallerContext, target: str, form_name: str, owner_id: int, values: dict[str, str]
) -> Any | None:
    """Answer ``crm_web_form_submission`` for LEAD forms only."""
    if target != TARGET:
        return None
    return lead_from_submission(context, form_name, owner_id, values)
