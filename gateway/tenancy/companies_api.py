"""GraphQL API of managing companies and branches: a list for everyone signed in (forms
assigning clients need it), administration with ``core.organization.manage``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access.fields import guarded
from gateway.graphql.common import UserError, global_id, mutate, parse_global_id
from gateway.graphql.context import RequestContext
from gateway.graphql.input_checks import text, text_argument
from gateway.graphql.payloads import DeletePayload
from gateway.tenancy import companies
from gateway.tenancy.models import CompanyBranch, ManagingCompany

Ctx = Info[RequestContext, None]
MANAGE_ORGANIZATION = "core.organization.manage"


@strawberry.type(name="CompanyBranch", description="A branch of a managing company.")
class CompanyBranchType:
    record: strawberry.Private[CompanyBranch]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("CompanyBranch", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="The managing company's ID.")
    def company_id(self) -> strawberry.ID:
        return global_id("ManagingCompany", self.record.company_id)


@strawberry.type(
    name="ManagingCompany",
    description="One of the organisation's own companies; clients are assigned a user per "
    "managing company.",
)
class ManagingCompanyType:
    record: strawberry.Private[ManagingCompany]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("ManagingCompany", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field
    def fiscal_id(self) -> str:
        return self.record.fiscal_id

    @strawberry.field
    def branches(self) -> list[CompanyBranchType]:
        return [CompanyBranchType(record=b) for b in self.record.branches]


@strawberry.input(description="A managing company; on update, omitted fields keep their value.")
class ManagingCompanyInput:
    name: str | None = text(200, default=None)
    fiscal_id: str | None = text(40, default=None)


@strawberry.type
class ManagingCompanyPayload:
    company: ManagingCompanyType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CompanyBranchPayload:
    branch: CompanyBranchType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.field(description="The organisation's managing companies and their branches.")
def managing_companies(info: Ctx) -> list[ManagingCompanyType]:
    ctx = info.context
    ctx.require_caller()
    return [ManagingCompanyType(record=c) for c in companies.companies(ctx.session)]


def _company_payload(
    ctx: RequestContext, work: Callable[[Session], ManagingCompany]
) -> ManagingCompanyPayload:
    return mutate(
        ctx,
        ManagingCompanyPayload,
        work,
        lambda c: ManagingCompanyPayload(company=ManagingCompanyType(record=c)),
    )


def _branch_payload(
    ctx: RequestContext, work: Callable[[Session], CompanyBranch]
) -> CompanyBranchPayload:
    return mutate(
        ctx,
        CompanyBranchPayload,
        work,
        lambda b: CompanyBranchPayload(branch=CompanyBranchType(record=b)),
    )


@guarded(permission=MANAGE_ORGANIZATION, description="Add a managing company.")
def create_managing_company(info: Ctx, input: ManagingCompanyInput) -> ManagingCompanyPayload:
    ctx = info.context
    tenant_id = ctx.require_caller().tenant_id

    def work(s: Session) -> ManagingCompany:
        return companies.save_company(s, tenant_id, None, input.name, input.fiscal_id)

    return _company_payload(ctx, work)


@guarded(permission=MANAGE_ORGANIZATION, description="Rename a managing company or change it.")
def update_managing_company(
    info: Ctx, id: strawberry.ID, input: ManagingCompanyInput
) -> ManagingCompanyPayload:
    ctx = info.context
    tenant_id = ctx.require_caller().tenant_id

    def work(s: Session) -> ManagingCompany:
        company = companies.get_company(s, tenant_id, parse_global_id(id, "ManagingCompany"), "id")
        return companies.save_company(s, tenant_id, company, input.name, input.fiscal_id)

    return _company_payload(ctx, work)


@guarded(
    permission=MANAGE_ORGANIZATION,
    description="Delete a managing company and its branches (CONFLICT while clients are "
    "assigned through it).",
)
def delete_managing_company(info: Ctx, id: strawberry.ID) -> DeletePayload:
    ctx = info.context
    tenant_id = ctx.require_caller().tenant_id

    def work(s: Session) -> int:
        pk = parse_global_id(id, "ManagingCompany")
        return companies.delete(s, companies.get_company(s, tenant_id, pk, "id"))

    return mutate(
        ctx,
        DeletePayload,
        work,
        lambda pk: DeletePayload(deleted_id=global_id("ManagingCompany", pk)),
    )


@guarded(permission=MANAGE_ORGANIZATION, description="Add a branch to a managing company.")
def create_company_branch(
    info: Ctx, company_id: strawberry.ID, name: Annotated[str, text_argument(200)]
) -> CompanyBranchPayload:
    ctx = info.context
    tenant_id = ctx.require_caller().tenant_id

    def work(s: Session) -> CompanyBranch:
        pk = parse_global_id(company_id, "ManagingCompany", "companyId")
        return companies.save_branch(s, tenant_id, None, pk, name)

    return _branch_payload(ctx, work)


@guarded(permission=MANAGE_ORGANIZATION, description="Rename a branch.")
def rename_company_branch(
    info: Ctx, id: strawberry.ID, name: Annotated[str, text_argument(200)]
) -> CompanyBranchPayload:
    ctx = info.context
    tenant_id = ctx.require_caller().tenant_id

    def work(s: Session) -> CompanyBranch:
        branch = companies.get_branch(s, tenant_id, parse_global_id(id, "CompanyBranch"), "id")
        return companies.save_branch(s, tenant_id, branch, None, name)

    return _branch_payload(ctx, work)


@guarded(
    permission=MANAGE_ORGANIZATION,
    description="Delete a branch (CONFLICT while clients are assigned through it).",
)
def delete_company_branch(info: Ctx, id: strawberry.ID) -> DeletePayload:
    ctx = info.context
    tenant_id = ctx.require_caller().tenant_id

    def work(s: Session) -> int:
        pk = parse_global_id(id, "CompanyBranch")
        return companies.delete(s, companies.get_branch(s, tenant_id, pk, "id"))

    return mutate(
        ctx,
        DeletePayload,
        work,
        lambda pk: DeletePayload(deleted_id=global_id("CompanyBranch", pk)),
    )


QUERY_FIELDS = [managing_companies]
MUTATION_FIELDS = [
    create_managing_company,
    update_managing_company,
    delete_managing_company,
    create_company_branch,
    rename_company_branch,
    delete_company_branch,
]
