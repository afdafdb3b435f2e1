"""The core module as a plugin: the kernel uses the same contract as every CRM module."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from strawberry.types.field import StrawberryField

from gateway import __version__, dashboard, notifications
from gateway.access import api as access_api
from gateway.access import sharing_api
from gateway.access.models import (
    ProfileFieldRule,
    ProfilePermission,
    RecordShare,
    SharingRule,
    UserHierarchy,
)
from gateway.contract import Permission, PluginInfo
from gateway.core import api
from gateway.graphql import node
from gateway.hookspecs import hookimpl
from gateway.identity import api as identity_api
from gateway.identity import users_api
from gateway.identity.models import (
    AssistantLink,
    AuthSession,
    AuthThrottle,
    Invitation,
    LoginChallenge,
    Profile,
    RecoveryCode,
    User,
)
from gateway.notifications import Notification
from gateway.tenancy import api as tenancy_api
from gateway.tenancy import companies_api
from gateway.tenancy.models import CompanyBranch, ManagingCompany, Tenant, TenantModule

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="core",
        title="Core",
        version=__version__,
        description="Organisations, users, profiles, sign-in and module switches.",
        optional=False,
        migrations=MIGRATIONS,
    )


@hookimpl
def crm_models() -> Sequence[type[Any]]:
    return [
        Tenant,
        TenantModule,
        Profile,
        User,
        AssistantLink,
        AuthSession,
        RecoveryCode,
        LoginChallenge,
        AuthThrottle,
        Invitation,
        Notification,
        ProfilePermission,
        ProfileFieldRule,
        UserHierarchy,
        RecordShare,
        SharingRule,
        ManagingCompany,
        CompanyBranch,
    ]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return [
        Permission("core.modules.manage", "Switch modules on and off for the organisation."),
        Permission("core.users.manage", "Create, edit and deactivate users."),
        Permission("core.profiles.manage", "Create and edit profiles and their permissions."),
        Permission("core.sharing.manage", "Create and delete sharing rules."),
        Permission(
            "core.organization.manage",
            "Edit the organisation's settings and its two-factor policy.",
        ),
    ]


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [node.Node]


@hookimpl
def crm_query_fields() -> Sequence[StrawberryField]:
    return [
        api.me,
        api.modules,
        node.node,
        dashboard.dashboard,
        notifications.notifications,
        *identity_api.QUERY_FIELDS,
        *tenancy_api.QUERY_FIELDS,
        *companies_api.QUERY_FIELDS,
        *access_api.QUERY_FIELDS,
        *users_api.QUERY_FIELDS,
        *access_api.HIERARCHY_FIELDS,
        *sharing_api.QUERY_FIELDS,
        *access_api.EXPLAIN_FIELDS,
    ]


@hookimpl
def crm_mutation_fields() -> Sequence[StrawberryField]:
    return [
        *identity_api.MUTATION_FIELDS,
        *tenancy_api.MUTATION_FIELDS,
        *companies_api.MUTATION_FIELDS,
        api.set_module_enabled,
        notifications.mark_notifications_read,
        *access_api.MUTATION_FIELDS,
        *users_api.MUTATION_FIELDS,
        *sharing_api.MUTATION_FIELDS,
    ]
