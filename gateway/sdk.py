"""The public surface for modules: everything a CRM module (built-in or a partner's) may
import from the kernel, in one place.

Modules import from here only (``from gateway.sdk import CallerContext, list_records``); a
test keeps the built-in modules to it. What is not here is the kernel's own business and may
change without notice. The layout of a module that uses it is in
``docs/modules/anatomy.md``.
"""

from __future__ import annotations

from gateway import bulk, customfields, events, excel, images, mail, shaping
from gateway.access.defaults import initial_access
from gateway.access.enforcement import (
    AccessContext,
    access_of,
    get_visible,
    get_writable,
    plain_rows,
)
from gateway.access.fields import (
    check_filterable_fields,
    check_writable_fields,
    effective_rules,
    filter_reads,
    guarded,
    has_full_access,
    parse_field,
)
from gateway.access.models import FieldMode, RecordShare
from gateway.access.narrowing import narrow_to_visible
from gateway.access.reads import (
    full_access_fields,
    full_access_rows,
    refers_to_visible,
    unreadable_fields,
    visible_rows,
    writable_rows,
)
from gateway.access.scope import SYSTEM
from gateway.access.services import get_user, grant, share_record, unshare_record
from gateway.app import Gateway
from gateway.audit import trail as audit
from gateway.audit.admin import log_export
from gateway.config import Settings
from gateway.context import CallerContext, Loader, Via
from gateway.contract import (
    AccessControlledEntity,
    AccessLevel,
    AssignmentGrant,
    ChangeKind,
    DashboardFigure,
    DashboardPeriods,
    JobKind,
    Permission,
    PluginInfo,
    RecordChange,
    TypeField,
)
from gateway.core.types import UserType, load_users
from gateway.customfields import (
    CustomFieldColumns,
    CustomValueColumns,
    FieldType,
    plain_decimal,
)
from gateway.customfields.api import DefinitionFields, FieldTypeEnum, definition_fields
from gateway.db import Base, UTCDateTime, changed_rows, str_enum, upsert, utcnow
from gateway.demo import DemoTenant
from gateway.errors import (
    BadUserInput,
    Conflict,
    Forbidden,
    GatewayError,
    NotFound,
    PayloadTooLarge,
)
from gateway.excel import XLSX_MIME, add_sheet, new_workbook, to_bytes
from gateway.fieldtable import DeclaredField, Feature, ValueKind, features, having, writes
from gateway.files.graphql import FileType, export_file
from gateway.files.http import DOWNLOAD_HEADERS
from gateway.files.models import FilePurpose, StoredFile
from gateway.files.names import content_disposition
from gateway.files.services import download_url, open_file, purge_expired, store_file
from gateway.graphql.common import (
    AccessLevelEnum,
    UserError,
    global_id,
    mutate,
    parse_global_id,
)
from gateway.graphql.connection import Connection, Edge
from gateway.graphql.context import RequestContext
from gateway.graphql.input_checks import LONG_TEXT, check_text, text, text_argument
from gateway.graphql.lookahead import selected
from gateway.graphql.node import Node
from gateway.graphql.pagination import BATCH, Direction, PageInfo, after_cursor, encode_cursor
from gateway.graphql.payloads import DeletePayload, ExportFile, OkPayload, published_as
from gateway.graphql.scalars import finite_decimal
from gateway.graphql.shaped import Selected, Shaped, plain_selection
from gateway.hookspecs import hookimpl, hookspec
from gateway.identity import throttle
from gateway.identity.models import Profile, ProfileKind, User
from gateway.imports import (
    CellError,
    ImportColumn,
    Importer,
    RowInvalid,
    records_by_id,
    text_lengths,
)
from gateway.imports.jobs import IMPORT_PERMISSION
from gateway.iterables import batched
from gateway.jobs import (
    Job,
    JobError,
    JobFailed,
    JobHandle,
    JobResult,
    JobStatus,
    TransientJobError,
    defer_job,
)
from gateway.jobs.graphql import JobPayload, JobType
from gateway.links import EntityLink
from gateway.lists import Listed, Order, Window, list_records
from gateway.notifications import notify
from gateway.plugins import HookRelay, PluginRegistry
from gateway.sheets import (
    BadFile,
    FailedRow,
    FileTooLarge,
    SheetColumn,
    SheetLimits,
    SheetTemplate,
    Table,
    read_table,
    render_template,
    write_results,
)
from gateway.sheets.results import CellError as ResultCellError
from gateway.tenancy import companies
from gateway.tenancy.companies_api import CompanyBranchType, ManagingCompanyType
from gateway.tenancy.models import CompanyBranch, ManagingCompany, Tenant
from gateway.tenancy.organization import logo_data_url
from gateway.tenancy.services import enabled_modules
from gateway.text import printable
from gateway.vacations.services import approved_between as approved_vacations

