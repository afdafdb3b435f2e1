"""Root fields of the leads module, by sub-domain: leads (lists for "unmanaged" and "my
leads", claim, conversion), opportunities (with the pipeline aggregates) and settings
(stages, custom fields); ``loading`` holds the eager loads they share."""

from __future__ import annotations

from plugins.leads.api.leads import (
    claim_lead,
    convert_lead,
    create_lead,
    delete_lead,
    lead,
    leads,
    mark_lead_unsuitable,
    my_leads,
    unmanaged_leads,
    update_lead,
)
from plugins.leads.api.opportunities import (
    create_opportunity,
    delete_opportunity,
    move_opportunity,
    opportunities,
    opportunity,
    pipeline,
    update_opportunity,
)
from plugins.leads.api.settings import (
    create_opportunity_custom_field,
    create_opportunity_stage,
    delete_opportunity_custom_field,
    delete_opportunity_stage,
    opportunity_custom_fields,
    opportunity_stages,
    update_opportunity_stage,
)

QUERY_FIELDS = [
    leads,
    unmanaged_leads,
    my_leads,
    lead,
    opportunities,
    opportunity,
    opportunity_stages,
    opportunity_custom_fields,
    pipeline,
]
MUTATION_FIELDS = [
    create_lead,
    update_lead,
    claim_lead,
    convert_lead,
    mark_lead_unsuitable,
    delete_lead,
    create_opportunity,
    update_opportunity,
    move_opportunity,
    delete_opportunity,
    create_opportunity_stage,
    update_opportunity_stage,
    delete_opportunity_stage,
    create_opportunity_custom_field,
    delete_opportunity_custom_field,
]
