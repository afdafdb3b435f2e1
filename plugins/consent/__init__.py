"""The consent module (MISSION K1-K6). On this branch it holds only mass email
(``mailing/``); its hook implementations are the lists of ``mailing/hooks.py``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.sdk import JobKind, Permission, PluginInfo, hookimpl
from plugins.consent.mailing import hooks as mailing


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="consent",
        title="GDPR consent",
        version="0.1.0",
        description="Mass email that honours every module's refusals (consent, blocks).",
        requires=("contacts",),
        migrations=Path(__file__).parent / "versions",
    )


@hookimpl
def crm_models() -> Sequence[type[Any]]:
    return [*mailing.MODELS]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return [*mailing.PERMISSIONS]


@hookimpl
def crm_job_kinds() -> Sequence[JobKind]:
    return [*mailing.JOB_KINDS]


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [*mailing.GRAPHQL_TYPES]


@hookimpl
def crm_query_fields() -> list[Any]:
    return [*mailing.QUERY_FIELDS]


@hookimpl
def crm_mutation_fields() -> list[Any]:
    return [*mailing.MUTATION_FIELDS]


@hookimpl
def crm_demo_data(session: Any, tenant: Any) -> None:
    mailing.demo_data(session, tenant)
