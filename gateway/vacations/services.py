"""Vacation requests: request, approve or reject step by step, cancel; each profile's
approval policy. A state machine whose refusals are typed errors:

    PENDING --approve (last step)--> APPROVED --cancel (before it starts)--> CANCELLED
    PENDING --approve (more steps)--> PENDING (the next approver is awaited)
    PENDING --reject--> REJECTED          PENDING --cancel--> CANCELLED

No Strawberry here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from gateway.access import hierarchy
from gateway.access.scope import SYSTEM
from gateway.audit.admin import log_admin
from gateway.context import CallerContext
from gateway.db import utcnow
from gateway.errors import BadUserInput, Conflict, Forbidden, NotFound
from gateway.graphql.common import global_id
from gateway.identity.models import Profile, User
from gateway.notifications import notify
from gateway.vacations.models import VacationPolicy, VacationRequest, VacationStatus

#: The longest vacation one request may ask for, in days.
MAX_DAYS = 366
#: Steps up the hierarchy a policy may ask for.
MAX_LEVELS = 5
_SYS = {SYSTEM: True}


@dataclass(frozen=True)
class Policy:
    profile_id: int
    levels: int
    approver_id: int | None
    builtin: bool


# -- policies ---------------------------------------------------------------------------------


def policy_of(session: Session, profile_id: int) -> Policy:
    row = session.get(VacationPolicy, profile_id)
    if row is None:
        return Policy(profile_id, 1, None, True)
    return Policy(profile_id, row.levels, row.approver_id, False)


def policies(session: Session, tenant_id: int) -> list[Policy]:
    ids = session.scalars(
        select(Profile.id).where(Profile.tenant_id == tenant_id).order_by(Profile.name)
    )
    chosen = {
        p.profile_id: p
        for p in session.scalars(
            select(VacationPolicy).where(VacationPolicy.tenant_id == tenant_id)
        )
    }
    return [
        Policy(pid, chosen[pid].levels, chosen[pid].approver_id, False)
        if pid in chosen
        else Policy(pid, 1, None, True)
        for pid in ids
    ]


def set_policy(
    session: Session, tenant_id: int, profile_id: int, levels: int, approver_id: int | None
) -> Policy:
    """``levels`` steps up the hierarchy, or (given) one named approver of the organisation."""
    profile = session.get(Profile, profile_id)
    if profile is None or profile.tenant_id != tenant_id:
        raise NotFound("no such profile", field="profileId")
    if not 1 <= levels <= MAX_LEVELS:
        raise BadUserInput(f"levels is 1 to {MAX_LEVELS}", field="levels")
    if approver_id is not None:
        approver = session.get(User, approver_id)
        if approver is None or approver.tenant_id != tenant_id:
            raise NotFound("no such user", field="approverId")
        if not approver.is_active:
            raise BadUserInput("that user is deactivated", field="approverId")
    row = session.get(VacationPolicy, profile_id)
    if row is None:
        row = VacationPolicy(profile_id=profile_id, tenant_id=tenant_id)
        session.add(row)
    row.levels, row.approver_id = levels, approver_id
    log_admin(
        session,
        tenant_id,
        "vacations.policy_set",
        profile.name,
        {"levels": levels, "approverId": approver_id},
    )
    session.flush()
    return Policy(profile_id, levels, approver_id, False)


def approvers_for(session: Session, user: User) -> list[int]:
    """Who approves ``user``'s vacations, in order: the policy's named approver, or the
    active users ``levels`` steps up the hierarchy (inactive ones are skipped)."""
    policy = policy_of(session, user.profile_id)
    if policy.approver_id is not None and policy.approver_id != user.id:
        candidates = [policy.approver_id]
    else:
        candidates = [a for a, d in hierarchy.ancestors(session, user.id) if d >= 1]
    active = set(
        session.scalars(
            select(User.id)
            .where(User.id.in_(candidates), User.is_active.is_(True))
            .execution_options(**_SYS)
        )
    )
    return [a for a in candidates if a in active][: 1 if policy.approver_id else policy.levels]


# -- requests -------------------------------------------------------------------------------


def _subject(request: VacationRequest) -> str:
    return str(global_id("VacationRequest", request.id))


def _span(request: VacationRequest) -> str:
    return f"{request.starts_on.isoformat()} to {request.ends_on.isoformat()}"


def _name(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.display_name if user is not None else "Someone"


def _tell(
    ctx: CallerContext, user_id: int, kind: str, title: str, request: VacationRequest
) -> None:
    notify(
        ctx.session,
        tenant_id=request.tenant_id,
        user_id=user_id,
        kind=kind,
        title=title,
        subject_id=_subject(request),
    )


def request_vacation(ctx: CallerContext, starts: date, ends: date, note: str) -> VacationRequest:
    caller = ctx.require_caller()
    session = ctx.session
    if ends < starts:
        raise BadUserInput("the vacation ends before it starts", field="endsOn")
    if (ends - starts).days + 1 > MAX_DAYS:
        raise BadUserInput(f"one request covers at most {MAX_DAYS} days", field="endsOn")
    overlapping = session.scalar(
        select(VacationRequest.id).where(
            VacationRequest.tenant_id == caller.tenant_id,
            VacationRequest.user_id == caller.user_id,
            VacationRequest.status.in_([VacationStatus.PENDING, VacationStatus.APPROVED]),
            VacationRequest.starts_on <= ends,
            VacationRequest.ends_on >= starts,
        )
    )
    if overlapping is not None:
        raise Conflict("you already asked for some of these days", field="startsOn")
    user = session.get_one(User, caller.user_id)
    approvers = approvers_for(session, user)
    if not approvers:
        raise Conflict(
            "nobody approves your vacations: ask an administrator to set your profile's "
            "approver, or your manager"
        )
    request = VacationRequest(
        tenant_id=caller.tenant_id,
        user_id=caller.user_id,
        starts_on=starts,
        ends_on=ends,
        note=note.strip(),
        status=VacationStatus.PENDING,
        approver_ids=approvers,
        step=0,
        awaiting_id=approvers[0],
    )
    session.add(request)
    session.flush()
    _tell(
        ctx,
        approvers[0],
        "vacation.requested",
        f"{user.display_name} asks for vacation from {_span(request)}",
        request,
    )
    return request


def get_request(ctx: CallerContext, request_id: int) -> VacationRequest:
    """A request its requester or one of its approvers asks for; others get NOT_FOUND."""
    caller = ctx.require_caller()
    request = ctx.session.get(VacationRequest, request_id)
    if (
        request is None
        or request.tenant_id != caller.tenant_id
        or (caller.user_id != request.user_id and caller.user_id not in request.approver_ids)
    ):
        raise NotFound("no such vacation request", field="id")
    return request


def _pending(request: VacationRequest) -> None:
    if request.status is not VacationStatus.PENDING:
        raise Conflict(f"the request is {request.status.value.lower()}", field="id")


def decide(ctx: CallerContext, request_id: int, approve: bool, note: str) -> VacationRequest:
    """The awaited approver approves (the next step, or the end) or rejects the request."""
    caller = ctx.require_caller()
    request = get_request(ctx, request_id)
    _pending(request)
    if request.awaiting_id != caller.user_id:
        raise Forbidden("your decision is not the one awaited on this request")
    session = ctx.session
    who = _name(session, caller.user_id)
    request.decision_note = note.strip()[:1000]
    if not approve:
        request.status, request.awaiting_id = VacationStatus.REJECTED, None
        request.decided_by_id, request.decided_at = caller.user_id, utcnow()
        _tell(
            ctx,
            request.user_id,
            "vacation.rejected",
            f"{who} rejected your vacation from {_span(request)}",
            request,
        )
    elif request.step + 1 < len(request.approver_ids):
        request.step += 1
        request.awaiting_id = request.approver_ids[request.step]
        _tell(
            ctx,
            request.awaiting_id,
            "vacation.requested",
            f"{_name(session, request.user_id)} asks for vacation from {_span(request)} "
            f"(approved by {who})",
            request,
        )
    else:
        request.status, request.awaiting_id = VacationStatus.APPROVED, None
        request.decided_by_id, request.decided_at = caller.user_id, utcnow()
        _tell(
            ctx,
            request.user_id,
            "vacation.approved",
            f"{who} approved your vacation from {_span(request)}",
            request,
        )
    session.flush()
    return request


def cancel(ctx: CallerContext, request_id: int, today: date | None = None) -> VacationRequest:
    """The requester withdraws a pending request, or an approved one before it starts; the
    approvers who decided or are awaited are told."""
    caller = ctx.require_caller()
    request = get_request(ctx, request_id)
    if request.user_id != caller.user_id:
        raise Forbidden("only the requester may cancel a vacation request")
    if request.status is VacationStatus.APPROVED:
        if request.starts_on <= (today or utcnow().date()):
            raise Conflict("the vacation has started; it can no longer be cancelled", field="id")
    else:
        _pending(request)
    told = request.approver_ids[: request.step + 1]
    request.status, request.awaiting_id = VacationStatus.CANCELLED, None
    request.decided_at = utcnow()
    name = _name(ctx.session, request.user_id)
    for approver in told:
        _tell(
            ctx,
            approver,
            "vacation.cancelled",
            f"{name} cancelled the vacation from {_span(request)}",
            request,
        )
    ctx.session.flush()
    return request


def my_requests(ctx: CallerContext, limit: int) -> Sequence[VacationRequest]:
    caller = ctx.require_caller()
    return ctx.session.scalars(
        select(VacationRequest)
        .where(
            VacationRequest.tenant_id == caller.tenant_id,
            VacationRequest.user_id == caller.user_id,
        )
        .order_by(VacationRequest.starts_on.desc(), VacationRequest.id.desc())
        .limit(limit)
    ).all()


def awaiting_me(ctx: CallerContext, limit: int) -> Sequence[VacationRequest]:
    caller = ctx.require_caller()
    return ctx.session.scalars(
        select(VacationRequest)
        .where(
            VacationRequest.tenant_id == caller.tenant_id,
            VacationRequest.awaiting_id == caller.user_id,
            VacationRequest.status == VacationStatus.PENDING,
        )
        .order_by(VacationRequest.starts_on, VacationRequest.id)
        .limit(limit)
    ).all()


def _whose_visible(ctx: CallerContext) -> ColumnElement[bool]:
    """Whose vacations the caller sees: their own and those of the users whose records
    they see by the hierarchy (subordinates; served users for assistants); everyone's for
    structural and administrator profiles. A SQL condition, from the caller's scope."""
    caller = ctx.require_caller()
    access = ctx.access
    assert access is not None
    scope = access.scope
    if scope.sees_everything:
        return true()
    ids = {caller.user_id} | scope.subordinate_ids | scope.served_ids
    return VacationRequest.user_id.in_(sorted(ids))


def approved_between(ctx: CallerContext, start: date, end: date) -> Sequence[VacationRequest]:
    """Approved vacations overlapping ``[start, end]`` of the users the caller may see."""
    caller = ctx.require_caller()
    if end < start:
        raise BadUserInput("the range ends before it starts", field="to")
    if (end - start) > timedelta(days=MAX_DAYS):
        raise BadUserInput(f"a range covers at most {MAX_DAYS} days", field="to")
    return ctx.session.scalars(
        select(VacationRequest)
        .where(
            VacationRequest.tenant_id == caller.tenant_id,
            VacationRequest.status == VacationStatus.APPROVED,
            VacationRequest.starts_on <= end,
            VacationRequest.ends_on >= start,
            _whose_visible(ctx),
        )
        .order_by(VacationRequest.starts_on, VacationRequest.id)
    ).all()
