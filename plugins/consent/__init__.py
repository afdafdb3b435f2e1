"""The consent module: GDPR consent requests, blocks and proof (MISSION K1 to K4, K6).

Configurations say when to ask which clients; triggers (a client saved, an interaction
logged, a task saved — other modules' record events, never their code) make requests that
a job mails after the transaction commits; clients answer through signed single-use links;
a denial or withdrawal blocks the client for email, and every sender of email asks
``crm_email_refusals`` first. Mass email (``mailing/``, R3/K5) contributes its lists
through ``mailing/hooks.py``. Only hook implementations live here; see
``docs/modules/consent.md``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute

from gateway.sdk import (
    CallerContext,
    JobKind,
    Permission,
    PluginInfo,
    RecordChange,
    TypeField,
    hookimpl,
)
from plugins.consent import (
    api,
    delivery,
    demo,
    employees,
    endpoint,
    expiry,
    nested,
    refusals,
    requests,
)
from plugins.consent.mailing import hooks as mailing
from plugins.consent.models import MODELS
from plugins.consent.permissions import CATALOGUE
from plugins.consent.types import (
    BlockedClientType,
    ClientConsent,
    ConsentBlockType,
    ConsentConfigurationType,
    ConsentRequestType,
    ConsentTemplateField,
    LedgerEntryType,
)


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="consent",
        title="GDPR consent",
        version="0.1.0",
        description="Consent requests by email, GDPR blocks and the proof of consent.",
        requires=("contacts",),
        migrations=Path(__file__).parent / "versions",
    )


@hookimpl
def crm_models() -> Sequence[type[Any]]:
    return [*MODELS, *mailing.MODELS]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return [*CATALOGUE, *mailing.PERMISSIONS]


@hookimpl
def crm_job_kinds() -> Sequence[JobKind]:
    return [*delivery.KINDS, *expiry.KINDS, *mailing.JOB_KINDS]


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [
        ConsentConfigurationType,
        ConsentRequestType,
        BlockedClientType,
        ConsentBlockType,
        LedgerEntryType,
        ClientConsent,
        ConsentTemplateField,
        *mailing.GRAPHQL_TYPES,
    ]


@hookimpl
def crm_query_fields() -> list[Any]:
    return [*api.QUERY_FIELDS, *mailing.QUERY_FIELDS]


@hookimpl
def crm_mutation_fields() -> list[Any]:
    return [*api.MUTATION_FIELDS, *mailing.MUTATION_FIELDS]


@hookimpl
def crm_type_fields() -> list[TypeField]:
    return list(nested.FIELDS)


@hookimpl
def crm_http_routes() -> Sequence[BaseRoute]:
    return endpoint.ROUTES


@hookimpl
def crm_record_changed(context: CallerContext, change: RecordChange) -> None:
    requests.on_record_changed(context, change)
    employees.on_user_changed(context, change)


@hookimpl
def crm_email_refusals(
    context: CallerContext, entity: str, record_ids: Sequence[int]
) -> Mapping[int, str]:
    return refusals.refusals(context, entity, record_ids)


@hookimpl
def crm_demo_data(session: Any, tenant: Any) -> None:
    demo.seed(session, tenant)
    mailing.demo_data(session, tenant)
