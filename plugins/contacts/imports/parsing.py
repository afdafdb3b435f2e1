"""A file row (column key → text) as the contact service's input, with every problem found
on the row reported on its own cell (not just the first one)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from gateway.sdk import (
    AccessLevel,
    CallerContext,
    CellError,
    GatewayError,
    RowInvalid,
    text_lengths,
)
from plugins.contacts import validation as check
from plugins.contacts.assignments import AssignmentData
from plugins.contacts.imports import lookups
from plugins.contacts.imports.columns import COMPANY, CUSTOM_PREFIX
from plugins.contacts.models import Category, ClientKind, Contact, ContactKind, FiscalIdType
from plugins.contacts.services import ContactData

#: Several values in one cell: commas (semicolons too, as some spreadsheets write them).
_SEPARATORS = re.compile(r"[,;]")

#: Plain text columns: column key → ``Contact`` attribute.
TEXT = {
    "companyName": "company_name",
    "firstName": "first_name",
    "lastName": "last_name",
    "website": "website",
    "street": "street",
    "city": "city",
    "region": "region",
    "postalCode": "postal_code",
    "source": "source",
    "segment": "segment",
    "zone": "zone",
    "description": "description",
}
#: Columns of a fixed set of values: column key → (attribute, enum).
CHOICES: dict[str, tuple[str, type[StrEnum]]] = {
    "category": ("category", Category),
    "clientKind": ("client_kind", ClientKind),
    "fiscalIdType": ("fiscal_id_type", FiscalIdType),
    "access": ("access", AccessLevel),
}
NUMBERS = {"discount": "discount", "latitude": "latitude", "longitude": "longitude"}
#: The service's range checks, run here too so a row reports all its problems at once.
_NUMBER_CHECKS: dict[str, Callable[[Decimal], Any]] = {
    "discount": lambda v: check.discount(v) is not None,
    "latitude": lambda v: check.coordinate(v, 90, "latitude") is not None,
    "longitude": lambda v: check.coordinate(v, 180, "longitude") is not None,
}
#: Text no column may exceed (the database's own limits are lower for most columns).
MAX_CELL = 1000
#: ``Contact`` attribute → its column's length: a longer cell is an error on that cell,
#: never a statement the database refuses (which would cost the whole chunk or job).
LENGTHS = text_lengths(Contact)


def split(cell: str) -> list[str]:
    return [part.strip() for part in _SEPARATORS.split(cell) if part.strip()]


def _choice(enum: type[StrEnum], raw: str) -> StrEnum:
    wanted = re.sub(r"[\s\-]+", "_", raw.strip()).upper()
    try:
        return enum(wanted)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ValueError(f"{raw!r} is not one of {allowed}") from None


def _number(raw: str) -> Decimal:
    try:
        value = Decimal(raw.strip().replace(",", ".") if raw.count(",") == 1 else raw.strip())
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{raw!r} is not a number")
    return value


def _fits(attr: str, raw: str) -> str:
    """``raw`` if it fits its column as the service stores it (stripped; a fiscal ID
    without separators)."""
    stored = raw.strip()
    if attr == "fiscal_id":
        stored = re.sub(r"[\s\-.]", "", stored)
    limit = LENGTHS.get(attr)
    if limit is not None and len(stored) > limit:
        raise ValueError(f"at most {limit} characters ({len(stored)} given)")
    return raw


def _guard(errors: list[CellError], column: str, step: Callable[..., Any], *args: Any) -> Any:
    """``step(*args)``, or ``None`` with its problem noted on ``column``."""
    try:
        return step(*args)
    except GatewayError as exc:
        errors.append(CellError(exc.code.value, exc.message, column))
    except ValueError as exc:
        errors.append(CellError("BAD_USER_INPUT", str(exc), column))
    return None


def _assignment(
    ctx: CallerContext, row: Mapping[str, str], errors: list[CellError]
) -> list[AssignmentData] | None:
    """The row's assignment (M3): a managing company, a user, maybe a branch — all or none."""
    for key in ("managingCompany", "assignedUser"):
        if not row.get(key):
            errors.append(
                CellError("REQUIRED", "an assignment names a managing company and a user", key)
            )
            return None
    company = _guard(
        errors, "managingCompany", lookups.managing_company, ctx, row["managingCompany"]
    )
    user = _guard(errors, "assignedUser", lookups.user, ctx, row["assignedUser"])
    branch = None
    if row.get("branch") and company is not None:
        branch = _guard(errors, "branch", lookups.branch, ctx, company, row["branch"])
    if company is None or user is None:
        return None
    return [AssignmentData(company_id=company, user_id=user, branch_id=branch)]


