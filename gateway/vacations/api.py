"""GraphQL API of vacations: request, approve, reject, cancel; the requester's and the
approvers' lists; each profile's approval policy (``core.profiles.manage``)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access.api import MANAGE_PROFILES
from gateway.access.fields import guarded
from gateway.core.types import UserType, load_users
from gateway.graphql.common import UserError, global_id, mutate, page_size, parse_global_id
from gateway.graphql.context import RequestContext
from gateway.graphql.input_checks import LONG_TEXT, text
from gateway.identity.users_api import optional_id
from gateway.vacations import services as svc
from gateway.vacations.models import VacationRequest, VacationStatus

Ctx = Info[RequestContext, None]

strawberry.enum(VacationStatus, name="VacationStatus")


@strawberry.type(name="VacationRequest")
class VacationRequestType:
    record: strawberry.Private[VacationRequest]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("VacationRequest", self.record.id)

    @strawberry.field
    def user(self, info: Ctx) -> UserType:
        return UserType(record=load_users(info.context, [self.record.user_id])[self.record.user_id])

    @strawberry.field(description="First day off.")
    def starts_on(self) -> date:
        return self.record.starts_on

    @strawberry.field(description="Last day off (included).")
    def ends_on(self) -> date:
        return self.record.ends_on

    @strawberry.field
    def note(self) -> str:
        return self.record.note

    @strawberry.field
    def status(self) -> VacationStatus:
        return self.record.status

    @strawberry.field(description="The approvers, in the order they decide.")
    def approvers(self, info: Ctx) -> list[UserType]:
        found = load_users(info.context, list(self.record.approver_ids))
        return [UserType(record=found[i]) for i in self.record.approver_ids if i in found]

    @strawberry.field(description="The approver whose decision is awaited (pending only).")
    def awaiting(self, info: Ctx) -> UserType | None:
        uid = self.record.awaiting_id
        return UserType(record=load_users(info.context, [uid])[uid]) if uid else None

    @strawberry.field
    def decision_note(self) -> str:
        return self.record.decision_note

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def decided_at(self) -> datetime | None:
        return self.record.decided_at


@strawberry.type
class VacationPolicyType:
    profile_id: strawberry.ID
    levels: int = strawberry.field(description="Steps up the reporting hierarchy.")
    approver: UserType | None = strawberry.field(
        description="A named approver, instead of the hierarchy."
    )
    builtin: bool = strawberry.field(description="True while unset: one step, the manager.")


@strawberry.type
class VacationRequestPayload:
    request: VacationRequestType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class VacationPolicyPayload:
    policy: VacationPolicyType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RequestVacationInput:
    starts_on: date
    ends_on: date
    note: str = text(LONG_TEXT, multiline=True, default="")


def _policy(ctx: RequestContext, p: svc.Policy) -> VacationPolicyType:
    approver = None
    if p.approver_id is not None:
        found = load_users(ctx, [p.approver_id])
        approver = UserType(record=found[p.approver_id]) if p.approver_id in found else None
    return VacationPolicyType(
        profile_id=global_id("Profile", p.profile_id),
        levels=p.levels,
        approver=approver,
        builtin=p.builtin,
    )


def _payload(request: VacationRequest) -> VacationRequestPayload:
    return VacationRequestPayload(request=VacationRequestType(record=request))


# -- queries --------------------------------------------------------------------------------


@strawberry.field(description="Your vacation requests, latest first.")
def my_vacation_requests(info: Ctx, first: int | None = None) -> list[VacationRequestType]:
    ctx = info.context
    rows = svc.my_requests(ctx, page_size(first, ctx.gateway.settings))
    return [VacationRequestType(record=r) for r in rows]


@strawberry.field(description="Vacation requests awaiting your decision, soonest first.")
def vacation_requests_to_approve(info: Ctx, first: int | None = None) -> list[VacationRequestType]:
    ctx = info.context
    rows = svc.awaiting_me(ctx, page_size(first, ctx.gateway.settings))
    return [VacationRequestType(record=r) for r in rows]


@guarded(permission=MANAGE_PROFILES, description="Who approves each profile's vacations.")
def vacation_policies(info: Ctx) -> list[VacationPolicyType]:
    ctx = info.context
    caller = ctx.require_caller()
    return [_policy(ctx, p) for p in svc.policies(ctx.session, caller.tenant_id)]


# -- mutations ------------------------------------------------------------------------------


@strawberry.mutation(description="Ask for days off; the first approver is notified.")
def request_vacation(info: Ctx, input: RequestVacationInput) -> VacationRequestPayload:
    ctx = info.context
    return mutate(
        ctx,
        VacationRequestPayload,
        lambda _s: svc.request_vacation(ctx, input.starts_on, input.ends_on, input.note),
        _payload,
    )


def _decide(info: Ctx, id: strawberry.ID, approve: bool, note: str) -> VacationRequestPayload:
    ctx = info.context

    def work(_s: Session) -> VacationRequest:
        return svc.decide(ctx, parse_global_id(id, "VacationRequest"), approve, note)

    return mutate(ctx, VacationRequestPayload, work, _payload)


@strawberry.mutation(
    description="Approve a request awaiting you: the next approver is asked, or the "
    "requester told it is approved."
)
def approve_vacation(
    info: Ctx, id: strawberry.ID, note: str | None = None
) -> VacationRequestPayload:
    return _decide(info, id, True, note or "")


@strawberry.mutation(description="Reject a request awaiting you; the requester is told.")
def reject_vacation(
    info: Ctx, id: strawberry.ID, note: str | None = None
) -> VacationRequestPayload:
    return _decide(info, id, False, note or "")


@strawberry.mutation(
    description="Withdraw your request (pending, or approved and not started); its approvers "
    "are told."
)
def cancel_vacation(info: Ctx, id: strawberry.ID) -> VacationRequestPayload:
    ctx = info.context
    return mutate(
        ctx,
        VacationRequestPayload,
        lambda _s: svc.cancel(ctx, parse_global_id(id, "VacationRequest")),
        _payload,
    )


@guarded(
    permission=MANAGE_PROFILES,
    description="Who approves the vacations of a profile's users: `levels` steps up the "
    "reporting hierarchy, or one named `approverId`.",
)
def set_vacation_policy(
    info: Ctx, profile_id: strawberry.ID, levels: int = 1, approver_id: strawberry.ID | None = None
) -> VacationPolicyPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> svc.Policy:
        return svc.set_policy(
            session,
            caller.tenant_id,
            parse_global_id(profile_id, "Profile", "profileId"),
            levels,
            optional_id(approver_id, "User", "approverId"),
        )

    return mutate(
        ctx, VacationPolicyPayload, work, lambda p: VacationPolicyPayload(policy=_policy(ctx, p))
    )


QUERY_FIELDS = [my_vacation_requests, vacation_requests_to_approve, vacation_policies]
MUTATION_FIELDS = [
    request_vacation,
    approve_vacation,
    reject_vacation,
    cancel_vacation,
    set_vacation_policy,
]
