"""GraphQL types of client assignments: ``Contact.assignments`` and its input."""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from gateway.sdk import (
    CompanyBranch,
    CompanyBranchType,
    ManagingCompany,
    ManagingCompanyType,
    UserType,
    global_id,
    load_users,
    parse_global_id,
)
from plugins.contacts.assignments import AssignmentData
from plugins.contacts.models import ContactAssignment


def _company(info: Info, company_id: int) -> ManagingCompany | None:
    session = info.context.session

    def fetch(_ids: list[int]) -> dict[int, ManagingCompany]:
        # every company at once: an organisation has a handful, a page shows most of them
        return {c.id: c for c in session.scalars(select(ManagingCompany))}

    found: ManagingCompany | None = info.context.loader("managing_companies", fetch).get(company_id)
    return found


def _branch(info: Info, branch_id: int) -> CompanyBranch | None:
    session = info.context.session

    def fetch(_ids: list[int]) -> dict[int, CompanyBranch]:
        return {b.id: b for b in session.scalars(select(CompanyBranch))}

    found: CompanyBranch | None = info.context.loader("company_branches", fetch).get(branch_id)
    return found


@strawberry.type(
    name="ContactAssignment",
    description="The contact's user for one managing company (at most one per company).",
)
class ContactAssignmentType:
    record: strawberry.Private[ContactAssignment]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("ContactAssignment", self.record.id)

    @strawberry.field
    def company(self, info: Info) -> ManagingCompanyType:
        found = _company(info, self.record.company_id)
        assert found is not None  # a foreign key, in the caller's tenant
        return ManagingCompanyType(record=found)

    @strawberry.field
    def branch(self, info: Info) -> CompanyBranchType | None:
        branch_id = self.record.branch_id
        found = _branch(info, branch_id) if branch_id is not None else None
        return CompanyBranchType(record=found) if found is not None else None

    @strawberry.field(description="The assigned user (null if no longer readable).")
    def user(self, info: Info) -> UserType | None:
        found = load_users(info.context, [self.record.user_id]).get(self.record.user_id)
        return UserType(record=found) if found is not None else None

    @strawberry.field
    def assigned_at(self) -> datetime:
        return self.record.assigned_at


@strawberry.input(description="A user for the contact in one managing company.")
class ContactAssignmentInput:
    company_id: strawberry.ID
    user_id: strawberry.ID
    branch_id: strawberry.ID | None = None

    def to_data(self, field: str = "assignment") -> AssignmentData:
        return AssignmentData(
            company_id=parse_global_id(self.company_id, "ManagingCompany", f"{field}.companyId"),
            user_id=parse_global_id(self.user_id, "User", f"{field}.userId"),
            branch_id=parse_global_id(self.branch_id, "CompanyBranch", f"{field}.branchId")
            if self.branch_id
            else None,
        )