def contact_data(
    ctx: CallerContext,
    variant: str | None,
    row: Mapping[str, str],
    base_tags: list[str] | None = None,
) -> ContactData:
    """The service input for ``row``; ``variant`` is ``None`` for an update (the kind stays;
    ``base_tags`` are the record's tags, which "Tags to add" adds to).
    Raises :class:`RowInvalid` with every cell's problem."""
    errors: list[CellError] = []
    added: list[str] = []
    data = ContactData()
    values = data.values
    if variant is not None:
        values["kind"] = ContactKind.COMPANY if variant == COMPANY else ContactKind.PERSON
        values.setdefault(
            "client_kind", ClientKind.COMPANY if variant == COMPANY else ClientKind.INDIVIDUAL
        )
    for key, raw in row.items():
        if len(raw) > MAX_CELL:
            errors.append(CellError("BAD_USER_INPUT", f"longer than {MAX_CELL} characters", key))
            continue
        if key in TEXT:
            if _guard(errors, key, _fits, TEXT[key], raw) is not None:
                values[TEXT[key]] = raw
        elif key in CHOICES:
            attr, enum = CHOICES[key]
            found = _guard(errors, key, _choice, enum, raw)
            if found is not None:
                values[attr] = found.value if enum is AccessLevel else found
        elif key in NUMBERS:
            number = _guard(errors, key, _number, raw)
            if number is not None and _guard(errors, key, _NUMBER_CHECKS[key], number):
                values[NUMBERS[key]] = number
        elif key == "fiscalId":
            if _guard(errors, key, _fits, "fiscal_id", raw) is not None:
                values["fiscal_id"] = raw
        elif key == "country":
            values["country"] = _guard(errors, key, check.country, raw)
        elif key == "currency":
            values["currency"] = _guard(errors, key, check.currency, raw)
        elif key == "email":
            data.emails = [
                ("WORK", a)
                for a in split(raw)
                if _guard(errors, key, check.email, a, key) is not None
            ]
        elif key == "phone":
            data.phones = [
                ("WORK", n)
                for n in split(raw)
                if _guard(errors, key, check.phone, n, key) is not None
            ]
        elif key in ("tags", "addTags"):
            names = _guard(errors, key, lookups.tags, ctx, split(raw))
            if names is not None and key == "tags":
                data.tags = names
            elif names is not None:
                added = names
        elif key == "contactType":
            values["contact_type_id"] = _guard(errors, key, lookups.contact_type, ctx, raw)
        elif key == "owner":
            values["owner_id"] = _guard(errors, key, lookups.user, ctx, raw)
        elif key == "company":
            values["company_id"] = _guard(errors, key, lookups.company, ctx, raw)
        elif key.startswith(CUSTOM_PREFIX):
            custom = data.custom_fields if data.custom_fields is not None else {}
            custom[key.removeprefix(CUSTOM_PREFIX)] = raw
            data.custom_fields = custom
    if "managingCompany" in row or "assignedUser" in row or "branch" in row:
        data.assignments = _assignment(ctx, row, errors)
    if added:  # added to the record's tags (those of the row's own "Tags" column, if any)
        kept = data.tags if data.tags is not None else base_tags or []
        data.tags = [*kept, *(name for name in added if name not in kept)]
    if "fiscal_id" in values:
        kind = values.get("fiscal_id_type")
        _guard(errors, "fiscalId", check.fiscal_id, values["fiscal_id"], kind)
    if errors:
        raise RowInvalid(errors)
    return data
