"""Names in a file resolved to records, once per import (``ctx.loader``), among what the
importing user may see: a company, contact type, manager or tag the user cannot see reads
as "not found", exactly like one that does not exist."""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    CompanyBranch,
    ManagingCompany,
    NotFound,
    User,
)
from plugins.contacts.models import Contact, ContactKind, ContactType, Tag


def tags(ctx: CallerContext, names: list[str]) -> list[str]:
    """The names, if every one is an existing tag (an import never creates tags: undoing it
    must leave the catalogue as it was)."""

    def fetch(keys: list[str]) -> dict[str, str]:
        rows = ctx.session.scalars(
            select(Tag.name).where(Tag.tenant_id == ctx.tenant_id, Tag.name.in_(keys))
        )
        return {name: name for name in rows}

    loader = ctx.loader("contacts.import.tags", fetch)
    missing = [n for n in names if loader.get(n) is None]
    if missing:
        raise NotFound("no tag named " + ", ".join(repr(n) for n in missing))
    return names


def contact_type(ctx: CallerContext, name: str) -> int:
    def fetch(keys: list[str]) -> dict[str, int]:
        rows = ctx.session.execute(
            select(func.lower(ContactType.name), ContactType.id).where(
                ContactType.tenant_id == ctx.tenant_id,
                func.lower(ContactType.name).in_(keys),
            )
        )
        return {lowered: type_id for lowered, type_id in rows}

    found = ctx.loader("contacts.import.types", fetch).get(name.casefold())
    if found is None:
        raise NotFound(f"no contact type named {name!r}")
    return found


def user(ctx: CallerContext, email: str) -> int:
    def fetch(keys: list[str]) -> dict[str, int]:
        rows = ctx.session.execute(
            select(func.lower(User.email), User.id).where(
                User.tenant_id == ctx.tenant_id,
                User.is_active.is_(True),
                func.lower(User.email).in_(keys),
            )
        )
        return {lowered: user_id for lowered, user_id in rows}

    found = ctx.loader("contacts.import.users", fetch).get(email.strip().casefold())
    if found is None:
        raise NotFound(f"no active user with the email {email!r}")
    return found


def company(ctx: CallerContext, name_or_fiscal_id: str) -> int:
    """A company you may see, by fiscal ID or by name (which must be unambiguous)."""

    def fetch(keys: list[str]) -> dict[str, list[int]]:
        fiscal = [re.sub(r"[\s\-.]", "", k).upper() for k in keys]
        rows = ctx.session.execute(
            select(Contact.id, func.lower(Contact.company_name), Contact.fiscal_id).where(
                Contact.tenant_id == ctx.tenant_id,
                Contact.kind == ContactKind.COMPANY,
                or_(func.lower(Contact.company_name).in_(keys), Contact.fiscal_id.in_(fiscal)),
            )
        )
        found: dict[str, list[int]] = {}
        for contact_id, lowered, fiscal_id in rows:
            for key in keys:
                if key == lowered or re.sub(r"[\s\-.]", "", key).upper() == fiscal_id:
                    found.setdefault(key, []).append(contact_id)
        return found

    ids = ctx.loader("contacts.import.companies", fetch).get(name_or_fiscal_id.strip().casefold())
    if not ids:
        raise NotFound(f"no company {name_or_fiscal_id!r} among your contacts")
    if len(ids) > 1:
        raise BadUserInput(
            f"{len(ids)} companies are called {name_or_fiscal_id!r}: use its fiscal ID"
        )
    return ids[0]


def managing_company(ctx: CallerContext, name: str) -> int:
    def fetch(keys: list[str]) -> dict[str, int]:
        rows = ctx.session.execute(
            select(func.lower(ManagingCompany.name), ManagingCompany.id).where(
                ManagingCompany.tenant_id == ctx.tenant_id,
                func.lower(ManagingCompany.name).in_(keys),
            )
        )
        return {lowered: company_id for lowered, company_id in rows}

    found = ctx.loader("contacts.import.companies_managing", fetch).get(name.strip().casefold())
    if found is None:
        raise NotFound(f"no managing company named {name!r}")
    return found


def branch(ctx: CallerContext, company_id: int, name: str) -> int:
    def fetch(keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
        rows = ctx.session.execute(
            select(CompanyBranch.company_id, func.lower(CompanyBranch.name), CompanyBranch.id)
            .join(ManagingCompany, ManagingCompany.id == CompanyBranch.company_id)
            .where(
                ManagingCompany.tenant_id == ctx.tenant_id,
                func.lower(CompanyBranch.name).in_([k[1] for k in keys]),
            )
        )
        return {(company, lowered): branch_id for company, lowered, branch_id in rows}

    found = ctx.loader("contacts.import.branches", fetch).get((company_id, name.strip().casefold()))
    if found is None:
        raise NotFound(f"no branch {name!r} in that managing company")
    return found
