"""A file row (column key → text) as the lead service's input, with every problem found on
the row reported on its own cell (not just the first one)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from gateway.sdk import (
    AccessLevel,
    BadUserInput,
    CallerContext,
    CellError,
    GatewayError,
    NotFound,
    Profile,
    ProfileKind,
    RowInvalid,
    User,
)
from plugins.contacts import validation as check
from plugins.leads.fields import LEAD_TEXT
from plugins.leads.imports.columns import ATTRS
from plugins.leads.models import Lead

#: Several values in one cell (a lead holds one email and one phone).
_SEVERAL = re.compile(r"[,;]")


@dataclass
class LeadRow:
    """A row as the service takes it: attribute values (``LeadData.values``) and the owner
    (``None``: an unmanaged lead, nobody's yet)."""

    values: dict[str, Any] = field(default_factory=dict)
    owner_id: int | None = None


def _guard(errors: list[CellError], column: str, step: Callable[..., Any], *args: Any) -> Any:
    """``step(*args)``, or ``None`` with its problem noted on ``column``."""
    try:
        return step(*args)
    except GatewayError as exc:
        errors.append(CellError(exc.code.value, exc.message, column))
    return None


def owner(ctx: CallerContext, email: str) -> int:
    """An active user of the tenant who may own leads, by email (looked up once per import:
    ``ctx.loader``)."""

    def fetch(keys: list[str]) -> dict[str, tuple[int, ProfileKind]]:
        rows = ctx.session.execute(
            select(func.lower(User.email), User.id, Profile.kind)
            .join(Profile, Profile.id == User.profile_id)
            .where(
                User.tenant_id == ctx.tenant_id,
                User.is_active.is_(True),
                func.lower(User.email).in_(keys),
            )
        )
        return {lowered: (user_id, kind) for lowered, user_id, kind in rows}

    found = ctx.loader("leads.import.owners", fetch).get(email.strip().casefold())
    if found is None:
        raise NotFound(f"no active user with the email {email!r}")
    if found[1] is ProfileKind.ASSISTANT:
        raise BadUserInput(f"{email!r} is an assistant: assistants cannot own leads")
    return found[0]


def _single(kind: str, raw: str) -> str:
    if _SEVERAL.search(raw):
        raise BadUserInput(f"a lead has one {kind}: keep one value in this cell")
    return raw


def _email(raw: str) -> str:
    return check.email(_single("email address", raw))


def _phone(raw: str) -> str:
    return check.phone(_single("phone number", raw))[0]


def _access(raw: str) -> str:
    wanted = re.sub(r"[\s\-]+", "_", raw.strip()).upper()
    try:
        return AccessLevel(wanted).value
    except ValueError:
        allowed = ", ".join(a.value for a in AccessLevel)
        raise BadUserInput(f"{raw!r} is not one of {allowed}") from None


def _text(limit: int, raw: str) -> str:
    if len(raw) > limit:
        raise BadUserInput(f"at most {limit} characters")
    return raw


def lead_row(ctx: CallerContext, row: Mapping[str, str], current: Lead | None = None) -> LeadRow:
    """The service input for ``row`` (its non-empty cells). ``current``: the lead an update
    row matched, whose owner an import leaves alone (claiming and reassigning do that).
    Raises :class:`RowInvalid` with every cell's problem."""
    errors: list[CellError] = []
    out = LeadRow()
    for key, raw in row.items():
        attr = ATTRS.get(key)
        if attr is None:  # ``id``: a match key, written by nobody
            continue
        value: Any
        if attr in LEAD_TEXT:
            value = _guard(errors, key, _text, LEAD_TEXT[attr], raw)
        elif key == "email":
            value = _guard(errors, key, _email, raw)
        elif key == "phone":
            value = _guard(errors, key, _phone, raw)
        elif key == "access":
            value = _guard(errors, key, _access, raw)
        elif key == "owner":
            out.owner_id = _guard(errors, key, owner, ctx, raw)
            if current is not None and out.owner_id not in (None, current.owner_id):
                errors.append(
                    CellError(
                        "BAD_USER_INPUT",
                        "an import does not change who works a lead (claim or reassign it)",
                        key,
                    )
                )
            continue
        else:  # a column of the field table this parser does not know: a programming error
            raise AssertionError(f"no parser for the lead column {key!r}")
        if value is not None:
            out.values[attr] = value
    if errors:
        raise RowInvalid(errors)
    return out
