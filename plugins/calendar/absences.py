"""Approved vacations in the calendar (MISSION A12): who is away in a date range, read
from the kernel's vacations (``gateway.sdk.approved_vacations``) — only the users whose
records the caller sees by the hierarchy, and only dates (never notes or approvers)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.sdk import RequestContext, UserType, approved_vacations, load_users

Ctx = Info[RequestContext, None]


@strawberry.type(description="An approved vacation: the user is away these days.")
class CalendarAbsence:
    user: UserType
    starts_on: date = strawberry.field(description="First day away.")
    ends_on: date = strawberry.field(description="Last day away (included).")


@strawberry.field(
    name="absences",
    description="Approved vacations overlapping `from` to `to` (days included) of you and of "
    "the users whose records you see by the hierarchy; everyone's for structural profiles.",
)
def absences(
    info: Ctx, from_: Annotated[date, strawberry.argument(name="from")], to: date
) -> list[CalendarAbsence]:
    ctx = info.context
    rows = approved_vacations(ctx, from_, to)
    users = load_users(ctx, sorted({r.user_id for r in rows}))
    return [
        CalendarAbsence(
            user=UserType(record=users[r.user_id]), starts_on=r.starts_on, ends_on=r.ends_on
        )
        for r in rows
        if r.user_id in users
    ]
