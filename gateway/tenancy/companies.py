"""Managing companies and their branches (MISSION C9): the organisation's own firms.

Administration needs ``core.organization.manage``; everyone signed in may list them (forms
that assign clients need them). A company or branch that assignments still use cannot be
deleted: the foreign key refuses it and the transaction answers ``CONFLICT``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gateway.errors import BadUserInput, NotFound
from gateway.tenancy.models import CompanyBranch, ManagingCompany

NAME_LIMIT = 200
FISCAL_ID_LIMIT = 40


def _name(value: str, field: str = "name") -> str:
    name = value.strip()
    if not name:
        raise BadUserInput("a name is required", field=field)
    if len(name) > NAME_LIMIT:
        raise BadUserInput(f"at most {NAME_LIMIT} characters", field=field)
    return name


def companies(session: Session) -> list[ManagingCompany]:
    """The caller's organisation's companies with their branches (two statements)."""
    stmt = (
        select(ManagingCompany)
        .options(selectinload(ManagingCompany.branches))
        .order_by(ManagingCompany.name, ManagingCompany.id)
    )
    return list(session.scalars(stmt))


def get_company(
    session: Session, tenant_id: int, company_id: int, field: str = "companyId"
) -> ManagingCompany:
    company = session.get(ManagingCompany, company_id)
    if company is None or company.tenant_id != tenant_id:
        raise NotFound("no such managing company", field=field)
    return company


def get_branch(
    session: Session, tenant_id: int, branch_id: int, field: str = "branchId"
) -> CompanyBranch:
    branch = session.get(CompanyBranch, branch_id)
    if branch is None or branch.tenant_id != tenant_id:
        raise NotFound("no such branch", field=field)
    return branch


def save_company(
    session: Session,
    tenant_id: int,
    company: ManagingCompany | None,
    name: str | None,
    fiscal_id: str | None,
) -> ManagingCompany:
    """Create (``company`` None) or change a company; a taken name is ``CONFLICT``."""
    if company is None:
        if name is None:
            raise BadUserInput("a name is required", field="name")
        company = ManagingCompany(tenant_id=tenant_id, name=_name(name))
        session.add(company)
    elif name is not None:
        company.name = _name(name)
    if fiscal_id is not None:
        fiscal_id = fiscal_id.strip().upper()
        if len(fiscal_id) > FISCAL_ID_LIMIT:
            raise BadUserInput(f"at most {FISCAL_ID_LIMIT} characters", field="fiscalId")
        company.fiscal_id = fiscal_id
    session.flush()  # a taken name: unique violation → CONFLICT (the transaction)
    return company


def save_branch(
    session: Session,
    tenant_id: int,
    branch: CompanyBranch | None,
    company_id: int | None,
    name: str,
) -> CompanyBranch:
    """Create a branch of ``company_id`` or rename ``branch``; a taken name is ``CONFLICT``."""
    if branch is None:
        assert company_id is not None
        company = get_company(session, tenant_id, company_id)
        branch = CompanyBranch(tenant_id=tenant_id, company_id=company.id, name=_name(name))
        session.add(branch)
    else:
        branch.name = _name(name)
    session.flush()
    return branch


def delete(session: Session, row: ManagingCompany | CompanyBranch) -> int:
    """Delete a company (with its branches) or a branch; refused while assignments use it."""
    deleted = row.id
    session.delete(row)
    session.flush()  # still used by an assignment: foreign-key violation → CONFLICT
    return deleted
