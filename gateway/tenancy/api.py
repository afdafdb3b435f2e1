"""GraphQL API of the organisation's settings: name, legal details, logo and the
two-factor policy (administrators with ``core.organization.manage``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access.fields import guarded
from gateway.graphql.common import UserError, mutate
from gateway.graphql.context import RequestContext
from gateway.graphql.input_checks import text, text_argument
from gateway.tenancy import organization
from gateway.tenancy.models import RecordVisibility, Tenant

strawberry.enum(
    RecordVisibility,
    name="RecordVisibility",
    description="Whose records a hierarchical user sees besides their own.",
)

Ctx = Info[RequestContext, None]
MANAGE_ORGANIZATION = "core.organization.manage"


@strawberry.type
class Organization:
    record: strawberry.Private[Tenant]

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field
    def slug(self) -> str:
        return self.record.slug

    @strawberry.field
    def language(self) -> str:
        return self.record.language

    @strawberry.field
    def timezone(self) -> str:
        return self.record.timezone

    @strawberry.field
    def legal_name(self) -> str:
        return self.record.legal_name

    @strawberry.field
    def fiscal_id(self) -> str:
        return self.record.fiscal_id

    @strawberry.field
    def address(self) -> str:
        return self.record.address

    @strawberry.field
    def phone(self) -> str:
        return self.record.phone

    @strawberry.field
    def email(self) -> str:
        return self.record.email

    @strawberry.field
    def website(self) -> str:
        return self.record.website

    @strawberry.field(description="The logo as a data URL (PNG, JPEG or WebP).")
    def logo(self) -> str | None:
        return organization.logo_data_url(self.record)

    @strawberry.field(description="Every user must sign in with two-factor authentication.")
    def require_two_factor(self) -> bool:
        return self.record.require_two_factor

    @strawberry.field(description="Days the audit trail and log are kept (30 to 3650).")
    def audit_retention_days(self) -> int:
        return self.record.audit_retention_days

    @strawberry.field(
        description="Whether users see the records of those below them in the reporting line "
        "(REPORTING_LINE) or of the users whose role is below theirs (ROLE_TREE)."
    )
    def record_visibility(self) -> RecordVisibility:
        return self.record.record_visibility


@strawberry.input(description="Partial update: omitted fields keep their value.")
class UpdateOrganizationInput:
    name: str | None = None
    language: str | None = None
    timezone: str | None = None
    legal_name: str | None = None
    fiscal_id: str | None = None
    address: str | None = text(500, multiline=True, default=None)
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    require_two_factor: bool | None = None
    audit_retention_days: int | None = None
    record_visibility: RecordVisibility | None = None


@strawberry.type
class OrganizationPayload:
    organization: Organization | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.field(name="organization", description="Your organisation's settings.")
def organization_settings(info: Ctx) -> Organization:
    ctx = info.context
    caller = ctx.require_caller()
    return Organization(record=ctx.session.get_one(Tenant, caller.tenant_id))


def _org_change(
    ctx: RequestContext, change: Callable[[Session, Tenant], Tenant]
) -> OrganizationPayload:
    caller = ctx.require_caller()  # MANAGE_ORGANIZATION: declared on the root fields
    return mutate(
        ctx,
        OrganizationPayload,
        lambda s: change(s, s.get_one(Tenant, caller.tenant_id)),
        lambda result: OrganizationPayload(organization=Organization(record=result)),
    )


@guarded(
    permission=MANAGE_ORGANIZATION,
    description="Change the organisation's settings (and its 2FA policy).",
)
def update_organization(info: Ctx, input: UpdateOrganizationInput) -> OrganizationPayload:
    changes = organization.OrganizationChanges(**vars(input))
    return _org_change(info.context, lambda s, t: organization.update_settings(s, t, changes))


@guarded(
    permission=MANAGE_ORGANIZATION,
    description="Set the logo from a data URL: PNG, JPEG or WebP, ≤ 512 KiB.",
)
def set_organization_logo(
    info: Ctx,
    data_url: Annotated[str, text_argument(2 * organization.MAX_LOGO_BYTES)],
) -> OrganizationPayload:
    return _org_change(info.context, lambda s, t: organization.set_logo(s, t, data_url))


@guarded(permission=MANAGE_ORGANIZATION)
def remove_organization_logo(info: Ctx) -> OrganizationPayload:
    return _org_change(info.context, organization.clear_logo)


QUERY_FIELDS = [organization_settings]
MUTATION_FIELDS = [update_organization, set_organization_logo, remove_organization_logo]
