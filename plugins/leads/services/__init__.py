"""Lead and opportunity logic, free of GraphQL, by sub-domain: ``leads`` (lists, claim,
conversion), ``opportunities`` (writing, custom fields, the list), ``stages`` and
``pipeline`` (aggregates); ``common`` holds what they share.

Every service takes the kernel's :class:`gateway.sdk.CallerContext` (a GraphQL request, or a
job acting for a user) and runs on its scoped session, so record visibility is already part
of the SQL.
"""

from __future__ import annotations

from gateway.sdk import events
from plugins.contacts import services as contacts
from plugins.leads.fields import LEAD_TEXT, WRITES
from plugins.leads.services.common import LEAD, OPPORTUNITY, check_fields, written_fields
from plugins.leads.services.leads import (
    Conversion,
    LeadData,
    LeadFilter,
    NewLead,
    build_lead,
    claim_lead,
    convert_lead,
    create_lead,
    create_leads,
    delete_lead,
    leads_query,
    list_leads,
    mark_unsuitable,
    move_contact_references,
    update_lead,
    writable_open_lead,
)
from plugins.leads.services.opportunities import (
    MAX_AMOUNT,
    MAX_COUNT,
    OpportunityData,
    OpportunityFilter,
    create_opportunity,
    custom_fields_by_key,
    delete_opportunity,
    list_opportunities,
    move_opportunity,
    opportunities_query,
    update_opportunity,
)
from plugins.leads.services.pipeline import (
    LIMB,
    SCALE,
    PeriodFigures,
    PipelineFigures,
    StageFigures,
    budget_parts,
    pipeline,
    to_money,
)
from plugins.leads.services.stages import (
    DEFAULT_STAGES,
    STAGE_NAME_TAKEN,
    StageData,
    create_stage,
    delete_stage,
    seed_default_stages,
    stage_list,
    stages_on_demand,
    update_stage,
)

__all__ = [
    "DEFAULT_STAGES",
    "LEAD",
    "LEAD_TEXT",
    "LIMB",
    "MAX_AMOUNT",
    "MAX_COUNT",
    "OPPORTUNITY",
    "SCALE",
    "STAGE_NAME_TAKEN",
    "WRITES",
    "Conversion",
    "LeadData",
    "LeadFilter",
    "NewLead",
    "OpportunityData",
    "OpportunityFilter",
    "PeriodFigures",
    "PipelineFigures",
    "StageData",
    "StageFigures",
    "budget_parts",
    "build_lead",
    "check_fields",
    "claim_lead",
    "contacts",
    "convert_lead",
    "create_lead",
    "create_leads",
    "create_opportunity",
    "create_stage",
    "custom_fields_by_key",
    "delete_lead",
    "delete_opportunity",
    "delete_stage",
    "events",
    "leads_query",
    "list_leads",
    "list_opportunities",
    "mark_unsuitable",
    "move_contact_references",
    "move_opportunity",
    "opportunities_query",
    "pipeline",
    "seed_default_stages",
    "stage_list",
    "stages_on_demand",
    "to_money",
    "update_lead",
    "update_opportunity",
    "update_stage",
    "writable_open_lead",
    "written_fields",
]
