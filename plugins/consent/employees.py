"""Consent requests to users (employees): ``USER`` configurations (MISSION K1).

A ``USER`` configuration's trigger is ``USER_SAVED``: when an administrator creates or
changes a user (the kernel's ``user`` record event), each enabled ``USER`` configuration
asks that user — once per managing company it names, or once from the organisation —
unless a request of it waits, or the user has already answered it (accepted, declined or
withdrawn: an employee is not asked again by a trigger). Requests are made, mailed,
answered and recorded in the ledger exactly as a client's (``requests.create``, the
``consent.send`` job, the same links); a declined or withdrawn answer is recorded but
blocks nothing — users are not mailed by mass email. Reviewers (``consent.review``) see a
user's requests with ``userConsent`` and their ledger entries in ``consentLedger``."""

from __future__ import annotations

from sqlalchemy import select

from gateway.sdk import CallerContext, ChangeKind, RecordChange, User, utcnow
from plugins.consent import expiry
from plugins.consent.models import (
    OPEN,
    Audience,
    ConsentConfiguration,
    ConsentRequest,
    RequestStatus,
    Trigger,
)
from plugins.consent.requests import Asked, create, trigger_configurations

#: A user's answered states that a trigger does not ask again.
SETTLED = (*OPEN, RequestStatus.ACCEPTED, RequestStatus.DENIED, RequestStatus.WITHDRAWN)


def on_user_changed(ctx: CallerContext, change: RecordChange) -> None:
    """``crm_record_changed`` for the kernel's ``user`` entity (created or updated)."""
    if change.entity != "user" or change.kind is ChangeKind.DELETED:
        return
    user = change.record
    configs = trigger_configurations(ctx, user.tenant_id, Trigger.USER_SAVED)
    if configs:
        ask_user(ctx, user, configs)


def ask_user(
    ctx: CallerContext, user: User, configs: list[ConsentConfiguration]
) -> list[ConsentRequest]:
    """Make the requests ``configs`` call for to ``user``; the requests made."""
    covering = [c for c in configs if c.audience is Audience.USER]
    if not covering or not user.is_active or not user.email:
        return []
    session = ctx.session
    expiry.expire(
        session,
        utcnow(),
        ConsentRequest.tenant_id == user.tenant_id,
        ConsentRequest.user_id == user.id,
    )
    settled = set(
        session.execute(
            select(ConsentRequest.configuration_id, ConsentRequest.company_id).where(
                ConsentRequest.tenant_id == user.tenant_id,
                ConsentRequest.user_id == user.id,
                ConsentRequest.status.in_(SETTLED),
            )
        )
    )
    asked = Asked.employee(user)
    made: list[ConsentRequest] = []
    for config in covering:
        companies: list[int | None] = list(config.company_ids) or [None]
        for company_id in companies:
            if (config.id, company_id) in settled:
                continue
            request = create(ctx, config, asked, company_id, user.email, "USER_SAVED")
            if request is not None:
                made.append(request)
    return made