__all__ = [
    "BATCH",
    "DOWNLOAD_HEADERS",
    "IMPORT_PERMISSION",
    "LONG_TEXT",
    "SYSTEM",
    "XLSX_MIME",
    "AccessContext",
    "AccessControlledEntity",
    "AccessLevel",
    "AccessLevelEnum",
    "AssignmentGrant",
    "BadFile",
    "BadUserInput",
    "Base",
    "CallerContext",
    "CellError",
    "ChangeKind",
    "CompanyBranch",
    "CompanyBranchType",
    "Conflict",
    "Connection",
    "CustomFieldColumns",
    "CustomValueColumns",
    "DashboardFigure",
    "DashboardPeriods",
    "DeclaredField",
    "DefinitionFields",
    "DeletePayload",
    "DemoTenant",
    "Direction",
    "Edge",
    "EntityLink",
    "ExportFile",
    "FailedRow",
    "Feature",
    "FieldMode",
    "FieldType",
    "FieldTypeEnum",
    "FilePurpose",
    "FileTooLarge",
    "FileType",
    "Forbidden",
    "Gateway",
    "GatewayError",
    "HookRelay",
    "ImportColumn",
    "Importer",
    "Job",
    "JobError",
    "JobFailed",
    "JobHandle",
    "JobKind",
    "JobPayload",
    "JobResult",
    "JobStatus",
    "JobType",
    "Listed",
    "Loader",
    "ManagingCompany",
    "ManagingCompanyType",
    "Node",
    "NotFound",
    "OkPayload",
    "Order",
    "PageInfo",
    "PayloadTooLarge",
    "Permission",
    "PluginInfo",
    "PluginRegistry",
    "Profile",
    "ProfileKind",
    "RecordChange",
    "RecordShare",
    "RequestContext",
    "ResultCellError",
    "RowInvalid",
    "Selected",
    "Settings",
    "Shaped",
    "SheetColumn",
    "SheetLimits",
    "SheetTemplate",
    "StoredFile",
    "Table",
    "Tenant",
    "TransientJobError",
    "TypeField",
    "UTCDateTime",
    "User",
    "UserError",
    "UserType",
    "ValueKind",
    "Via",
    "Window",
    "access_of",
    "add_sheet",
    "after_cursor",
    "approved_vacations",
    "audit",
    "batched",
    "bulk",
    "changed_rows",
    "check_filterable_fields",
    "check_text",
    "check_writable_fields",
    "companies",
    "content_disposition",
    "customfields",
    "defer_job",
    "definition_fields",
    "download_url",
    "effective_rules",
    "enabled_modules",
    "encode_cursor",
    "events",
    "excel",
    "export_file",
    "features",
    "filter_reads",
    "finite_decimal",
    "full_access_fields",
    "full_access_rows",
    "get_user",
    "get_visible",
    "get_writable",
    "global_id",
    "grant",
    "guarded",
    "has_full_access",
    "having",
    "hookimpl",
    "hookspec",
    "images",
    "initial_access",
    "list_records",
    "load_users",
    "log_export",
    "logo_data_url",
    "mail",
    "mutate",
    "narrow_to_visible",
    "new_workbook",
    "notify",
    "open_file",
    "parse_field",
    "parse_global_id",
    "plain_decimal",
    "plain_rows",
    "plain_selection",
    "printable",
    "published_as",
    "purge_expired",
    "read_table",
    "records_by_id",
    "refers_to_visible",
    "render_template",
    "selected",
    "shaping",
    "share_record",
    "store_file",
    "str_enum",
    "text",
    "text_argument",
    "text_lengths",
    "throttle",
    "to_bytes",
    "unreadable_fields",
    "unshare_record",
    "upsert",
    "utcnow",
    "visible_rows",
    "writable_rows",
    "write_results",
    "writes",
]
