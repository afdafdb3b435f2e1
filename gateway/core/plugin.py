"""The core module as a plugin: the kernel uses the same contract as every CRM module."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from strawberry.types.field import StrawberryField

from gateway import __version__, dashboard, notifications
from gateway.access import api as access_api
from gateway.access import defaults_api, groups_api, roles_api, sharing_api, whatif_api
from gateway.access.defaults import RecordAccessDefault
from gateway.access.models import (
    ProfileFieldRule,
    ProfilePermission,
    RecordShare,
    SharingRule,
    UserHierarchy,
)
from gateway.access.role_models import (
    GroupMember,
    GroupPermission,
    Role,
    RoleHierarchy,
    UserGroup,
)
from gateway.audit import api as audit_api
from gateway.audit import log_api as audit_log_api
from gateway.audit import purge as audit_purge
from gateway.audit.models import AdminEvent, RecordChangeLog
from gateway.contract import JobKind, Permission, PluginInfo
from gateway.core import api
from gateway.files import graphql as files_api
from gateway.files import jobs as files_jobs
from gateway.files.models import StoredFile
from gateway.graphql import node
from gateway.hookspecs import hookimpl
from gateway.identity import api as identity_api
from gateway.identity import settings_api, users_api
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
from gateway.imports import graphql as imports_graphql
from gateway.imports import jobs as imports_jobs
from gateway.imports import mutations as imports_mutations
from gateway.imports.jobs import IMPORT_PERMISSION
from gateway.imports.models import ImportRow, ImportRun
from gateway.jobs import graphql as jobs_api
from gateway.jobs.models import Job
from gateway.notifications import Notification
from gateway.sheets import api as sheets_api
from gateway.tenancy import api as tenancy_api
from gateway.tenancy import companies_api
from gateway.tenancy.models import CompanyBranch, ManagingCompany, Tenant, TenantModule
from gateway.vacations import api as vacations_api
from gateway.vacations.models import VacationPolicy, VacationRequest

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
        RecordChangeLog,
        AdminEvent,
        Profile,
        User,
        AssistantLink,
        AuthSession,
        RecoveryCode,
        LoginChallenge,
        AuthThrottle,
        Invitation,
        Notification,
        ImportRun,
        ImportRow,
        Job,
        ProfilePermission,
        ProfileFieldRule,
        UserHierarchy,
        RecordShare,
        SharingRule,
        RecordAccessDefault,
        VacationPolicy,
        VacationRequest,
        Role,
        RoleHierarchy,
        UserGroup,
        GroupMember,
        GroupPermission,
        StoredFile,
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
        Permission("core.roles.manage", "Create, rename, move and delete roles (job positions)."),
        Permission(
            "core.groups.manage",
            "Create and edit user groups, their members and the module permissions they grant.",
        ),
        Permission(
            "core.organization.manage",
            "Edit the organisation's settings and its two-factor policy.",
        ),
        Permission("core.jobs.view_all", "See every background job of the organisation."),
        Permission(
            "core.audit.view",
            "Read and export the organisation's audit log (administrators' actions, sign-ins, "
            "exports).",
        ),
        Permission(
            IMPORT_PERMISSION,
            "Import records and manage them in bulk by spreadsheet (and undo those imports).",
        ),
    ]


@hookimpl
def crm_job_kinds() -> Sequence[JobKind]:
    return [*imports_jobs.KINDS, *files_jobs.KINDS, *audit_purge.KINDS]


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
        *audit_api.QUERY_FIELDS,
        *audit_log_api.QUERY_FIELDS,
        *tenancy_api.QUERY_FIELDS,
        *companies_api.QUERY_FIELDS,
        *access_api.QUERY_FIELDS,
        *users_api.QUERY_FIELDS,
        *access_api.HIERARCHY_FIELDS,
        *roles_api.QUERY_FIELDS,
        *groups_api.QUERY_FIELDS,
        *sharing_api.QUERY_FIELDS,
        *defaults_api.QUERY_FIELDS,
        *access_api.EXPLAIN_FIELDS,
        *vacations_api.QUERY_FIELDS,
        *imports_graphql.QUERY_FIELDS,
        *imports_mutations.QUERY_FIELDS,
        files_api.file,
        *sheets_api.QUERY_FIELDS,
        *jobs_api.QUERY_FIELDS,
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
        *settings_api.MUTATION_FIELDS,
        *sharing_api.MUTATION_FIELDS,
        *whatif_api.MUTATION_FIELDS,
        *defaults_api.MUTATION_FIELDS,
        *vacations_api.MUTATION_FIELDS,
        *roles_api.MUTATION_FIELDS,
        *groups_api.MUTATION_FIELDS,
        *jobs_api.MUTATION_FIELDS,
        *imports_mutations.MUTATION_FIELDS,
    ]
